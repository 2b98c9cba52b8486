import { Observable, type OperatorFunction } from 'rxjs';
import type { CaptionEvent, SegmentedWindow } from '../types.js';

export interface CaptionTrigger {
  readonly window: SegmentedWindow;
  readonly reason: CaptionEvent['reason'];
}

/**
 * Picks the windows worth a caption: the window where an action starts, and otherwise one window
 * every `intervalMs` of capture time — never every window, since decoding costs a model call.
 *
 * ```ts
 * segmented$.pipe(selectCaptionWindows(4000)) // on each action start, else every 4 s
 * ```
 */
export function selectCaptionWindows(intervalMs: number): OperatorFunction<SegmentedWindow, CaptionTrigger> {
  if (!(intervalMs > 0)) throw new RangeError(`caption interval must be > 0 ms, got ${intervalMs}`);
  return (source) =>
    new Observable<CaptionTrigger>((subscriber) => {
      let lastAt = -Infinity;
      return source.subscribe({
        next(window) {
          if (window.final) return;
          const at = window.lastCapturedAt;
          let reason: CaptionEvent['reason'] | undefined;
          if (window.events.some((e) => e.kind === 'start')) reason = 'action-changed';
          else if (at - lastAt >= intervalMs) reason = 'interval';
          if (!reason) return;
          lastAt = at;
          subscriber.next({ window, reason });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
