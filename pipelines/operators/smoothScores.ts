import { defer, map, type OperatorFunction } from 'rxjs';
import { ScoreSmoother, defaultSmoothing, type SmoothingOptions } from '../scoreSmoother.js';
import type { ScoredWindow } from '../types.js';

/**
 * Replaces each window's probabilities by their temporal smoothing (EMA or running mean) over the
 * stream so far, so that one noisy window does not flip the predicted action.
 *
 * ```ts
 * scored$.pipe(smoothScores({ method: 'ema', alpha: 0.5 }))
 * ```
 */
export function smoothScores<T extends Pick<ScoredWindow, 'probabilities'>>(options: SmoothingOptions = defaultSmoothing): OperatorFunction<T, T> {
  new ScoreSmoother(options); // validate eagerly, at pipeline build time
  return (source) =>
    defer(() => {
      const smoother = new ScoreSmoother(options); // state per subscription
      return source.pipe(map((w) => ({ ...w, probabilities: smoother.insert(w.probabilities) })));
    });
}
