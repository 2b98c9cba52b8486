/**
 * Turning a loaded batch into the tensors a training step takes.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainingBatch, Vocabulary } from '../model/index.js';
import { frameStep, type ModelConfig } from '../model/config.js';
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

/** What the loader must give a model of this config: size, temporal sampling and perception inputs. */
export function clipShapeOf(config: ModelConfig): ClipShape {
  return {
    frames: config.frames,
    height: config.height,
    width: config.width,
    ...(config.sampling === 'window' ? { windowStep: frameStep(config) } : {}),
    ...(config.perception.features > 0 && config.perception.handObject ? { handObject: config.perception.coordinates } : {}),
    ...(config.perception.features > 0 && config.perception.backbone ? { backbone: true } : {}),
  };
}

/** The perception input [B, T, P] of a batch, or undefined when it has none. */
export function perceptionTensor(batch: LabelledBatch, shape: ClipShape): tf.Tensor3D | undefined {
  if (!batch.perception) return undefined;
  return tf.tensor3d(batch.perception, [batch.records.length, shape.frames, batch.perception.length / batch.records.length / shape.frames]);
}

/** encode() options carrying a batch's perception input, if it has one. */
export function encodeInputs(batch: LabelledBatch, shape: ClipShape): { perception?: tf.Tensor3D } {
  const perception = perceptionTensor(batch, shape);
  return perception ? { perception } : {};
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
  const extra = encodeInputs(batch, shape);
  if (!caption) return { clips, labels, ...extra };
  const ids = records.map((r) => caption.vocab.encode(caption.source === 'simplified' ? r.simplified : r.caption));
  return { clips, labels, ...extra, captions: tf.tensor2d(ids, [records.length, caption.vocab.length], 'int32') };
}

export function disposeBatch(b: TrainingBatch): void {
  b.clips.dispose();
  for (const t of Object.values(b.labels)) t.dispose();
  b.captions?.dispose();
  b.perception?.dispose();
}

/** A deterministic per-epoch permutation (a function of seed and epoch only). */
export function epochOrder<T>(items: readonly T[], seed: number, epoch: number): T[] {
  return new SeededRandom((seed * 7919 + epoch * 104729 + 17) >>> 0).shuffled(items);
}
