/**
 * A learnability probe for a generated domain: renders clips in-process (no codec), reduces each
 * to T grey 16 × 16 frames plus their absolute differences, and fits a softmax regression. A linear
 * model on raw pixels is a weak lower bound for the real encoder; it shows whether the classes are
 * separable from motion at the model's input size at a given difficulty, and which ones are not.
 *
 *   npx tsx data/probe.ts --domain something --per-class 30 --difficulty moderate
 */
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { templateKey } from './captions.js';
import { catalogueOf } from './catalogue/index.js';
import type { Domain } from './catalogue/types.js';
import { Prng } from './prng.js';
import { ClipPainter, DIFFICULTY, planClip, progressAt, type Difficulty } from './render/clip.js';

const SIDE = 64, POOL = 4, G = SIDE / POOL, T = 8;

function features(domain: Domain, template: number, rng: Prng, d: Difficulty): Float64Array {
  const plan = planClip(catalogueOf(domain), template, rng, d);
  const painter = new ClipPainter(plan, { width: SIDE, height: SIDE });
  const grey: Float64Array[] = [];
  for (let k = 0; k < T; k++) {
    const i = Math.round((k * (plan.frames - 1)) / (T - 1));
    const rgb = painter.paint(progressAt(plan, i), i / plan.fps);
    const g = new Float64Array(G * G);
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
      const p = (y * SIDE + x) * 3;
      g[((y / POOL) | 0) * G + ((x / POOL) | 0)] += (rgb[p]! + rgb[p + 1]! + rgb[p + 2]!) / (3 * 255 * POOL * POOL);
    }
    grey.push(g);
  }
  const f = new Float64Array((2 * T - 1) * G * G);
  grey.forEach((g, k) => f.set(g, k * G * G));
  for (let k = 1; k < T; k++) for (let j = 0; j < G * G; j++) f[(T + k - 1) * G * G + j] = Math.abs(grey[k]![j]! - grey[k - 1]![j]!) * 4;
  return f;
}

export interface ProbeResult {
  readonly classes: number;
  readonly train: number;
  readonly test: number;
  readonly accuracy: number;
  readonly perClass: readonly { name: string; accuracy: number }[];
}

export function linearProbe(domain: Domain, perClass: number, d: Difficulty, seed = 'probe', epochs = 80): ProbeResult {
  const cat = catalogueOf(domain);
  const K = cat.templates.length;
  const root = new Prng(seed);
  const xs: Float64Array[] = [], ys: number[] = [], isTest: boolean[] = [];
  for (let c = 0; c < K; c++) for (let n = 0; n < perClass; n++) {
    xs.push(features(domain, c, root.fork(`${c}:${n}`), d));
    ys.push(c);
    isTest.push(n >= Math.round(perClass * 0.8));
  }
  const D = xs[0]!.length;
  // Standardise with the training statistics.
  const mean = new Float64Array(D), sd = new Float64Array(D);
  const train = xs.map((_, i) => i).filter((i) => !isTest[i]);
  for (const i of train) for (let j = 0; j < D; j++) mean[j] += xs[i]![j]! / train.length;
  for (const i of train) for (let j = 0; j < D; j++) sd[j] += (xs[i]![j]! - mean[j]!) ** 2 / train.length;
  for (let j = 0; j < D; j++) sd[j] = Math.sqrt(sd[j]!) + 1e-3;
  for (const x of xs) for (let j = 0; j < D; j++) x[j] = (x[j]! - mean[j]!) / sd[j]!;

  const W = new Float64Array(K * D), b = new Float64Array(K);
  const logits = new Float64Array(K);
  const predict = (x: Float64Array) => {
    for (let k = 0; k < K; k++) {
      let s = b[k]!;
      const o = k * D;
      for (let j = 0; j < D; j++) s += W[o + j]! * x[j]!;
      logits[k] = s;
    }
    return logits;
  };
  const rng = root.fork('sgd');
  const lr = 0.01, l2 = 1e-3;
  for (let e = 0; e < epochs; e++) {
    for (const i of rng.shuffle(train)) {
      const x = xs[i]!;
      const z = predict(x);
      const m = Math.max(...z);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += (z[k] = Math.exp(z[k]! - m));
      for (let k = 0; k < K; k++) {
        const g = z[k]! / sum - (k === ys[i] ? 1 : 0);
        const o = k * D;
        for (let j = 0; j < D; j++) W[o + j] -= lr * (g * x[j]! + l2 * W[o + j]!);
        b[k] -= lr * g;
      }
    }
  }
  const hits = new Array<number>(K).fill(0), seen = new Array<number>(K).fill(0);
  let correct = 0, total = 0;
  xs.forEach((x, i) => {
    if (!isTest[i]) return;
    const z = predict(x);
    let best = 0;
    for (let k = 1; k < K; k++) if (z[k]! > z[best]!) best = k;
    total++;
    seen[ys[i]!]++;
    if (best === ys[i]) {
      correct++;
      hits[ys[i]!]++;
    }
  });
  return {
    classes: K,
    train: train.length,
    test: total,
    accuracy: correct / total,
    perClass: cat.templates.map((t, k) => ({ name: templateKey(t.template), accuracy: hits[k]! / Math.max(1, seen[k]!) })),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o = new Command('probe')
    .addOption(new Option('--domain <domain>').choices(['something', 'kitchenware']).default('something'))
    .option('--per-class <n>', 'clips per class (80 % train, 20 % test)', Number, 30)
    .addOption(new Option('--difficulty <preset>').choices(Object.keys(DIFFICULTY)).default('moderate'))
    .option('--seed <seed>', 'seed', 'probe')
    .parse()
    .opts();
  const t0 = performance.now();
  const r = linearProbe(o.domain as Domain, o.perClass as number, DIFFICULTY[o.difficulty as keyof typeof DIFFICULTY], o.seed as string);
  console.log(`${o.domain} @ ${o.difficulty}: linear probe top-1 ${(100 * r.accuracy).toFixed(1)} % on ${r.test} held-out clips (${r.classes} classes, chance ${(100 / r.classes).toFixed(1)} %, ${r.train} training clips, ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  for (const c of [...r.perClass].sort((a, b) => a.accuracy - b.accuracy)) console.log(`  ${(100 * c.accuracy).toFixed(0).padStart(4)} %  ${c.name}`);
}
