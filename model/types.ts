/**
 * The model's public contract: what the live pipelines, the trainer and the transfer script use.
 * The model/ package implements it (see model/index.ts); other packages import only from here,
 * model/index.ts, model/config.ts and model/preprocess.ts.
 */
import type * as tf from '@tensorflow/tfjs';

/** One classification task: its name (e.g. "action", "group") and its labels; index = class id. */
export interface HeadSpec {
  readonly name: string;
  readonly labels: readonly string[];
}

/** A batch for one training step. */
export interface TrainingBatch {
  /** [B, T, H, W, 3] float32, normalised by model/preprocess.ts. */
  readonly clips: tf.Tensor5D;
  /** Per head name: int32 class ids [B]. Heads missing here contribute no loss. */
  readonly labels: Readonly<Record<string, tf.Tensor1D>>;
  /** [B, 14] int32 token ids: <go> words… <end> <pad>…; absent when λ = 1. */
  readonly captions?: tf.Tensor2D;
  /** [B, T, P] per-frame perception input, for a model whose perception channel is on. */
  readonly perception?: tf.Tensor3D;
}

/** The shared LSTM encoder's output. */
export interface Encoding {
  /** [B, T, U] per-timestep states. */
  readonly states: tf.Tensor3D;
  /** [B, U] pooled clip encoding (mean over time). */
  readonly pooled: tf.Tensor2D;
}

export interface LossParts {
  readonly total: tf.Scalar;
  readonly classification: tf.Scalar;
  readonly caption: tf.Scalar;
}
