/**
 * Turning a loaded batch into the tensors a training step takes.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainingBatch, Vocabulary } from '../model/index.js';
import type { ClipRecord, ClipShape, LabelledBatch } from './data-source.js';
import { SeededRandom } from './rng.js';
import type { HeadName } from './tasks.js';

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function labelOf(record: ClipRecord, head: HeadName): number {
  return head === 'group' ? record.group : record.action;
}

export function clipTensor(batch: LabelledBatch, shape: ClipShape): tf.Tensor5D {
  return tf.tensor5d(batch.clips, [batch.records.length, shape.frames, shape.height, shape.width, 3]);
}

/** Tensors for one step; the caller disposes them (see disposeBatch). */
export function makeTrainingBatch(
  batch: LabelledBatch,
  shape: ClipShape,
  head: HeadName,
  caption: { vocab: Vocabulary; source: 'simplified' | 'captions' } | null,
): TrainingBatch {
  const { records } = batch;
  const clips = clipTensor(batch, shape);
  const labels = { [head]: tf.tensor1d(records.map((r) => labelOf(r, head)), 'int32') };
  if (!caption) return { clips, labels };
  const ids = records.map((r) => caption.vocab.encode(caption.source === 'simplified' ? r.simplified : r.caption));
  return { clips, labels, captions: tf.tensor2d(ids, [records.length, caption.vocab.length], 'int32') };
}

export function disposeBatch(b: TrainingBatch): void {
  b.clips.dispose();
  for (const t of Object.values(b.labels)) t.dispose();
  b.captions?.dispose();
}

/** A deterministic per-epoch permutation (a function of seed and epoch only). */
export function epochOrder<T>(items: readonly T[], seed: number, epoch: number): T[] {
  return new SeededRandom((seed * 7919 + epoch * 104729 + 17) >>> 0).shuffled(items);
}
