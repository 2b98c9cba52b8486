/**
 * Data throughput: procedural generation (render only, and render + VP9 encode with ffmpeg) and
 * the loader's decode + augment rate (cold: ffmpeg decodes; warm: served by the disk cache).
 * `npm run bench -- data`; sizes via BENCH_DATA_CLIPS (default 48).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CATALOGUES } from '../data/catalogue/index.js';
import { generateDataset, MIN_CLIPS_PER_CLASS } from '../data/generate.js';
import { clipBatches, type ClipBatchOptions } from '../data/loader.js';
import { Prng } from '../data/prng.js';
import { DIFFICULTY, planClip, renderFrames } from '../data/render/clip.js';
import { readSsv2Dataset } from '../data/ssv2.js';

const fmt = (v: number) => v.toFixed(1);

export async function run(): Promise<void> {
  const n = Number(process.env.BENCH_DATA_CLIPS ?? 48);
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-bench-data-'));
  try {
    let frames = 0;
    let t = performance.now();
    for (let i = 0; i < n; i++) {
      const plan = planClip(CATALOGUES.something, i % CATALOGUES.something.templates.length, new Prng('bench').fork(i), DIFFICULTY.moderate);
      for (const f of renderFrames(plan, { width: 128, height: 128 })) frames += f.length > 0 ? 1 : 0;
    }
    let s = (performance.now() - t) / 1000;
    console.log(`render only (128x128, moderate): ${fmt(n / s)} clips/s, ${fmt(frames / s)} frames/s (${n} clips)`);

    t = performance.now();
    // As many templates as give every class its train, validation and test clip.
    const templates = CATALOGUES.something.templates.slice(0, Math.max(1, Math.floor(n / MIN_CLIPS_PER_CLASS))).map((t) => t.template);
    await generateDataset({ domain: 'something', count: n, out: dir, seed: 'bench', concurrency: 2, templates });
    s = (performance.now() - t) / 1000;
    console.log(`generate = render + VP9 encode + lists (128x128, 2 encoders): ${fmt(n / s)} clips/s (${n} clips in ${fmt(s)} s)`);

    const ds = await readSsv2Dataset(dir);
    const records = ds.records.train.length + ds.records.validation.length + ds.records.test.length;
    const opts: ClipBatchOptions = { frames: 16, height: 64, width: 64, batchSize: 8, sampling: 'random', crop: 'random', flip: true, decoders: 2, prefetch: 2, cache: { dir: path.join(dir, 'cache'), maxBytes: 1e9 } };
    for (const pass of ['cold (ffmpeg decode)', 'warm (disk cache)']) {
      let clips = 0;
      t = performance.now();
      for (const split of ['train', 'validation', 'test'] as const) {
        const stream = clipBatches(ds, split, { ...opts, epoch: pass.startsWith('cold') ? 0 : 1 });
        for await (const b of stream) clips += b.ids.length;
      }
      s = (performance.now() - t) / 1000;
      console.log(`loader decode + augment, ${pass}: ${fmt(clips / s)} clips/s (${clips}/${records} clips, T=16, 64x64, 2 decoders)`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
