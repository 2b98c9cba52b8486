/**
 * `npx tsx scripts/sim2real-probe.ts --data DIR [--data DIR …]`: does the pretrained COCO backbone's
 * feature, learnt from procedural clips alone, carry over to real kitchens? A measurement for issue 10.
 *
 * Each clip's feature is the backbone's 480 values on `--frames` frames spread over it (224 px),
 * summarised as their mean, their spread over time, and the mean absolute change between frames
 * (a crude motion cue). A linear softmax head is trained on the procedural clips of the given data
 * folders (SSv2 layout, kitchenware domain) and scored on the kitchenware-labelled real clips of
 * ../shared/real-clips, read in place for evaluation only (nothing of them is written, the head is
 * thrown away). Features are cached under runs/s2r/ so that variants rerun in seconds.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { decodeVideo } from '../data/decode.js';
import { initBackend } from '../model/index.js';
import { ObjectDetector } from '../perception/objects.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL_DIR = path.join(ROOT, '..', 'shared', 'real-clips');
const CACHE = path.join(ROOT, 'runs', 's2r');
const SIZE = Number(process.env.PROBE_SIZE ?? 224);

interface Item {
  file: string;
  template: string;
  split: 'train' | 'validation' | 'test' | 'real';
}

const opts = new Command()
  .option('--data <dir...>', 'procedural kitchenware data folders', [])
  .option('--frames <n>', 'frames per clip', (v) => Number(v), 8)
  .option('--parts <list>', 'feature parts: mean,spread,change', 'mean,spread,change')
  .option('--epochs <n>', 'head epochs', (v) => Number(v), 300)
  .option('--decay <x>', 'weight decay', (v) => Number(v), 1e-3)
  .option('--clip <z>', 'clip standardised values to ±z', (v) => Number(v))
  .option('--align', 'standardise the real clips with their own statistics (test-time feature alignment)')
  .parse()
  .opts<{ data: string[]; frames: number; parts: string; epochs: number; decay: number; align?: boolean; clip?: number }>();

function proceduralItems(dir: string): Item[] {
  const out: Item[] = [];
  for (const split of ['train', 'validation', 'test'] as const) {
    const list = JSON.parse(readFileSync(path.join(dir, `something-something-v2-${split}.json`), 'utf8')) as { id: string; template?: string }[];
    const answers = split === 'test' ? new Map(readFileSync(path.join(dir, 'something-something-v2-test-answers.csv'), 'utf8').trim().split('\n').map((l) => l.split(';') as [string, string])) : undefined;
    // The test answers name the template without brackets; the lists and the manifest with them.
    for (const e of list) out.push({ file: path.join(dir, `${e.id}.webm`), template: bracketed(e.template ?? answers?.get(e.id) ?? ''), split });
  }
  return out;
}

const bracketed = (template: string) => template.replace(/\[?something\]?/g, '[something]');

function realItems(): Item[] {
  const manifest = JSON.parse(readFileSync(path.join(REAL_DIR, 'manifest.json'), 'utf8')) as { file: string; label: string; domain: string }[];
  return manifest.filter((e) => e.domain === 'kitchenware').map((e) => ({ file: path.join(REAL_DIR, 'clips', e.file), template: e.label, split: 'real' }));
}

/** [frames, 480] backbone features of one clip, cached by file and frame count. */
async function clipFrames(detector: ObjectDetector, file: string, frames: number, cache: Record<string, number[][]>): Promise<number[][]> {
  const key = `${file}#${frames}`;
  if (cache[key]) return cache[key]!;
  const video = await decodeVideo(file, { width: SIZE, height: SIZE });
  const picks = Array.from({ length: frames }, (_, i) => Math.min(video.frames - 1, Math.round(((i + 0.5) / frames) * video.frames - 0.5)));
  const bytes = SIZE * SIZE * 3;
  const rows: number[][] = [];
  for (const f of picks) {
    const t = tf.tidy(() => detector.features(tf.tensor4d(Float32Array.from(video.data.subarray(f * bytes, (f + 1) * bytes)), [1, SIZE, SIZE, 3])));
    rows.push([...((await t.data()) as Float32Array)].map((x) => Math.round(x * 1e4) / 1e4));
    t.dispose();
  }
  cache[key] = rows;
  return rows;
}

function summarise(rows: number[][], parts: string[]): number[] {
  const d = rows[0]!.length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length);
  const out: number[] = [];
  if (parts.includes('mean')) out.push(...mean);
  if (parts.includes('spread')) out.push(...mean.map((m, j) => Math.sqrt(rows.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / rows.length)));
  if (parts.includes('change')) out.push(...mean.map((_, j) => rows.slice(1).reduce((a, r, i) => a + Math.abs(r[j]! - rows[i]![j]!), 0) / Math.max(1, rows.length - 1)));
  return out;
}

async function main(): Promise<void> {
  await initBackend({ log: () => {} });
  mkdirSync(CACHE, { recursive: true });
  const cacheFile = path.join(CACHE, `backbone-features${SIZE === 224 ? '' : `-${SIZE}`}.json`);
  const cache = existsSync(cacheFile) ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, number[][]>) : {};
  const items = [...opts.data.flatMap(proceduralItems), ...realItems()];
  const detector = await ObjectDetector.load({ featureSize: SIZE });
  const started = performance.now();
  const feats: number[][][] = [];
  for (const [i, it] of items.entries()) {
    feats.push(await clipFrames(detector, it.file, opts.frames, cache));
    if (i % 100 === 99) {
      writeFileSync(cacheFile, JSON.stringify(cache));
      console.error(`${i + 1}/${items.length} clips, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  writeFileSync(cacheFile, JSON.stringify(cache));
  const parts = opts.parts.split(',');
  const x = feats.map((rows) => summarise(rows, parts));
  const classes = [...new Set(items.filter((it) => it.split !== 'real').map((it) => it.template))].sort();
  const trainIdx = items.map((it, i) => (it.split === 'train' || it.split === 'validation' ? i : -1)).filter((i) => i >= 0);
  const evalSets = { procedural: items.map((it, i) => (it.split === 'test' ? i : -1)).filter((i) => i >= 0), real: items.map((it, i) => (it.split === 'real' ? i : -1)).filter((i) => i >= 0) };
  const scores = tf.tidy(() => {
    const dims = x[0]!.length;
    const xt = tf.tensor2d(trainIdx.map((i) => x[i]!), [trainIdx.length, dims]);
    const { mean, variance } = tf.moments(xt, 0);
    const scale = variance.sqrt().add(1e-6);
    const clipZ = (z: tf.Tensor2D): tf.Tensor2D => (opts.clip ? (z.clipByValue(-opts.clip, opts.clip) as tf.Tensor2D) : z);
    const xs = clipZ(xt.sub(mean).div(scale));
    const y = tf.oneHot(tf.tensor1d(trainIdx.map((i) => classes.indexOf(items[i]!.template)), 'int32'), classes.length);
    const w = tf.variable(tf.randomNormal([dims, classes.length], 0, 0.01, 'float32', 1));
    const b = tf.variable(tf.zeros([classes.length]));
    const opt = tf.train.adam(3e-3);
    for (let e = 0; e < opts.epochs; e++) opt.minimize(() => tf.losses.softmaxCrossEntropy(y, xs.matMul(w).add(b)).add(w.square().sum().mul(opts.decay)) as tf.Scalar);
    const out: Record<string, number[][]> = {};
    for (const [name, idx] of Object.entries(evalSets)) {
      const xe = tf.tensor2d(idx.map((i) => x[i]!), [idx.length, dims]);
      const own = tf.moments(xe, 0);
      const z = (opts.align && name === 'real' ? xe.sub(own.mean).div(own.variance.sqrt().add(1e-6)) : xe.sub(mean).div(scale)) as tf.Tensor2D;
      out[name] = tf.softmax(clipZ(z).matMul(w).add(b)).arraySync() as number[][];
    }
    return out;
  });
  for (const [name, idx] of Object.entries(evalSets)) {
    let top1 = 0, top5 = 0;
    const perClass = new Map<string, [number, number]>();
    idx.forEach((i, k) => {
      const truth = classes.indexOf(items[i]!.template);
      const order = scores[name]![k]!.map((p, c) => [p, c] as const).sort((a, b) => b[0] - a[0]).map(([, c]) => c);
      const hit1 = order[0] === truth, hit5 = order.slice(0, 5).includes(truth);
      top1 += +hit1;
      top5 += +hit5;
      const pc = perClass.get(items[i]!.template) ?? [0, 0];
      perClass.set(items[i]!.template, [pc[0] + +hit5, pc[1] + 1]);
      if (name === 'real') console.log(`  ${path.basename(items[i]!.file)}  ${items[i]!.template}  → ${classes[order[0]!]}${hit5 ? ' (top-5 hit)' : ''}`);
    });
    console.log(`${name}: ${idx.length} clips, top-1 ${top1} (${((100 * top1) / idx.length).toFixed(1)} %), top-5 ${top5} (${((100 * top5) / idx.length).toFixed(1)} %); parts ${opts.parts}, ${opts.frames} frames, ${classes.length} classes`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`sim2real-probe: ${(err as Error).message}\n`);
  process.exit(1);
});
