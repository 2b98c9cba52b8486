import { Observable, type OperatorFunction } from 'rxjs';
import type { Frame } from '../types.js';

/**
 * Passes on at most `fps` frames per second of capture time, dropping the surplus evenly, and
 * renumbers `seq` so the model sees consecutive frames. Slower input passes unchanged (frames are
 * never invented).
 *
 * ```ts
 * webrtcFrames$.pipe(adaptFrameRate(12)) // 30 fps camera → 12 fps for the model
 * ```
 */
export function adaptFrameRate(fps: number): OperatorFunction<Frame, Frame> {
  if (!(fps > 0)) throw new RangeError(`fps must be > 0, got ${fps}`);
  const period = 1000 / fps;
  return (source) =>
    new Observable<Frame>((subscriber) => {
      let due = -Infinity;
      let seq = 0;
      return source.subscribe({
        next(frame) {
          // Half a millisecond of slack so that jittery 12.0 fps input is not thinned to 6.
          if (frame.capturedAt + 0.5 < due) return;
          // Re-anchor after a pause (e.g. a reconnect) rather than bursting to catch up.
          due = frame.capturedAt - due > 2 * period ? frame.capturedAt + period : due + period;
          subscriber.next(frame.seq === seq ? frame : { ...frame, seq });
          seq++;
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
