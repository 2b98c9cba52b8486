/**
 * Temporal smoothing of per-head class probabilities, one stream's state. Either an exponential
 * moving average (`alpha` = weight of the newest window) or the mean of the last `windows` windows.
 */
import { defaultLiveSettings } from './liveSettings.js';

export type SmoothingOptions = { readonly method: 'ema'; readonly alpha: number } | { readonly method: 'mean'; readonly windows: number };

/** A standalone smoother's default: the live settings' (pipelines/liveSettings.ts, where it is chosen). */
export const defaultSmoothing: SmoothingOptions = defaultLiveSettings.smoothing;

export class ScoreSmoother {
  private ema: Record<string, Float32Array> | undefined;
  private readonly history: Record<string, Float32Array>[] = [];

  constructor(private readonly options: SmoothingOptions = defaultSmoothing) {
    if (options.method === 'ema' && !(options.alpha > 0 && options.alpha <= 1)) throw new RangeError(`EMA alpha must be in (0, 1], got ${options.alpha}`);
    if (options.method === 'mean' && !(Number.isInteger(options.windows) && options.windows >= 1)) {
      throw new RangeError(`mean smoothing needs windows ≥ 1, got ${options.windows}`);
    }
  }

  /** Forgets the stream so far (after a gap in it): the next window starts the average afresh. */
  reset(): void {
    this.ema = undefined;
    this.history.length = 0;
  }

  /** Adds one window's probabilities and returns the smoothed ones (new arrays; inputs are not modified). */
  insert(probabilities: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
    return this.options.method === 'ema' ? this.insertEma(probabilities, this.options.alpha) : this.insertMean(probabilities, this.options.windows);
  }

  private insertEma(p: Readonly<Record<string, Float32Array>>, alpha: number): Record<string, Float32Array> {
    const prev = this.ema;
    const next: Record<string, Float32Array> = {};
    for (const [head, probs] of Object.entries(p)) {
      const old = prev?.[head];
      const out = Float32Array.from(probs);
      if (old && old.length === probs.length) for (let i = 0; i < out.length; i++) out[i] = alpha * probs[i]! + (1 - alpha) * old[i]!;
      next[head] = out;
    }
    this.ema = next;
    return next;
  }

  private insertMean(p: Readonly<Record<string, Float32Array>>, windows: number): Record<string, Float32Array> {
    this.history.push({ ...p });
    if (this.history.length > windows) this.history.shift();
    const out: Record<string, Float32Array> = {};
    for (const [head, probs] of Object.entries(p)) {
      const sum = new Float32Array(probs.length);
      let n = 0;
      for (const past of this.history) {
        const h = past[head];
        if (!h || h.length !== sum.length) continue;
        for (let i = 0; i < sum.length; i++) sum[i] += h[i]!;
        n++;
      }
      for (let i = 0; i < sum.length; i++) sum[i] /= n;
      out[head] = sum;
    }
    return out;
  }
}
