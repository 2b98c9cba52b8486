/**
 * The incremental 3D channel must give the windowed model's own spatiotemporal
 * features (to float tolerance) for overlapping windows of a stream, while computing fewer
 * timesteps, and keep its cache bounded.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CountertopModel } from '../../model/index.js';
import { normalisePixels } from '../../model/preprocess.js';
import { Incremental3dChannel } from '../../pipelines/incremental3d.js';
import type { Frame } from '../../pipelines/types.js';
import { smallModel } from './smallModel.js';

let model: CountertopModel;
beforeAll(async () => {
  model = await smallModel({ spatiotemporal: { filters: [8, 8, 8], temporalKernel: 3, features: 16 } });
});

/** The model's own windowed 3D channel: the reference the incremental one must match. */
function windowedFeatures(clips: tf.Tensor5D): tf.Tensor3D {
  return model.spatiotemporalFeatures(clips);
}

function frames(n: number): { frame: Frame; pixels: tf.Tensor3D }[] {
  return Array.from({ length: n }, (_, seq) => {
    const rgb = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 7 + seq * 31 + ((i * seq) % 13)) & 255);
    const frame: Frame = { streamId: 's', seq, capturedAt: seq, width: 32, height: 32, pixels: rgb };
    return { frame, pixels: tf.tensor3d(normalisePixels(rgb), [32, 32, 3]) };
  });
}

describe('Incremental3dChannel', () => {
  it('matches the windowed 3D channel on overlapping windows while computing fewer timesteps', () => {
    const T = model.config.frames;
    const stream = frames(T + 12);
    const channel = new Incremental3dChannel(model);
    const starts = [0, 2, 4, 6, 8, 10, 12];
    const windows = starts.map((s) => ({ frames: stream.slice(s, s + T).map((f) => f.frame), pixels: stream.slice(s, s + T).map((f) => f.pixels) }));
    // Two batches, so the second reuses what the first cached.
    const got = tf.concat([channel.features(windows.slice(0, 3)), channel.features(windows.slice(3))]);
    const clips = tf.stack(windows.map((w) => tf.stack(w.pixels))) as tf.Tensor5D;
    const want = windowedFeatures(clips);
    expect(got.shape).toEqual(want.shape);
    const maxDiff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
    expect(maxDiff).toBeLessThan(1e-4);
    expect(tf.max(want).dataSync()[0]).toBeGreaterThan(0); // not comparing zeros
    // Layer 1 saw 7 windows × 8 timesteps = 56 in the windowed model.
    expect(channel.timestepsComputed[0]).toBeLessThan(starts.length * T);
    channel.dispose();
  });

  it('keeps its per-stream cache bounded and frees it', () => {
    const T = model.config.frames;
    const before = tf.memory().numTensors;
    const stream = frames(80);
    const channel = new Incremental3dChannel(model, 12);
    const base = tf.memory().numTensors;
    for (let s = 0; s + T <= stream.length; s += 4) {
      tf.dispose(channel.features([{ frames: stream.slice(s, s + T).map((f) => f.frame), pixels: stream.slice(s, s + T).map((f) => f.pixels) }]));
    }
    // At most 12 frames × 3 layers of cached activations.
    expect(tf.memory().numTensors - base).toBeLessThanOrEqual(12 * 3);
    channel.forget('s');
    expect(tf.memory().numTensors).toBe(base);
    channel.dispose();
    tf.dispose(stream.map((f) => f.pixels));
    expect(tf.memory().numTensors).toBe(before);
  });
});

it('survives being called inside tf.tidy (its cache is kept)', () => {
  const T = model.config.frames;
  const stream = frames(T + 4);
  const channel = new Incremental3dChannel(model);
  const input = (s: number) => ({ frames: stream.slice(s, s + T).map((f) => f.frame), pixels: stream.slice(s, s + T).map((f) => f.pixels) });
  tf.tidy(() => void channel.features([input(0)]).dataSync());
  const again = tf.tidy(() => channel.features([input(4)]).dataSync());
  const want = tf.tidy(() => windowedFeatures(tf.stack([tf.stack(input(4).pixels)]) as tf.Tensor5D).dataSync());
  again.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4));
  channel.dispose();
  tf.dispose(stream.map((f) => f.pixels));
});
