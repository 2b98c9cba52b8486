/**
 * Fine-tuning a trained model on new classes: every weight trainable, starting from the base's
 * encoder (both channels, the perception projection, the LSTM), a new `action` head, no caption
 * decoder (the new classes have no captions, so λ = 1). Clips come through the loader with its
 * training augmentation (random windows, crops, label-safe flips).
 *
 * The new head starts as a linear probe (trained on the frozen encoder's states, like transfer)
 * rather than random: with a few clips per class an epoch is one or two steps, and a random head
 * had not learned anything by the end (measured: chance at 1 clip per class, docs/TRAINING.md).
 */
import * as tf from '@tensorflow/tfjs';
import { CountertopModel } from '../model/index.js';
import { clipShapeOf, disposeBatch, makeTrainingBatch } from './batches.js';
import type { ClipData } from './data-source.js';
import { encodeSplit, joinPasses, rowsWhere, trainHeadOnStates, type EncodedStates } from './head-training.js';
import { SeededRandom, withSeededMathRandom } from './rng.js';
import { learningRateAt } from './schedule.js';

/**
 * A new model of the base's config with a fresh linear `action` head over `labels` and no decoder,
 * its encoder weights copied from the base (a copy, so the base stays as it was).
 */
export function finetuneStart(base: CountertopModel, labels: readonly string[], seed: number): CountertopModel {
  const model = CountertopModel.create(base.config, [{ name: 'action', labels: [...labels] }], null, seed);
  const baseEncoder = new Set(base.encoderVariables());
  const from = new Map(base.namedVariables().filter((e) => baseEncoder.has(e.variable)).map((e) => [e.name, e.variable]));
  const mine = new Set(model.encoderVariables());
  let copied = 0;
  for (const { name, variable } of model.namedVariables()) {
    if (!mine.has(variable)) continue;
    const src = from.get(name);
    if (!src || src.shape.join('x') !== variable.shape.join('x')) {
      model.dispose();
      throw new Error(`fine-tuning: the base model has no encoder weight ${name} of shape [${variable.shape.join(', ')}]; this is a bug`);
    }
    variable.assign(src);
    copied++;
  }
  if (copied !== from.size) {
    model.dispose();
    throw new Error(`fine-tuning copied ${copied} of the base's ${from.size} encoder weights; this is a bug`);
  }
  return model;
}

export interface FinetuneRun {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
  /** First epoch to run (a resumed run). */
  readonly fromEpoch?: number;
  readonly signal?: AbortSignal;
  /** After every step: the epoch and the fraction of it done. */
  readonly onStep?: (epoch: number, fractionOfEpoch: number, loss: number) => void;
  /** After every epoch with its mean loss; a resumable caller saves its state here. */
  readonly onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

/**
 * Trains `model` (all trainable variables) on data's 'train' split with λ = 1, Adam with a cosine
 * schedule over the whole run (so a resumed run continues the same curve). `rng` drives dropout.
 */
export async function finetuneEpochs(model: CountertopModel, optimizer: tf.AdamOptimizer, data: ClipData, rng: SeededRandom, o: FinetuneRun): Promise<void> {
  const shape = clipShapeOf(model.config);
  const clips = data.count('train');
  const perEpoch = Math.ceil(clips / o.batchSize);
  const schedule = { kind: 'cosine' as const, baseLr: o.lr, totalSteps: perEpoch * o.epochs, warmupSteps: 0 };
  for (let epoch = o.fromEpoch ?? 0; epoch < o.epochs; epoch++) {
    let lossSum = 0;
    let seen = 0;
    let b = 0;
    for await (const loaded of data.batches('train', { shape, batchSize: o.batchSize, training: true, seed: o.seed, epoch })) {
      o.signal?.throwIfAborted();
      const batch = makeTrainingBatch(loaded, shape, 'action', null);
      (optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(schedule, epoch * perEpoch + b);
      let loss: number;
      try {
        loss = withSeededMathRandom(rng, () => model.trainStep(optimizer, batch, 1)).total;
      } finally {
        disposeBatch(batch);
      }
      b++;
      lossSum += loss * loaded.records.length;
      seen += loaded.records.length;
      o.onStep?.(epoch, Math.min(1, seen / clips), loss);
    }
    o.signal?.throwIfAborted();
    await o.onEpoch?.(epoch, seen ? lossSum / seen : 0);
  }
}

export interface ProbeOptions {
  readonly epochs: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Random-window passes per clip beside its middle window. */
  readonly augment: number;
  readonly signal?: AbortSignal;
  /** After each clip pass (1 … passes). */
  readonly onPass?: (pass: number, passes: number) => void;
}

/**
 * Sets `model`'s `action` head to a linear probe: a head trained on the base's frozen states of the
 * data's 'train' clips (their middle window and `augment` random-window passes). `model` must be a
 * finetuneStart model of the same base and labels (its encoder still the base's).
 */
export async function probeHead(model: CountertopModel, base: CountertopModel, data: ClipData, o: ProbeOptions): Promise<void> {
  const passes: EncodedStates[] = [];
  const total = 1 + o.augment;
  const common = o.signal ? { signal: o.signal } : {};
  passes.push(await encodeSplit(base, data, 'train', 8, { windowAt: 0.5, ...common }));
  o.onPass?.(1, total);
  for (let a = 0; a < o.augment; a++) {
    passes.push(await encodeSplit(base, data, 'train', 8, { augment: { seed: o.seed, epoch: a }, ...common }));
    o.onPass?.(a + 2, total);
  }
  const index = new Map(passes[0]!.records.map((r, i) => [r.id, i]));
  const f = joinPasses((id) => index.get(id)!, passes);
  const labels = model.heads.find((h) => h.name === 'action')!.labels;
  const probe = base.withNewHeads([{ name: 'action', labels: [...labels] }], {}, o.seed);
  try {
    await trainHeadOnStates(probe, f, rowsWhere(f, () => true), (r) => f.label[r]!, { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, ...common });
    const probeEncoder = new Set(probe.encoderVariables());
    const from = new Map(probe.namedVariables().filter((e) => !probeEncoder.has(e.variable)).map((e) => [e.name, e.variable]));
    const mine = new Set(model.encoderVariables());
    const heads = model.namedVariables().filter((e) => !mine.has(e.variable));
    for (const { name, variable } of heads) {
      const src = from.get(name);
      if (!src || src.shape.join('x') !== variable.shape.join('x')) throw new Error(`linear probe: no head weight ${name} of shape [${variable.shape.join(', ')}]; this is a bug`);
      variable.assign(src);
    }
  } finally {
    probe.dispose();
  }
}
