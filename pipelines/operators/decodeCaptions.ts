import { exhaustMap, from, map, type ObservableInput, type OperatorFunction } from 'rxjs';
import { now } from '../clock.js';
import type { CaptionEvent } from '../types.js';
import type { CaptionTrigger } from './selectCaptionWindows.js';

/**
 * Decodes a caption for each trigger with the engine's caption decoder. While one caption is
 * decoding, newer triggers are ignored (`exhaustMap`), so a slow decoder can never queue work.
 *
 * ```ts
 * triggers$.pipe(decodeCaptions((encoding) => engine.caption(encoding)))
 * ```
 */
export function decodeCaptions(caption: (encoding: Float32Array) => ObservableInput<string>, clock: () => number = now): OperatorFunction<CaptionTrigger, CaptionEvent> {
  return exhaustMap(({ window, reason }) =>
    from(caption(window.encoding)).pipe(
      map((text): CaptionEvent => ({
        streamId: window.streamId,
        text,
        reason,
        stamps: { ...window.stamps, emittedAt: clock() },
      })),
    ),
  );
}
