/**
 * The one inference stage all live streams share. Each stream's windows wait in a small bounded
 * queue; whenever the engine is idle, the stage takes up to `maxBatch` windows round-robin across
 * streams (oldest first within a stream) and scores them in ONE engine call. A window arriving at a
 * full queue evicts that stream's oldest waiting window, and the drop is counted for that stream:
 * under overload a stream gets its newest answer late, never a stale one, and memory never grows.
 *
 * ```ts
 * const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 2 });
 * windows$.pipe(stage.infer('kitchen-1')) // Observable<ScoredWindow>
 * ```
 */
import { from, Observable, type OperatorFunction, Subject, type Subscriber } from 'rxjs';
import { now } from './clock.js';
import type { InferenceEngine, WindowInference } from './engine.js';
import type { FrameWindow, ScoredWindow } from './types.js';

export interface InferenceStageOptions {
  /** Most windows scored in one engine call. */
  readonly maxBatch: number;
  /** Most windows waiting per stream; beyond it the oldest is dropped. */
  readonly queueCapacity: number;
  readonly clock: () => number;
  /**
   * Runs `start` once the frames already readable have been delivered. Default: setImmediate (the
   * check phase, right after Node's I/O callbacks). Marble tests pass a virtual-time scheduler.
   */
  readonly deferBatchStart: (start: () => void) => void;
}

export const defaultInferenceStageOptions: InferenceStageOptions = { maxBatch: 8, queueCapacity: 2, clock: now, deferBatchStart: (start) => void setImmediate(start) };

interface StreamQueue {
  readonly streamId: string;
  readonly subscriber: Subscriber<ScoredWindow>;
  readonly waiting: FrameWindow[];
  inFlight: number;
  sourceDone: boolean;
  drops: number;
  scored: number;
}

export class InferenceStage {
  readonly options: InferenceStageOptions;
  private readonly queues = new Map<string, StreamQueue>();
  private nextStart = 0;
  private busy = false;
  private pumpScheduled = false;
  private readonly dropTotals = new Map<string, number>();
  /** Every drop, as it happens: the stream and its drop count so far. */
  readonly drops$ = new Subject<{ streamId: string; drops: number }>();
  /** Engine calls and windows scored so far (all streams). */
  batches = 0;
  windowsScored = 0;

  constructor(
    readonly engine: InferenceEngine,
    options: Partial<InferenceStageOptions> = {},
  ) {
    this.options = { ...defaultInferenceStageOptions, ...options };
    const { maxBatch, queueCapacity } = this.options;
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!(Number.isInteger(queueCapacity) && queueCapacity >= 1)) throw new RangeError(`queueCapacity must be a positive integer, got ${queueCapacity}`);
  }

  /** Windows dropped so far for a stream (kept after the stream ends, for reporting). */
  dropsFor(streamId: string): number {
    return this.queues.get(streamId)?.drops ?? this.dropTotals.get(streamId) ?? 0;
  }

  /** Streams currently attached. */
  get streams(): string[] {
    return [...this.queues.keys()];
  }

  /** Scores one stream's windows through the shared stage; a stream id can be attached once at a time. */
  infer(streamId: string): OperatorFunction<FrameWindow, ScoredWindow> {
    return (source) =>
      new Observable<ScoredWindow>((subscriber) => {
        if (this.queues.has(streamId)) {
          subscriber.error(new Error(`stream "${streamId}" is already attached to the inference stage`));
          return;
        }
        const queue: StreamQueue = { streamId, subscriber, waiting: [], inFlight: 0, sourceDone: false, drops: 0, scored: 0 };
        this.queues.set(streamId, queue);
        const sub = source.subscribe({
          next: (window) => {
            queue.waiting.push(window);
            if (queue.waiting.length > this.options.queueCapacity) {
              queue.waiting.shift();
              queue.drops++;
              this.drops$.next({ streamId, drops: queue.drops });
            }
            this.schedulePump();
          },
          error: (err) => subscriber.error(err),
          complete: () => {
            queue.sourceDone = true;
            this.completeIfDrained(queue);
          },
        });
        return () => {
          sub.unsubscribe();
          this.dropTotals.set(streamId, queue.drops);
          if (this.queues.get(streamId) === queue) this.queues.delete(streamId);
          queue.waiting.length = 0;
          this.engine.forgetStream?.(streamId);
        };
      });
  }

  private completeIfDrained(queue: StreamQueue): void {
    if (queue.sourceDone && queue.waiting.length === 0 && queue.inFlight === 0) queue.subscriber.complete();
  }

  /** Takes up to maxBatch windows, one per stream per round, starting from a rotating stream. */
  private takeBatch(): { queue: StreamQueue; window: FrameWindow }[] {
    const queues = [...this.queues.values()];
    const batch: { queue: StreamQueue; window: FrameWindow }[] = [];
    if (queues.length === 0) return batch;
    const start = this.nextStart++ % queues.length;
    let took = true;
    while (took && batch.length < this.options.maxBatch) {
      took = false;
      for (let i = 0; i < queues.length && batch.length < this.options.maxBatch; i++) {
        const queue = queues[(start + i) % queues.length]!;
        const window = queue.waiting.shift();
        if (!window) continue;
        queue.inFlight++;
        batch.push({ queue, window });
        took = true;
      }
    }
    return batch;
  }

  /**
   * Starts the next batch on a later turn of the event loop rather than inside the frame handler:
   * the model runs synchronously (wasm), so starting at once would score each window alone while the
   * other streams' frames wait unread in their pipes. Deferring lets every frame already readable
   * arrive first, and they go in one batch.
   */
  private schedulePump(): void {
    if (this.busy || this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.options.deferBatchStart(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    this.busy = true;
    let results: readonly WindowInference[] | undefined;
    const settle = (err?: unknown) => {
      const inferredAt = this.options.clock();
      this.busy = false;
      this.batches++;
      batch.forEach(({ queue, window }, i) => {
        queue.inFlight--;
        if (this.queues.get(queue.streamId) !== queue) return; // unsubscribed meanwhile
        const result = results?.[i];
        if (err !== undefined || !result) {
          queue.subscriber.error(err ?? new Error(`engine returned ${results?.length ?? 0} results for a batch of ${batch.length}`));
          return;
        }
        queue.scored++;
        this.windowsScored++;
        queue.subscriber.next(scoredWindow(window, result, inferredAt));
        this.completeIfDrained(queue);
      });
      this.pump();
    };
    let call;
    try {
      call = from(this.engine.inferBatch(batch.map((b) => b.window)));
    } catch (err) {
      // An engine that throws synchronously must not leave the stage busy forever.
      settle(err ?? new Error('engine failed'));
      return;
    }
    call.subscribe({
      next: (r) => (results = r),
      error: (err) => settle(err ?? new Error('engine failed')),
      complete: () => settle(),
    });
  }
}

function scoredWindow(window: FrameWindow, result: WindowInference, inferredAt: number): ScoredWindow {
  const first = window.frames[0]!;
  const last = window.frames[window.frames.length - 1]!;
  return {
    streamId: window.streamId,
    firstSeq: first.seq,
    lastSeq: last.seq,
    firstCapturedAt: first.capturedAt,
    lastCapturedAt: last.capturedAt,
    probabilities: result.probabilities,
    encoding: result.encoding,
    ...(result.objects ? { objects: result.objects } : {}),
    stamps: { capturedAt: last.capturedAt, windowReadyAt: window.readyAt, inferredAt },
  };
}
