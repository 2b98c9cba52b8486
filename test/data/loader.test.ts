import { cp, mkdtemp, readdir, rm, stat, truncate, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalisePixels } from '../../model/preprocess.js';
import { DecodeError, decodeVideo, decodeVideos } from '../../data/decode.js';
import { generateDataset } from '../../data/generate.js';
import { clipBatches, type ClipBatch, type ClipBatchOptions } from '../../data/loader.js';
import { DIFFICULTY } from '../../data/render/clip.js';
import { readSsv2Dataset, type Ssv2Dataset } from '../../data/ssv2.js';
import { HAVE_FFMPEG } from './requireFfmpeg.js';

const MINI = path.resolve(__dirname, '../fixtures/ssv2-mini');
const T = 8, H = 32, W = 32;

async function collect(ds: Ssv2Dataset, split: 'train' | 'validation' | 'test', opts: ClipBatchOptions) {
  const stream = clipBatches(ds, split, opts);
  const batches: ClipBatch[] = [];
  for await (const b of stream) batches.push(b);
  return { batches, report: stream.report };
}

/** One clip of a batch as its own array. */
const clipOf = (b: ClipBatch, i: number) => b.clips.subarray(i * T * H * W * 3, (i + 1) * T * H * W * 3);

describe.skipIf(!HAVE_FFMPEG)('clipBatches', () => {
  let ds: Ssv2Dataset;
  let tmp: string;
  beforeAll(async () => {
    ds = await readSsv2Dataset(MINI);
    tmp = await mkdtemp(path.join(tmpdir(), 'ct-loader-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('decodes real ffmpeg output into [B,T,H,W,3] clips equal to the normalised decoded frames', async () => {
    const { batches, report } = await collect(ds, 'train', { frames: T, height: H, width: W, batchSize: 4, shuffle: false, cropMargin: 0 });
    expect(batches.map((b) => b.shape)).toEqual([[4, T, H, W, 3], [2, T, H, W, 3]]);
    expect(batches.flatMap((b) => b.ids)).toEqual(['101', '102', '103', '104', '107', '108']);
    expect(report).toMatchObject({ clips: 6, decoded: 6, skipped: [] });
    const b = batches[0]!;
    expect([...b.actions]).toEqual([0, 1, 2, 3]);
    expect([...b.groups]).toEqual([2, 2, 3, 1]);
    expect(b.captions[0]).toBe('Pushing a green bottle from left to right');
    // The same frames straight from ffmpeg, sampled uniformly and normalised by model/preprocess.ts.
    const raw = await decodeVideo(ds.videoPath('101'), { width: W, height: H });
    expect(raw.frames).toBe(24);
    const want = new Float32Array(T * H * W * 3);
    const idx = Array.from({ length: T }, (_, k) => Math.round((k * (raw.frames - 1)) / (T - 1)));
    idx.forEach((f, t) => normalisePixels(raw.data.subarray(f * H * W * 3, (f + 1) * H * W * 3), want, t * H * W * 3));
    expect(clipOf(b, 0)).toEqual(want);
    const values = clipOf(b, 0);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(1); // a real picture, not a flat field
  });

  it('decodes many clips at once without losing any (fluent-ffmpeg\'s output-close race)', async () => {
    // Before the sink fix, 7 of 192 concurrent decodes in a loaded training run failed with "Output stream closed".
    const files = Array.from({ length: 96 }, (_, i) => ds.videoPath(['101', '102', '103', '104'][i % 4]!));
    const results = await Promise.allSettled(files.map((f) => decodeVideo(f, { width: W, height: H })));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failed).toEqual([]);
    for (const r of results) expect(r.status === 'fulfilled' && r.value.frames).toBe(24);
  });

  it('decodes a group of clips in one process to exactly what one-by-one decoding gives, and pins failures on their file', async () => {
    const files = ['101', '102', '103', '104'].map((id) => ds.videoPath(id));
    const grouped = await decodeVideos(files, { width: 20, height: 20 });
    for (const [i, f] of files.entries()) {
      const single = await decodeVideo(f, { width: 20, height: 20 });
      const g = grouped[i]!;
      if (g instanceof DecodeError) throw g;
      expect(g.frames).toBe(single.frames);
      expect(Buffer.compare(Buffer.from(g.data), Buffer.from(single.data))).toBe(0);
    }
    const withBad = await decodeVideos([files[0]!, path.join(tmp, 'absent.webm'), files[2]!], { width: 20, height: 20 });
    expect(withBad[0]).not.toBeInstanceOf(DecodeError);
    expect(withBad[1]).toBeInstanceOf(DecodeError);
    expect((withBad[1] as DecodeError).message).toContain('absent.webm');
    expect(withBad[2]).not.toBeInstanceOf(DecodeError);
  });

  it('mirrors only label-safely: left/right classes swap label and caption, side-free classes keep theirs', async () => {
    const base = await collect(ds, 'train', { frames: T, height: H, width: W, batchSize: 8, shuffle: false, flip: false });
    const plain = new Map(base.batches[0]!.ids.map((id, i) => [id, clipOf(base.batches[0]!, i)]));
    let mirroredSeen = 0, keptSeen = 0;
    for (let epoch = 0; epoch < 6; epoch++) {
      const { batches } = await collect(ds, 'train', { frames: T, height: H, width: W, batchSize: 8, shuffle: false, flip: true, epoch, seed: 3 });
      const b = batches[0]!;
      b.ids.forEach((id, i) => {
        const rec = ds.records.train.find((r) => r.id === id)!;
        const clip = clipOf(b, i), orig = plain.get(id)!;
        if (b.mirrored[i]) {
          mirroredSeen++;
          expect(b.actions[i]).toBe(ds.mirrorAction[rec.action]);
          // Pixel (t, y, x) of the mirrored clip is pixel (t, y, W-1-x) of the plain one.
          for (const [t, y, x] of [[0, 0, 0], [T - 1, H - 1, 3], [2, 7, W - 1]]) {
            for (let c = 0; c < 3; c++) expect(clip[((t * H + y) * W + x) * 3 + c]).toBe(orig[((t * H + y) * W + (W - 1 - x)) * 3 + c]);
          }
          if (id === '101') expect(b.captions[i]).toBe('Pushing a green bottle from right to left');
          if (id === '103') expect(b.actions[i]).toBe(rec.action);
        } else {
          keptSeen++;
          expect(b.actions[i]).toBe(rec.action);
          expect(clip).toEqual(orig);
        }
      });
    }
    expect(mirroredSeen).toBeGreaterThan(0);
    expect(keptSeen).toBeGreaterThan(0);
  });

  it('never mirrors a class whose mirror is not in the label set', async () => {
    const noMirror: Ssv2Dataset = { ...ds, mirrorAction: [-1, -1, 2, 3, 4, 5] };
    for (let epoch = 0; epoch < 4; epoch++) {
      const { batches } = await collect(noMirror, 'train', { frames: T, height: H, width: W, batchSize: 4, shuffle: false, flip: true, epoch });
      const b = batches[0]!;
      b.ids.forEach((id, i) => {
        if (id === '101' || id === '102') expect(b.mirrored[i]).toBe(false);
      });
    }
  });

  it('reads ahead only its bounded prefetch while the consumer holds a batch', async () => {
    const touched = new Set<string>();
    const watched: Ssv2Dataset = { ...ds, videoPath: (id) => (touched.add(id), ds.videoPath(id)) };
    const it = clipBatches(watched, 'train', { frames: T, height: H, width: W, batchSize: 2, prefetch: 1, groupSize: 2, shuffle: false })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value!.ids).toEqual(['101', '102']);
    // One batch handed out and one group in flight: 4 of the 6 clips, however long we wait.
    expect(touched.size).toBe(4);
    let rest = 0;
    for (let r = await it.next(); !r.done; r = await it.next()) rest += r.value.ids.length;
    expect(rest).toBe(4);
    expect(touched.size).toBe(6);
  });

  it('serves a second epoch from the disk cache without decoding, with identical clips', async () => {
    const cacheDir = path.join(tmp, 'cache-hit');
    const opts: ClipBatchOptions = { frames: T, height: H, width: W, batchSize: 2, seed: 5, cache: { dir: cacheDir, maxBytes: 50e6 } };
    const first = await collect(ds, 'train', opts);
    expect(first.report.decoded).toBe(6);
    expect(first.report.cacheHits).toBe(0);
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.clip'))).toHaveLength(6);
    const second = await collect(ds, 'train', opts);
    expect(second.report.decoded).toBe(0);
    expect(second.report.cacheHits).toBe(6);
    expect(second.batches.map((b) => b.ids)).toEqual(first.batches.map((b) => b.ids));
    second.batches.forEach((b, i) => expect(b.clips).toEqual(first.batches[i]!.clips));
  });

  it('keeps the cache under its size limit by evicting the least recently used clips', async () => {
    const cacheDir = path.join(tmp, 'cache-small');
    const oneClip = 16 + 24 * 36 * 36 * 3; // header + 24 frames at the decode size (32 · 1.125)
    const maxBytes = Math.floor(oneClip * 2.5);
    const { report } = await collect(ds, 'train', { frames: T, height: H, width: W, batchSize: 4, shuffle: false, decoders: 1, prefetch: 1, cache: { dir: cacheDir, maxBytes } });
    expect(report.cache!.writes).toBe(6);
    expect(report.cache!.evictions).toBe(4);
    const files = (await readdir(cacheDir)).filter((f) => f.endsWith('.clip'));
    expect(files).toHaveLength(2);
    const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(cacheDir, f))).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(maxBytes);
  });

  it('skips unreadable, truncated and missing videos, reporting each by id, and still yields the rest', async () => {
    const bad = path.join(tmp, 'bad');
    await cp(MINI, bad, { recursive: true });
    const vids = path.join(bad, '20bn-something-something-v2');
    const full = await readFile(path.join(vids, '102.webm'));
    await writeFile(path.join(vids, '102.webm'), full.subarray(0, Math.floor(full.length * 0.4)));
    await writeFile(path.join(vids, '103.webm'), Buffer.from('this is not a video at all'.repeat(20)));
    await rm(path.join(vids, '104.webm'));
    await truncate(path.join(vids, '105.webm'), 0);
    const bds = await readSsv2Dataset(bad);
    const { batches, report } = await collect(bds, 'train', { frames: T, height: H, width: W, batchSize: 2, shuffle: false });
    expect(batches.flatMap((b) => b.ids)).toEqual(['101', '107', '108']);
    expect(report.skipped.map((s) => [s.id, s.reason])).toEqual([['102', 'truncated'], ['103', 'unreadable'], ['104', 'missing']]);
    for (const s of report.skipped) expect(s.detail).toContain(`${s.id}.webm`);
    const val = await collect(bds, 'validation', { frames: T, height: H, width: W });
    expect(val.batches).toHaveLength(0);
    expect(val.report.skipped.map((s) => s.id)).toEqual(['105']);
  });

  it('loads a generated procedural set with labels matching its records', async () => {
    const out = path.join(tmp, 'gen');
    await generateDataset({ domain: 'kitchenware', count: 6, out, seed: '2', width: 64, height: 64, templates: ['Putting a lid on [something]', 'Taking a lid off [something]'], difficulty: DIFFICULTY.easy });
    const gds = await readSsv2Dataset(out);
    const { batches, report } = await collect(gds, 'train', { frames: T, height: H, width: W, batchSize: 8, sampling: 'random', crop: 'random', seed: 1 });
    expect(report.skipped).toEqual([]);
    const b = batches[0]!;
    expect(b.shape).toEqual([gds.records.train.length, T, H, W, 3]);
    b.ids.forEach((id, i) => {
      const rec = gds.records.train.find((r) => r.id === id)!;
      expect(b.actions[i]).toBe(rec.action);
      expect(b.simplified[i]).toBe(rec.simplified);
      expect(b.captions[i]).toBe(rec.caption);
    });
  });
});
