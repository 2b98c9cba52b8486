/**
 * Streams training batches from an SSv2-layout data set without holding it in memory.
 *
 *   const ds = await readSsv2Dataset(dir);
 *   const stream = clipBatches(ds, 'train', { frames: 16, height: 64, width: 64, batchSize: 8,
 *     seed: 1, epoch, sampling: 'random', crop: 'random', flip: true,
 *     cache: { dir: 'runs/cache', maxBytes: 4e9 } });
 *   for await (const b of stream) { b.clips; b.shape; b.actions; b.groups; b.simplified; b.captions }
 *   stream.report.skipped   // [{ id, reason, detail }] – unreadable or truncated videos
 *
 * Each clip is decoded by ffmpeg (rawvideo rgb24; `groupSize` clips per process, fluent-ffmpeg per
 * clip when a group fails) at (1 + cropMargin) × the model size, or read back from the disk cache;
 * then sampled in time, cropped, maybe mirrored and normalised. At most `prefetch` batches of clips
 * are in flight and at most `decoders` ffmpeg processes run at once. Mirroring is label-safe: a clip whose class names a side ("from left to
 * right") becomes its mirror class; a class with a side but no mirror class is never mirrored.
 * Augmentation randomness comes from (seed, epoch, id), so a batch does not depend on timing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { mirrorPerception, HAND_OBJECT_FRAMES, HAND_OBJECT_WIDTH, handObjectVectors, type HandObjectFrame } from '../perception/features.js';
import { parseClipPerception, type ClipPerception } from '../perception/clipPerception.js';
import { simulateDetections } from '../perception/simulate.js';
import { decodeClipFeatures, featuresAt, standardise, type ClipFeatures } from '../perception/backbone.js';
import { BACKBONE_WIDTH } from '../perception/constants.js';
import { sampleFrameIndices, clipToTensorData } from './augment.js';
import { swapLeftRight } from './captions.js';
import { ClipCache } from './clipCache.js';
import { DecodeError, decodeVideos, type DecodedVideo } from './decode.js';
import { backboneFileName, perceptionFileName, type Split } from './layout.js';
import { Prng } from './prng.js';
import type { Ssv2Dataset, VideoRecord } from './ssv2.js';

export const ClipBatchOptionsSchema = z.object({
  frames: z.number().int().min(1).max(256).default(16),
  height: z.number().int().min(8).max(1024).default(64),
  width: z.number().int().min(8).max(1024).default(64),
  batchSize: z.number().int().min(1).max(1024).default(8),
  shuffle: z.boolean().default(true),
  seed: z.union([z.string(), z.number()]).default(0),
  epoch: z.number().int().min(0).default(0),
  sampling: z.enum(['uniform', 'random', 'window', 'window-random']).default('uniform'),
  /** Source frames between two sampled frames of a window (model/config.ts frameStep). */
  step: z.number().int().min(1).max(64).default(1),
  /** Where a 'window' is taken in the clip: 0 = its start, 0.5 = the middle, 1 = the end. */
  windowAt: z.number().min(0).max(1).default(0.5),
  /**
   * Also yield each clip's per-frame hand–object vectors (perception/features.ts) for the sampled
   * frames: read from `<id>.perception.json`, or measured by `perceive` when a clip has none.
   * Procedural (scene) states get simulated detector noise, fresh each epoch in training.
   */
  handObject: z.union([z.literal(false), z.enum(HAND_OBJECT_FRAMES)]).default(false),
  /**
   * Also yield each sampled frame's frozen backbone feature (perception/backbone.ts), after the
   * hand–object vector when both are asked for: read from `<id>.backbone.bin`, or measured by
   * `features` when a clip has none. Such clips are never mirrored (the features are of the
   * unmirrored frames).
   */
  backbone: z.boolean().default(false),
  crop: z.enum(['center', 'random']).default('center'),
  /** Decode this much larger than the crop (0.125 → 72 px for a 64 px crop). */
  cropMargin: z.number().min(0).max(1).default(0.125),
  flip: z.boolean().default(false),
  /** Batches decoded ahead of the consumer. */
  prefetch: z.number().int().min(1).max(64).default(2),
  /** ffmpeg processes at once. */
  decoders: z.number().int().min(1).max(16).default(2),
  /** Clips decoded by one ffmpeg process (start-up costs more than a short clip's decoding). */
  groupSize: z.number().int().min(1).max(32).default(8),
  cache: z.object({ dir: z.string(), maxBytes: z.number().positive() }).optional(),
  /** Use only the first n clips (after shuffling). */
  limit: z.number().int().positive().optional(),
  dropLast: z.boolean().default(false),
});
export type ClipBatchOptions = z.input<typeof ClipBatchOptionsSchema>;

export interface ClipBatch {
  readonly ids: string[];
  /** [B, T, H, W, 3] float32 in [-1, 1] (model/preprocess.ts normalisePixels). */
  readonly clips: Float32Array;
  readonly shape: [number, number, number, number, number];
  /** Coarse group ids; -1 for unlabelled test clips. */
  readonly groups: Int32Array;
  /** Fine action ids; -1 for unlabelled test clips. */
  readonly actions: Int32Array;
  readonly simplified: string[];
  readonly captions: string[];
  readonly mirrored: boolean[];
  /** [B, T, P] when `handObject` or `backbone` was asked for (HAND_OBJECT_WIDTH, then BACKBONE_WIDTH). */
  readonly perception?: Float32Array;
}

/** Measures the hand–object state of a clip that has no side file (perception/clipPerception.ts). */
export type PerceiveClip = (videoFile: string) => Promise<ClipPerception>;

/** Measures the backbone features of a clip that has no side file (perception/backbone.ts). */
export type FeaturizeClip = (videoFile: string) => Promise<ClipFeatures>;

/** What measures a clip's perception inputs when its side files are missing. */
export interface ClipMeasures {
  readonly perceive?: PerceiveClip;
  readonly features?: FeaturizeClip;
}

export interface SkippedVideo {
  readonly id: string;
  readonly reason: 'unreadable' | 'truncated' | 'empty' | 'missing';
  readonly detail: string;
}

export interface LoaderReport {
  clips: number;
  decoded: number;
  cacheHits: number;
  cacheWriteErrors: number;
  skipped: SkippedVideo[];
  cache?: ClipCache['stats'];
}

export interface ClipBatchStream extends AsyncIterable<ClipBatch> {
  readonly report: LoaderReport;
}

interface Sample {
  record: VideoRecord;
  data: Float32Array;
  perception?: Float32Array;
  action: number;
  group: number;
  simplified: string;
  caption: string;
  mirrored: boolean;
}

/** A counting semaphore for the ffmpeg processes. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take() {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give() {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export function clipBatches(dataset: Ssv2Dataset, split: Split, options: ClipBatchOptions = {}, measures: ClipMeasures = {}): ClipBatchStream {
  const o = ClipBatchOptionsSchema.parse(options);
  const report: LoaderReport = { clips: 0, decoded: 0, cacheHits: 0, cacheWriteErrors: 0, skipped: [] };
  const decodeW = Math.round(o.width * (1 + o.cropMargin));
  const decodeH = Math.round(o.height * (1 + o.cropMargin));
  const clipFloats = o.frames * o.height * o.width * 3;
  const perFrame = (o.handObject ? HAND_OBJECT_WIDTH : 0) + (o.backbone ? BACKBONE_WIDTH : 0);

  async function* run(): AsyncGenerator<ClipBatch> {
    const cache = o.cache ? await ClipCache.open(o.cache) : undefined;
    if (cache) report.cache = cache.stats;
    const all = dataset.records[split];
    const ordered = o.shuffle ? new Prng(`${o.seed}`).fork(`order:${split}:${o.epoch}`).shuffle(all) : all.slice();
    const records = o.limit ? ordered.slice(0, o.limit) : ordered;
    const slots = new Slots(o.decoders);

    /** Cached clips, and the rest decoded together in one ffmpeg process. */
    const decodeChunk = async (chunk: readonly VideoRecord[]): Promise<(DecodedVideo | DecodeError)[]> => {
      const files = chunk.map((r) => dataset.videoPath(r.id));
      const keys = await Promise.all(files.map((f) => (cache ? ClipCache.keyFor(f, decodeW, decodeH).catch(() => undefined) : undefined)));
      const out: (DecodedVideo | DecodeError | undefined)[] = await Promise.all(keys.map((key) => (cache && key ? cache.get(key) : undefined)));
      report.cacheHits += out.filter(Boolean).length;
      const todo = out.map((c, i) => (c ? -1 : i)).filter((i) => i >= 0);
      if (todo.length > 0) {
        await slots.take();
        try {
          const fresh = await decodeVideos(todo.map((i) => files[i]!), { width: decodeW, height: decodeH });
          for (const [k, i] of todo.entries()) {
            const clip = fresh[k]!;
            out[i] = clip;
            if (clip instanceof DecodeError) continue;
            report.decoded++;
            // A cache that cannot write (disk full) costs speed, not data: count it and go on.
            if (cache && keys[i]) await cache.put(keys[i]!, clip).catch(() => report.cacheWriteErrors++);
          }
        } finally {
          slots.give();
        }
      }
      return out as (DecodedVideo | DecodeError)[];
    };

    const toSample = (r: VideoRecord, clip: DecodedVideo | DecodeError, state: ClipPerception | Error | undefined, features: ClipFeatures | Error | undefined): Sample | SkippedVideo => {
      if (clip instanceof DecodeError) return { id: r.id, reason: /No such file/.test(clip.message) ? 'missing' : clip.reason, detail: clip.message };
      if (state instanceof Error) return { id: r.id, reason: 'unreadable', detail: state.message };
      if (features instanceof Error) return { id: r.id, reason: 'unreadable', detail: features.message };
      const rng = new Prng(`${o.seed}`).fork(`aug:${o.epoch}:${r.id}`);
      const indices = sampleFrameIndices(clip.frames, o.frames, o.sampling, rng, o.step, o.windowAt);
      const mx = clip.width - o.width, my = clip.height - o.height;
      const x = o.crop === 'random' ? rng.int(0, mx) : Math.floor(mx / 2);
      const y = o.crop === 'random' ? rng.int(0, my) : Math.floor(my / 2);
      const mirrorTo = r.action >= 0 ? dataset.mirrorAction[r.action]! : -1;
      const mirror = o.flip && !o.backbone && mirrorTo >= 0 && rng.chance(0.5);
      const data = new Float32Array(clipFloats);
      clipToTensorData(clip, indices, { x, y, width: o.width, height: o.height, mirror }, data, 0);
      const action = mirror ? mirrorTo : r.action;
      const handObject = o.handObject && state ? perceptionOf(state, indices, mirror, new Prng(`${o.seed}`).fork(`detect:${o.epoch}:${r.id}`), o.handObject) : undefined;
      const backbone = features ? standardise(featuresAt(features, indices)) : undefined;
      return {
        record: r,
        data,
        ...(perFrame > 0 ? { perception: perFrameInputs(indices, handObject, backbone) } : {}),
        action,
        group: action >= 0 ? dataset.actionGroup[action]! : -1,
        simplified: mirror ? swapLeftRight(r.simplified) : r.simplified,
        caption: mirror ? swapLeftRight(r.caption) : r.caption,
        mirrored: mirror,
      };
    };

    const loadChunk = async (chunk: readonly VideoRecord[]) => {
      const [clips, states, features] = await Promise.all([decodeChunk(chunk), o.handObject ? Promise.all(chunk.map(stateOf)) : [], o.backbone ? Promise.all(chunk.map(featuresOf)) : []]);
      return chunk.map((r, i) => toSample(r, clips[i]!, states[i], features[i]));
    };

    /** The clip's side file, else its measurement; an error skips the clip like a broken video. */
    const stateOf = async (r: VideoRecord): Promise<ClipPerception | Error> => {
      try {
        const file = path.join(dataset.dir, perceptionFileName(r.id));
        if (existsSync(file)) return parseClipPerception(JSON.parse(await readFile(file, 'utf8')), file);
        if (!measures.perceive) throw new Error(`${file} is missing and no detectors were given to measure it`);
        return await measures.perceive(dataset.videoPath(r.id));
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    };

    /** The clip's backbone side file, else its measurement; an error skips the clip like a broken video. */
    const featuresOf = async (r: VideoRecord): Promise<ClipFeatures | Error> => {
      try {
        const file = path.join(dataset.dir, backboneFileName(r.id));
        if (existsSync(file)) return decodeClipFeatures(await readFile(file), file);
        if (!measures.features) throw new Error(`${file} is missing and no backbone was given to measure it`);
        return await measures.features(dataset.videoPath(r.id));
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    };

    const assemble = (samples: Sample[]): ClipBatch => {
      const B = samples.length;
      const clips = new Float32Array(B * clipFloats);
      samples.forEach((s, i) => clips.set(s.data, i * clipFloats));
      let perception: Float32Array | undefined;
      if (perFrame > 0) {
        perception = new Float32Array(B * o.frames * perFrame);
        samples.forEach((s, i) => perception!.set(s.perception!, i * o.frames * perFrame));
      }
      return {
        ids: samples.map((s) => s.record.id),
        clips,
        shape: [B, o.frames, o.height, o.width, 3],
        groups: Int32Array.from(samples, (s) => s.group),
        actions: Int32Array.from(samples, (s) => s.action),
        simplified: samples.map((s) => s.simplified),
        captions: samples.map((s) => s.caption),
        mirrored: samples.map((s) => s.mirrored),
        ...(perception ? { perception } : {}),
      };
    };

    // In-order window of clip groups in flight: bounded prefetch, results kept in record order.
    const group = Math.min(o.groupSize, o.batchSize);
    const window: Promise<(Sample | SkippedVideo)[]>[] = [];
    const maxGroups = Math.max(1, Math.ceil((o.prefetch * o.batchSize) / group));
    let next = 0;
    const fill = () => {
      while (window.length < maxGroups && next < records.length) {
        const p = loadChunk(records.slice(next, next + group));
        next += group;
        p.catch(() => undefined);
        window.push(p);
      }
    };
    fill();
    let pending: Sample[] = [];
    while (window.length > 0) {
      const results = await window.shift()!;
      fill();
      for (const r of results) {
        if ('data' in r) {
          report.clips++;
          pending.push(r);
        } else report.skipped.push(r);
        if (pending.length === o.batchSize) {
          yield assemble(pending);
          pending = [];
        }
      }
    }
    if (pending.length > 0 && !o.dropLast) yield assemble(pending);
  }

  return { report, [Symbol.asyncIterator]: () => run() };
}

/** Each sampled frame's inputs side by side: its hand–object vector, then its backbone feature. */
function perFrameInputs(indices: readonly number[], handObject: Float32Array | undefined, features: Float32Array | undefined): Float32Array {
  if (!handObject || !features) return handObject ?? features!;
  const out = new Float32Array(indices.length * (HAND_OBJECT_WIDTH + BACKBONE_WIDTH));
  indices.forEach((_, t) => {
    out.set(handObject.subarray(t * HAND_OBJECT_WIDTH, (t + 1) * HAND_OBJECT_WIDTH), t * (HAND_OBJECT_WIDTH + BACKBONE_WIDTH));
    out.set(features.subarray(t * BACKBONE_WIDTH, (t + 1) * BACKBONE_WIDTH), t * (HAND_OBJECT_WIDTH + BACKBONE_WIDTH) + HAND_OBJECT_WIDTH);
  });
  return out;
}

/**
 * The sampled frames' hand–object vectors: a procedural clip's noiseless scene state gets detector
 * noise first (over all its frames, so misses and wrong classes persist as they do live).
 */
function perceptionOf(state: ClipPerception, indices: readonly number[], mirror: boolean, rng: Prng, frame: HandObjectFrame): Float32Array {
  const frames = state.source === 'scene' ? simulateDetections(state.frames, rng) : state.frames;
  const last = frames.length - 1;
  const picked = indices.map((i) => frames[Math.min(i, last)]!);
  return handObjectVectors(mirror ? picked.map(mirrorPerception) : picked, frame);
}
