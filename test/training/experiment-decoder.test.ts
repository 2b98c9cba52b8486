/**
 * The decoder-context standardisation of the study (model config caption.contextInit): the gates
 * see ((x − mean) / sd)·Kc afterwards, and a model without the option is built exactly as before.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../model/index.js';
import type { CaptionDecoder } from '../../model/decoder.js';
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

  it('is absent from the default config, so bundled models parse and build as before', () => {
    expect('contextInit' in tinyConfig().caption).toBe(false);
    expect(tinyConfig({ caption: { length: 14, embedding: 8, units: 24, contextInit: 'standardise' } }).caption.contextInit).toBe('standardise');
    expect(() => tinyConfig({ caption: { length: 14, embedding: 8, units: 24, contextInit: 'other' as 'standardise' } })).toThrow();
  });
});
