/**
 * A long procedural "session": one continuous stream of many consecutive actions in one place
 * (same background, light and hands), with idle gaps between them, and the list of segments.
 * The live pipelines use `renderSession` as a frame source without ffmpeg; `writeSession` encodes
 * the same frames to a WebM and writes the annotation the replay evaluator reads.
 *
 *   const s = renderSession({ domain: 'kitchenware', seed: '3', actions: 20 });
 *   s.segments   // [{ start, end, template, label, caption, simplified, group }] in seconds
 *   for (const rgb of s.frames()) …   // Uint8Array, width*height*3, at s.fps
 *
 * Annotation JSON (`SessionAnnotation`): { version: 1, domain, seed, fps, width, height, frames,
 * duration, video, segments }. A segment covers the clip of one action, from the first frame of
 * its motion to the end of its last frame; gaps between segments have no action.
 */
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { templateKey } from './captions.js';
import { catalogueOf, templateIndex } from './catalogue/index.js';
import { NO_ACTION, type Domain } from './catalogue/types.js';
import { encodeWebm } from './encode.js';
import { Prng } from './prng.js';
import { ClipPainter, DIFFICULTY, planClip, planLook, progressAt, type ClipPlan, type Difficulty } from './render/clip.js';

export interface SessionSegment {
  /** Seconds from the start of the video. */
  readonly start: number;
  readonly end: number;
  /** SSv2 template with brackets. */
  readonly template: string;
  /** Class name: the template without brackets, as in the labels file. */
  readonly label: string;
  /** Full caption. */
  readonly caption: string;
  readonly simplified: string;
  readonly group: string;
}

export interface SessionAnnotation {
  readonly version: 1;
  readonly domain: Domain;
  readonly seed: string;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly duration: number;
  readonly video: string;
  readonly segments: readonly SessionSegment[];
}

export interface SessionOptions {
  readonly domain: Domain;
  readonly seed: string | number;
  /** How many actions (drawn evenly over the domain's templates), or the templates to perform in order. */
  readonly actions: number | readonly string[];
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly difficulty?: Difficulty;
  /** Idle time between actions, seconds [min, max]. */
  readonly gap?: readonly [number, number];
}

export interface Session {
  readonly domain: Domain;
  readonly seed: string;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly frameCount: number;
  readonly duration: number;
  readonly segments: readonly SessionSegment[];
  /** Every frame in order, RGB24; each call starts again from the first frame. */
  frames(): Generator<Uint8Array>;
}

interface Piece {
  plan: ClipPlan;
  /** Idle frames before the clip (showing its first state). */
  idle: number;
  startFrame: number;
}

export function renderSession(o: SessionOptions): Session {
  const catalogue = catalogueOf(o.domain);
  const width = o.width ?? 128, height = o.height ?? 128, fps = o.fps ?? 12;
  const difficulty = o.difficulty ?? DIFFICULTY.moderate;
  const [gapLo, gapHi] = o.gap ?? [0.6, 1.6];
  const seed = String(o.seed);
  const rng = new Prng(seed).fork(`session:${o.domain}`);
  const look = planLook(rng.fork('look'), difficulty);
  let order: number[];
  if (typeof o.actions === 'number') {
    if (!Number.isInteger(o.actions) || o.actions < 1) throw new Error(`actions must be a positive integer, got ${o.actions}`);
    order = [];
    const pick = rng.fork('order');
    // "No action" is drawn like any template (a few seconds of a resting or passing hand, an empty
    // counter), besides the idle gaps between actions.
    while (order.length < o.actions) order.push(...pick.shuffle(catalogue.templates.map((_, i) => i)));
    order = order.slice(0, o.actions);
  } else {
    if (o.actions.length === 0) throw new Error('no actions given for the session');
    order = o.actions.map((t) => templateIndex(catalogue, t));
  }
  const pieces: Piece[] = [];
  // Domains with a "no action" class annotate the idle gaps with it (no caption: nothing to describe).
  const idleClass = catalogue.templates.some((t) => t.template === NO_ACTION);
  const segments: SessionSegment[] = [];
  let frame = 0;
  order.forEach((ti, k) => {
    const r = rng.fork(`action:${k}`);
    const plan = planClip(catalogue, ti, r, difficulty, { fps, look, seconds: [2.5, 4] });
    const idle = Math.round(fps * r.range(gapLo, gapHi));
    const startFrame = frame + idle;
    pieces.push({ plan, idle, startFrame });
    if (idleClass && idle > 0) segments.push(idleSegment(frame, startFrame, fps));
    segments.push({
      start: round3(startFrame / fps),
      end: round3((startFrame + plan.frames) / fps),
      template: plan.template.template,
      label: templateKey(plan.template.template),
      caption: plan.caption,
      simplified: plan.simplified,
      group: plan.template.group,
    });
    frame = startFrame + plan.frames;
  });
  const tail = Math.round(fps * gapLo);
  const frameCount = frame + tail;
  if (idleClass && tail > 0) segments.push(idleSegment(frame, frameCount, fps));

  function* frames(): Generator<Uint8Array> {
    let f = 0;
    for (const [k, piece] of pieces.entries()) {
      const painter = new ClipPainter(piece.plan, { width, height });
      for (let i = 0; i < piece.idle; i++) yield painter.paint(0, f++ / fps);
      for (let i = 0; i < piece.plan.frames; i++) yield painter.paint(progressAt(piece.plan, i), f++ / fps);
      if (k === pieces.length - 1) for (let i = 0; i < tail; i++) yield painter.paint(1, f++ / fps);
    }
  }

  return { domain: o.domain, seed, fps, width, height, frameCount, duration: frameCount / fps, segments, frames };
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

function idleSegment(from: number, to: number, fps: number): SessionSegment {
  return { start: round3(from / fps), end: round3(to / fps), template: NO_ACTION, label: NO_ACTION, caption: '', simplified: '', group: 'Idle' };
}

/** Encodes a session to `<dir>/<name>.webm` and writes `<dir>/<name>.json`; returns the annotation. */
export async function writeSession(o: SessionOptions & { dir: string; name?: string; codec?: 'vp9' | 'vp8'; crf?: number }): Promise<SessionAnnotation> {
  const s = renderSession(o);
  const name = o.name ?? 'session';
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('-')) throw new Error(`session name "${name}" must be letters, digits, ".", "_" or "-"`);
  const video = path.join(path.resolve(o.dir), `${name}.webm`);
  await encodeWebm(s.frames(), video, { width: s.width, height: s.height, fps: s.fps, codec: o.codec, crf: o.crf });
  const annotation: SessionAnnotation = {
    version: 1,
    domain: s.domain,
    seed: s.seed,
    fps: s.fps,
    width: s.width,
    height: s.height,
    frames: s.frameCount,
    duration: round3(s.duration),
    video: path.basename(video),
    segments: s.segments,
  };
  await writeFile(path.join(path.dirname(video), `${name}.json`), JSON.stringify(annotation, null, 1) + '\n');
  return annotation;
}
