import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';
import { now } from '../clock.js';
import type { CaptionEvent, CaptionWord } from '../types.js';
import type { CaptionTrigger } from './selectCaptionWindows.js';

/**
 * Decodes a caption for each trigger, one at a time. While one decodes, at most one trigger waits:
 * a newer trigger replaces the waiting one, except that an interval trigger never displaces a
 * waiting action-changed one. So a slow decoder never queues work, and the caption for a new
 * action is not lost behind a routine one.
 *
 * ```ts
 * triggers$.pipe(decodeCaptions((encoding) => engine.caption(encoding)))
 * ```
 */
export function decodeCaptions(
  caption: (encoding: Float32Array, window: CaptionTrigger['window']) => ObservableInput<string | { text: string; words?: readonly CaptionWord[] }>,
  clock: () => number = now,
): OperatorFunction<CaptionTrigger, CaptionEvent> {
  return (source) =>
    new Observable<CaptionEvent>((subscriber) => {
      let decoding: Subscription | undefined;
      let waiting: CaptionTrigger | undefined;
      let sourceDone = false;
      const start = (trigger: CaptionTrigger) => {
        const { window, reason } = trigger;
        let text: string | { text: string; words?: readonly CaptionWord[] } | undefined;
        decoding = from(caption(window.encoding, window)).subscribe({
          next: (t) => (text = t),
          error: (err) => subscriber.error(err),
          complete: () => {
            decoding = undefined;
            if (text !== undefined) {
              const described = typeof text === 'string' ? { text } : text;
              subscriber.next({ streamId: window.streamId, ...described, reason, stamps: { ...window.stamps, emittedAt: clock() } });
            }
            const next = waiting;
            waiting = undefined;
            if (next) start(next);
            else if (sourceDone) subscriber.complete();
          },
        });
      };
      const sub = source.subscribe({
        next: (trigger) => {
          if (!decoding) start(trigger);
          else if (!(waiting?.reason === 'action-changed' && trigger.reason === 'interval')) waiting = trigger;
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          if (!decoding) subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        decoding?.unsubscribe();
      };
    });
}
