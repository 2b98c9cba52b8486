/**
 * A FrameGenerator over data/'s procedural kitchen session renderer, for the `procedural` source
 * kind: demos and tests get a continuous stream of annotated actions without a camera or ffmpeg.
 *
 * ```ts
 * const { generate, session } = sessionFrames({ domain: 'kitchenware', seed: 3, actions: 10, fps: 12 });
 * openSource({ kind: 'procedural', streamId: 'demo', generate, fps: session.fps }, engine.input);
 * ```
 */
import { renderSession, type Session, type SessionOptions } from '../../data/session.js';
import type { FrameGenerator } from './openSource.js';

export function sessionFrames(options: SessionOptions): { generate: FrameGenerator; session: Session } {
  const session = renderSession(options);
  const generate: FrameGenerator = function* () {
    for (const pixels of session.frames()) yield { width: session.width, height: session.height, pixels };
  };
  return { generate, session };
}
