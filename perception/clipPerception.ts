/**
 * A clip's hand–object state, frame by frame: read off the scene for procedural clips
 * (`source: 'scene'`, noiseless; the loader adds detector noise) or measured by the pretrained
 * detectors on the video (`source: 'detectors'`). Measuring is dear (≈ 0.1–0.25 s a frame here),
 * so measured states are kept in a bounded on-disk cache keyed by the video's bytes.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { decodeVideo } from '../data/decode.js';
import { MAX_HANDS } from './constants.js';
import { storeBounded } from './boundedFiles.js';
import { PerceptionRunner } from './runner.js';
import { OBJECT_KINDS, type FramePerception } from './types.js';

export interface ClipPerception {
  readonly source: 'scene' | 'detectors';
  readonly frames: readonly FramePerception[];
}

const num = z.number().finite();
const point = z.object({ x: num, y: num });
const box = z.object({ cx: num, cy: num, w: num.min(0), h: num.min(0) });
const frameSchema = z.object({
  hands: z.array(z.object({ score: num, box, keypoints: z.object({ wrist: point, palm: point, thumbTip: point, indexTip: point }).nullable() })).max(MAX_HANDS),
  objects: z.array(z.object({ label: z.string().max(40), kind: z.enum(OBJECT_KINDS), score: num, box })).max(16),
});
const clipSchema = z.object({ source: z.enum(['scene', 'detectors']), frames: z.array(frameSchema).min(1).max(100_000) });

/** Validates a parsed side file; `file` names it in the error. */
export function parseClipPerception(value: unknown, file: string): ClipPerception {
  const r = clipSchema.safeParse(value);
  if (!r.success) throw new Error(`${file}: not a hand–object state file (${z.prettifyError(r.error).split('\n')[0]})`);
  return r.data;
}

export interface MeasureOptions {
  /** Side of the square the video is decoded to for the detectors. */
  readonly size?: number;
  /** Cache folder for measured clips; none = measure every time. */
  readonly cacheDir?: string;
  /** Largest cache size; the oldest files go first. */
  readonly cacheBytes?: number;
}

/** Measures clips with one set of loaded detectors (one clip at a time: the models are not re-entrant). */
export class ClipPerceiver {
  private queue: Promise<unknown> = Promise.resolve();
  private constructor(private readonly runner: PerceptionRunner, private readonly opts: MeasureOptions) {}

  static async load(opts: MeasureOptions = {}): Promise<ClipPerceiver> {
    return new ClipPerceiver(await PerceptionRunner.load(), opts);
  }

  /** The clip's measured state, from the cache when it holds it. */
  measure = (videoFile: string): Promise<ClipPerception> => {
    const next = this.queue.then(() => this.measureNow(videoFile));
    this.queue = next.catch(() => undefined);
    return next;
  };

  private async measureNow(videoFile: string): Promise<ClipPerception> {
    const size = this.opts.size ?? 256;
    // Keyed by content, not path: the same clip copied elsewhere (a scorer's temporary folder) is not measured twice.
    const key = createHash('sha1').update(await readFile(videoFile)).update(`|${size}|${PerceptionRunner.VERSION}`).digest('hex');
    const cached = this.opts.cacheDir ? path.join(this.opts.cacheDir, `${key}.json`) : null;
    if (cached) {
      try {
        return parseClipPerception(JSON.parse(await readFile(cached, 'utf8')), cached);
      } catch {
        // not cached yet (or damaged): measure again
      }
    }
    const video = await decodeVideo(videoFile, { width: size, height: size });
    const stream = this.runner.newStream();
    const frames: FramePerception[] = [];
    const bytes = size * size * 3;
    for (let i = 0; i < video.frames; i++) {
      const frame = tf.tensor3d(video.data.subarray(i * bytes, (i + 1) * bytes), [size, size, 3], 'int32');
      try {
        frames.push(await stream.step(frame));
      } finally {
        frame.dispose();
      }
    }
    const result: ClipPerception = { source: 'detectors', frames };
    if (cached) await storeBounded(cached, JSON.stringify(result), this.opts.cacheBytes ?? 200e6).catch(() => undefined);
    return result;
  }

  dispose(): void {
    this.runner.dispose();
  }
}

