/**
 * Checkpoint folder: model.json (topology), weights.bin, optimizer.bin (optional), manifest.json
 * (format version, config, label sets, vocabulary, training metadata, backend, file sizes and
 * hashes). Written to a temporary sibling folder and renamed into place, so a crash never leaves a
 * half-written checkpoint under the final name.
 */
import * as tf from '@tensorflow/tfjs';
import { CountertopModel } from './network.js';

export const CHECKPOINT_FORMAT_VERSION = 1;

export interface SaveExtra {
  /** Saved so that training resumes exactly (Adam's moments and iteration count). */
  readonly optimizer?: tf.Optimizer;
  /** Free-form training metadata (epoch, step, λ, data set, metrics…), stored in the manifest. */
  readonly training?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  readonly model: CountertopModel;
  /** The optimiser's weights, renamed to this model's variables; pass to restoreAdam. */
  readonly optimizerWeights?: { name: string; tensor: tf.Tensor }[];
  /** The optimiser's class name and config (e.g. Adam's learning rate and betas). */
  readonly optimizerConfig?: { className: string; config: Record<string, unknown> };
  readonly training?: Record<string, unknown>;
  /** The backend that wrote the checkpoint. */
  readonly savedOnBackend: string;
}

/** Writes `model` (and optionally its optimiser and training metadata) to the folder `dir`, atomically. */
export async function saveCheckpoint(dir: string, model: CountertopModel, extra: SaveExtra = {}): Promise<void> {
  throw new Error('not implemented yet');
}

/**
 * Reads a checkpoint folder. Checks the format version, every file's presence, size and hash, and
 * every weight's shape against the model its config builds; any failure throws an Error whose
 * message names the offending file.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  throw new Error('not implemented yet');
}

/**
 * An Adam optimiser in the state a checkpoint saved (hyper-parameters, iteration count, moments),
 * ready for `model.trainStep`. Without saved state, a fresh Adam with `fallbackLearningRate`.
 */
export async function restoreAdam(loaded: LoadedCheckpoint, fallbackLearningRate = 1e-3): Promise<tf.AdamOptimizer> {
  throw new Error('not implemented yet');
}
