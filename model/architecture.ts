/**
 * The network as one description derived from the config: every layer with its checkpoint name
 * and sizes, in the order its variables are created. Weight creation (weights.ts), FLOP counting
 * (flops.ts) and checkpoint names all read this, so they cannot drift apart.
 *
 * The order is part of the checkpoint contract: a variable's initial value depends on how many
 * were created before it (ParamStore's seed), and checkpoints and optimiser state list variables
 * in this order.
 */
import type { HeadSpec } from './types.js';
import { channelFeatureWidth, encodingWidth, modelConfigSchema, perceptionInputWidth, type ModelConfig } from './config.js';

/** How a parameter starts: Glorot-uniform (fans from the receptive field unless given), zeros, or an LSTM bias. */
export type ParamInit =
  | { readonly kind: 'glorot'; readonly fans?: readonly [number, number] }
  | { readonly kind: 'zeros' }
  /** Gates [i | f | g | o]: the forget gate starts at 1 (remember by default early in training). */
  | { readonly kind: 'forgetBias'; readonly units: number };

export interface ParamSpec {
  /** The checkpoint name, e.g. "spatiotemporal/conv0/kernel". */
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
}

/** A 3×3 conv block with spatial stride 2 ('same'); `temporalKernel` null for the 2D channel. */
export interface ConvLayerSpec {
  readonly name: string;
  readonly temporalKernel: number | null;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Output height and width (stride 2, 'same': odd sizes round up). */
  readonly outHeight: number;
  readonly outWidth: number;
}

export interface DenseSpec {
  readonly name: string;
  readonly inputs: number;
  readonly units: number;
}

export interface LstmSpec {
  readonly name: string;
  readonly inputs: number;
  readonly units: number;
}

/** A pixel channel: conv blocks, then a dense layer over the flattened last block. */
export interface ChannelSpec {
  readonly name: 'spatial' | 'spatiotemporal';
  readonly convs: readonly ConvLayerSpec[];
  readonly dense: DenseSpec;
}

export interface HeadLayerSpec {
  readonly name: string;
  readonly classes: number;
  /** Dense+ReLU before the output layer, or null for a linear head. */
  readonly hidden: DenseSpec | null;
  readonly out: DenseSpec;
}

export interface DecoderSpec {
  readonly vocabulary: number;
  readonly embedding: number;
  readonly units: number;
  /** Width of the clip encoding it is conditioned on. */
  readonly context: number;
  /** Token length of a caption. */
  readonly length: number;
}

export interface Architecture {
  readonly config: ModelConfig;
  /** The per-frame 2D CNN, or null when switched off. */
  readonly spatial: ChannelSpec | null;
  /** The 3D CNN over the clip, or null when switched off. */
  readonly spatiotemporal: ChannelSpec | null;
  /** Projection of the per-frame perception input, or null when switched off or passed through raw (`perceptionRaw`). */
  readonly perception: DenseSpec | null;
  /** The raw perception input goes to the encoder unprojected (config.perception.projection 'none'). */
  readonly perceptionRaw: boolean;
  /** Width P of the raw perception input (0 when off). */
  readonly perceptionInput: number;
  /** The shared LSTM over the per-timestep concatenation of the channels; forward null for a 'pool' encoder. */
  readonly encoder: { readonly forward: LstmSpec | null; readonly backward: LstmSpec | null };
  /** Width of the encoding (LSTM units, doubled when bidirectional; the channel width for 'pool'). */
  readonly encodingWidth: number;
  readonly heads: readonly HeadLayerSpec[];
  /** Hidden width of the classification heads (0 = linear). */
  readonly headHidden: number;
  readonly decoder: DecoderSpec | null;
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

/**
 * The network for `config`, with these heads, a decoder over `vocabularySize` words (null: none),
 * and heads of `headHidden` hidden units (0 = linear). Validates the config and the heads.
 */
export function describeArchitecture(
  configIn: ModelConfig,
  heads: readonly HeadSpec[],
  vocabulary: { readonly size: number; readonly length: number } | null,
  headHidden: number,
): Architecture {
  const config = modelConfigSchema.parse(configIn);
  validateHeads(heads);
  if (vocabulary && vocabulary.length !== config.caption.length) {
    throw new Error(`vocabulary encodes ${vocabulary.length}-token captions but config.caption.length is ${config.caption.length}`);
  }
  if (!Number.isInteger(headHidden) || headHidden < 0) throw new Error(`head hidden units must be a non-negative integer, got ${headHidden}`);

  const channel = (name: ChannelSpec['name'], filters: readonly number[], features: number, kt: number | null): ChannelSpec | null => {
    if (features === 0) return null;
    let h = config.height;
    let w = config.width;
    let cin = 3;
    const convs = filters.map((cout, i) => {
      h = Math.ceil(h / 2);
      w = Math.ceil(w / 2);
      const conv: ConvLayerSpec = { name: `${name}/conv${i}`, temporalKernel: kt, inChannels: cin, outChannels: cout, outHeight: h, outWidth: w };
      cin = cout;
      return conv;
    });
    return { name, convs, dense: { name: `${name}/dense`, inputs: h * w * cin, units: features } };
  };
  const P = perceptionInputWidth(config);
  const D = channelFeatureWidth(config);
  const E = encodingWidth(config);
  const lstm = (name: string): LstmSpec => ({ name, inputs: D, units: config.encoder.units });
  const recurrent = config.encoder.kind === 'lstm';
  const raw = P > 0 && config.perception.projection === 'none';
  return {
    config,
    spatial: channel('spatial', config.spatial.filters, config.spatial.features, null),
    spatiotemporal: channel('spatiotemporal', config.spatiotemporal.filters, config.spatiotemporal.features, config.spatiotemporal.temporalKernel),
    perception: P > 0 && !raw ? { name: 'perception/dense', inputs: P, units: config.perception.features } : null,
    perceptionRaw: raw,
    perceptionInput: P,
    encoder: {
      forward: recurrent ? lstm('encoder/forward') : null,
      backward: recurrent && config.encoder.bidirectional ? lstm('encoder/backward') : null,
    },
    encodingWidth: E,
    heads: heads.map((h) => ({
      name: h.name,
      classes: h.labels.length,
      hidden: headHidden > 0 ? { name: `head/${h.name}/hidden`, inputs: E, units: headHidden } : null,
      out: { name: `head/${h.name}/out`, inputs: headHidden > 0 ? headHidden : E, units: h.labels.length },
    })),
    headHidden,
    decoder: vocabulary
      ? { vocabulary: vocabulary.size, embedding: config.caption.embedding, units: config.caption.units, context: E, length: config.caption.length }
      : null,
  };
}

const glorot: ParamInit = { kind: 'glorot' };
const zeros: ParamInit = { kind: 'zeros' };

export function convParams(c: ConvLayerSpec): ParamSpec[] {
  const spatial = [3, 3, c.inChannels, c.outChannels];
  return [
    { name: `${c.name}/kernel`, shape: c.temporalKernel === null ? spatial : [c.temporalKernel, ...spatial], init: glorot },
    { name: `${c.name}/bias`, shape: [c.outChannels], init: zeros },
  ];
}

export function denseParams(d: DenseSpec): ParamSpec[] {
  return [
    { name: `${d.name}/kernel`, shape: [d.inputs, d.units], init: glorot },
    { name: `${d.name}/bias`, shape: [d.units], init: zeros },
  ];
}

export function lstmParams(l: LstmSpec): ParamSpec[] {
  const U = l.units;
  return [
    // Fans of one gate, not of the packed four.
    { name: `${l.name}/kernel`, shape: [l.inputs, 4 * U], init: { kind: 'glorot', fans: [l.inputs, U] } },
    // Glorot rather than orthogonal: tfjs's orthogonal initialiser is very slow (see shared/STACK.md).
    { name: `${l.name}/recurrent`, shape: [U, 4 * U], init: { kind: 'glorot', fans: [U, U] } },
    { name: `${l.name}/bias`, shape: [4 * U], init: { kind: 'forgetBias', units: U } },
  ];
}

/** The caption decoder's layers: embedding, an LSTM fed the embedding, its context kernel, the word softmax. */
export function decoderLayers(d: DecoderSpec): { embedding: ParamSpec; lstm: LstmSpec; contextKernel: ParamSpec; out: DenseSpec } {
  return {
    embedding: { name: 'caption/embedding', shape: [d.vocabulary, d.embedding], init: glorot },
    lstm: { name: 'caption/lstm', inputs: d.embedding, units: d.units },
    contextKernel: { name: 'caption/lstm/context_kernel', shape: [d.context, 4 * d.units], init: { kind: 'glorot', fans: [d.context, d.units] } },
    out: { name: 'caption/out', inputs: d.units, units: d.vocabulary },
  };
}

function channelParams(c: ChannelSpec | null): ParamSpec[] {
  return c ? [...c.convs.flatMap(convParams), ...denseParams(c.dense)] : [];
}

/** The encoder's parameters (both pixel channels, the perception projection, the shared LSTM): what a transfer model shares and freezes. */
export function encoderParams(a: Architecture): ParamSpec[] {
  return [
    ...channelParams(a.spatial),
    ...channelParams(a.spatiotemporal),
    ...(a.perception ? denseParams(a.perception) : []),
    ...(a.encoder.forward ? lstmParams(a.encoder.forward) : []),
    ...(a.encoder.backward ? lstmParams(a.encoder.backward) : []),
  ];
}

/** Every parameter in creation (and checkpoint) order. */
export function architectureParams(a: Architecture): ParamSpec[] {
  const heads = a.heads.flatMap((h) => [...(h.hidden ? denseParams(h.hidden) : []), ...denseParams(h.out)]);
  let decoder: ParamSpec[] = [];
  if (a.decoder) {
    const d = decoderLayers(a.decoder);
    decoder = [d.embedding, ...lstmParams(d.lstm), d.contextKernel, ...denseParams(d.out)];
  }
  return [...encoderParams(a), ...heads, ...decoder];
}
