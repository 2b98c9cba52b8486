/**
 * Runs a model over a split (dropout off) and logs one prediction per clip: the top classes of
 * the evaluated head and, for caption tasks, the greedy caption with its reference.
 */
import * as tf from '@tensorflow/tfjs';
import type { CountertopModel } from '../model/index.js';
import { rankScores } from '../eval/classification.js';
import { clipShapeOf, clipTensor, encodeInputs, labelOf } from './batches.js';
import type { ClipData, ClipRecord, SplitName } from './data-source.js';
import type { ClipPrediction } from './predictions.js';
import type { HeadName } from './tasks.js';

export interface SplitEvaluation {
  readonly predictions: ClipPrediction[];
  /** Mean classification cross-entropy of the head over the split. */
  readonly classificationLoss: number;
}

const TOP_K = 5;

export async function evaluateSplit(
  model: CountertopModel,
  data: ClipData,
  split: SplitName,
  head: HeadName,
  opts: { batchSize: number; captionSource?: 'simplified' | 'captions' },
): Promise<SplitEvaluation> {
  const predictions: ClipPrediction[] = [];
  let lossSum = 0;
  const shape = clipShapeOf(model.config);
  const wantCaptions = Boolean(opts.captionSource && model.vocabulary);
  for await (const batch of data.batches(split, { shape, batchSize: opts.batchSize, training: false, seed: 0, epoch: 0 })) {
    const { probs, pooled } = tf.tidy(() => {
      const enc = model.encode(clipTensor(batch, shape), encodeInputs(batch, shape));
      return { probs: model.classify(enc)[head], pooled: wantCaptions ? enc.pooled : tf.zeros([0]) };
    });
    const captions = wantCaptions ? model.captionGreedy(pooled as tf.Tensor2D) : undefined;
    pooled.dispose();
    const scores = (await probs.data()) as Float32Array;
    probs.dispose();
    const logged = toPredictions(batch.records, scores, head, captions && { texts: captions, source: opts.captionSource! });
    predictions.push(...logged.predictions);
    lossSum += logged.lossSum;
  }
  return { predictions, classificationLoss: predictions.length ? lossSum / predictions.length : 0 };
}

/** Logged predictions of a batch from its class probabilities [B, C] (row-major), plus its summed cross-entropy. */
export function toPredictions(
  batch: readonly ClipRecord[],
  scores: Float32Array,
  head: HeadName,
  captions?: { texts: readonly string[]; source: 'simplified' | 'captions' },
): { predictions: ClipPrediction[]; lossSum: number } {
  const C = scores.length / batch.length;
  let lossSum = 0;
  const predictions = batch.map((r, i): ClipPrediction => {
    const row = scores.subarray(i * C, (i + 1) * C);
    const label = labelOf(r, head);
    lossSum += -Math.log(Math.max(row[label], 1e-12));
    const ranked = rankScores(row, Math.min(TOP_K, C));
    return {
      id: r.id,
      label,
      ranked,
      confidence: row[ranked[0]],
      ...(captions ? { caption: captions.texts[i], reference: captions.source === 'simplified' ? r.simplified : r.caption } : {}),
    };
  });
  return { predictions, lossSum };
}
