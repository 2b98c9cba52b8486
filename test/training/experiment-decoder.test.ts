/**
 * The decoder-context standardisation of the study (model config caption.contextInit): the gates
 * see ((x − mean) / sd)·Kc afterwards, and a model without the option is built exactly as before.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../model/index.js';
import type { CaptionDecoder } from '../../model/decoder.js';
import { SeededRandom, withSeededMathRandom } from '../../training/rng.js';
import { tinyConfig, tinyModel } from '../model/helpers.js';

const decoderOf = (m: unknown) => (m as { decoder: CaptionDecoder }).decoder;

describe('decoder context standardisation', () => {
  it('makes the gates read the standardised context', async () => {
    await initBackend({ log: () => {} });
    const model = tinyModel();
    const d = decoderOf(model);
    const C = d.sizes.context;
    const x = tf.randomUniform([5, C], -1, 1, 'float32', 3) as tf.Tensor2D;
    const mean = Float32Array.from({ length: C }, (_, i) => 0.1 * i);
    const sd = Float32Array.from({ length: C }, (_, i) => 0.05 + 0.01 * i);
    const z = tf.div(tf.sub(x, tf.tensor2d(mean, [1, C])), tf.tensor2d(sd, [1, C])) as tf.Tensor2D;
    const before = d.projectContext(z).arraySync() as number[][];
    d.standardiseContext(mean, sd);
    const after = d.projectContext(x).arraySync() as number[][];
    after.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(before[i]![j]!, 3)));
    expect(() => d.standardiseContext(new Float32Array(C + 1), new Float32Array(C + 1))).toThrow(/context/);
    tf.dispose([x, z]);
    model.dispose();
  });

  it('word dropout changes only the teacher-forced inputs, reproducibly under a seeded Math.random', async () => {
    await initBackend({ log: () => {} });
    const model = tinyModel();
    const d = decoderOf(model);
    const vocab = model.vocabulary!;
    const captions = tf.tensor2d(['pouring water into a bowl', 'taking a spoon out of a jar'].map((c) => vocab.encode(c)), [2, vocab.length], 'int32') as tf.Tensor2D;
    const pooled = tf.randomUniform([2, d.sizes.context], -1, 1, 'float32', 5) as tf.Tensor2D;
    const loss = () => (d.loss(pooled, captions).dataSync() as Float32Array)[0]!;
    const plain = loss();
    d.wordDropout = 0.5;
    const once = withSeededMathRandom(new SeededRandom(1), loss);
    const again = withSeededMathRandom(new SeededRandom(1), loss);
    d.wordDropout = 0;
    expect(loss()).toBe(plain);
    expect(once).toBe(again);
    expect(once).not.toBeCloseTo(plain, 4);
    tf.dispose([captions, pooled]);
    model.dispose();
  });

  it('is absent from the default config, so bundled models parse and build as before', () => {
    expect('contextInit' in tinyConfig().caption).toBe(false);
    expect('wordDropout' in tinyConfig().caption).toBe(false);
    expect(tinyConfig({ caption: { length: 14, embedding: 8, units: 24, contextInit: 'standardise' } }).caption.contextInit).toBe('standardise');
    expect(() => tinyConfig({ caption: { length: 14, embedding: 8, units: 24, contextInit: 'other' as 'standardise' } })).toThrow();
  });
});
