/**
 * Few-shot quality of teach (issue 11 item 6): how well transfer and fine-tuning learn actions the
 * base model has never been trained on from 1, 3, 5 and 10 clips per class, scored on a fixed,
 * separately generated held-out set, and how long training takes here.
 *
 *   npx tsx scripts/fewshot.ts [--base assets/model/default] [--shots 1,3,5,10] [--repeats 3] [--modes transfer,finetune] [--real]
 *   npm run bench -- fewshot          (the same, sized by FEWSHOT_* environment variables)
 *
 * Procedural: NOVEL_TEMPLATES below are "something" templates that are not kitchenware templates
 * and whose motions the kitchenware catalogue does not draw (the default model was trained on
 * kitchenware only); clips come from the project's data maker (seeded) into runs/fewshot/data/.
 * Each (shots, repeat) draws its clips per class from the pool with its own seed; figures are the
 * median over repeats. The training runs the same code teach runs for its final model
 * (trainHeadOnStates / finetuneStart + finetuneEpochs, TEACH_DEFAULTS); transfer variants try the
 * improvements the issue lists (head, epochs, lr, windows per clip, random-window augmentation).
 *
 * Real (`--real`): the clips of ../shared/real-clips whose class has ≥ 3 clips, read in place
 * (no clip cache, nothing of them written anywhere); each clip is scored by a throwaway transfer
 * head trained on n clips per class drawn from the other clips of other source groups.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { type CountertopModel, initBackend, loadCheckpoint, resolveCheckpoint } from '../model/index.js';
import { catalogueOf } from '../data/catalogue/index.js';
import { evaluateSplit } from '../training/evaluate.js';
import { finetuneEpochs, finetuneStart, probeHead } from '../training/finetune.js';
import { encodeSplit, joinPasses, predictByClip, rowsWhere, trainHeadOnStates, type EncodedStates, type RowStates } from '../training/head-training.js';
import { SeededRandom } from '../training/rng.js';
import { TEACH_DEFAULTS } from '../training/teach.js';
import { readTeachSet, subsetData, type TeachSet } from '../training/teach-data.js';
import * as tf from '@tensorflow/tfjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Not kitchenware templates, and none of their motions is drawn by a kitchenware template (checked at start). */
export const NOVEL_TEMPLATES = [
  'Pushing [something] from left to right',
  'Pushing [something] from right to left',
  'Moving [something] up',
  'Spinning [something] so it continues spinning',
  'Covering [something] with [something]',
  'Dropping [something] into [something]',
];

export interface FewshotOptions {
  base: string;
  out: string;
  shots: number[];
  repeats: number;
  modes: ('transfer' | 'finetune')[];
  /** Clips per class: the pool the shots are drawn from, and the held-out set. */
  poolPerClass: number;
  testPerClass: number;
  /** Transfer variants to run (names of TRANSFER_VARIANTS); finetune variants beyond the default run at `variantShots` only. */
  transferVariants: string[];
  finetuneVariants: string[];
  variantShots: number;
  /** Test protocols for transfer; finetune uses the first. */
  testViews: (1 | 3)[];
  real: boolean;
}

interface TransferVariant {
  head: 'linear' | 'mlp';
  epochs: number;
  lr: number;
  /** Windows per clip (1 = the middle; 3 = start, middle, end) trained on. */
  trainViews: 1 | 3;
  /** Extra training states per clip from the loader's random windows, crops and flips. */
  augment: number;
}

/** What teach's transfer trains on by default (TEACH_DEFAULTS, teachOptionsSchema's augment). */
const T0: TransferVariant = { head: 'linear', epochs: TEACH_DEFAULTS.transfer.epochs, lr: TEACH_DEFAULTS.transfer.lr, trainViews: 1, augment: 4 };
export const TRANSFER_VARIANTS: Record<string, TransferVariant> = {
  'teach default: linear, middle + 4 random windows': T0,
  'linear, 3 windows': { ...T0, trainViews: 3, augment: 0 },
  'linear, middle window': { ...T0, trainViews: 1, augment: 0 },
  'linear, 3 + 4 random windows': { ...T0, trainViews: 3, augment: 4 },
  'linear, middle + 8 random windows': { ...T0, trainViews: 1, augment: 8 },
  'mlp (128), 3 windows': { ...T0, head: 'mlp', trainViews: 3, augment: 0 },
  'mlp (128), middle + 4 random windows': { ...T0, head: 'mlp', trainViews: 1, augment: 4 },
  'linear, 3 windows, epochs ×3': { ...T0, trainViews: 3, augment: 0, epochs: T0.epochs * 3 },
  'linear, 3 windows, lr 1e-2': { ...T0, trainViews: 3, augment: 0, lr: 1e-2 },
  'linear, 3 windows, lr 1e-3': { ...T0, trainViews: 3, augment: 0, lr: 1e-3 },
  'linear, middle + 4 random windows, epochs ×3': { ...T0, epochs: T0.epochs * 3 },
  'linear, middle + 4 random windows, lr 1e-2': { ...T0, lr: 1e-2 },
};

interface FinetuneVariant {
  epochs: number;
  lr: number;
  /** Start from a linear-probe head (teach's finetune) or a random one. */
  probe: boolean;
}
const F0: FinetuneVariant = { epochs: TEACH_DEFAULTS.finetune.epochs, lr: TEACH_DEFAULTS.finetune.lr, probe: true };
export const FINETUNE_VARIANTS: Record<string, FinetuneVariant> = {
  'teach default (linear-probe head)': F0,
  'random head': { ...F0, probe: false },
  'random head, lr 1e-3': { ...F0, probe: false, lr: 1e-3 },
  'lr 1e-3': { ...F0, lr: 1e-3 },
  'epochs ×2': { ...F0, epochs: F0.epochs * 2 },
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Read from the catalogues themselves, so the list cannot drift from what the default model was trained on. */
function checkNovel(): void {
  const kitchen = catalogueOf('kitchenware').templates;
  const something = catalogueOf('something').templates;
  for (const t of NOVEL_TEMPLATES) {
    const spec = something.find((s) => s.template === t);
    if (!spec) throw new Error(`"${t}" is not a something template`);
    if (kitchen.some((k) => k.template === t || k.motion === spec.motion)) throw new Error(`"${t}" (motion ${spec.motion}) is drawn by the kitchenware catalogue: not novel`);
  }
}

async function makeSet(dir: string, count: number, seed: number): Promise<void> {
  if (existsSync(path.join(dir, 'countertop-dataset.json'))) return;
  const args = ['--import', 'tsx', path.join(ROOT, 'scripts/data-make.ts'), '--domain', 'something', '--templates', NOVEL_TEMPLATES.join('|'), '--count', String(count), '--out', dir, '--seed', String(seed), '--width', '64', '--height', '64'];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`data-make ${dir} failed (${r.status})`);
}

/** Passes 0, 1, 2 are the start, middle and end window; 3 + a is random-window pass a. */
const MIDDLE = 1;

/** States of every clip of a set at its start, middle and end window, plus `augment` random-window passes. */
async function statesOf(base: CountertopModel, set: TeachSet, augment: number, cacheDir?: string | null): Promise<RowStates> {
  const data = subsetData(set, set.clips, cacheDir === undefined ? {} : { cacheDir });
  const parts: EncodedStates[] = [];
  for (const at of [0, 0.5, 1]) parts.push(await encodeSplit(base, data, 'train', 8, { windowAt: at }));
  for (let a = 0; a < augment; a++) parts.push(await encodeSplit(base, data, 'train', 8, { augment: { seed: 5, epoch: a } }));
  const index = new Map(set.clips.map((r, i) => [r.id, i]));
  return joinPasses((id) => index.get(id)!, parts);
}

/** Per class, the first n of its clips in an order fixed by (seed). */
function draw(set: TeachSet, n: number, seed: number, allowed: (i: number) => boolean = () => true): number[] | null {
  const rng = new SeededRandom((seed * 7919 + 13) >>> 0);
  const out: number[] = [];
  for (let c = 0; c < set.ds.actions.length; c++) {
    const mine = rng.shuffled(set.clips.map((r, i) => (r.action === c && allowed(i) ? i : -1)).filter((i) => i >= 0));
    if (mine.length < n) return null;
    out.push(...mine.slice(0, n));
  }
  return out;
}

/** Trains a transfer head on the rows of the given clips; returns it and the seconds it took. */
async function fitHead(base: CountertopModel, labels: readonly string[], pool: RowStates, clips: readonly number[], v: TransferVariant, seed: number): Promise<{ head: CountertopModel; seconds: number }> {
  const chosen = new Set(clips);
  const rows: number[] = [];
  const usePart = (p: number) => (p < 3 ? v.trainViews === 3 || p === MIDDLE : p - 3 < v.augment);
  for (let r = 0; r < pool.clip.length; r++) if (chosen.has(pool.clip[r]!) && usePart(pool.part[r]!)) rows.push(r);
  const t = performance.now();
  const model = base.withNewHeads([{ name: 'action', labels: [...labels] }], { hidden: v.head === 'mlp' ? 128 : 0 }, seed);
  await trainHeadOnStates(model, pool, rows, (r) => pool.label[r]!, { epochs: v.epochs, batchSize: TEACH_DEFAULTS.transfer.batchSize, lr: v.lr, seed });
  return { head: model, seconds: (performance.now() - t) / 1000 };
}

/** Top-1 of each test clip: the probabilities of its start, middle and end windows averaged (testViews 3), or its middle window's. */
function predictClips(head: CountertopModel, test: RowStates, clips: readonly number[], testViews: 1 | 3): Map<number, number> {
  const wanted = new Set(clips);
  return predictByClip(head, test, rowsWhere(test, (clip, part) => wanted.has(clip) && part < 3 && (testViews === 3 || part === MIDDLE)));
}

export interface FewshotRow {
  section: 'procedural' | 'real';
  mode: 'transfer' | 'finetune';
  variant: string;
  /** Test clips scored by their middle window (1) or by start, middle and end averaged (3). */
  testViews: 1 | 3;
  shots: number;
  /** Per repeat. */
  accuracies: number[];
  trainSeconds: number[];
  testClips: number;
}

async function procedural(o: FewshotOptions, base: CountertopModel, log: (s: string) => void): Promise<FewshotRow[]> {
  const dataDir = path.join(o.out, 'data');
  const classes = NOVEL_TEMPLATES.length;
  const poolDir = path.join(dataDir, `pool-${o.poolPerClass}`), testDir = path.join(dataDir, `heldout-${o.testPerClass}`);
  await makeSet(poolDir, o.poolPerClass * classes, 71);
  await makeSet(testDir, o.testPerClass * classes, 72);
  const pool = await readTeachSet(poolDir), test = await readTeachSet(testDir);
  if (JSON.stringify(pool.ds.actions) !== JSON.stringify(test.ds.actions)) throw new Error('pool and held-out sets list different classes');
  log(`procedural: ${classes} novel classes, pool ${pool.clips.length} clips (seed 71), held-out ${test.clips.length} clips (seed 72)`);
  const rows: FewshotRow[] = [];
  const testAll = test.clips.map((_, i) => i);
  const accuracy = (pred: Map<number, number>) => testAll.filter((i) => pred.get(i) === test.clips[i]!.action).length / testAll.length;

  if (o.modes.includes('transfer')) {
    const variants = o.transferVariants.map((name) => {
      const v = TRANSFER_VARIANTS[name];
      if (!v) throw new Error(`no transfer variant "${name}"`);
      return [name, v] as const;
    });
    const t = performance.now();
    const augment = Math.max(0, ...variants.map(([, v]) => v.augment));
    const s = { pool: await statesOf(base, pool, augment), test: await statesOf(base, test, 0) };
    const n = pool.clips.length * (3 + augment) + test.clips.length * 3;
    log(`  frozen states: ${n} clip-windows (${augment} random-window passes) in ${((performance.now() - t) / 1000).toFixed(1)} s (${(n / ((performance.now() - t) / 1000)).toFixed(1)}/s)`);
    for (const [name, v] of variants) {
      for (const testViews of o.testViews) {
        for (const shots of o.shots) {
          const row: FewshotRow = { section: 'procedural', mode: 'transfer', variant: name, testViews, shots, accuracies: [], trainSeconds: [], testClips: testAll.length };
          for (let r = 0; r < o.repeats; r++) {
            const clips = draw(pool, shots, 100 + r)!;
            const { head, seconds } = await fitHead(base, pool.ds.actions, s.pool, clips, v, 1 + r);
            row.accuracies.push(accuracy(predictClips(head, s.test, testAll, testViews)));
            row.trainSeconds.push(seconds);
            head.dispose();
          }
          log(`  transfer ${name.padEnd(38)} test ${testViews} window(s) ${String(shots).padStart(2)} shots: ${(median(row.accuracies) * 100).toFixed(1)}% (${row.accuracies.map((a) => (a * 100).toFixed(0)).join(', ')}), head ${median(row.trainSeconds).toFixed(2)} s`);
          rows.push(row);
        }
      }
    }
  }

  if (o.modes.includes('finetune')) {
    const testData = subsetData(test, test.clips);
    for (const name of o.finetuneVariants) {
      const v = FINETUNE_VARIANTS[name];
      if (!v) throw new Error(`no finetune variant "${name}"`);
      const shotList = name === o.finetuneVariants[0] ? o.shots : [o.variantShots];
      for (const shots of shotList) {
        const row: FewshotRow = { section: 'procedural', mode: 'finetune', variant: name, testViews: o.testViews[0]!, shots, accuracies: [], trainSeconds: [], testClips: testAll.length };
        for (let r = 0; r < o.repeats; r++) {
          const clips = draw(pool, shots, 100 + r)!;
          const t = performance.now();
          const model = finetuneStart(base, pool.ds.actions, 1 + r);
          const optimizer = tf.train.adam(v.lr);
          const data = subsetData(pool, clips.map((i) => pool.clips[i]!));
          const p = TEACH_DEFAULTS.transfer;
          if (v.probe) await probeHead(model, base, data, { epochs: p.epochs, lr: p.lr, batchSize: p.batchSize, seed: 1 + r, augment: T0.augment });
          await finetuneEpochs(model, optimizer, data, new SeededRandom(1 + r), { epochs: v.epochs, batchSize: TEACH_DEFAULTS.finetune.batchSize, lr: v.lr, seed: 1 + r });
          row.trainSeconds.push((performance.now() - t) / 1000);
          optimizer.dispose();
          const ev = await evaluateSplit(model, testData, 'train', 'action', { batchSize: 16, views: o.testViews[0]! });
          row.accuracies.push(ev.predictions.filter((p) => p.ranked[0] === p.label).length / ev.predictions.length);
          model.dispose();
        }
        log(`  finetune ${name.padEnd(34)} ${String(shots).padStart(2)} shots: ${(median(row.accuracies) * 100).toFixed(1)}% (${row.accuracies.map((a) => (a * 100).toFixed(0)).join(', ')}), train ${median(row.trainSeconds).toFixed(1)} s`);
        rows.push(row);
      }
    }
  }
  return rows;
}

const REAL_DIR = path.resolve(ROOT, '..', 'shared', 'real-clips');
/** What teach's transfer does (see TEACH_DEFAULTS); the real section measures only that. */
const REAL_VARIANT = 'teach default: linear, middle + 4 random windows';

interface RealEntry {
  file: string;
  label: string;
  group: string;
  placeholders?: string[];
}

/**
 * The real clips of classes with ≥ 3 clips, as an SSv2-layout folder of label lists in a temp dir
 * (videos read in place from ../shared/real-clips/clips). Every clip is a test clip in turn.
 */
async function real(o: FewshotOptions, base: CountertopModel, log: (s: string) => void): Promise<FewshotRow[]> {
  const manifest = JSON.parse(readFileSync(path.join(REAL_DIR, 'manifest.json'), 'utf8')) as RealEntry[];
  const counts = new Map<string, number>();
  for (const e of manifest) if (e.label !== 'unclear') counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const templates = [...counts].filter(([, n]) => n >= 3).map(([t]) => t).sort();
  const entries = manifest.filter((e) => templates.includes(e.label));
  const key = (t: string) => t.replace(/[[\]]/g, '');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fewshot-real-'));
  try {
    writeFileSync(path.join(tmp, 'something-something-v2-labels.json'), JSON.stringify(Object.fromEntries(templates.map((t, i) => [key(t), String(i)]))));
    writeFileSync(path.join(tmp, 'template-groups.json'), JSON.stringify(Object.fromEntries(templates.map((t) => [key(t), 'real']))));
    const list = entries.map((e) => ({ id: e.file.replace(/\.webm$/, ''), label: key(e.label), template: e.label, placeholders: e.placeholders ?? [] }));
    writeFileSync(path.join(tmp, 'something-something-v2-train.json'), JSON.stringify(list));
    writeFileSync(path.join(tmp, 'something-something-v2-validation.json'), '[]');
    const set = await readTeachSet(tmp, { videoDir: path.join(REAL_DIR, 'clips') });
    const groupOf = set.clips.map((r) => entries.find((e) => e.file === `${r.id}.webm`)!.group);
    log(`real: ${set.clips.length} clips of ${templates.length} classes with ≥ 3 clips (${set.ds.actions.map((a, i) => `${a} ${set.counts[i]}`).join(', ')}); read in place, no cache`);
    const states = await statesOf(base, set, TRANSFER_VARIANTS[REAL_VARIANT]!.augment, null);
    const rows: FewshotRow[] = [];
    for (const shots of [1, 2]) {
      const row: FewshotRow = { section: 'real', mode: 'transfer', variant: REAL_VARIANT, testViews: o.testViews[0]!, shots, accuracies: [], trainSeconds: [], testClips: 0 };
      let correct = 0, scored = 0;
      for (let r = 0; r < o.repeats; r++) {
        for (let t = 0; t < set.clips.length; t++) {
          // Training clips: never the test clip's source group (clips cut from one video look alike).
          const clips = draw(set, shots, 1000 * r + t, (i) => groupOf[i] !== groupOf[t]);
          if (!clips) continue;
          const { head, seconds } = await fitHead(base, set.ds.actions, states, clips, TRANSFER_VARIANTS[REAL_VARIANT]!, 1 + r);
          const p = predictClips(head, states, [t], o.testViews[0]!).get(t);
          head.dispose();
          scored++;
          if (p === set.clips[t]!.action) correct++;
          row.trainSeconds.push(seconds);
        }
        row.accuracies.push(correct / Math.max(1, scored));
        correct = 0;
        row.testClips = scored;
        scored = 0;
      }
      log(`  real transfer ${shots} shot(s) per class: ${(median(row.accuracies) * 100).toFixed(1)}% of ${row.testClips} test clips (repeats ${row.accuracies.map((a) => (a * 100).toFixed(0)).join(', ')}; chance ${(100 / templates.length).toFixed(1)}%)`);
      rows.push(row);
    }
    return rows;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runFewshot(o: FewshotOptions, log: (s: string) => void = (s) => console.log(s)): Promise<FewshotRow[]> {
  checkNovel();
  await initBackend({ log: () => {} });
  const resolved = resolveCheckpoint(o.base);
  const loaded = await loadCheckpoint(resolved.dir);
  tf.dispose(loaded.optimizerWeights?.map((w) => w.tensor) ?? []);
  const base = loaded.model;
  log(`base ${resolved.dir}: ${base.heads[0]!.labels.length} classes, ${base.config.frames} frames of ${base.config.width}×${base.config.height} at ${base.config.fps} fps (${base.config.sampling}); backend ${tf.getBackend()}`);
  try {
    const rows = [...(await procedural(o, base, log)), ...(o.real ? await real(o, base, log) : [])];
    mkdirSync(o.out, { recursive: true });
    const file = path.join(o.out, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ options: o, rows }, null, 2) + '\n');
    log(`\n| section | mode | variant | test windows | clips per class | held-out top-1 (median, min–max) | training s (median) |\n| --- | --- | --- | --- | --- | --- | --- |`);
    for (const r of rows) {
      log(`| ${r.section} | ${r.mode} | ${r.variant} | ${r.testViews} | ${r.shots} | ${(median(r.accuracies) * 100).toFixed(1)}% (${(Math.min(...r.accuracies) * 100).toFixed(0)}–${(Math.max(...r.accuracies) * 100).toFixed(0)}) of ${r.testClips} | ${median(r.trainSeconds).toFixed(r.mode === 'transfer' ? 2 : 1)} |`);
    }
    log(`results: ${file}`);
    return rows;
  } finally {
    base.dispose();
  }
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const program = new Command()
    .name('fewshot')
    .option('--base <dir>', 'base model', 'assets/model/default')
    .option('--out <dir>', 'data and results folder (gitignored)', 'runs/fewshot')
    .option('--shots <list>', 'clips per class', '1,3,5,10')
    .option('--repeats <n>', 'draws per setting (medians reported)', '3')
    .option('--modes <list>', 'transfer,finetune', 'transfer,finetune')
    .option('--pool <n>', 'pool clips per class', '20')
    .option('--test <n>', 'held-out clips per class', '10')
    .option('--transfer-variants <list>', `of: ${Object.keys(TRANSFER_VARIANTS).join(' | ')}`, Object.keys(TRANSFER_VARIANTS)[0])
    .option('--finetune-variants <list>', `of: ${Object.keys(FINETUNE_VARIANTS).join(' | ')}`, Object.keys(FINETUNE_VARIANTS)[0])
    .option('--variant-shots <n>', 'clips per class for the finetune variants after the first', '5')
    .option('--test-views <list>', 'test protocols: 3 = start, middle, end windows averaged; 1 = the middle window (finetune and real use the first)', '3,1')
    .option('--real', 'also the real clips of ../shared/real-clips (throwaway heads)', false);
  program.parse();
  const a = program.opts();
  await runFewshot({
    base: a.base,
    out: a.out,
    shots: list(a.shots).map(Number),
    repeats: Number(a.repeats),
    modes: list(a.modes) as FewshotOptions['modes'],
    poolPerClass: Number(a.pool),
    testPerClass: Number(a.test),
    transferVariants: a.transferVariants.split('|').map((s: string) => s.trim()),
    finetuneVariants: a.finetuneVariants.split('|').map((s: string) => s.trim()),
    variantShots: Number(a.variantShots),
    testViews: list(a.testViews).map(Number) as (1 | 3)[],
    real: a.real,
  });
}
