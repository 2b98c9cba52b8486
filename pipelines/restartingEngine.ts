/**
 * Keeps a worker-thread engine running: when its worker dies (a crash, an out-of-memory kill), a
 * fresh one is started from the same checkpoint and the call that met the dead worker is retried
 * on it. Windows carry their frames, so the retry loses nothing; the new worker just receives every
 * frame again. An error the living worker reports (a model error) is passed on, not retried.
 * Restarts are rationed (`maxRestarts` within `periodMs`) so that a worker that dies on start-up
 * does not spin forever: beyond that the error reaches the streams.
 *
 * ```ts
 * const engine = await RestartingEngine.start(() => WorkerEngine.start({ checkpoint }), { onRestart: (err, n) => log.warn(…) });
 * ```
 */
import type { EngineHead, EngineInput, InferenceEngine, WindowInference } from './engine.js';
import type { FrameWindow } from './types.js';
import type { WorkerEngine } from './workerEngine.js';

export interface RestartingEngineOptions {
  /** Most restarts within `periodMs` (default 5 in 10 minutes). */
  readonly maxRestarts?: number;
  readonly periodMs?: number;
  /** Called after each successful restart with the reason and the restarts so far. */
  readonly onRestart?: (reason: Error, restarts: number) => void;
  readonly clock?: () => number;
}

type StartWorker = () => Promise<WorkerEngine>;

export class RestartingEngine implements InferenceEngine {
  readonly input: EngineInput;
  readonly heads: readonly EngineHead[];
  caption?: (encoding: Float32Array) => Promise<string>;
  /** Restarts so far. */
  restarts = 0;
  private restartTimes: number[] = [];
  private restarting: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private engine: WorkerEngine,
    private readonly startWorker: StartWorker,
    private readonly options: RestartingEngineOptions,
  ) {
    this.input = engine.input;
    this.heads = engine.heads;
    if (engine.caption) this.caption = (encoding) => this.call((e) => e.caption!(encoding));
  }

  static async start(startWorker: StartWorker, options: RestartingEngineOptions = {}): Promise<RestartingEngine> {
    return new RestartingEngine(await startWorker(), startWorker, options);
  }

  inferBatch(windows: readonly FrameWindow[]): Promise<readonly WindowInference[]> {
    return this.call((e) => e.inferBatch(windows));
  }

  forgetStream(streamId: string): void {
    this.engine.forgetStream(streamId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.restarting?.catch(() => {});
    await this.engine.close();
  }

  private async call<T>(run: (engine: WorkerEngine) => Promise<T>): Promise<T> {
    for (;;) {
      const engine = this.engine;
      try {
        return await run(engine);
      } catch (err) {
        if (engine.alive || this.closed) throw err;
        await this.replace(engine, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** Starts one replacement for a dead engine, however many calls met it. */
  private replace(dead: WorkerEngine, reason: Error): Promise<void> {
    if (this.engine !== dead) return Promise.resolve(); // another call already replaced it
    this.restarting ??= (async () => {
      const { maxRestarts = 5, periodMs = 10 * 60_000, clock = Date.now } = this.options;
      const t = clock();
      this.restartTimes = this.restartTimes.filter((at) => t - at < periodMs);
      if (this.restartTimes.length >= maxRestarts) {
        throw new Error(`inference worker died ${maxRestarts + 1} times within ${Math.round(periodMs / 1000)} s; not restarting it again (last: ${reason.message})`);
      }
      this.restartTimes.push(t);
      this.engine = await this.startWorker();
      this.restarts++;
      this.options.onRestart?.(reason, this.restarts);
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }
}
