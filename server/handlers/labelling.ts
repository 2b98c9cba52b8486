/**
 * Labelling a recording on its timeline: read and write its annotation file (what replay
 * evaluation scores against, so nobody writes that JSON by hand), and cut marked segments into the
 * clip library as labelled clips.
 */
import { rm } from 'node:fs/promises';
import { fillTemplate } from '../../data/captions.js';
import type { AnnotatedSegment } from '../../eval/replay.js';
import { ClipTooShortError } from '../clipCapture.js';
import { checkLabel, type ClipLabel } from '../clipLibrary.js';
import { cutClip } from '../recordingCut.js';
import { RequestError, type Handlers } from './types.js';

/** The object words of a label filled from a template ("Putting [something] into [something]" + "Putting a cup into a bowl" → a cup, a bowl). */
function objectsOf(template: string, label: string | undefined): string[] {
  const slots = (template.match(/\[something\]/g) ?? []).length;
  if (slots === 0 || !label) return Array.from({ length: slots }, () => '');
  const pattern = new RegExp(`^${template.split('[something]').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(.+?)')}$`, 'i');
  const m = pattern.exec(label);
  return m ? m.slice(1) : Array.from({ length: slots }, () => '');
}

function toAnnotation(s: { start: number; end: number; label: ClipLabel }): AnnotatedSegment {
  checkLabel(s.label);
  const action = s.label.action.trim().replace(/\s+/g, ' ');
  const objects = s.label.objects.map((o) => o.trim());
  return { start: s.start, end: s.end, template: action, ...(objects.length ? { label: fillTemplate(action, objects) } : {}) };
}

export const labellingHandlers: Handlers<'read-annotations' | 'save-annotations' | 'clips-from-recording'> = {
  async 'read-annotations'(m, { ctx, reply }) {
    const { probe } = await ctx.recordings.resolveVideo(m.recording);
    const duration = Number.isFinite(probe.duration) ? probe.duration : null;
    const segments = ctx.recordings.annotationsFor(m.recording) ? (await ctx.recordings.readAnnotations(m.recording, probe.duration)).segments : [];
    reply({ type: 'annotations', id: m.id, recording: m.recording, duration, segments: segments.map((s) => ({ start: s.start, end: s.end, label: { action: s.template, objects: objectsOf(s.template, s.label) } })) });
  },

  async 'save-annotations'(m, { ctx, reply }) {
    const { probe } = await ctx.recordings.resolveVideo(m.recording);
    const segments = m.segments.map(toAnnotation);
    const last = segments.reduce((t, s) => Math.max(t, s.end), 0);
    if (Number.isFinite(probe.duration) && last > probe.duration + 1) throw new RequestError('invalid-message', `a segment ends at ${last.toFixed(1)} s, after the end of the ${probe.duration.toFixed(1)} s recording`);
    const file = await ctx.recordings.writeAnnotations(m.recording, segments);
    ctx.log.info({ recording: m.recording, file, segments: segments.length }, 'annotations saved');
    reply({ type: 'ack', id: m.id, of: m.type });
    ctx.hub.broadcast({ type: 'recordings', items: ctx.recordings.list() });
  },

  async 'clips-from-recording'(m, { ctx, reply }) {
    const library = ctx.library;
    if (!library) throw new RequestError('failed', 'this server has no clip library');
    const { file, probe } = await ctx.recordings.resolveVideo(m.recording);
    const { fps, frames: minFrames } = ctx.window?.() ?? { fps: 12, frames: 16 };
    // Every segment is checked before the first is cut: a bad one refuses the request, not half of it.
    for (const s of m.segments) {
      checkLabel(s.label);
      if (Math.floor((s.end - s.start) * fps) < minFrames) throw new ClipTooShortError(`the segment ${s.start.toFixed(1)}–${s.end.toFixed(1)} s is shorter than the model's window (${(minFrames / fps).toFixed(1)} s)`);
      if (Number.isFinite(probe.duration) && s.end > probe.duration + 1) throw new RequestError('invalid-message', `the segment ${s.start.toFixed(1)}–${s.end.toFixed(1)} s runs past the end of the ${probe.duration.toFixed(1)} s recording`);
    }
    let added = 0;
    for (const s of m.segments) {
      library.checkRoom();
      const tempFile = library.tempFile();
      try {
        await cutClip(file, s.start, s.end, fps, tempFile);
      } catch (err) {
        await rm(tempFile, { force: true });
        throw new RequestError('failed', `${added} clip(s) added; the segment at ${s.start.toFixed(1)} s could not be cut: ${(err as Error).message}`, true);
      }
      await library.add({ ...s.label, tempFile, streamId: 'recording', streamName: m.recording, capturedAt: Date.now(), frames: Math.floor((s.end - s.start) * fps), fps });
      added++;
    }
    ctx.log.info({ recording: m.recording, clips: added }, 'segments of a recording added to the clip library');
    reply({ type: 'clips-added', id: m.id, recording: m.recording, clips: added });
    ctx.hub.broadcast({ type: 'clips', library: library.view() });
  },
};
