import { Observable, type OperatorFunction } from 'rxjs';
import { ActionSegmenter, type SegmenterOptions } from '../actionSegmenter.js';
import { now } from '../clock.js';
import type { ScoredWindow, SegmentedWindow } from '../types.js';

/**
 * Runs an {@link ActionSegmenter} over smoothed windows and attaches the start/end events each
 * window causes; when the stream completes, a last record marked `final` closes an open action.
 *
 * ```ts
 * smoothed$.pipe(segmentActions(labels, { head: 'action' }), mergeMap((w) => w.events))
 * ```
 */
export function segmentActions(
  labels: readonly string[],
  options: Partial<SegmenterOptions> = {},
  clock: () => number = now,
): OperatorFunction<ScoredWindow, SegmentedWindow> {
  new ActionSegmenter(options); // validate at build time
  const head = options.head ?? 'action';
  return (source) =>
    new Observable<SegmentedWindow>((subscriber) => {
      const segmenter = new ActionSegmenter(options);
      let last: ScoredWindow | undefined;
      return source.subscribe({
        next(window) {
          const scores = window.probabilities[head];
          if (!scores) {
            subscriber.error(new Error(`segmenter head "${head}" is not among the model's heads: ${Object.keys(window.probabilities).join(', ')}`));
            return;
          }
          last = window;
          const events = segmenter.update({ ...window, labels, scores, stamps: { ...window.stamps, emittedAt: clock() } });
          subscriber.next({ ...window, events });
        },
        error: (err) => subscriber.error(err),
        complete() {
          const closing = segmenter.flush();
          if (closing.length > 0 && last) subscriber.next({ ...last, events: closing, final: true });
          subscriber.complete();
        },
      });
    });
}
