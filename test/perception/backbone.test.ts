/**
 * The frozen backbone feature as training and live read it: the side file's format and its errors,
 * the loader's per-frame features at the sampled frames, and the live stage giving the same
 * features as the clip measurement for the same frames (the backbone loads from the installed
 * package; the clip is a test fixture, no real clip is read here).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVideo } from '../../data/decode.js';
import { backboneFileName } from '../../data/layout.js';
import { clipBatches } from '../../data/loader.js';
import { readSsv2Dataset } from '../../data/ssv2.js';
import { initBackend } from '../../model/backend.js';
import { BACKBONE_NORM_FILE, ClipFeaturizer, decodeClipFeatures, encodeClipFeatures, featuresAt, frameFeatures, standardise } from '../../perception/backbone.js';
import { BACKBONE_BATCH, BACKBONE_WIDTH } from '../../perception/constants.js';
import { ObjectDetector } from '../../perception/objects.js';
import { PerceptionRunner } from '../../perception/runner.js';
import { FramePerceptionStage } from '../../pipelines/framePerception.js';
import type { Frame } from '../../pipelines/types.js';
import { HAVE_FFMPEG } from '../data/requireFfmpeg.js';

const MINI = path.resolve(__dirname, '../fixtures/ssv2-mini');

/** Features whose every value tells the frame it belongs to: frame f holds f + j / 1000. */
const labelledFeatures = (frames: number, step = 1) => ({ frames, step, data: Float32Array.from({ length: frames * BACKBONE_WIDTH }, (_, i) => Math.floor(i / BACKBONE_WIDTH) + (i % BACKBONE_WIDTH) / 1000) });

/** The loader and live give standardised features: undo that for one value. */
const norm = JSON.parse(readFileSync(BACKBONE_NORM_FILE, 'utf8')) as { mean: number[]; sd: number[] };
const raw = (v: number, j: number) => v * norm.sd[j]! + norm.mean[j]!;

let tmp: string;
beforeAll(async () => {
  await initBackend({ force: 'wasm', log: () => {} });
  tmp = await mkdtemp(path.join(tmpdir(), 'ct-backbone-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('backbone side files', () => {
  it('round-trip, pick frames (clamped to the clip) and refuse damaged files by name', () => {
    const c = labelledFeatures(5);
    const back = decodeClipFeatures(encodeClipFeatures(c), 'x.backbone.bin');
    expect(back.frames).toBe(5);
    expect(back.data).toEqual(c.data);
    const picked = featuresAt(back, [0, 4, 9]);
    expect([picked[0], picked[BACKBONE_WIDTH], picked[2 * BACKBONE_WIDTH]]).toEqual([0, 4, 4]);
    // Every other frame stored: frame 5 reads row 2 (frame 4).
    const halves = decodeClipFeatures(encodeClipFeatures(labelledFeatures(3, 2)), 'h.bin');
    expect(halves.step).toBe(2);
    expect(featuresAt(halves, [1, 5, 40]).filter((_, i) => i % BACKBONE_WIDTH === 0)).toEqual(Float32Array.from([0, 2, 2]));
    const bytes = encodeClipFeatures(c);
    expect(() => decodeClipFeatures(bytes.subarray(0, bytes.length - 4), 'cut.backbone.bin')).toThrow(/cut\.backbone\.bin: not a backbone feature file \(\d+ bytes for 5 frames\)/);
    expect(() => decodeClipFeatures(Buffer.from('nope'), 'junk.bin')).toThrow(/junk\.bin: .*no CTBB header/);
    const nan = Buffer.from(bytes);
    nan.writeFloatLE(Number.NaN, 20 + 8);
    expect(() => decodeClipFeatures(nan, 'nan.bin')).toThrow(/not finite/);
  });
});

describe.skipIf(!HAVE_FFMPEG)('the loader with backbone features', () => {
  it('gives each sampled frame its own feature, never mirrors such clips, and skips a clip whose file is missing with its name', async () => {
    const dir = path.join(tmp, 'mini');
    await cp(MINI, dir, { recursive: true });
    const ds = await readSsv2Dataset(dir);
    const ids = ds.records.train.map((r) => r.id);
    const frames = new Map<string, number>();
    for (const id of ids.slice(1)) {
      const n = (await decodeVideo(ds.videoPath(id), { width: 16, height: 16 })).frames;
      frames.set(id, n);
      await writeFile(path.join(dir, backboneFileName(id)), encodeClipFeatures(labelledFeatures(n)));
    }
    const T = 4, step = 2;
    const stream = clipBatches(ds, 'train', { frames: T, height: 16, width: 16, batchSize: 8, shuffle: false, sampling: 'window', step, backbone: true, flip: true });
    const batches = [];
    for await (const b of stream) batches.push(b);
    const b = batches[0]!;
    expect(b.ids).toEqual(ids.slice(1));
    expect(b.perception!.length).toBe(b.ids.length * T * BACKBONE_WIDTH);
    expect(b.mirrored.every((m) => !m)).toBe(true);
    b.ids.forEach((id, i) => {
      // The sampled frames are a window of T frames `step` apart: their features say which.
      const got = Array.from({ length: T }, (_, t) => Math.round(raw(b.perception![(i * T + t) * BACKBONE_WIDTH]!, 0)));
      for (let t = 1; t < T; t++) expect(got[t]! - got[t - 1]!).toBe(Math.min(step, frames.get(id)! - 1 - got[t - 1]!));
      expect(raw(b.perception![i * T * BACKBONE_WIDTH + 7]!, 7)).toBeCloseTo(got[0]! + 0.007, 4);
    });
    expect(stream.report.skipped).toEqual([expect.objectContaining({ id: ids[0], reason: 'unreadable', detail: expect.stringContaining(backboneFileName(ids[0]!)) })]);
  });
});

describe.skipIf(!HAVE_FFMPEG)('the backbone live and in training', () => {
  it('measures frames in batches exactly as one at a time (the graph loads with a free batch size)', async () => {
    const ds = await readSsv2Dataset(MINI);
    const size = 96;
    const video = await decodeVideo(ds.videoPath(ds.records.train[0]!.id), { width: size, height: size });
    const n = Math.min(6, video.frames); // one full batch of BACKBONE_BATCH and a partial one
    expect(n).toBeGreaterThan(BACKBONE_BATCH);
    const detector = await ObjectDetector.load();
    try {
      const batched = frameFeatures(detector, video.data, n, size);
      const bytes = size * size * 3;
      for (let f = 0; f < n; f++) {
        const one = frameFeatures(detector, video.data.subarray(f * bytes, (f + 1) * bytes), 1, size);
        const diff = Math.max(...one.map((x, j) => Math.abs(x - batched[f * BACKBONE_WIDTH + j]!)));
        expect(diff).toBeLessThan(1e-4);
      }
    } finally {
      detector.dispose();
    }
  }, 120_000);

  it('the live stage gives the features the clip measurement gives for the same frames, loads no hand models, and frees its tensors', async () => {
    const ds = await readSsv2Dataset(MINI);
    const file = ds.videoPath(ds.records.train[0]!.id);
    const featurizer = await ClipFeaturizer.load();
    const measured = await featurizer.measure(file);
    featurizer.dispose();
    // A backbone-only model's engine loads no hand models, and its stage keeps no per-stream trackers.
    const runner = await PerceptionRunner.load({ hands: false });
    expect(runner.hands).toBeNull();
    expect(() => runner.newStream()).toThrow(/without the hand models/);
    const stage = new FramePerceptionStage(runner, {}, { handObject: false, backbone: true });
    // Live, a frame's detail copy is decoded at the stage's size and resized for the backbone.
    const detail = await decodeVideo(file, { width: stage.size, height: stage.size });
    const bytes = stage.size * stage.size * 3;
    const frames: Frame[] = Array.from({ length: Math.min(6, detail.frames) }, (_, i) => ({
      streamId: 's', seq: i, capturedAt: 1000 + 83 * i, width: 8, height: 8, pixels: new Uint8Array(8 * 8 * 3),
      detail: { width: stage.size, height: stage.size, pixels: detail.data.slice(i * bytes, (i + 1) * bytes) },
    }));
    await stage.perceive(frames.slice(0, 2));
    const before = tf.memory().numTensors;
    await stage.perceive(frames);
    expect(tf.memory().numTensors).toBe(before);
    const live = stage.inputs(frames, 'image');
    expect(live.length).toBe(frames.length * BACKBONE_WIDTH);
    const expected = standardise(featuresAt(measured, frames.map((f) => f.seq)));
    for (let t = 0; t < frames.length; t++) {
      const a = live.subarray(t * BACKBONE_WIDTH, (t + 1) * BACKBONE_WIDTH), e = expected.subarray(t * BACKBONE_WIDTH, (t + 1) * BACKBONE_WIDTH);
      const cos = a.reduce((s, x, j) => s + x * e[j]!, 0) / (Math.hypot(...a) * Math.hypot(...e));
      // Not bit-equal (one resize more live), but the same picture.
      expect(cos).toBeGreaterThan(0.97);
    }
    stage.dispose();
  }, 120_000);
});
