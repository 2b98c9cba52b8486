/** The replay evaluation: one annotated recording through the model, with progress, one at a time server-wide. */
import { RequestError, type Handlers } from './types.js';

/** Progress is sent every this fraction of the recording (and at the end), not every frame. */
const PROGRESS_STEP = 0.05;

export const evaluationHandlers: Handlers<'evaluate'> = {
  async evaluate(m, { ctx, reply }) {
    if (!ctx.evaluate) throw new RequestError('failed', 'evaluation is not available on this server');
    const { file: video, probe } = await ctx.recordings.resolveVideo(m.recording);
    const { segments } = await ctx.recordings.readAnnotations(m.recording, probe.duration);
    const release = ctx.evaluations.tryAcquire();
    if (!release) throw new RequestError('limit', 'another evaluation is running; try again when it has finished');
    try {
      reply({ type: 'ack', id: m.id, of: m.type });
      let lastSent = -1;
      const result = await ctx.evaluate(video, segments, (fraction) => {
        if (fraction - lastSent >= PROGRESS_STEP || fraction === 1) {
          lastSent = fraction;
          reply({ type: 'eval-progress', id: m.id, recording: m.recording, fraction });
        }
      });
      reply({ type: 'eval-result', id: m.id, result });
    } finally {
      release();
    }
  },
};
