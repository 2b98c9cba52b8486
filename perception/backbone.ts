/**
 * The frozen COCO backbone's per-frame feature (BACKBONE_WIDTH values, the mean over the feature
 * map of a MobileNetV3 pretrained on real photos), for training and evaluation: read from a clip's
 * `<id>.backbone.bin` side file or measured on its video. The live path computes the same feature
 * from each frame's detail copy (pipelines/framePerception.ts), at the same size.
 *
 * Side file: "CTBB", u32 version, u32 rows, u32 width, u32 step, then rows × width float32 (little
 * endian): row r is frame r × step of the clip (step 2 halves the cost for a model that reads every
 * other frame; a frame between two rows reads the row before it).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import path from 'node:path';
import { decodeVideo } from '../data/decode.js';
import { BACKBONE_BATCH, BACKBONE_INPUT, BACKBONE_WIDTH } from './constants.js';
import { storeBounded } from './boundedFiles.js';
import { ObjectDetector } from './objects.js';

const MAGIC = 'CTBB';
const VERSION = 1;
const HEADER = 20;

/** The features of one clip's frames 0, step, 2 × step, … */
export interface ClipFeatures {
  /** Rows held. */
  readonly frames: number;
  /** Clip frames from one row to the next (1 = every frame). */
  readonly step: number;
  /** [frames × BACKBONE_WIDTH] */
  readonly data: Float32Array;
}

export function encodeClipFeatures(c: ClipFeatures): Buffer {
  const buf = Buffer.alloc(HEADER + c.data.byteLength);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(c.frames, 8);
  buf.writeUInt32LE(BACKBONE_WIDTH, 12);
  buf.writeUInt32LE(c.step, 16);
  Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength).copy(buf, HEADER);
  return buf;
}

/** Validates a side file's bytes; `file` names it in the error. */
export function decodeClipFeatures(buf: Buffer, file: string): ClipFeatures {
  const bad = (why: string) => new Error(`${file}: not a backbone feature file (${why})`);
  if (buf.length < HEADER || buf.toString('latin1', 0, 4) !== MAGIC) throw bad('no CTBB header');
  if (buf.readUInt32LE(4) !== VERSION) throw bad(`version ${buf.readUInt32LE(4)}, expected ${VERSION}`);
  const frames = buf.readUInt32LE(8), width = buf.readUInt32LE(12), step = buf.readUInt32LE(16);
  if (width !== BACKBONE_WIDTH) throw bad(`${width} values a frame, expected ${BACKBONE_WIDTH}`);
  if (step < 1 || step > 64) throw bad(`a step of ${step} frames`);
  if (frames < 1 || buf.length !== HEADER + frames * width * 4) throw bad(`${buf.length} bytes for ${frames} frames`);
  const data = new Float32Array(frames * width);
  Buffer.from(data.buffer).set(buf.subarray(HEADER));
  if (!data.every(Number.isFinite)) throw bad('a value is not finite');
  return { frames, step, data };
}

/**
 * The fixed standardisation of the backbone's output, (x − mean) / sd per value: its raw values
 * share a large common offset and differ by little, which a dense layer learns slowly from. The
 * statistics are the backbone's on procedural training frames, measured once
 * (`npm run data:backbone -- --data DIR --write-norm perception/backbone-norm.json`) and fixed
 * like an image model's input statistics, so that every model, loader and live path agrees.
 */
export const BACKBONE_NORM_FILE = fileURLToPath(new URL('./backbone-norm.json', import.meta.url));
const normSchema = z.object({ measuredOn: z.string(), rows: z.number().int().positive(), mean: z.array(z.number().finite()).length(BACKBONE_WIDTH), sd: z.array(z.number().positive()).length(BACKBONE_WIDTH) });
export type BackboneNorm = z.infer<typeof normSchema>;

let norm: { mean: Float32Array; inv: Float32Array } | undefined;
function backboneNorm(): { mean: Float32Array; inv: Float32Array } {
  if (norm) return norm;
  let parsed: BackboneNorm;
  try {
    parsed = normSchema.parse(JSON.parse(readFileSync(BACKBONE_NORM_FILE, 'utf8')));
  } catch (e) {
    throw new Error(`${BACKBONE_NORM_FILE}: the backbone's standardisation cannot be read (${(e as Error).message.split('\n')[0]})`);
  }
  return (norm = { mean: Float32Array.from(parsed.mean), inv: Float32Array.from(parsed.sd, (s) => 1 / s) });
}

/** Standardises rows of raw backbone features in place (BACKBONE_WIDTH values a row). */
export function standardise(rows: Float32Array): Float32Array {
  const { mean, inv } = backboneNorm();
  for (let i = 0; i < rows.length; i++) rows[i] = (rows[i]! - mean[i % BACKBONE_WIDTH]!) * inv[i % BACKBONE_WIDTH]!;
  return rows;
}

/** Per-value mean and sd over clips' feature rows (what --write-norm stores). */
export function measureNorm(clips: readonly ClipFeatures[], measuredOn: string): BackboneNorm {
  const sum = new Float64Array(BACKBONE_WIDTH), sq = new Float64Array(BACKBONE_WIDTH);
  let rows = 0;
  for (const c of clips) {
    for (let i = 0; i < c.data.length; i++) {
      sum[i % BACKBONE_WIDTH] += c.data[i]!;
      sq[i % BACKBONE_WIDTH] += c.data[i]! ** 2;
    }
    rows += c.frames;
  }
  if (rows === 0) throw new Error('no feature rows to measure the standardisation on');
  const mean = [...sum].map((s) => s / rows);
  const sd = [...sq].map((s, j) => Math.max(1e-4, Math.sqrt(Math.max(0, s / rows - mean[j]! ** 2))));
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return { measuredOn, rows, mean: mean.map(round), sd: sd.map(round) };
}

/** The features of the clip frames at `indices` (the row at or before each, clamped), [indices.length × BACKBONE_WIDTH]. */
export function featuresAt(c: ClipFeatures, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * BACKBONE_WIDTH);
  indices.forEach((f, i) => {
    const src = Math.min(Math.max(0, Math.floor(f / c.step)), c.frames - 1) * BACKBONE_WIDTH;
    out.set(c.data.subarray(src, src + BACKBONE_WIDTH), i * BACKBONE_WIDTH);
  });
  return out;
}

/** Per-frame features of RGB frames (0…255, square, any size), BACKBONE_BATCH frames per graph call. */
export function frameFeatures(detector: ObjectDetector, rgb: Uint8Array | Float32Array, frames: number, size: number): Float32Array {
  const out = new Float32Array(frames * BACKBONE_WIDTH);
  const bytes = size * size * 3;
  for (let f = 0; f < frames; f += BACKBONE_BATCH) {
    const n = Math.min(BACKBONE_BATCH, frames - f);
    const t = tf.tidy(() => detector.features(tf.tensor4d(Float32Array.from(rgb.subarray(f * bytes, (f + n) * bytes)), [n, size, size, 3])));
    out.set(t.dataSync() as Float32Array, f * BACKBONE_WIDTH);
    t.dispose();
  }
  return out;
}

export interface ClipFeatureOptions {
  /** Cache folder for measured clips; none = measure every time. */
  readonly cacheDir?: string;
  /** Largest cache size; the oldest files go first. */
  readonly cacheBytes?: number;
  readonly dir?: string;
}

/** Measures clips' features with one loaded backbone, one clip at a time (the graph is not re-entrant). */
export class ClipFeaturizer {
  private queue: Promise<unknown> = Promise.resolve();
  private constructor(private readonly detector: ObjectDetector, private readonly opts: ClipFeatureOptions) {}

  static async load(opts: ClipFeatureOptions = {}): Promise<ClipFeaturizer> {
    return new ClipFeaturizer(await ObjectDetector.load(opts.dir ? { dir: opts.dir } : {}), opts);
  }

  /** Features of every `step`-th frame of the clip (from the cache when it holds them). */
  measure = (videoFile: string, step = 1): Promise<ClipFeatures> => {
    const next = this.queue.then(() => this.measureNow(videoFile, step));
    this.queue = next.catch(() => undefined);
    return next;
  };

  private async measureNow(videoFile: string, step: number): Promise<ClipFeatures> {
    // Keyed by content, not path: a scorer's temporary copy of a clip is not measured twice.
    const key = createHash('sha1').update(await readFile(videoFile)).update(`|backbone|${BACKBONE_INPUT}|${VERSION}|${step}`).digest('hex');
    const cached = this.opts.cacheDir ? path.join(this.opts.cacheDir, `${key}.bin`) : null;
    if (cached) {
      try {
        return decodeClipFeatures(await readFile(cached), cached);
      } catch {
        // not cached yet (or damaged): measure again
      }
    }
    const video = await decodeVideo(videoFile, { width: BACKBONE_INPUT, height: BACKBONE_INPUT });
    const rows = Math.ceil(video.frames / step);
    const bytes = BACKBONE_INPUT * BACKBONE_INPUT * 3;
    const picked = step === 1 ? video.data : new Uint8Array(rows * bytes);
    if (step > 1) for (let r = 0; r < rows; r++) picked.set(video.data.subarray(r * step * bytes, (r * step + 1) * bytes), r * bytes);
    const result = { frames: rows, step, data: frameFeatures(this.detector, picked, rows, BACKBONE_INPUT) };
    if (cached) await storeBounded(cached, encodeClipFeatures(result), this.opts.cacheBytes ?? 500e6).catch(() => undefined);
    return result;
  }

  dispose(): void {
    this.detector.dispose();
  }
}
