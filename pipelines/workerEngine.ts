/**
 * An InferenceEngine whose model runs on its own thread (worker_threads), so that scoring a batch
 * — synchronous on wasm — no longer blocks reading frames, cutting windows or serving clients on
 * the main thread, and a second core can decode while the first infers. It wraps the same
 * ModelEngine (2D cache, incremental 3D channel) and loads the model from a checkpoint folder.
 *
 * Frames cross the thread boundary once: each is copied to the worker the first time a window
 * needs it; the worker keeps the last `frameCapacity` per stream, and this side mirrors that FIFO
 * so it knows which frames the worker still holds.
 *
 * ```ts
 * const engine = await WorkerEngine.start({ checkpoint: 'models/default' });
 * const stage = new InferenceStage(engine);
 * …
 * await engine.close();
 * ```
 */
import { Worker } from 'node:worker_threads';
import type { EngineHead, EngineInput, InferenceEngine, WindowInference } from './engine.js';
import type { ModelEngineOptions } from './modelEngine.js';
import type { Frame, FrameWindow } from './types.js';
import type { FromWorker, ToWorker, WireFrame } from './workerProtocol.js';

export interface WorkerEngineOptions {
  readonly checkpoint: string;
  readonly engine?: ModelEngineOptions;
  /** Frames kept per stream in the worker (default 256; must exceed the distinct frames of one batch). */
  readonly frameCapacity?: number;
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

export class WorkerEngine implements InferenceEngine {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private readonly frameIds = new WeakMap<Frame, number>();
  private nextFrameId = 0;
  /** Per stream: ids the worker holds, oldest first (mirrors the worker's FIFO). */
  private readonly held = new Map<string, Set<number>>();
  private failure: Error | undefined;
  caption?: (encoding: Float32Array) => Promise<string>;

  private constructor(
    private readonly worker: Worker,
    readonly input: EngineInput,
    readonly heads: readonly EngineHead[],
    captions: boolean,
    private readonly frameCapacity: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`inference worker exited (${code})`)));
    if (captions) this.caption = (encoding) => this.request<string>({ type: 'caption', id: this.nextId++, encoding });
  }

  /** False once the worker has exited, crashed or been closed: every call fails from then on. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  /** Starts the worker and resolves once the model is loaded. */
  static start(options: WorkerEngineOptions): Promise<WorkerEngine> {
    const frameCapacity = options.frameCapacity ?? 0;
    const worker = new Worker(new URL('./engineWorker.boot.mjs', import.meta.url), {
      workerData: { checkpoint: options.checkpoint, engine: options.engine ?? {}, frameCapacity: frameCapacity || 256 },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        worker.off('message', onMessage);
        worker.off('error', reject);
        if (m.type === 'ready') resolve(new WorkerEngine(worker, m.input, m.heads, m.captions, frameCapacity || 256));
        else {
          void worker.terminate();
          reject(new Error(m.type === 'error' ? m.message : `unexpected ${m.type} from the inference worker`));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  inferBatch(windows: readonly FrameWindow[]): Promise<readonly WindowInference[]> {
    const frames: WireFrame[] = [];
    const wire = windows.map((w) => ({
      streamId: w.streamId,
      readyAt: w.readyAt,
      frameIds: w.frames.map((f) => {
        let id = this.frameIds.get(f);
        if (id === undefined) this.frameIds.set(f, (id = this.nextFrameId++));
        let held = this.held.get(f.streamId);
        if (!held) this.held.set(f.streamId, (held = new Set()));
        if (!held.has(id)) {
          frames.push({ id, streamId: f.streamId, seq: f.seq, capturedAt: f.capturedAt, width: f.width, height: f.height, pixels: f.pixels, ...(f.detail ? { detail: f.detail } : {}) });
          held.add(id);
          for (const old of held) {
            if (held.size <= this.frameCapacity) break;
            held.delete(old);
          }
        }
        return id;
      }),
    }));
    return this.request({ type: 'infer', id: this.nextId++, frames, windows: wire });
  }

  forgetStream(streamId: string): void {
    this.held.delete(streamId);
    if (!this.failure) this.worker.postMessage({ type: 'forget', streamId } satisfies ToWorker);
  }

  /** Stops the worker; pending calls fail. */
  async close(): Promise<void> {
    this.fail(new Error('inference worker closed'));
    await this.worker.terminate();
  }

  private request<T>(message: Extract<ToWorker, { id: number }>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(message.id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage(message);
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready') return;
    const pending = m.id === undefined ? undefined : this.pending.get(m.id);
    if (m.id !== undefined) this.pending.delete(m.id);
    if (m.type === 'error') {
      if (pending) pending.reject(new Error(m.message));
      else this.fail(new Error(m.message));
    } else if (pending) pending.resolve((m.type === 'result' ? m.results : m.text) as never);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
