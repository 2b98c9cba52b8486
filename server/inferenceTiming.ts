/**
 * Times the shared engine's calls for /metrics without touching the pipelines: the server wraps the
 * engine it hands to the InferenceStage, and every batch reports how long the engine took (call to
 * result, in seconds) and which streams' windows it scored. Everything else passes through to the
 * engine itself (methods bound to it, so engines with private state keep working).
 */
import { performance } from 'node:perf_hooks';
import { from, Subject, tap } from 'rxjs';
import type { InferenceEngine } from '../pipelines/index.js';

export interface BatchTiming {
  readonly seconds: number;
  /** The stream of each window in the batch, in batch order. */
  readonly streams: readonly string[];
}

export function timedEngine<E extends InferenceEngine>(engine: E, clock: () => number = () => performance.now()): { engine: E; timings$: Subject<BatchTiming> } {
  const timings$ = new Subject<BatchTiming>();
  const inferBatch: InferenceEngine['inferBatch'] = (windows) => {
    const start = clock();
    // An inline engine computes inside the call, a worker engine until its result arrives: both count.
    return from(engine.inferBatch(windows)).pipe(
      tap({ complete: () => timings$.next({ seconds: (clock() - start) / 1000, streams: windows.map((w) => w.streamId) }) }),
    );
  };
  const wrapped = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'inferBatch') return inferBatch;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { engine: wrapped, timings$ };
}
