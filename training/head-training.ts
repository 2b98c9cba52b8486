/**
 * A classification head trained on frozen encoder states, shared by `npm run transfer` and teach:
 * states are computed once per clip (dropout off), then head training never touches pixels.
 *
 *   const f = await encodeSplit(source, data, 'train', 8);
 *   await trainHeadOnStates(head, f, rows, labels, { epochs: 40, batchSize: 32, lr: 3e-3, seed: 1 });
 *   const probs = headProbabilities(head, f, rows, 256);   // [rows, C]
 */
import * as tf from '@tensorflow/tfjs';
import type { CountertopModel } from '../model/index.js';
import { rankScores } from '../eval/classification.js';
import { chunk, clipShapeOf, clipTensor, encodeInputs, epochOrder } from './batches.js';
import type { ClipData, ClipRecord, SplitName } from './data-source.js';
import { SeededRandom, withSeededMathRandom } from './rng.js';

/** Frozen per-timestep states [N, T, U], row i = records[i]. */
export interface EncodedStates {
  readonly records: readonly ClipRecord[];
  readonly states: Float32Array;
  readonly T: number;
  readonly U: number;
}

/** Encodes every labelled clip of a split with the frozen encoder (dropout off), in file order. */
export async function encodeSplit(
  model: CountertopModel,
  data: ClipData,
  split: SplitName,
  batchSize: number,
  opts: {
    windowAt?: number;
    /** Augmented states: the loader's training sampling (random window, crop, label-safe flip) of this epoch; rows then come shuffled. */
    augment?: { seed: number; epoch: number };
    signal?: AbortSignal;
    onBatch?: (clips: number) => void;
  } = {},
): Promise<EncodedStates> {
  const shape = clipShapeOf(model.config);
  const U = model.encodingWidth;
  const records: ClipRecord[] = [];
  const parts: Float32Array[] = [];
  const req = opts.augment
    ? { shape, batchSize, training: true, seed: opts.augment.seed, epoch: opts.augment.epoch }
    : { shape, batchSize, training: false, seed: 0, epoch: 0, ...(opts.windowAt !== undefined ? { windowAt: opts.windowAt } : {}) };
  for await (const batch of data.batches(split, req)) {
    opts.signal?.throwIfAborted();
    const states = tf.tidy(() => model.encode(clipTensor(batch, shape), encodeInputs(batch, shape)).states);
    parts.push((await states.data()) as Float32Array);
    states.dispose();
    records.push(...batch.records);
    opts.onBatch?.(batch.records.length);
  }
  const states = new Float32Array(records.length * shape.frames * U);
  let offset = 0;
  for (const p of parts) {
    states.set(p, offset);
    offset += p.length;
  }
  return { records, states, T: shape.frames, U };
}

export function stateBatch(f: Pick<EncodedStates, 'states' | 'T' | 'U'>, rows: readonly number[]): tf.Tensor3D {
  const { T, U } = f;
  const out = new Float32Array(rows.length * T * U);
  rows.forEach((r, i) => out.set(f.states.subarray(r * T * U, (r + 1) * T * U), i * T * U));
  return tf.tensor3d(out, [rows.length, T, U]);
}

/** Class probabilities [rows.length, C] of the model's `action` head on the given state rows. */
export function headProbabilities(model: CountertopModel, f: Pick<EncodedStates, 'states' | 'T' | 'U'>, rows: readonly number[], batchSize: number): Float32Array {
  const C = model.heads.find((h) => h.name === 'action')!.labels.length;
  const out = new Float32Array(rows.length * C);
  let at = 0;
  for (const batchRows of chunk(rows, batchSize)) {
    const probs = tf.tidy(() => {
      const states = stateBatch(f, batchRows);
      return model.classify({ states, pooled: states.mean(1) as tf.Tensor2D }).action!;
    });
    out.set(probs.dataSync() as Float32Array, at);
    at += batchRows.length * C;
    probs.dispose();
  }
  return out;
}

export interface HeadTrainingOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
  readonly signal?: AbortSignal;
  /** After each epoch, with the mean training cross-entropy; may be async (validation, progress). */
  readonly onEpoch?: (epoch: number, step: number, loss: number) => void | Promise<void>;
}

/**
 * Adam on the model's trainable variables (a transfer model: its heads only), softmax cross-entropy
 * of the `action` head; rows in an order fixed by (seed, epoch). Returns the number of steps.
 */
export async function trainHeadOnStates(
  model: CountertopModel,
  f: Pick<EncodedStates, 'states' | 'T' | 'U'>,
  rows: readonly number[],
  labelOfRow: (row: number) => number,
  o: HeadTrainingOptions,
): Promise<number> {
  const classes = model.heads.find((h) => h.name === 'action')!.labels.length;
  const optimizer = tf.train.adam(o.lr);
  const rng = new SeededRandom(o.seed ^ 0x7a5f);
  let step = 0;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      let lossSum = 0;
      for (const batchRows of chunk(epochOrder(rows, o.seed, epoch), o.batchSize)) {
        o.signal?.throwIfAborted();
        const loss = withSeededMathRandom(rng, () => optimizer.minimize(
          () => {
            const states = stateBatch(f, batchRows);
            const logits = model.classLogits({ states, pooled: states.mean(1) as tf.Tensor2D }).action!;
            const onehot = tf.oneHot(tf.tensor1d(batchRows.map(labelOfRow), 'int32'), classes);
            return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
          },
          true,
          model.trainableVariables(),
        ))!;
        const value = (await loss.data())[0]!;
        loss.dispose();
        lossSum += value * batchRows.length;
        step++;
      }
      await o.onEpoch?.(epoch, step, rows.length ? lossSum / rows.length : 0);
    }
  } finally {
    optimizer.dispose();
  }
  return step;
}

/**
 * Frozen states of several passes over the same clips (windows at fixed positions, random-window
 * augmentation passes), one row per (pass, clip), tagged with the clip, its label in that pass (a
 * mirrored clip carries its mirror class) and the pass.
 */
export interface RowStates {
  readonly states: Float32Array;
  readonly T: number;
  readonly U: number;
  readonly clip: Int32Array;
  readonly label: Int32Array;
  readonly part: Int32Array;
}

/** Joins passes into rows; `indexOf` maps a clip id to its clip index (the loader may shuffle a training pass). */
export function joinPasses(indexOf: (id: string) => number, passes: readonly EncodedStates[]): RowStates {
  const rows = passes.reduce((n, p) => n + p.records.length, 0);
  const { T, U } = passes[0]!;
  const states = new Float32Array(rows * T * U);
  const clip = new Int32Array(rows), label = new Int32Array(rows), part = new Int32Array(rows);
  let r = 0;
  passes.forEach((p, k) => {
    states.set(p.states, r * T * U);
    p.records.forEach((rec, i) => {
      clip[r + i] = indexOf(rec.id);
      label[r + i] = rec.action;
      part[r + i] = k;
    });
    r += p.records.length;
  });
  return { states, T, U, clip, label, part };
}

/** Row indices whose (clip, pass) pass the test. */
export function rowsWhere(f: RowStates, keep: (clip: number, part: number) => boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < f.clip.length; r++) if (keep(f.clip[r]!, f.part[r]!)) out.push(r);
  return out;
}

/** Top-1 class of each clip among `rows`, its rows' probabilities averaged. */
export function predictByClip(model: CountertopModel, f: RowStates, rows: readonly number[], batchSize = 256): Map<number, number> {
  const probs = headProbabilities(model, f, rows, batchSize);
  const C = rows.length ? probs.length / rows.length : 0;
  const sums = new Map<number, Float32Array>();
  rows.forEach((r, j) => {
    const c = f.clip[r]!;
    const sum = sums.get(c) ?? sums.set(c, new Float32Array(C)).get(c)!;
    for (let k = 0; k < C; k++) sum[k]! += probs[j * C + k]!;
  });
  return new Map([...sums].map(([c, sum]) => [c, rankScores(sum, 1)[0]!]));
}
