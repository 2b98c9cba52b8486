/**
 * CountertopModel: the paper's two-channel video encoder (per-frame 2D CNN + clip 3D CNN → shared
 * LSTM), its classification heads and its caption decoder. This class holds the state (the
 * description, the weights, the flags) and the public API; the work is done by role:
 *   architecture.ts  one layer description from the config: names, shapes, creation order
 *   weights.ts       the typed weights built from it (`model.weights.spatiotemporal.convs[i].kernel`)
 *   forward.ts       channels, encoder LSTM, heads       loss.ts   objective and optimiser step
 *   flops.ts         FLOP counts from the description    decoder.ts  caption decoding
 */
import * as tf from '@tensorflow/tfjs';
import type { Encoding, HeadSpec, LossParts, TrainingBatch } from './types.js';
import type { ModelConfig } from './config.js';
import type { Vocabulary } from './vocabulary.js';
import { CaptionDecoder } from './decoder.js';
import { describeArchitecture, type Architecture } from './architecture.js';
import { ParamStore, createWeights, encoderVariables, type ModelWeights } from './weights.js';
import * as forward from './forward.js';
import type { Conv3dForm, EncodeOptions } from './forward.js';
import { jointLoss, optimiserStep, type StepLosses } from './loss.js';
import { flopsPerClip } from './flops.js';
import type { Conv3dImpl } from './layers.js';

export type { Conv3dForm, EncodeOptions } from './forward.js';
export type { StepLosses } from './loss.js';

export interface TransferOptions {
  /** Hidden units of a small MLP head (dense+ReLU, then linear); 0 or absent = a linear head. */
  readonly hidden?: number;
}

export class CountertopModel {
  /** How the 3D convolutions run; 'auto' = tf.conv3d on the tensorflow backends, shifted conv2d elsewhere. */
  conv3dForm: Conv3dForm = 'auto';
  private disposed = false;
  /** Channels, perception projection and encoder LSTM: what a transfer model shares and freezes. */
  private readonly encoderSet: ReadonlySet<tf.Variable>;

  private constructor(
    /** The layer description the weights were built from. */
    readonly architecture: Architecture,
    readonly heads: readonly HeadSpec[],
    /** Null when the model has no caption decoder (e.g. a transfer model). */
    readonly vocabulary: Vocabulary | null,
    /** True for a transfer model: the encoder is shared and frozen. */
    readonly frozenEncoder: boolean,
    private readonly store: ParamStore,
    /** Every variable, by layer. Read-only: assign values through the variables, never replace them. */
    readonly weights: ModelWeights,
    private readonly decoder: CaptionDecoder | null,
  ) {
    this.encoderSet = new Set(encoderVariables(weights));
  }

  get config(): ModelConfig {
    return this.architecture.config;
  }

  /** Hidden width of the classification heads (0 = linear). */
  get headHidden(): number {
    return this.architecture.headHidden;
  }

  /**
   * A freshly initialised model (Glorot-uniform kernels, zero biases, LSTM forget-gate bias 1).
   * `vocabulary` null builds no caption decoder. The same seed gives the same weights.
   */
  static create(config: ModelConfig, heads: readonly HeadSpec[], vocabulary: Vocabulary | null, seed = 1): CountertopModel {
    return CountertopModel.build(config, heads, vocabulary, seed, 0, null, false);
  }

  /** Builds every layer; variables named in `shared` are adopted (a transfer model's encoder) instead of created. */
  private static build(
    config: ModelConfig,
    heads: readonly HeadSpec[],
    vocabulary: Vocabulary | null,
    seed: number,
    headHidden: number,
    shared: ReadonlyMap<string, tf.Variable> | null,
    frozenEncoder: boolean,
  ): CountertopModel {
    const architecture = describeArchitecture(config, heads, vocabulary, headHidden);
    const store = new ParamStore(seed, shared ?? new Map());
    const weights = createWeights(architecture, store);
    const decoder = weights.caption ? new CaptionDecoder(weights.caption, architecture.decoder!) : null;
    return new CountertopModel(architecture, heads, vocabulary, frozenEncoder, store, weights, decoder);
  }

  /**
   * Rebuilds a model of the given topology for a checkpoint to fill (weights are then assigned).
   * A loaded transfer model owns its (frozen) encoder but still trains only its heads.
   * @internal used by checkpoint.ts
   */
  static skeleton(config: ModelConfig, heads: readonly HeadSpec[], vocabulary: Vocabulary | null, headHidden: number, frozenEncoder: boolean): CountertopModel {
    return CountertopModel.build(config, heads, vocabulary, 1, headHidden, null, frozenEncoder);
  }

  private check(): void {
    if (this.disposed) throw new Error('CountertopModel used after dispose()');
  }

  /** Width of one frame's spatial feature vector (config.spatial.features). */
  get spatialWidth(): number {
    return this.config.spatial.features;
  }

  /** Width of the encoding (LSTM units, doubled when bidirectional). */
  get encodingWidth(): number {
    return this.architecture.encodingWidth;
  }

  /** The form 'auto' resolves to on the current backend. */
  resolvedConv3dForm(): Conv3dImpl {
    if (this.conv3dForm !== 'auto') return this.conv3dForm;
    // tfjs-node runs TensorFlow's own Conv3D; wasm has none worth using (and wrong gradients), cpu is
    // slow at it. Of the conv2d forms, shifted is the faster on wasm (docs/MODEL.md).
    return tf.getBackend() === 'tensorflow' ? 'native' : 'shifted';
  }

  /** The 2D channel on a batch of frames [N, H, W, 3] (normalised pixels) → [N, F]. Cacheable per frame. */
  spatialFeatures(frames: tf.Tensor4D): tf.Tensor2D {
    this.check();
    return forward.spatialFeatures(this.architecture, this.weights, frames);
  }

  /** The 3D channel: clips [B, T, H, W, 3] (normalised pixels) → [B, T, F3]. */
  spatiotemporalFeatures(clips: tf.Tensor5D): tf.Tensor3D {
    this.check();
    return forward.spatiotemporalFeatures(this.weights, clips, this.resolvedConv3dForm());
  }

  /**
   * Both channels + the shared LSTM. `clips` [B, T, H, W, 3]; it may be null when every channel that
   * is on has its features precomputed (`opts.spatial`, `opts.spatiotemporal`). Returned tensors belong to the caller (dispose them,
   * or call inside tf.tidy).
   */
  encode(clips: tf.Tensor5D | null, opts: EncodeOptions = {}): Encoding {
    this.check();
    return forward.encode(this.architecture, this.weights, clips, opts, { conv3d: this.resolvedConv3dForm(), frozenEncoder: this.frozenEncoder });
  }

  /** Per head: logits [B, C] (per-timestep logits averaged over time). */
  classLogits(enc: Encoding): Record<string, tf.Tensor2D> {
    this.check();
    return forward.classLogits(this.architecture, this.weights, enc);
  }

  /** Per head: class probabilities [B, C] (softmax of the per-timestep logits averaged over time). */
  classify(enc: Encoding): Record<string, tf.Tensor2D> {
    return tf.tidy(() => {
      const logits = this.classLogits(enc);
      return Object.fromEntries(Object.entries(logits).map(([k, v]) => [k, tf.softmax(v)])) as Record<string, tf.Tensor2D>;
    });
  }

  /**
   * λ·CE_class + (1−λ)·CE_caption, dropout on. CE_class is the mean over the heads present in
   * batch.labels; CE_caption uses teacher forcing and ignores <pad> targets. λ = 1 needs no captions;
   * a model without a decoder needs λ = 1.
   */
  loss(batch: TrainingBatch, lambda: number): LossParts {
    this.check();
    return jointLoss(
      { heads: this.heads, decoder: this.decoder, encode: (clips, opts) => this.encode(clips, opts), classLogits: (enc) => this.classLogits(enc) },
      batch,
      lambda,
    );
  }

  /**
   * One optimiser step on trainableVariables() (a frozen encoder is never touched). Variables that
   * get no gradient (e.g. the decoder when λ = 1) receive a zero gradient, so that the optimiser's
   * per-variable state stays aligned with trainableVariables() and checkpoints resume exactly.
   */
  trainStep(optimizer: tf.Optimizer, batch: TrainingBatch, lambda: number): StepLosses {
    this.check();
    return optimiserStep(optimizer, this.trainableVariables(), () => this.loss(batch, lambda));
  }

  private requireDecoder(): { decoder: CaptionDecoder; vocabulary: Vocabulary } {
    if (!this.decoder || !this.vocabulary) throw new Error('this model has no caption decoder');
    return { decoder: this.decoder, vocabulary: this.vocabulary };
  }

  /** Greedy decoding from pooled encodings [B, U] → one caption per row. */
  captionGreedy(pooled: tf.Tensor2D): string[] {
    this.check();
    const { decoder, vocabulary } = this.requireDecoder();
    return decoder.greedy(pooled, vocabulary);
  }

  /**
   * Beam search of the given width (1 = greedy) → the best caption per row. `lengthPenalty` α ranks
   * beams by log-probability / ((5 + words) / 6)^α (0, the default: the most probable caption).
   */
  captionBeam(pooled: tf.Tensor2D, width: number, opts: { lengthPenalty?: number } = {}): string[] {
    this.check();
    const { decoder, vocabulary } = this.requireDecoder();
    return decoder.beam(pooled, width, vocabulary, opts.lengthPenalty ?? 0);
  }

  /** Every variable with its checkpoint name (e.g. "spatial/conv0/kernel"), in a stable order. */
  namedVariables(): { name: string; variable: tf.Variable }[] {
    this.check();
    return [...this.store.entries].map(([name, variable]) => ({ name, variable }));
  }

  /** Both channels and the encoder LSTM, in a stable order. */
  encoderVariables(): tf.Variable[] {
    return this.namedVariables()
      .filter((e) => this.encoderSet.has(e.variable))
      .map((e) => e.variable);
  }

  /** Variables an optimiser should update: everything, or only the heads of a transfer model. Stable order. */
  trainableVariables(): tf.Variable[] {
    return this.namedVariables()
      .filter((e) => !(this.frozenEncoder && this.encoderSet.has(e.variable)))
      .map((e) => e.variable);
  }

  /** Total number of weights. */
  parameterCount(): number {
    return this.namedVariables().reduce((n, e) => n + e.variable.size, 0);
  }

  /**
   * Multiply-adds ×2 for one clip through both channels, the encoder LSTM and the heads (the
   * caption decoder, which runs only when a caption is asked for, is left out).
   */
  flopsPerClip(): number {
    return flopsPerClip(this.architecture);
  }

  /**
   * A transfer model: shares this model's encoder variables (frozen: never in its
   * trainableVariables()), new randomly initialised heads, no caption decoder. Disposing it frees
   * only its heads; the encoder stays owned by this model.
   */
  withNewHeads(heads: readonly HeadSpec[], opts: TransferOptions = {}, seed = 2): CountertopModel {
    this.check();
    const shared = new Map(this.namedVariables().filter((e) => this.encoderSet.has(e.variable)).map((e) => [e.name, e.variable]));
    const model = CountertopModel.build(this.config, heads, null, seed, opts.hidden ?? 0, shared, true);
    model.conv3dForm = this.conv3dForm;
    return model;
  }

  /** Frees the variables this model owns. */
  dispose(): void {
    if (this.disposed) return;
    this.store.dispose();
    this.disposed = true;
  }
}
