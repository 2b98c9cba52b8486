/**
 * One temporal sampling for training and live: for the same clip, the loader's evaluation window
 * (T frames `step` apart from the middle, model/config.ts 'window') is, frame for frame, a window the
 * live pipeline cuts from the same file resampled to the model's rate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../data/generate.js';
import { clipBatches } from '../../data/loader.js';
import { readSsv2Dataset, type Ssv2Dataset } from '../../data/ssv2.js';
import { frameStep, parseModelConfig } from '../../model/config.js';
import { normalisePixels } from '../../model/preprocess.js';
import { slidingWindow } from '../../pipelines/operators/slidingWindow.js';
import { openSource } from '../../pipelines/sources/openSource.js';
import { HAVE_FFMPEG } from './requireFfmpeg.js';

const config = parseModelConfig({ frames: 6, fps: 6, height: 32, width: 32, spatial: { filters: [4], features: 4 }, spatiotemporal: { filters: [4], features: 4 } });

describe.skipIf(!HAVE_FFMPEG)('window sampling', () => {
  let tmp: string;
  let ds: Ssv2Dataset;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'ct-sampling-'));
    await generateDataset({ domain: 'kitchenware', count: 3, out: tmp, seed: '9', width: 32, height: 32, fps: 12, templates: ['Stirring [something] with [something]'], codec: 'vp8' });
    ds = await readSsv2Dataset(tmp);
  }, 120_000);
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('gives the loader the frames the live pipeline sees', async () => {
    const step = frameStep(config);
    expect(step).toBe(2);
    const { frames: T, height, width } = config;
    const split = (['train', 'validation', 'test'] as const).find((s) => ds.records[s].length > 0)!;
    const record = ds.records[split][0]!;
    const stream = clipBatches(ds, split, { frames: T, height, width, batchSize: 1, shuffle: false, cropMargin: 0, sampling: 'window', step, limit: 1 });
    let loaded: Float32Array | undefined;
    for await (const b of stream) loaded ??= b.clips;
    expect(loaded).toBeDefined();

    const live = await lastValueFrom(
      openSource({ kind: 'file', streamId: 's', path: ds.videoPath(record.id), pace: 'max' }, { width, height, fps: config.fps }).frames.pipe(slidingWindow(T, 1), toArray()),
    );
    expect(live.length).toBeGreaterThan(1);
    const size = width * height * 3;
    const asClip = (w: (typeof live)[number]) => {
      const out = new Float32Array(T * size);
      w.frames.forEach((f, i) => normalisePixels(f.pixels, out, i * size));
      return out;
    };
    // The closest live window must be the loader's, to the decoder's rounding.
    const errors = live.map((w) => {
      const c = asClip(w);
      let worst = 0;
      for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i]! - loaded![i]!));
      return worst;
    });
    const best = Math.min(...errors);
    expect(best).toBeLessThan(0.02);
    // …and not by accident: the windows one step away differ clearly.
    const at = errors.indexOf(best);
    for (const other of [at - 1, at + 1].filter((i) => i >= 0 && i < errors.length)) expect(errors[other]!).toBeGreaterThan(0.05);
  }, 120_000);
});
