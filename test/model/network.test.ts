import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { conv3dSame } from '../../model/layers.js';
import { CountertopModel } from '../../model/network.js';
import { HEADS, clips, maxAbsDiff, tinyConfig, tinyModel } from './helpers.js';

describe('CountertopModel shapes', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm', log: () => {} });
  });

  it('encodes a clip batch into per-timestep states and a pooled encoding; heads give probabilities', () => {
    const model = tinyModel();
    const x = clips(model.config, 3);
    const enc = model.encode(x);
    expect(enc.states.shape).toEqual([3, 4, 16]);
    expect(enc.pooled.shape).toEqual([3, 16]);
    expect(maxAbsDiff(enc.pooled, enc.states.mean(1))).toBe(0);
    const probs = model.classify(enc);
    expect(Object.keys(probs)).toEqual(['action', 'group']);
    expect(probs.action!.shape).toEqual([3, 3]);
    expect(probs.group!.shape).toEqual([3, 2]);
    const sums = probs.action!.sum(1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    expect(model.spatialFeatures(x.reshape([12, 16, 16, 3]) as tf.Tensor4D).shape).toEqual([12, 8]);
    tf.dispose([x, enc.states, enc.pooled, ...Object.values(probs)]);
    model.dispose();
  });

  it('class logits are the per-timestep head outputs averaged over time', () => {
    const model = CountertopModel.create(tinyConfig(), HEADS, null).withNewHeads(HEADS, { hidden: 5 });
    const x = clips(model.config, 2);
    tf.tidy(() => {
      const enc = model.encode(x);
      const logits = model.classLogits(enc);
      // Per timestep: a batch of one-step "clips" through the same head.
      const perStep = tf.unstack(enc.states, 1).map((s) => model.classLogits({ states: s.expandDims(1) as tf.Tensor3D, pooled: s as tf.Tensor2D }).action!);
      expect(maxAbsDiff(logits.action!, tf.stack(perStep).mean(0))).toBeLessThan(1e-6);
    });
    x.dispose();
    model.dispose();
  });

  it('precomputed per-frame spatial features give the same encoding as the clip itself', () => {
    const model = tinyModel();
    const x = clips(model.config, 2);
    tf.tidy(() => {
      const direct = model.encode(x);
      const perFrame = tf.unstack(x, 1).map((frame) => model.spatialFeatures(frame as tf.Tensor4D)); // T × [B, F], as a frame cache holds them
      const cached = model.encode(x, { spatial: tf.stack(perFrame, 1) as tf.Tensor3D });
      expect(maxAbsDiff(direct.states, cached.states)).toBeLessThan(1e-5);
      // Both channels precomputed: no clip needed at all.
      const both = model.encode(null, { spatial: tf.stack(perFrame, 1) as tf.Tensor3D, spatiotemporal: model.spatiotemporalFeatures(x) });
      expect(maxAbsDiff(direct.states, both.states)).toBeLessThan(1e-5);
    });
    x.dispose();
    model.dispose();
  });

  it('either channel can be switched off; bidirectional doubles the encoding', () => {
    for (const [over, width] of [
      [{ spatial: { features: 0 } }, 16],
      [{ spatiotemporal: { features: 0 } }, 16],
      [{ encoder: { bidirectional: true } }, 32],
    ] as const) {
      const model = tinyModel(over as never);
      const x = clips(model.config, 2);
      const enc = model.encode(x);
      expect(enc.states.shape).toEqual([2, 4, width]);
      expect(model.encodingWidth).toBe(width);
      tf.dispose([x, enc.states, enc.pooled]);
      model.dispose();
    }
    // With only the spatial channel, cached features alone suffice (no clip).
    const spatialOnly = tinyModel({ spatiotemporal: { features: 0 } });
    const enc = spatialOnly.encode(null, { spatial: tf.zeros([1, 4, 8]) as tf.Tensor3D });
    expect(enc.pooled.shape).toEqual([1, 16]);
    tf.dispose([enc.states, enc.pooled]);
    spatialOnly.dispose();
  });

  it('rejects inputs of the wrong shape with a clear message', () => {
    const model = tinyModel();
    const bad = tf.zeros([1, 5, 16, 16, 3]) as tf.Tensor5D;
    expect(() => model.encode(bad)).toThrow(/encode expects clips \[B, 4, 16, 16, 3\], got \[1,5,16,16,3\]/);
    expect(() => model.encode(null, { spatial: tf.zeros([1, 4, 8]) as tf.Tensor3D })).toThrow(/spatiotemporal channel needs the clip itself \(or precomputed spatiotemporal features\)/);
    bad.dispose();
    model.dispose();
    expect(() => model.encode(bad)).toThrow(/after dispose/);
  });

  it('the same seed gives the same weights', () => {
    const a = tinyModel({}, 5);
    const b = tinyModel({}, 5);
    const c = tinyModel({}, 6);
    const va = a.namedVariables();
    expect(va.map((e) => e.name)).toEqual(b.namedVariables().map((e) => e.name));
    va.forEach((e, i) => expect(maxAbsDiff(e.variable, b.namedVariables()[i]!.variable)).toBe(0));
    expect(maxAbsDiff(va[0]!.variable, c.namedVariables()[0]!.variable)).toBeGreaterThan(0);
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('3D convolution forms', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm', log: () => {} });
  });

  it('tf.conv3d, stacked conv2d and shifted conv2d agree to 1e-4 with the same weights', () => {
    for (const kt of [1, 3, 5]) {
      for (const stride of [1, 2]) {
        const x = tf.randomUniform([2, 6, 10, 11, 5], -1, 1, 'float32', kt) as tf.Tensor5D;
        const k = tf.randomUniform([kt, 3, 3, 5, 7], -0.5, 0.5, 'float32', 10 + kt) as tf.Tensor5D;
        const b = tf.randomUniform([7], -0.5, 0.5, 'float32', 20) as tf.Tensor1D;
        const native = conv3dSame(x, k, b, 'native', stride);
        tf.setBackend('cpu'); // the reference: the pure-JS backend's own Conv3D
        const reference = conv3dSame(x, k, b, 'native', stride);
        tf.setBackend('wasm');
        expect(reference.shape).toEqual(stride === 1 ? [12, 10, 11, 7] : [12, 5, 6, 7]);
        for (const impl of ['stacked', 'shifted'] as const) {
          const y = conv3dSame(x, k, b, impl, stride);
          expect(y.shape).toEqual(reference.shape);
          expect(maxAbsDiff(y, reference)).toBeLessThanOrEqual(1e-4);
          y.dispose();
        }
        expect(maxAbsDiff(native, reference)).toBeLessThanOrEqual(1e-4);
        tf.dispose([x, k, b, native, reference]);
      }
    }
  });

  it('the whole model encodes the same clip identically with each form', () => {
    const model = tinyModel({ spatiotemporal: { filters: [4, 6], temporalKernel: 3, features: 8 } });
    const x = clips(model.config, 2);
    const states = (['native', 'stacked', 'shifted'] as const).map((form) => {
      model.conv3dForm = form;
      const enc = model.encode(x);
      enc.pooled.dispose();
      return enc.states;
    });
    expect(maxAbsDiff(states[0]!, states[1]!)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(states[0]!, states[2]!)).toBeLessThanOrEqual(1e-4);
    tf.dispose([x, ...states]);
    model.dispose();
  });
});

describe('memory', () => {
  it('200 inferences (classify, greedy and beam captions) leave tf.memory().numTensors flat', async () => {
    await initBackend({ force: 'wasm', log: () => {} });
    const model = tinyModel();
    const x = clips(model.config, 1);
    const infer = (): void => {
      const probs = tf.tidy(() => model.classify(model.encode(x)));
      probs.action!.dataSync();
      tf.dispose(Object.values(probs));
      const enc = model.encode(x);
      model.captionGreedy(enc.pooled);
      model.captionBeam(enc.pooled, 2);
      tf.dispose([enc.states, enc.pooled]);
    };
    infer();
    const before = tf.memory();
    for (let i = 0; i < 200; i++) infer();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
    model.dispose();
  });

  it('training steps leave tf.memory().numTensors flat after the optimiser has its state', async () => {
    await initBackend({ force: 'wasm', log: () => {} });
    const { tinyBatch, disposeBatch } = await import('./helpers.js');
    const model = tinyModel();
    const batch = tinyBatch(model.config, model.vocabulary, 2);
    const opt = tf.train.adam(1e-3);
    model.trainStep(opt, batch, 0.5);
    const before = tf.memory();
    for (let i = 0; i < 5; i++) model.trainStep(opt, batch, 0.5);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    // The backend's own buffers too: the registered wasm kernels free their intermediates.
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    disposeBatch(batch);
    opt.dispose();
    model.dispose();
  });
});
