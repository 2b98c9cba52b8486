/**
 * Messages about the clip library: list it, take a clip from a live stream (the next or the last
 * N seconds) with its label, relabel and delete clips. Every change is broadcast to every client,
 * so two tabs show the same library.
 */
import { rm } from 'node:fs/promises';
import { encodeClip } from '../clipCapture.js';
import { RequestError, type HandlerScope, type Handlers } from './types.js';
import type { ClipLibrary } from '../clipLibrary.js';
import { checkLabel } from '../clipLibrary.js';

function libraryOf(ctx: HandlerScope['ctx']): ClipLibrary {
  if (!ctx.library) throw new RequestError('failed', 'this server has no clip library');
  return ctx.library;
}

function broadcastLibrary(ctx: HandlerScope['ctx'], library: ClipLibrary): void {
  ctx.hub.broadcast({ type: 'clips', library: library.view() });
}

export const clipHandlers: Handlers<'list-clips' | 'record-clip' | 'relabel-clip' | 'delete-clip'> = {
  'list-clips'(m, { ctx, reply }) {
    // Asked by every dashboard on connect: a server without a library answers with an empty one.
    reply({ type: 'clips', id: m.id, library: ctx.library?.view() ?? { clips: [], classes: [], bytes: 0, maxBytes: 0, maxClips: 0 } });
  },

  async 'record-clip'(m, { ctx, reply }) {
    const library = libraryOf(ctx);
    // Refused before a second is recorded: a bad label or a full library.
    checkLabel(m.label);
    library.checkRoom();
    const minFrames = ctx.window?.().frames ?? 16;
    const captured = await ctx.streams.captureClip(m.streamId, m.seconds, m.when, minFrames);
    const tempFile = library.tempFile();
    try {
      await encodeClip(captured.frames, captured.fps, tempFile);
    } catch (err) {
      await rm(tempFile, { force: true });
      throw new RequestError('failed', `the clip could not be encoded: ${(err as Error).message}`, true);
    }
    const clip = await library.add({ ...m.label, tempFile, streamId: captured.streamId, streamName: captured.streamName, capturedAt: captured.capturedAt, frames: captured.frames.length, fps: captured.fps });
    ctx.log.info({ clip: clip.id, class: clip.className, stream: clip.streamId, frames: clip.frames }, 'clip kept in the library');
    reply({ type: 'clip-saved', id: m.id, clip });
    broadcastLibrary(ctx, library);
  },

  async 'relabel-clip'(m, { ctx, reply }) {
    const library = libraryOf(ctx);
    await library.relabel(m.clipId, m.label);
    reply({ type: 'ack', id: m.id, of: m.type });
    broadcastLibrary(ctx, library);
  },

  async 'delete-clip'(m, { ctx, reply }) {
    const library = libraryOf(ctx);
    await library.delete(m.clipId);
    reply({ type: 'ack', id: m.id, of: m.type });
    broadcastLibrary(ctx, library);
  },
};
