/**
 * Turning clip records into training batches: a deterministic per-epoch order (a function of the
 * seed and the epoch only, so a resumed run rebuilds it) and the tensors a training step takes.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainingBatch, Vocabulary } from '../model/index.js';
import type { ClipData, ClipRecord } from './data-source.js';
import { SeededRandom } from './rng.js';
import type { HeadName } from './tasks.js';

export function epochOrder<T>(items: readonly T[], seed: number, epoch: number): T[] {
  return new SeededRandom((seed * 7919 + epoch * 104729 + 17) >>> 0).shuffled(items);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function labelOf(record: ClipRecord, head: HeadName): number {
  return head === 'group' ? record.group : record.action;
}

/** Tensors for one step; the caller disposes them (see disposeBatch). */
export async function makeTrainingBatch(
  data: ClipData,
  records: readonly ClipRecord[],
  head: HeadName,
  caption: { vocab: Vocabulary; source: 'simplified' | 'captions' } | null,
): Promise<TrainingBatch> {
  const pixels = await data.loadClips(records);
  const [T, H, W] = data.clipShape;
  const clips = tf.tensor5d(pixels, [records.length, T, H, W, 3]);
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
