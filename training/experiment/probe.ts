/**
 * The study's transfer probe: a linear softmax classifier on a frozen encoder's clip features,
 * made fair across encoders. The features (the encoder's time-mean state, what the model's own
 * heads read) are standardised with the training split's mean and sd; the probe's learning rate
 * and weight decay are chosen on the validation split for each encoder from the same grid; the
 * chosen probe, trained on the training split only, is scored once on the test split.
 *
 *   const r = fitProbe({ train, validation, test }, { classes: 22, seed: 1 });
 *   r.chosen; // { lr: 0.01, weightDecay: 0.001, validationTop1: 0.62 }
 */
import { SeededRandom } from '../rng.js';

export interface FeatureSplit {
  /** Row-major [N, D]. */
  readonly x: Float32Array;
  readonly labels: readonly number[];
}

export interface ProbeOptions {
  readonly classes: number;
  readonly seed: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly lrs?: readonly number[];
  readonly weightDecays?: readonly number[];
}

export const PROBE_GRID = { lrs: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1], weightDecays: [0, 1e-4, 1e-3, 1e-2] } as const;

export interface ProbeResult {
  readonly chosen: { readonly lr: number; readonly weightDecay: number; readonly validationTop1: number; readonly validationLoss: number };
  /** Every grid point's validation top-1 and loss. */
  readonly grid: readonly { lr: number; weightDecay: number; validationTop1: number; validationLoss: number }[];
  /** Test class probabilities, row-major [N, classes]. */
  readonly testProbs: Float32Array;
  readonly epochs: number;
  readonly steps: number;
}

/** Standardises every split with the training split's per-feature mean and sd (sd floored at 1e-6). */
export function standardise(train: FeatureSplit, others: readonly FeatureSplit[], dims: number): FeatureSplit[] {
  const n = train.labels.length;
  const mean = new Float64Array(dims);
  const sq = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d]! += train.x[i * dims + d]! / n;
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) sq[d]! += (train.x[i * dims + d]! - mean[d]!) ** 2 / Math.max(1, n - 1);
  const sd = Array.from(sq, (v) => Math.max(Math.sqrt(v), 1e-6));
  return [train, ...others].map((s) => {
    const x = new Float32Array(s.x.length);
    for (let i = 0; i < s.labels.length; i++) for (let d = 0; d < dims; d++) x[i * dims + d] = (s.x[i * dims + d]! - mean[d]!) / sd[d]!;
    return { x, labels: s.labels };
  });
}

interface Linear {
  w: Float64Array; // [D, C]
  b: Float64Array; // [C]
}

function probabilities(m: Linear, s: FeatureSplit, dims: number, classes: number): Float32Array {
  const out = new Float32Array(s.labels.length * classes);
  const z = new Float64Array(classes);
  for (let i = 0; i < s.labels.length; i++) {
    for (let c = 0; c < classes; c++) z[c] = m.b[c]!;
    for (let d = 0; d < dims; d++) {
      const v = s.x[i * dims + d]!;
      if (v === 0) continue;
      for (let c = 0; c < classes; c++) z[c]! += v * m.w[d * classes + c]!;
    }
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, z[c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[c]! - max);
    for (let c = 0; c < classes; c++) out[i * classes + c] = Math.exp(z[c]! - max) / sum;
  }
  return out;
}

function scoreOf(probs: Float32Array, labels: readonly number[], classes: number): { top1: number; loss: number } {
  let hits = 0;
  let loss = 0;
  labels.forEach((y, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
    if (best === y) hits++;
    loss -= Math.log(Math.max(probs[i * classes + y]!, 1e-12));
  });
  return { top1: labels.length ? hits / labels.length : 0, loss: labels.length ? loss / labels.length : 0 };
}

/** Adam on mean cross-entropy with decoupled weight decay (AdamW) on the weights, not the biases. */
function trainLinear(s: FeatureSplit, dims: number, classes: number, lr: number, weightDecay: number, epochs: number, batchSize: number, seed: number): { model: Linear; steps: number } {
  const m: Linear = { w: new Float64Array(dims * classes), b: new Float64Array(classes) };
  const params = [m.w, m.b];
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  const grads = params.map((p) => new Float64Array(p.length));
  const rng = new SeededRandom(seed);
  const n = s.labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const z = new Float64Array(classes);
  let t = 0;
  for (let e = 0; e < epochs; e++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < n; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      grads.forEach((g) => g.fill(0));
      for (const r of rows) {
        for (let c = 0; c < classes; c++) z[c] = m.b[c]!;
        for (let d = 0; d < dims; d++) for (let c = 0; c < classes; c++) z[c]! += s.x[r * dims + d]! * m.w[d * classes + c]!;
        let max = -Infinity;
        for (let c = 0; c < classes; c++) max = Math.max(max, z[c]!);
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += (z[c] = Math.exp(z[c]! - max));
        for (let c = 0; c < classes; c++) {
          const g = (z[c]! / sum - (c === s.labels[r] ? 1 : 0)) / rows.length;
          grads[1]![c]! += g;
          for (let d = 0; d < dims; d++) grads[0]![d * classes + c]! += g * s.x[r * dims + d]!;
        }
      }
      t++;
      const c1 = 1 - 0.9 ** t;
      const c2 = 1 - 0.999 ** t;
      params.forEach((p, k) => {
        const g = grads[k]!;
        for (let i = 0; i < p.length; i++) {
          m1[k]![i] = 0.9 * m1[k]![i]! + 0.1 * g[i]!;
          m2[k]![i] = 0.999 * m2[k]![i]! + 0.001 * g[i]! * g[i]!;
          p[i]! -= lr * ((m1[k]![i]! / c1) / (Math.sqrt(m2[k]![i]! / c2) + 1e-8) + (k === 0 ? weightDecay * p[i]! : 0));
        }
      });
    }
  }
  return { model: m, steps: t };
}

/** Standardises, picks lr × weight decay on validation top-1 (ties: lower validation loss), scores test. */
export function fitProbe(splits: { train: FeatureSplit; validation: FeatureSplit; test: FeatureSplit }, dims: number, opts: ProbeOptions): ProbeResult {
  const epochs = opts.epochs ?? 100;
  const batchSize = opts.batchSize ?? 32;
  const [train, validation, test] = standardise(splits.train, [splits.validation, splits.test], dims) as [FeatureSplit, FeatureSplit, FeatureSplit];
  const grid: { lr: number; weightDecay: number; validationTop1: number; validationLoss: number; model: Linear; steps: number }[] = [];
  for (const lr of opts.lrs ?? PROBE_GRID.lrs) {
    for (const weightDecay of opts.weightDecays ?? PROBE_GRID.weightDecays) {
      const { model, steps } = trainLinear(train, dims, opts.classes, lr, weightDecay, epochs, batchSize, opts.seed);
      const v = scoreOf(probabilities(model, validation, dims, opts.classes), validation.labels, opts.classes);
      grid.push({ lr, weightDecay, validationTop1: v.top1, validationLoss: v.loss, model, steps });
    }
  }
  const best = [...grid].sort((a, b) => b.validationTop1 - a.validationTop1 || a.validationLoss - b.validationLoss)[0]!;
  return {
    chosen: { lr: best.lr, weightDecay: best.weightDecay, validationTop1: best.validationTop1, validationLoss: best.validationLoss },
    grid: grid.map(({ lr, weightDecay, validationTop1, validationLoss }) => ({ lr, weightDecay, validationTop1, validationLoss })),
    testProbs: probabilities(best.model, test, dims, opts.classes),
    epochs,
    steps: best.steps,
  };
}
