/**
 * `npm run data:backbone -- --data DIR [--data DIR …] [--step N]`: writes `<id>.backbone.bin` beside every clip
 * of SSv2-layout folders that has none (the frozen COCO backbone's feature of each frame at
 * BACKBONE_INPUT px, perception/backbone.ts), so that training a model with `perception.backbone`
 * reads features instead of running the backbone on every epoch. `--step 2` measures every other
 * frame only, enough for a model that reads clips at half their frame rate. Resumable: a rerun skips clips
 * that have their file; each file is written atomically.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { readSsv2Dataset } from '../data/index.js';
import { backboneFileName, SPLITS } from '../data/layout.js';
import { initBackend } from '../model/index.js';
import { ClipFeaturizer, decodeClipFeatures, encodeClipFeatures, measureNorm, type ClipFeatures } from '../perception/backbone.js';

const opts = new Command('data:backbone')
  .description('measure the frozen backbone feature of every frame of a data set, once')
  .requiredOption('--data <dir...>', 'SSv2-layout folders')
  .option('--step <n>', 'measure every n-th frame', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--step must be a whole number 1…64, got ${v}`);
    return n;
  }, 1)
  .option('--write-norm <file>', "then write the backbone's standardisation measured on these folders' training clips to FILE")
  .parse()
  .opts<{ data: string[]; step: number; writeNorm?: string }>();

async function main(): Promise<void> {
  await initBackend({ log: () => {} });
  const featurizer = await ClipFeaturizer.load();
  for (const dir of opts.data) {
    const ds = await readSsv2Dataset(dir);
    const todo = SPLITS.flatMap((s) => ds.records[s]).filter((r) => !existsSync(path.join(ds.dir, backboneFileName(r.id))));
    const bar = new SingleBar({ format: `${path.basename(ds.dir)} {bar} {value}/{total} clips, {eta}s left` }, Presets.shades_classic);
    bar.start(todo.length, 0);
    const started = performance.now();
    let frames = 0;
    for (const r of todo) {
      const features = await featurizer.measure(ds.videoPath(r.id), opts.step);
      const file = path.join(ds.dir, backboneFileName(r.id));
      await writeFile(`${file}.tmp`, encodeClipFeatures(features));
      await rename(`${file}.tmp`, file);
      frames += features.frames;
      bar.increment();
    }
    bar.stop();
    const s = (performance.now() - started) / 1000;
    console.log(`${ds.dir}: ${todo.length} clips, ${frames} frames in ${s.toFixed(0)} s${frames ? ` (${((1000 * s) / frames).toFixed(1)} ms a frame)` : ''}`);
  }
  featurizer.dispose();
  if (opts.writeNorm) {
    const clips: ClipFeatures[] = [];
    for (const dir of opts.data) {
      const ds = await readSsv2Dataset(dir);
      for (const r of ds.records.train) {
        const file = path.join(ds.dir, backboneFileName(r.id));
        clips.push(decodeClipFeatures(await readFile(file), file));
      }
    }
    const norm = measureNorm(clips, `${clips.length} training clips of ${opts.data.map((d) => path.basename(path.resolve(d))).join(', ')} (npm run data:backbone -- --data … --write-norm)`);
    await writeFile(opts.writeNorm, `${JSON.stringify(norm)}\n`);
    console.log(`wrote ${opts.writeNorm}: standardisation over ${norm.rows} frames of ${clips.length} clips`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`data:backbone: ${(err as Error).message}\n`);
  process.exit(1);
});
