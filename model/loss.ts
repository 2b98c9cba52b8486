/** The training objective and one optimiser step. */
import * as tf from '@tensorflow/tfjs';
import type { CaptionDecoder } from './decoder.js';
import type { EncodeOptions } from './forward.js';
import type { Encoding, HeadSpec, LossParts, TrainingBatch } from './types.js';

/** Loss values of one training step, as numbers. */
export interface StepLosses {
  readonly total: number;
  readonly classification: number;
  readonly caption: number;
}

/** What the loss needs of a model. */
export interface LossModel {
  readonly heads: readonly HeadSpec[];
  readonly decoder: CaptionDecoder | null;
  encode(clips: tf.Tensor5D, opts: EncodeOptions): Encoding;
  classLogits(enc: Encoding): Record<string, tf.Tensor2D>;
}

/** λ·CE_class + (1−λ)·CE_caption with dropout on (see CountertopModel.loss). */
export function jointLoss(m: LossModel, batch: TrainingBatch, lambda: number): LossParts {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`λ must be in [0, 1], got ${lambda}`);
  const labelled = Object.keys(batch.labels);
  for (const name of labelled) if (!m.heads.some((h) => h.name === name)) throw new Error(`batch has labels for unknown head "${name}"`);
  if (lambda > 0 && labelled.length === 0) throw new Error('λ > 0 needs class labels for at least one head');
  if (lambda < 1 && !m.decoder) throw new Error('this model has no caption decoder: use λ = 1');
  if (lambda < 1 && !batch.captions) throw new Error('λ < 1 needs captions in the batch');
  return tf.tidy(() => {
    const enc = m.encode(batch.clips, { training: true, ...(batch.perception ? { perception: batch.perception } : {}) });
    let classification = tf.scalar(0);
    if (lambda > 0) {
      const logits = m.classLogits(enc);
      const perHead = labelled.map((name) => {
        const labels = batch.labels[name]!;
        const classes = m.heads.find((h) => h.name === name)!.labels.length;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels.toInt(), classes), logits[name]!) as tf.Scalar;
      });
      classification = tf.div(tf.addN(perHead), perHead.length) as tf.Scalar;
    }
    const caption = lambda < 1 ? m.decoder!.loss(enc.pooled, batch.captions!.toInt()) : tf.scalar(0);
    const total = tf.add(tf.mul(lambda, classification), tf.mul(1 - lambda, caption)) as tf.Scalar;
    return { total, classification, caption };
  });
}

/**
 * One optimiser step on `vars`. Variables that get no gradient (e.g. the decoder when λ = 1)
 * receive a zero gradient, so that the optimiser's per-variable state stays aligned with `vars`
 * and checkpoints resume exactly.
 */
export function optimiserStep(optimizer: tf.Optimizer, vars: tf.Variable[], loss: () => LossParts): StepLosses {
  let parts: LossParts | null = null;
  const { value, grads } = tf.variableGrads(() => {
    parts = loss();
    tf.keep(parts.classification);
    tf.keep(parts.caption);
    return parts.total;
  }, vars);
  const complete = vars.map((v) => ({ name: v.name, tensor: grads[v.name] ?? tf.zerosLike(v) }));
  optimizer.applyGradients(complete);
  const p = parts as unknown as LossParts;
  const losses = { total: value.dataSync()[0]!, classification: p.classification.dataSync()[0]!, caption: p.caption.dataSync()[0]! };
  tf.dispose([value, p.classification, p.caption, ...complete.map((g) => g.tensor)]);
  return losses;
}
