import { defer, map, type OperatorFunction } from 'rxjs';
import { ScoreSmoother, defaultSmoothing, type SmoothingOptions } from '../scoreSmoother.js';
import type { ScoredWindow } from '../types.js';

/**
 * Replaces each window's probabilities by their temporal smoothing (EMA or running mean) over the
 * stream so far, so that one noisy window does not flip the predicted action. A window that starts
 * more than `maxGapMs` of capture time after the previous one ended (a reconnection) starts the
 * smoothing afresh rather than averaging across the hole.
 *
 * ```ts
 * scored$.pipe(smoothScores({ method: 'ema', alpha: 0.5 }, { maxGapMs: 1000 }))
 * ```
 */
export function smoothScores<T extends Pick<ScoredWindow, 'probabilities' | 'firstCapturedAt' | 'lastCapturedAt'>>(
  options: SmoothingOptions = defaultSmoothing,
  { maxGapMs = Number.POSITIVE_INFINITY }: { readonly maxGapMs?: number } = {},
): OperatorFunction<T, T> {
  new ScoreSmoother(options); // validate eagerly, at pipeline build time
  return (source) =>
    defer(() => {
      const smoother = new ScoreSmoother(options); // state per subscription
      let previousEnd: number | undefined;
      return source.pipe(
        map((w) => {
          if (previousEnd !== undefined && w.firstCapturedAt - previousEnd > maxGapMs) smoother.reset();
          previousEnd = w.lastCapturedAt;
          return { ...w, probabilities: smoother.insert(w.probabilities) };
        }),
      );
    });
}
