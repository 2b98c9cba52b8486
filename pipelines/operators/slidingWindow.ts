import { Observable, type OperatorFunction } from 'rxjs';
import { now } from '../clock.js';
import type { Frame, FrameWindow } from '../types.js';

export interface SlidingWindowOptions {
  readonly clock?: () => number;
  /**
   * A capture-time gap between consecutive frames longer than this (a camera reconnecting, a
   * stalled peer) starts the window over, so that no window joins frames from either side of it.
   * Default: no limit.
   */
  readonly maxGapMs?: number;
}

/**
 * Emits a window of the last `size` frames every `stride` frames, once `size` frames have arrived.
 * Windows share frames (they are not copied), so overlapping windows cost nothing extra.
 *
 * ```ts
 * frames$.pipe(slidingWindow(16, 4)) // frames 0–15, 4–19, 8–23, …
 * ```
 */
export function slidingWindow(size: number, stride: number, options: SlidingWindowOptions = {}): OperatorFunction<Frame, FrameWindow> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be a positive integer, got ${size}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`window stride must be a positive integer, got ${stride}`);
  const { clock = now, maxGapMs = Number.POSITIVE_INFINITY } = options;
  if (!(maxGapMs > 0)) throw new RangeError(`maxGapMs must be positive, got ${maxGapMs}`);
  return (source) =>
    new Observable<FrameWindow>((subscriber) => {
      // A ring would save the shift, but size is ~16: an array is simpler and just as fast here.
      let buffer: Frame[] = [];
      let sinceLast = 0;
      const sub = source.subscribe({
        next(frame) {
          const previous = buffer.at(-1);
          if (previous && frame.capturedAt - previous.capturedAt > maxGapMs) {
            buffer = [];
            sinceLast = 0;
          }
          buffer.push(frame);
          if (buffer.length > size) buffer.shift();
          sinceLast++;
          if (buffer.length === size && sinceLast >= stride) {
            sinceLast = 0;
            subscriber.next({ streamId: frame.streamId, frames: buffer.slice(), readyAt: clock() });
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        sub.unsubscribe();
        buffer = [];
      };
    });
}
