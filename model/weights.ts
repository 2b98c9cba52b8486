/**
 * The model's variables as a typed, readonly structure built from the architecture description
 * (architecture.ts), so that code reaches a layer as `weights.spatiotemporal.convs[i].kernel`
 * rather than by a checkpoint name. Checkpoint names live in the description alone.
 */
import * as tf from '@tensorflow/tfjs';
import {
  convParams,
  decoderLayers,
  denseParams,
  lstmParams,
  type Architecture,
  type ChannelSpec,
  type DenseSpec,
  type LstmSpec,
  type ParamSpec,
} from './architecture.js';
import type { Dense, LstmWeights } from './layers.js';

export type { Dense, LstmWeights } from './layers.js';

/** One conv block: kernel [3, 3, C, O] (2D, rank 4) or [kt, 3, 3, C, O] (3D, rank 5), bias [O]. */
export interface ConvWeights<R extends tf.Rank.R4 | tf.Rank.R5> {
  readonly kernel: tf.Variable<R>;
  readonly bias: tf.Variable<tf.Rank.R1>;
}

export interface ChannelWeights<R extends tf.Rank.R4 | tf.Rank.R5> {
  readonly convs: readonly ConvWeights<R>[];
  /** Over the flattened last block → the channel's features. */
  readonly dense: Dense;
}

export interface HeadWeights {
  readonly hidden: Dense | null;
  readonly out: Dense;
}

export interface CaptionWeights {
  /** [V, E] */
  readonly embedding: tf.Variable;
  /** kernel [E, 4U] for the previous word's embedding; recurrent and bias as any LSTM. */
  readonly lstm: LstmWeights;
  /** [C, 4U]: the clip encoding's share of the gates. */
  readonly contextKernel: tf.Variable;
  /** [U, V] */
  readonly out: Dense;
}

export interface EncoderWeights {
  readonly spatial: ChannelWeights<tf.Rank.R4> | null;
  readonly spatiotemporal: ChannelWeights<tf.Rank.R5> | null;
  readonly perception: Dense | null;
  /** The shared LSTM (forward null for a 'pool' encoder). */
  readonly lstm: { readonly forward: LstmWeights | null; readonly backward: LstmWeights | null };
}

export interface ModelWeights extends EncoderWeights {
  /** By head name, in the heads' order. */
  readonly heads: ReadonlyMap<string, HeadWeights>;
  /** Null when the model has no caption decoder. */
  readonly caption: CaptionWeights | null;
}

/**
 * Named variables in creation order; checkpoint names are these logical names, not tfjs's global
 * ones. Names found in `shared` are adopted instead of created (a transfer model's frozen encoder)
 * and are not owned: dispose() leaves them alone.
 */
export class ParamStore {
  private static nextId = 0;
  /** Global prefix that keeps tfjs variable names unique across model instances. */
  readonly prefix = `countertop${ParamStore.nextId++}`;
  readonly entries = new Map<string, tf.Variable>();
  readonly owned = new Set<tf.Variable>();
  private seed: number;

  constructor(
    seed: number,
    private readonly shared: ReadonlyMap<string, tf.Variable> = new Map(),
  ) {
    this.seed = seed * 1_000_003;
  }

  add(spec: ParamSpec): tf.Variable {
    const { name, init } = spec;
    const shape = [...spec.shape];
    if (this.entries.has(name)) throw new Error(`duplicate variable ${name}`);
    // Adopted variables use up a seed too, so a transfer model's heads start the same however the encoder came.
    const seed = this.seed++;
    const adopted = this.shared.get(name);
    if (adopted) {
      if (!tf.util.arraysEqual(adopted.shape, shape)) throw new Error(`shared variable ${name} has shape [${adopted.shape}], expected [${shape}]`);
      this.entries.set(name, adopted);
      return adopted;
    }
    const value = tf.tidy(() => {
      if (init.kind === 'zeros') return tf.fill(shape, 0);
      if (init.kind === 'forgetBias') return tf.concat([tf.zeros([init.units]), tf.ones([init.units]), tf.zeros([2 * init.units])]);
      const [fanIn, fanOut] = init.fans ?? defaultFans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return tf.randomUniform(shape, -limit, limit, 'float32', seed);
    });
    const v = tf.variable(value, true, `${this.prefix}/${name}`);
    value.dispose();
    this.entries.set(name, v);
    this.owned.add(v);
    return v;
  }

  dispose(): void {
    for (const v of this.owned) v.dispose();
    this.owned.clear();
    this.entries.clear();
  }
}

function defaultFans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2]!, receptive * shape[shape.length - 1]!];
}

function makeDense(store: ParamStore, d: DenseSpec): Dense {
  const [kernel, bias] = denseParams(d).map((p) => store.add(p));
  return { kernel: kernel!, bias: bias! };
}

function makeLstm(store: ParamStore, l: LstmSpec): LstmWeights {
  const [kernel, recurrent, bias] = lstmParams(l).map((p) => store.add(p));
  return { kernel: kernel!, recurrent: recurrent!, bias: bias!, units: l.units };
}

function makeChannel<R extends tf.Rank.R4 | tf.Rank.R5>(store: ParamStore, c: ChannelSpec | null): ChannelWeights<R> | null {
  if (!c) return null;
  const convs = c.convs.map((conv) => {
    const [kernel, bias] = convParams(conv).map((p) => store.add(p));
    return { kernel: kernel as tf.Variable<R>, bias: bias as tf.Variable<tf.Rank.R1> };
  });
  return { convs, dense: makeDense(store, c.dense) };
}

/** Creates (or adopts, see ParamStore) every variable of `a`, in the description's order. */
export function createWeights(a: Architecture, store: ParamStore): ModelWeights {
  const spatial = makeChannel<tf.Rank.R4>(store, a.spatial);
  const spatiotemporal = makeChannel<tf.Rank.R5>(store, a.spatiotemporal);
  const perception = a.perception ? makeDense(store, a.perception) : null;
  const lstm = { forward: a.encoder.forward ? makeLstm(store, a.encoder.forward) : null, backward: a.encoder.backward ? makeLstm(store, a.encoder.backward) : null };
  const heads = new Map<string, HeadWeights>();
  for (const h of a.heads) {
    const hidden = h.hidden ? makeDense(store, h.hidden) : null;
    heads.set(h.name, { hidden, out: makeDense(store, h.out) });
  }
  let caption: CaptionWeights | null = null;
  if (a.decoder) {
    const d = decoderLayers(a.decoder);
    const embedding = store.add(d.embedding);
    const decoderLstm = makeLstm(store, d.lstm);
    const contextKernel = store.add(d.contextKernel);
    caption = { embedding, lstm: decoderLstm, contextKernel, out: makeDense(store, d.out) };
  }
  return { spatial, spatiotemporal, perception, lstm, heads, caption };
}

/** The encoder's variables (channels, perception projection, shared LSTM) in creation order. */
export function encoderVariables(w: EncoderWeights): tf.Variable[] {
  const dense = (d: Dense | null): tf.Variable[] => (d ? [d.kernel, d.bias] : []);
  const channel = (c: ChannelWeights<tf.Rank.R4 | tf.Rank.R5> | null): tf.Variable[] =>
    c ? [...c.convs.flatMap((k): tf.Variable[] => [k.kernel, k.bias]), ...dense(c.dense)] : [];
  const lstm = (l: LstmWeights | null): tf.Variable[] => (l ? [l.kernel, l.recurrent, l.bias] : []);
  return [...channel(w.spatial), ...channel(w.spatiotemporal), ...dense(w.perception), ...lstm(w.lstm.forward), ...lstm(w.lstm.backward)];
}
