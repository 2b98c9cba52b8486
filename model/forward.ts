/**
 * The forward pass over a model's weights: the pixel channels, the perception projection, the
 * shared LSTM and the classification heads. Plain functions of (architecture, weights, inputs), so
 * that the model class only holds state.
 */
import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architecture.js';
import { conv2dBlock, conv3dBlock, dense, lstmSequence, type Conv3dImpl } from './layers.js';
import type { Encoding } from './types.js';
import type { ModelWeights } from './weights.js';

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

/** How encode runs, beyond its inputs. */
export interface EncodeRun {
  readonly conv3d: Conv3dImpl;
  /** A frozen encoder extracts fixed features: no dropout inside it. */
  readonly frozenEncoder: boolean;
}

/** The 2D channel on a batch of frames [N, H, W, 3] (normalised pixels) → [N, F]. */
export function spatialFeatures(a: Architecture, w: ModelWeights, frames: tf.Tensor4D): tf.Tensor2D {
  const channel = w.spatial;
  if (!channel) throw new Error('the spatial channel is switched off (config.spatial.features = 0)');
  const { height, width } = a.config;
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
export function spatiotemporalFeatures(w: ModelWeights, clips: tf.Tensor5D, impl: Conv3dImpl): tf.Tensor3D {
  const channel = w.spatiotemporal;
  if (!channel) throw new Error('the spatiotemporal channel is switched off (config.spatiotemporal.features = 0)');
  return tf.tidy(() => {
    let x = clips;
    for (const layer of channel.convs) x = conv3dBlock(x, layer.kernel, layer.bias, impl);
    const [B, T] = x.shape;
    return dense(x.reshape([B * T, -1]) as tf.Tensor2D, channel.dense, 'relu').reshape([B, T, -1]) as tf.Tensor3D;
  });
}

/** The channels that are on, concatenated per timestep, through the shared LSTM (see CountertopModel.encode). */
export function encode(a: Architecture, w: ModelWeights, clips: tf.Tensor5D | null, opts: EncodeOptions, run: EncodeRun): Encoding {
  const config = a.config;
  const { frames: T, height: H, width: W } = config;
  if (clips && (clips.rank !== 5 || clips.shape[1] !== T || clips.shape[2] !== H || clips.shape[3] !== W || clips.shape[4] !== 3)) {
    throw new Error(`encode expects clips [B, ${T}, ${H}, ${W}, 3], got [${clips.shape}]`);
  }
  const B = clips?.shape[0] ?? opts.spatial?.shape[0] ?? opts.spatiotemporal?.shape[0] ?? opts.perception?.shape[0];
  if (B === undefined) throw new Error('encode needs clips or precomputed spatial features');
  const P = a.perceptionInput;
  const perception = w.perception;
  if (perception || a.perceptionRaw) {
    const p = opts.perception;
    if (!p || p.rank !== 3 || p.shape[0] !== B || p.shape[1] !== T || p.shape[2] !== P) {
      throw new Error(`this model's perception channel needs per-frame perception input [${B}, ${T}, ${P}], got ${p ? `[${p.shape}]` : 'none'}`);
    }
  }
  const training = (opts.training ?? false) && config.dropout > 0;
  return tf.tidy(() => {
    const parts: tf.Tensor3D[] = [];
    if (w.spatial) {
      const F = config.spatial.features;
      if (opts.spatial) {
        const s = opts.spatial;
        if (s.rank !== 3 || s.shape[0] !== B || s.shape[1] !== T || s.shape[2] !== F) {
          throw new Error(`precomputed spatial features must be [${B}, ${T}, ${F}], got [${s.shape}]`);
        }
        parts.push(s);
      } else {
        if (!clips) throw new Error('encode needs clips when no spatial features are given');
        parts.push(spatialFeatures(a, w, clips.reshape([B * T, H, W, 3])).reshape([B, T, -1]) as tf.Tensor3D);
      }
    }
    if (w.spatiotemporal) {
      const st = opts.spatiotemporal;
      const F3 = config.spatiotemporal.features;
      if (st) {
        if (st.rank !== 3 || st.shape[0] !== B || st.shape[1] !== T || st.shape[2] !== F3) {
          throw new Error(`precomputed spatiotemporal features must be [${B}, ${T}, ${F3}], got [${st.shape}]`);
        }
        parts.push(st);
      } else {
        if (!clips) throw new Error('the spatiotemporal channel needs the clip itself (or precomputed spatiotemporal features)');
        parts.push(spatiotemporalFeatures(w, clips, run.conv3d));
      }
    }
    if (training && config.channelDropout > 0 && parts.length > 0) {
      // The pixel channels of a clip are dropped together (inverted scaling keeps their mean).
      const keep = 1 - config.channelDropout;
      const mask = tf.div(tf.floor(tf.add(tf.randomUniform([B, 1, 1]), keep)), keep);
      for (let i = 0; i < parts.length; i++) parts[i] = tf.mul(parts[i]!, mask) as tf.Tensor3D;
    }
    if (perception) {
      const p = opts.perception!;
      parts.push(dense(p.reshape([B * T, P]) as tf.Tensor2D, perception, 'relu').reshape([B, T, -1]) as tf.Tensor3D);
    } else if (a.perceptionRaw) {
      parts.push(opts.perception!);
    }
    let features = parts.length > 1 ? (tf.concat(parts, 2) as tf.Tensor3D) : parts[0]!;
    if (training && !run.frozenEncoder) features = tf.dropout(features, config.dropout) as tf.Tensor3D;
    // A 'pool' encoder: the features are the states (the heads average them over time). A clone,
    // because they may be the caller's own input tensor, which the caller disposes.
    if (!w.lstm.forward) return { states: features.clone(), pooled: tf.mean(features, 1) as tf.Tensor2D };
    let states = lstmSequence(features, w.lstm.forward);
    if (w.lstm.backward) states = tf.concat([states, lstmSequence(features, w.lstm.backward, true)], 2) as tf.Tensor3D;
    if (training) states = tf.dropout(states, config.dropout) as tf.Tensor3D;
    return { states, pooled: tf.mean(states, 1) as tf.Tensor2D };
  });
}

/** Per head: logits [B, C] (per-timestep logits averaged over time). */
export function classLogits(a: Architecture, w: ModelWeights, enc: Encoding): Record<string, tf.Tensor2D> {
  const [B, T, E] = enc.states.shape;
  if (E !== a.encodingWidth) throw new Error(`encoding width ${E} does not match the model's ${a.encodingWidth}`);
  return tf.tidy(() => {
    const flat = enc.states.reshape([B * T, E]) as tf.Tensor2D;
    const out: Record<string, tf.Tensor2D> = {};
    for (const [name, head] of w.heads) {
      const hidden = head.hidden ? dense(flat, head.hidden, 'relu') : flat;
      out[name] = tf.mean(dense(hidden, head.out).reshape([B, T, -1]), 1) as tf.Tensor2D;
    }
    return out;
  });
}
