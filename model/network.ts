/**
 * CountertopModel: the paper's two-channel video encoder (per-frame 2D CNN + clip 3D CNN → shared
 * LSTM), its classification heads and its caption decoder, as plain tf.Variables and tf ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { Encoding, HeadSpec, LossParts, TrainingBatch } from './types.js';
import type { ModelConfig } from './config.js';
import type { Vocabulary } from './vocabulary.js';

/** How the spatiotemporal channel computes its 3D convolutions (same operator, different kernels). */
export type Conv3dForm = 'auto' | 'native' | 'stacked';

export interface EncodeOptions {
  /** Precomputed per-frame spatial features [B, T, F] (e.g. from a live per-frame cache); skips the 2D channel. */
  readonly spatial?: tf.Tensor3D;
  /** Dropout on (default false). */
  readonly training?: boolean;
}

export interface TransferOptions {
  /** Hidden units of a small MLP head (dense+ReLU, then linear); 0 or absent = a linear head. */
  readonly hidden?: number;
}

/** Loss values of one training step, as numbers. */
export interface StepLosses {
  readonly total: number;
  readonly classification: number;
  readonly caption: number;
}

export class CountertopModel {
  readonly config: ModelConfig;
  readonly heads: readonly HeadSpec[];
  /** Null when the model has no caption decoder (e.g. a transfer model). */
  readonly vocabulary: Vocabulary | null;
  /** True for a transfer model: the encoder is shared and frozen. */
  readonly frozenEncoder: boolean;
  /** Hidden width of the classification heads (0 = linear). */
  readonly headHidden: number;
  /** How the 3D convolutions run; 'auto' = tf.conv3d on the tensorflow backends, stacked conv2d elsewhere. */
  conv3dForm: Conv3dForm = 'auto';

  private constructor() {
    throw new Error('not implemented yet');
  }

  /**
   * A freshly initialised model (Glorot-uniform kernels, zero biases, LSTM forget-gate bias 1).
   * `vocabulary` null builds no caption decoder. The same seed gives the same weights.
   */
  static create(config: ModelConfig, heads: readonly HeadSpec[], vocabulary: Vocabulary | null, seed = 1): CountertopModel {
    throw new Error('not implemented yet');
  }

  /** Width of one frame's spatial feature vector (config.spatial.features). */
  get spatialWidth(): number {
    throw new Error('not implemented yet');
  }

  /** Width of the encoding (LSTM units, doubled when bidirectional). */
  get encodingWidth(): number {
    throw new Error('not implemented yet');
  }

  /** The 2D channel on a batch of frames [N, H, W, 3] (normalised pixels) → [N, F]. Cacheable per frame. */
  spatialFeatures(frames: tf.Tensor4D): tf.Tensor2D {
    throw new Error('not implemented yet');
  }

  /**
   * Both channels + the shared LSTM. `clips` [B, T, H, W, 3]; it may be null when `opts.spatial` is
   * given and the spatiotemporal channel is off. Returned tensors belong to the caller (dispose them,
   * or call inside tf.tidy).
   */
  encode(clips: tf.Tensor5D | null, opts: EncodeOptions = {}): Encoding {
    throw new Error('not implemented yet');
  }

  /** Per head: class probabilities [B, C] (softmax of the per-timestep logits averaged over time). */
  classify(enc: Encoding): Record<string, tf.Tensor2D> {
    throw new Error('not implemented yet');
  }

  /** Per head: logits [B, C] (per-timestep logits averaged over time). */
  classLogits(enc: Encoding): Record<string, tf.Tensor2D> {
    throw new Error('not implemented yet');
  }

  /**
   * λ·CE_class + (1−λ)·CE_caption, dropout on. CE_class is the mean over the heads present in
   * batch.labels; CE_caption uses teacher forcing and ignores <pad> targets. λ = 1 needs no captions.
   */
  loss(batch: TrainingBatch, lambda: number): LossParts {
    throw new Error('not implemented yet');
  }

  /**
   * One optimiser step on trainableVariables() (a frozen encoder is never touched). Variables that
   * get no gradient (e.g. the decoder when λ = 1) receive a zero gradient, so that the optimiser's
   * per-variable state stays aligned with trainableVariables() and checkpoints resume exactly.
   */
  trainStep(optimizer: tf.Optimizer, batch: TrainingBatch, lambda: number): StepLosses {
    throw new Error('not implemented yet');
  }

  /** Greedy decoding from pooled encodings [B, U] → one caption per row. */
  captionGreedy(pooled: tf.Tensor2D): string[] {
    throw new Error('not implemented yet');
  }

  /** Beam search of the given width (1 = greedy) → the most probable caption per row. */
  captionBeam(pooled: tf.Tensor2D, width: number): string[] {
    throw new Error('not implemented yet');
  }

  /** Variables an optimiser should update: everything, or only the heads of a transfer model. Stable order. */
  trainableVariables(): tf.Variable[] {
    throw new Error('not implemented yet');
  }

  /** Both channels and the encoder LSTM, in a stable order. */
  encoderVariables(): tf.Variable[] {
    throw new Error('not implemented yet');
  }

  /** Every variable with its checkpoint name (e.g. "spatial/conv0/kernel"), in a stable order. */
  namedVariables(): { name: string; variable: tf.Variable }[] {
    throw new Error('not implemented yet');
  }

  /** Total number of weights. */
  parameterCount(): number {
    throw new Error('not implemented yet');
  }

  /**
   * A transfer model: shares this model's encoder variables (frozen: never in its
   * trainableVariables()), new randomly initialised heads, no caption decoder. Disposing it frees
   * only its heads; the encoder stays owned by this model.
   */
  withNewHeads(heads: readonly HeadSpec[], opts: TransferOptions = {}, seed = 2): CountertopModel {
    throw new Error('not implemented yet');
  }

  /** Frees the variables this model owns. */
  dispose(): void {
    throw new Error('not implemented yet');
  }
}
