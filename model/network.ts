/**
 * CountertopModel: the paper's two-channel video encoder (per-frame 2D CNN + clip 3D CNN → shared
 * LSTM), its classification heads and its caption decoder, as plain tf.Variables and tf ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { Encoding, HeadSpec, LossParts, TrainingBatch } from './types.js';
import { channelFeatureWidth, encodingWidth, modelConfigSchema, perceptionInputWidth, type ModelConfig } from './config.js';
import type { Vocabulary } from './vocabulary.js';
import { CaptionDecoder } from './decoder.js';
import {
  ParamStore,
  conv2dBlock,
  conv3dBlock,
  dense,
  lstmSequence,
  makeDense,
  makeLstm,
  type Conv3dImpl,
  type Dense,
  type LstmWeights,
} from './layers.js';

/** How the spatiotemporal channel computes its 3D convolutions (same operator, different kernels). */
export type Conv3dForm = 'auto' | Conv3dImpl;

export interface EncodeOptions {
  /** Precomputed per-frame spatial features [B, T, F] (e.g. from a live per-frame cache); skips the 2D channel. */
  readonly spatial?: tf.Tensor3D;
  /** Precomputed spatiotemporal features [B, T, F3] (e.g. from an incremental 3D channel); skips the 3D channel. */
  readonly spatiotemporal?: tf.Tensor3D;
  /** The raw per-frame perception input [B, T, P] (perception/); required when the perception channel is on. */
  readonly perception?: tf.Tensor3D;
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

interface ConvLayer {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

interface Channel {
  readonly convs: readonly ConvLayer[];
  readonly dense: Dense;
}

interface Head {
  readonly hidden: Dense | null;
  readonly out: Dense;
}

const ENCODER_PREFIXES = ['spatial/', 'spatiotemporal/', 'perception/', 'encoder/'];

/** Spatial size after n stride-2 'same' convs. */
function pooledSize(size: number, blocks: number): number {
  for (let i = 0; i < blocks; i++) size = Math.ceil(size / 2);
  return size;
}

function validateHeads(heads: readonly HeadSpec[]): void {
  const names = new Set<string>();
  for (const h of heads) {
    if (!/^[A-Za-z0-9_.-]+$/.test(h.name)) throw new Error(`head name "${h.name}" must be letters, digits, _ . -`);
    if (names.has(h.name)) throw new Error(`duplicate head "${h.name}"`);
    if (h.labels.length < 1) throw new Error(`head "${h.name}" has no labels`);
    names.add(h.name);
  }
}

export class CountertopModel {
  /** How the 3D convolutions run; 'auto' = tf.conv3d on the tensorflow backends, shifted conv2d elsewhere. */
  conv3dForm: Conv3dForm = 'auto';
  private disposed = false;

  private constructor(
    readonly config: ModelConfig,
    readonly heads: readonly HeadSpec[],
    /** Null when the model has no caption decoder (e.g. a transfer model). */
    readonly vocabulary: Vocabulary | null,
    /** True for a transfer model: the encoder is shared and frozen. */
    readonly frozenEncoder: boolean,
    /** Hidden width of the classification heads (0 = linear). */
    readonly headHidden: number,
    private readonly store: ParamStore,
    private readonly spatial: Channel | null,
    private readonly spatiotemporal: Channel | null,
    private readonly perception: Dense | null,
    private readonly lstm: { forward: LstmWeights; backward: LstmWeights | null },
    private readonly headLayers: ReadonlyMap<string, Head>,
    private readonly decoder: CaptionDecoder | null,
  ) {}

  /**
   * A freshly initialised model (Glorot-uniform kernels, zero biases, LSTM forget-gate bias 1).
   * `vocabulary` null builds no caption decoder. The same seed gives the same weights.
   */
  static create(config: ModelConfig, heads: readonly HeadSpec[], vocabulary: Vocabulary | null, seed = 1): CountertopModel {
    return CountertopModel.build(config, heads, vocabulary, seed, 0, null);
  }

  /** Builds every layer; variables named in `shared` are adopted (frozen encoder) instead of created. */
  private static build(
    configIn: ModelConfig,
    heads: readonly HeadSpec[],
    vocabulary: Vocabulary | null,
    seed: number,
    headHidden: number,
    shared: ReadonlyMap<string, tf.Variable> | null,
  ): CountertopModel {
    const config = modelConfigSchema.parse(configIn);
    validateHeads(heads);
    if (vocabulary && vocabulary.length !== config.caption.length) {
      throw new Error(`vocabulary encodes ${vocabulary.length}-token captions but config.caption.length is ${config.caption.length}`);
    }
    if (!Number.isInteger(headHidden) || headHidden < 0) throw new Error(`head hidden units must be a non-negative integer, got ${headHidden}`);
    const store = new ParamStore(seed, shared ?? new Map());
    const makeChannel = (name: string, filters: readonly number[], features: number, kt: number | null): Channel | null => {
      if (features === 0) return null;
      let cin = 3;
      const convs = filters.map((cout, i) => {
        const shape = kt === null ? [3, 3, cin, cout] : [kt, 3, 3, cin, cout];
        const layer = { kernel: store.add(`${name}/conv${i}/kernel`, shape, 'glorot'), bias: store.add(`${name}/conv${i}/bias`, [cout], 0) };
        cin = cout;
        return layer;
      });
      const flat = pooledSize(config.height, filters.length) * pooledSize(config.width, filters.length) * cin;
      return { convs, dense: makeDense(store, `${name}/dense`, flat, features) };
    };
    const spatial = makeChannel('spatial', config.spatial.filters, config.spatial.features, null);
    const spatiotemporal = makeChannel(
      'spatiotemporal',
      config.spatiotemporal.filters,
      config.spatiotemporal.features,
      config.spatiotemporal.temporalKernel,
    );
    const P = perceptionInputWidth(config);
    const perception = P > 0 ? makeDense(store, 'perception/dense', P, config.perception.features) : null;
    const D = channelFeatureWidth(config);
    const lstm = {
      forward: makeLstm(store, 'encoder/forward', D, config.encoder.units),
      backward: config.encoder.bidirectional ? makeLstm(store, 'encoder/backward', D, config.encoder.units) : null,
    };
    const E = encodingWidth(config);
    const headLayers = new Map<string, Head>();
    for (const h of heads) {
      const hidden = headHidden > 0 ? makeDense(store, `head/${h.name}/hidden`, E, headHidden) : null;
      headLayers.set(h.name, { hidden, out: makeDense(store, `head/${h.name}/out`, headHidden > 0 ? headHidden : E, h.labels.length) });
    }
    const decoder = vocabulary
      ? new CaptionDecoder(store, {
          vocabulary: vocabulary.size,
          embedding: config.caption.embedding,
          units: config.caption.units,
          context: E,
          length: config.caption.length,
        })
      : null;
    const frozen = shared !== null;
    return new CountertopModel(config, heads, vocabulary, frozen, headHidden, store, spatial, spatiotemporal, perception, lstm, headLayers, decoder);
  }

  /**
   * Rebuilds a model of the given topology for a checkpoint to fill (weights are then assigned).
   * @internal used by checkpoint.ts
   */
  static skeleton(config: ModelConfig, heads: readonly HeadSpec[], vocabulary: Vocabulary | null, headHidden: number, frozenEncoder: boolean): CountertopModel {
    const model = CountertopModel.build(config, heads, vocabulary, 1, headHidden, null);
    if (!frozenEncoder) return model;
    // A loaded transfer model owns its (frozen) encoder but still trains only its heads.
    return new CountertopModel(
      model.config, model.heads, model.vocabulary, true, headHidden, model.store, model.spatial, model.spatiotemporal, model.perception, model.lstm, model.headLayers, model.decoder,
    );
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
    return encodingWidth(this.config);
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
    const channel = this.spatial;
    if (!channel) throw new Error('the spatial channel is switched off (config.spatial.features = 0)');
    const { height, width } = this.config;
    if (frames.rank !== 4 || frames.shape[1] !== height || frames.shape[2] !== width || frames.shape[3] !== 3) {
      throw new Error(`spatialFeatures expects frames [N, ${height}, ${width}, 3], got [${frames.shape}]`);
    }
    return tf.tidy(() => {
      let x = frames;
      for (const layer of channel.convs) x = conv2dBlock(x, layer.kernel, layer.bias);
      return dense(x.reshape([x.shape[0], -1]) as tf.Tensor2D, channel.dense, 'relu');
    });
  }

  /** The 3D channel: clips [B, T, H, W, 3] (normalised pixels) → [B, T, F3]. */
  spatiotemporalFeatures(clips: tf.Tensor5D): tf.Tensor3D {
    this.check();
    const channel = this.spatiotemporal;
    if (!channel) throw new Error('the spatiotemporal channel is switched off (config.spatiotemporal.features = 0)');
    const impl = this.resolvedConv3dForm();
    return tf.tidy(() => {
      let x = clips;
      for (const layer of channel.convs) x = conv3dBlock(x, layer.kernel, layer.bias, impl);
      const [B, T] = x.shape;
      return dense(x.reshape([B * T, -1]) as tf.Tensor2D, channel.dense, 'relu').reshape([B, T, -1]) as tf.Tensor3D;
    });
  }

  /**
   * Both channels + the shared LSTM. `clips` [B, T, H, W, 3]; it may be null when every channel that
   * is on has its features precomputed (`opts.spatial`, `opts.spatiotemporal`). Returned tensors belong to the caller (dispose them,
   * or call inside tf.tidy).
   */
  encode(clips: tf.Tensor5D | null, opts: EncodeOptions = {}): Encoding {
    this.check();
    const { frames: T, height: H, width: W } = this.config;
    if (clips && (clips.rank !== 5 || clips.shape[1] !== T || clips.shape[2] !== H || clips.shape[3] !== W || clips.shape[4] !== 3)) {
      throw new Error(`encode expects clips [B, ${T}, ${H}, ${W}, 3], got [${clips.shape}]`);
    }
    const B = clips?.shape[0] ?? opts.spatial?.shape[0] ?? opts.spatiotemporal?.shape[0] ?? opts.perception?.shape[0];
    if (B === undefined) throw new Error('encode needs clips or precomputed spatial features');
    const P = perceptionInputWidth(this.config);
    if (this.perception) {
      const p = opts.perception;
      if (!p || p.rank !== 3 || p.shape[0] !== B || p.shape[1] !== T || p.shape[2] !== P) {
        throw new Error(`this model's perception channel needs per-frame perception input [${B}, ${T}, ${P}], got ${p ? `[${p.shape}]` : 'none'}`);
      }
    }
    const training = (opts.training ?? false) && this.config.dropout > 0;
    return tf.tidy(() => {
      const parts: tf.Tensor3D[] = [];
      if (this.spatial) {
        if (opts.spatial) {
          const s = opts.spatial;
          if (s.rank !== 3 || s.shape[0] !== B || s.shape[1] !== T || s.shape[2] !== this.spatialWidth) {
            throw new Error(`precomputed spatial features must be [${B}, ${T}, ${this.spatialWidth}], got [${s.shape}]`);
          }
          parts.push(s);
        } else {
          if (!clips) throw new Error('encode needs clips when no spatial features are given');
          parts.push(this.spatialFeatures(clips.reshape([B * T, H, W, 3])).reshape([B, T, -1]) as tf.Tensor3D);
        }
      }
      if (this.spatiotemporal) {
        const st = opts.spatiotemporal;
        const F3 = this.config.spatiotemporal.features;
        if (st) {
          if (st.rank !== 3 || st.shape[0] !== B || st.shape[1] !== T || st.shape[2] !== F3) {
            throw new Error(`precomputed spatiotemporal features must be [${B}, ${T}, ${F3}], got [${st.shape}]`);
          }
          parts.push(st);
        } else {
          if (!clips) throw new Error('the spatiotemporal channel needs the clip itself (or precomputed spatiotemporal features)');
          parts.push(this.spatiotemporalFeatures(clips));
        }
      }
      if (training && this.config.channelDropout > 0 && parts.length > 0) {
        // The pixel channels of a clip are dropped together (inverted scaling keeps their mean).
        const keep = 1 - this.config.channelDropout;
        const mask = tf.div(tf.floor(tf.add(tf.randomUniform([B, 1, 1]), keep)), keep);
        for (let i = 0; i < parts.length; i++) parts[i] = tf.mul(parts[i]!, mask) as tf.Tensor3D;
      }
      if (this.perception) {
        const p = opts.perception!;
        parts.push(dense(p.reshape([B * T, P]) as tf.Tensor2D, this.perception, 'relu').reshape([B, T, -1]) as tf.Tensor3D);
      }
      let features = parts.length > 1 ? (tf.concat(parts, 2) as tf.Tensor3D) : parts[0]!;
      // A frozen encoder extracts fixed features: no dropout inside it.
      const encoderDropout = training && !this.frozenEncoder;
      if (encoderDropout) features = tf.dropout(features, this.config.dropout) as tf.Tensor3D;
      let states = lstmSequence(features, this.lstm.forward);
      if (this.lstm.backward) states = tf.concat([states, lstmSequence(features, this.lstm.backward, true)], 2) as tf.Tensor3D;
      if (training) states = tf.dropout(states, this.config.dropout) as tf.Tensor3D;
      return { states, pooled: tf.mean(states, 1) as tf.Tensor2D };
    });
  }

  /** Per head: logits [B, C] (per-timestep logits averaged over time). */
  classLogits(enc: Encoding): Record<string, tf.Tensor2D> {
    this.check();
    const [B, T, E] = enc.states.shape;
    if (E !== this.encodingWidth) throw new Error(`encoding width ${E} does not match the model's ${this.encodingWidth}`);
    return tf.tidy(() => {
      const flat = enc.states.reshape([B * T, E]) as tf.Tensor2D;
      const out: Record<string, tf.Tensor2D> = {};
      for (const [name, head] of this.headLayers) {
        const hidden = head.hidden ? dense(flat, head.hidden, 'relu') : flat;
        out[name] = tf.mean(dense(hidden, head.out).reshape([B, T, -1]), 1) as tf.Tensor2D;
      }
      return out;
    });
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
    if (!(lambda >= 0 && lambda <= 1)) throw new Error(`λ must be in [0, 1], got ${lambda}`);
    const labelled = Object.keys(batch.labels);
    for (const name of labelled) if (!this.headLayers.has(name)) throw new Error(`batch has labels for unknown head "${name}"`);
    if (lambda > 0 && labelled.length === 0) throw new Error('λ > 0 needs class labels for at least one head');
    if (lambda < 1 && !this.decoder) throw new Error('this model has no caption decoder: use λ = 1');
    if (lambda < 1 && !batch.captions) throw new Error('λ < 1 needs captions in the batch');
    return tf.tidy(() => {
      const enc = this.encode(batch.clips, { training: true, ...(batch.perception ? { perception: batch.perception } : {}) });
      let classification = tf.scalar(0);
      if (lambda > 0) {
        const logits = this.classLogits(enc);
        const perHead = labelled.map((name) => {
          const labels = batch.labels[name]!;
          const classes = this.heads.find((h) => h.name === name)!.labels.length;
          return tf.losses.softmaxCrossEntropy(tf.oneHot(labels.toInt(), classes), logits[name]!) as tf.Scalar;
        });
        classification = tf.div(tf.addN(perHead), perHead.length) as tf.Scalar;
      }
      const caption = lambda < 1 ? this.decoder!.loss(enc.pooled, batch.captions!.toInt()) : tf.scalar(0);
      const total = tf.add(tf.mul(lambda, classification), tf.mul(1 - lambda, caption)) as tf.Scalar;
      return { total, classification, caption };
    });
  }

  /**
   * One optimiser step on trainableVariables() (a frozen encoder is never touched). Variables that
   * get no gradient (e.g. the decoder when λ = 1) receive a zero gradient, so that the optimiser's
   * per-variable state stays aligned with trainableVariables() and checkpoints resume exactly.
   */
  trainStep(optimizer: tf.Optimizer, batch: TrainingBatch, lambda: number): StepLosses {
    this.check();
    const vars = this.trainableVariables();
    let parts: LossParts | null = null;
    const { value, grads } = tf.variableGrads(() => {
      parts = this.loss(batch, lambda);
      tf.keep(parts.classification);
      tf.keep(parts.caption);
      return parts.total;
    }, vars);
    const complete = vars.map((v) => ({ name: v.name, tensor: grads[v.name] ?? tf.zerosLike(v) }));
    optimizer.applyGradients(complete);
    const p = parts as unknown as LossParts;
    const losses = { total: value.dataSync()[0]!, classification: p.classification.dataSync()[0]!, caption: p.caption.dataSync()[0]! };
    tf.dispose([value, p.classification, p.caption, ...complete.map((g) => g.tensor)]);
    return losses;
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
      .filter((e) => ENCODER_PREFIXES.some((p) => e.name.startsWith(p)))
      .map((e) => e.variable);
  }

  /** Variables an optimiser should update: everything, or only the heads of a transfer model. Stable order. */
  trainableVariables(): tf.Variable[] {
    return this.namedVariables()
      .filter((e) => !(this.frozenEncoder && ENCODER_PREFIXES.some((p) => e.name.startsWith(p))))
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
    const c = this.config;
    const { frames: T } = c;
    let flops = 0;
    const channel = (filters: readonly number[], features: number, kt: number): void => {
      if (features === 0) return;
      let h = c.height;
      let w = c.width;
      let cin = 3;
      for (const cout of filters) {
        h = Math.ceil(h / 2);
        w = Math.ceil(w / 2);
        flops += 2 * h * w * 9 * kt * cin * cout * T;
        cin = cout;
      }
      flops += 2 * h * w * cin * features * T;
    };
    channel(c.spatial.filters, c.spatial.features, 1);
    channel(c.spatiotemporal.filters, c.spatiotemporal.features, c.spatiotemporal.temporalKernel);
    flops += 2 * T * perceptionInputWidth(c) * c.perception.features;
    const D = channelFeatureWidth(c);
    const U = c.encoder.units;
    flops += (c.encoder.bidirectional ? 2 : 1) * 2 * T * (D + U) * 4 * U;
    const E = this.encodingWidth;
    for (const h of this.heads) flops += 2 * T * (this.headHidden > 0 ? E * this.headHidden + this.headHidden * h.labels.length : E * h.labels.length);
    return flops;
  }

  /**
   * A transfer model: shares this model's encoder variables (frozen: never in its
   * trainableVariables()), new randomly initialised heads, no caption decoder. Disposing it frees
   * only its heads; the encoder stays owned by this model.
   */
  withNewHeads(heads: readonly HeadSpec[], opts: TransferOptions = {}, seed = 2): CountertopModel {
    this.check();
    const shared = new Map(this.namedVariables().filter((e) => ENCODER_PREFIXES.some((p) => e.name.startsWith(p))).map((e) => [e.name, e.variable]));
    const model = CountertopModel.build(this.config, heads, null, seed, opts.hidden ?? 0, shared);
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
