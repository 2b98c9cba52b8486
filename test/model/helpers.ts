/** Tiny models and data for the model tests: small enough that a file runs in seconds on wasm. */
import * as tf from '@tensorflow/tfjs';
import { parseModelConfig, type ModelConfig, type ModelConfigInput } from '../../model/config.js';
import { CountertopModel } from '../../model/network.js';
import { Vocabulary } from '../../model/vocabulary.js';
import type { HeadSpec, TrainingBatch } from '../../model/types.js';

export const TINY: ModelConfigInput = {
  frames: 4,
  height: 16,
  width: 16,
  spatial: { filters: [4, 8], features: 8 },
  spatiotemporal: { filters: [4], temporalKernel: 3, features: 8 },
  encoder: { units: 16, bidirectional: false },
  caption: { length: 14, embedding: 8, units: 24 },
  dropout: 0,
};

export function tinyConfig(over: ModelConfigInput = {}): ModelConfig {
  const merged: Record<string, unknown> = { ...TINY };
  for (const [k, v] of Object.entries(over)) {
    const base = merged[k];
    merged[k] = base && typeof base === 'object' && !Array.isArray(base) && v && typeof v === 'object' && !Array.isArray(v) ? { ...base, ...v } : v;
  }
  return parseModelConfig(merged);
}

export const HEADS: HeadSpec[] = [
  { name: 'action', labels: ['pour', 'put', 'take'] },
  { name: 'group', labels: ['move', 'fill'] },
];

export const CAPTIONS = ['pouring water into a bowl', 'putting a cup onto a plate', 'taking a spoon out of a jar', 'pouring milk into a cup'];

export function tinyVocabulary(): Vocabulary {
  return Vocabulary.build(CAPTIONS);
}

export function tinyModel(over: ModelConfigInput = {}, seed = 1, vocabulary: Vocabulary | null = tinyVocabulary()): CountertopModel {
  return CountertopModel.create(tinyConfig(over), HEADS, vocabulary, seed);
}

/** Deterministic clips [B, T, H, W, 3] in [-1, 1]. */
export function clips(config: ModelConfig, batch: number, seed = 7): tf.Tensor5D {
  return tf.randomUniform([batch, config.frames, config.height, config.width, 3], -1, 1, 'float32', seed) as tf.Tensor5D;
}

/** A batch of `n` distinct clips with action/group labels and captions (example i uses CAPTIONS[i % 4]). */
export function tinyBatch(config: ModelConfig, vocabulary: Vocabulary | null, n = 4, seed = 7): TrainingBatch {
  const actions = Array.from({ length: n }, (_, i) => i % 3);
  const groups = Array.from({ length: n }, (_, i) => i % 2);
  return {
    clips: clips(config, n, seed),
    labels: { action: tf.tensor1d(actions, 'int32'), group: tf.tensor1d(groups, 'int32') },
    ...(vocabulary ? { captions: tf.tensor2d(Array.from({ length: n }, (_, i) => vocabulary.encode(CAPTIONS[i % 4]!)), undefined, 'int32') } : {}),
  };
}

export function disposeBatch(b: TrainingBatch): void {
  tf.dispose([b.clips, ...Object.values(b.labels), ...(b.captions ? [b.captions] : [])]);
}

/** Snapshot of variable values, for bit-exact comparisons. */
export function snapshot(vars: readonly tf.Variable[]): Float32Array[] {
  return vars.map((v) => (v.dataSync() as Float32Array).slice());
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
