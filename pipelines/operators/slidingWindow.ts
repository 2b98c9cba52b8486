import { Observable, type OperatorFunction } from 'rxjs';
import { now } from '../clock.js';
import type { Frame, FrameWindow } from '../types.js';

/**
 * Emits a window of the last `size` frames every `stride` frames, once `size` frames have arrived.
 * Windows share frames (they are not copied), so overlapping windows cost nothing extra.
 *
 * ```ts
 * frames$.pipe(slidingWindow(16, 4)) // frames 0–15, 4–19, 8–23, …
 * ```
 */
export function slidingWindow(size: number, stride: number, clock: () => number = now): OperatorFunction<Frame, FrameWindow> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be a positive integer, got ${size}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`window stride must be a positive integer, got ${stride}`);
  return (source) =>
    new Observable<FrameWindow>((subscriber) => {
      // A ring would save the shift, but size is ~16: an array is simpler and just as fast here.
      let buffer: Frame[] = [];
      let sinceLast = 0;
      const sub = source.subscribe({
        next(frame) {
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
