/** Messages about the recordings folder: listing it, replaying a file, recording a live stream into it. */
import path from 'node:path';
import type { Handlers } from './types.js';

export const recordingHandlers: Handlers<'list-recordings' | 'start-replay' | 'start-recording' | 'stop-recording'> = {
  'list-recordings'(m, { ctx, reply }) {
    reply({ type: 'recordings', id: m.id, items: ctx.recordings.list() });
  },

  async 'start-replay'(m, { ctx, reply }) {
    // Probed first: only a real video container reaches ffmpeg (a playlist named .webm does not).
    const { file } = await ctx.recordings.resolveVideo(m.recording);
    const info = ctx.streams.add({ kind: 'replay', name: m.recording, open: (id) => ({ source: ctx.sources.file(id, file, { loop: m.loop }) }) });
    reply({ type: 'ack', id: m.id, of: m.type, streamId: info.id });
  },

  'start-recording'(m, { ctx, reply }) {
    ctx.streams.startRecording(m.streamId, ctx.recordings.newRecordingBase(m.streamId));
    reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
  },

  async 'stop-recording'(m, { ctx, reply }) {
    const result = await ctx.streams.stopRecording(m.streamId);
    reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
    // Clients learn file names only, never the server's folders.
    ctx.hub.broadcast({ type: 'recording-saved', streamId: m.streamId, video: path.basename(result.video), events: path.basename(result.events) });
  },
};
