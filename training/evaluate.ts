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

/**
 * `views` > 1 (models with 'window' sampling): each clip is scored at that many windows spread
 * over it (start to end, like a live viewer watching the whole clip) and the class probabilities
 * averaged; the caption comes from the middle window.
 */
export async function evaluateSplit(
  model: CountertopModel,
  data: ClipData,
  split: SplitName,
  head: HeadName,
  opts: { batchSize: number; captionSource?: 'simplified' | 'captions'; views?: number },
): Promise<SplitEvaluation> {
  const shape = clipShapeOf(model.config);
  const views = shape.windowStep ? Math.max(1, opts.views ?? 1) : 1;
  const positions = views === 1 ? [0.5] : Array.from({ length: views }, (_, v) => v / (views - 1));
  const middle = positions.reduce((best, p, i) => (Math.abs(p - 0.5) < Math.abs(positions[best]! - 0.5) ? i : best), 0);
  const wantCaptions = Boolean(opts.captionSource && model.vocabulary);
  const summed = new Map<string, { record: ClipRecord; scores: Float32Array; caption?: string }>();
  for (const [v, windowAt] of positions.entries()) {
    for await (const batch of data.batches(split, { shape, batchSize: opts.batchSize, training: false, seed: 0, epoch: 0, ...(views > 1 ? { windowAt } : {}) })) {
      const captionsNow = wantCaptions && v === middle;
      const { probs, pooled } = tf.tidy(() => {
        const enc = model.encode(clipTensor(batch, shape), encodeInputs(batch, shape));
        return { probs: model.classify(enc)[head], pooled: captionsNow ? enc.pooled : tf.zeros([0]) };
      });
      const captions = captionsNow ? model.captionGreedy(pooled as tf.Tensor2D) : undefined;
      pooled.dispose();
      const scores = (await probs.data()) as Float32Array;
      probs.dispose();
      const C = scores.length / batch.records.length;
      batch.records.forEach((r, i) => {
        const row = scores.subarray(i * C, (i + 1) * C);
        const entry = summed.get(r.id) ?? { record: r, scores: new Float32Array(C) };
        for (let c = 0; c < C; c++) entry.scores[c]! += row[c]! / positions.length;
        if (captions) entry.caption = captions[i];
        summed.set(r.id, entry);
      });
    }
  }
  const entries = [...summed.values()];
  const C = entries[0]?.scores.length ?? 0;
  const all = new Float32Array(entries.length * C);
  entries.forEach((e, i) => all.set(e.scores, i * C));
  const texts = wantCaptions ? entries.map((e) => e.caption ?? '') : undefined;
  const logged = toPredictions(entries.map((e) => e.record), all, head, texts && { texts, source: opts.captionSource! });
  return { predictions: logged.predictions, classificationLoss: entries.length ? logged.lossSum / entries.length : 0 };
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
