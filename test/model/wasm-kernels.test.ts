import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { disposeBatch, tinyBatch, tinyModel } from './helpers.js';

/** Gradients of sum(conv2d(x, w)²) w.r.t. x and w on the given backend. */
function convGrads(backend: string, x: tf.Tensor4D, w: tf.Tensor4D, strides: number, pad: 'same' | 'valid'): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const g = tf.grads((...args: tf.Tensor[]) => tf.conv2d(args[0] as tf.Tensor4D, args[1] as tf.Tensor4D, strides, pad).square().sum());
    return g([x.clone(), w.clone()]).map((t) => t.dataSync() as Float32Array);
  });
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('wasm training kernels', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm', log: () => {} });
  });

  it('registers Conv2DBackpropFilter (absent in tfjs-backend-wasm) and replaces Conv2DBackpropInput', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
  });

  const cases = [
    { x: [2, 9, 7, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [2, 9, 7, 3], w: [3, 3, 3, 4], strides: 2, pad: 'same' },
    { x: [1, 8, 8, 2], w: [3, 3, 2, 5], strides: 1, pad: 'valid' },
    { x: [3, 10, 10, 4], w: [5, 3, 4, 2], strides: 2, pad: 'valid' },
    { x: [4, 16, 16, 27], w: [3, 3, 27, 8], strides: 1, pad: 'same' },
    { x: [2, 8, 8, 3], w: [1, 1, 3, 4], strides: 1, pad: 'same' },
    { x: [1, 11, 13, 2], w: [3, 3, 2, 3], strides: 3, pad: 'same' },
  ] as const;
  for (const c of cases) {
    it(`conv2d gradients match the cpu backend: x [${c.x}] w [${c.w}] stride ${c.strides} ${c.pad}`, () => {
      tf.setBackend('cpu');
      const x = tf.randomUniform([...c.x], -1, 1, 'float32', 3) as tf.Tensor4D;
      const w = tf.randomUniform([...c.w], -1, 1, 'float32', 4) as tf.Tensor4D;
      const [cpuDx, cpuDw] = convGrads('cpu', x, w, c.strides, c.pad);
      const [wasmDx, wasmDw] = convGrads('wasm', x, w, c.strides, c.pad);
      const scale = Math.max(...cpuDw!.map(Math.abs), ...cpuDx!.map(Math.abs));
      expect(maxDiff(wasmDx!, cpuDx!) / scale).toBeLessThan(1e-5);
      expect(maxDiff(wasmDw!, cpuDw!) / scale).toBeLessThan(1e-5);
      tf.dispose([x, w]);
      tf.setBackend('wasm');
    });
  }

  it('matMul with transposed operands (as in every dense gradient) matches the cpu backend', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const batch of [[], [3]]) {
        const a = tf.randomUniform([...batch, ...(ta ? [7, 5] : [5, 7])], -1, 1, 'float32', 1);
        const b = tf.randomUniform([...batch, ...(tb ? [4, 7] : [7, 4])], -1, 1, 'float32', 2);
        const onWasm = tf.matMul(a, b, ta, tb);
        tf.setBackend('cpu');
        const onCpu = tf.matMul(a, b, ta, tb);
        expect(onWasm.shape).toEqual([...batch, 5, 4]);
        expect(maxDiff(onWasm.dataSync() as Float32Array, onCpu.dataSync() as Float32Array)).toBeLessThan(1e-5);
        tf.setBackend('wasm');
        tf.dispose([a, b, onWasm, onCpu]);
      }
    }
  });

  it('slice, split and unstack (reimplemented without whole-input copies) match the cpu backend', () => {
    const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
      { shape: [10], begin: [3], size: [4] },
      { shape: [4, 6], begin: [1, 2], size: [2, 3] },
      { shape: [4, 6], begin: [1, 0], size: [2, 6] },
      { shape: [2, 5, 7], begin: [0, 1, 0], size: [2, 3, 7] },
      { shape: [3, 4, 5, 6], begin: [1, 0, 2, 1], size: [2, 4, 2, 4] },
      { shape: [2, 3, 4, 5, 6], begin: [0, 1, 0, 2, 0], size: [2, 2, 4, 3, 6] },
      { shape: [2, 3, 2, 2, 3, 2], begin: [1, 0, 1, 0, 1, 0], size: [1, 3, 1, 2, 2, 2] },
      { shape: [3, 4], begin: [0, 0], size: [0, 4] },
    ];
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      for (const c of cases) {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : i));
        const x = tf.tensor(values, c.shape, dtype);
        const onWasm = tf.slice(x, c.begin, c.size);
        expect(onWasm.shape).toEqual(c.size);
        tf.setBackend('cpu');
        const onCpu = tf.slice(x, c.begin, c.size);
        expect(Array.from(onWasm.dataSync())).toEqual(Array.from(onCpu.dataSync()));
        tf.setBackend('wasm');
        tf.dispose([x, onWasm, onCpu]);
      }
    }
    const x = tf.randomUniform([2, 5, 6], -1, 1, 'float32', 9);
    for (const axis of [0, 1, 2]) {
      const parts = tf.unstack(x, axis);
      const splits = tf.split(x, axis === 1 ? [1, 3, 1] : 2, axis);
      tf.setBackend('cpu');
      const ref = tf.unstack(x, axis);
      const refSplits = tf.split(x, axis === 1 ? [1, 3, 1] : 2, axis);
      parts.forEach((p, i) => {
        expect(p.shape).toEqual(ref[i]!.shape);
        expect(Array.from(p.dataSync())).toEqual(Array.from(ref[i]!.dataSync()));
      });
      splits.forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(Array.from(refSplits[i]!.dataSync())));
      tf.setBackend('wasm');
      tf.dispose([...parts, ...splits, ...ref, ...refSplits]);
    }
    x.dispose();
  });

  it('a whole model step (both channels, LSTM, heads, decoder): wasm gradients match cpu', () => {
    const model = tinyModel();
    const batch = tinyBatch(model.config, model.vocabulary, 2);
    const vars = model.trainableVariables();
    const grads = (backend: string): Float32Array[] => {
      tf.setBackend(backend);
      const { value, grads: g } = tf.variableGrads(() => model.loss(batch, 0.5).total, vars);
      const out = vars.map((v) => g[v.name]!.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(g)]);
      return out;
    };
    const onWasm = grads('wasm');
    const onCpu = grads('cpu');
    tf.setBackend('wasm');
    onWasm.forEach((g, i) => {
      const scale = Math.max(1e-3, ...onCpu[i]!.map(Math.abs));
      expect(maxDiff(g, onCpu[i]!) / scale, model.namedVariables()[i]!.name).toBeLessThan(1e-4);
    });
    disposeBatch(batch);
    model.dispose();
  });
});
