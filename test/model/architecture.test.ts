/**
 * One layer description: the variables a model creates, their checkpoint names and shapes, the
 * typed weights and the encoder/head split all follow model.architecture.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { architectureParams, describeArchitecture, encoderParams } from '../../model/architecture.js';
import { initBackend } from '../../model/backend.js';
import { modelConfigSchema } from '../../model/config.js';
import { encoderVariables } from '../../model/weights.js';
import type { CountertopModel } from '../../model/network.js';
import { tinyModel } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

const specsOf = (m: CountertopModel) => m.namedVariables().map((e) => ({ name: e.name, shape: [...e.variable.shape] }));
const described = (m: CountertopModel) => architectureParams(m.architecture).map((p) => ({ name: p.name, shape: [...p.shape] }));

describe('architecture description', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm', log: () => {} });
  });

  it('lists every variable a model creates, with its checkpoint name and shape, in creation order', () => {
    const models = [
      tinyModel(),
      tinyModel({ encoder: { units: 8, bidirectional: true }, perception: { handObject: true, backbone: false, features: 6, coordinates: 'image' } }),
      tinyModel({ spatial: { filters: [4, 8], features: 0 } }, 1, null),
      tinyModel({ spatiotemporal: { filters: [4, 4], temporalKernel: 3, features: 0 } }),
    ];
    const transfer = models[0]!.withNewHeads([{ name: 'verb', labels: ['a', 'b'] }], { hidden: 5 });
    for (const m of [...models, transfer]) {
      expect(specsOf(m)).toEqual(described(m));
      const encoderNames = encoderParams(m.architecture).map((p) => p.name);
      const byVar = new Map(m.namedVariables().map((e) => [e.variable, e.name]));
      expect(m.encoderVariables().map((v) => byVar.get(v))).toEqual(encoderNames);
      expect(encoderVariables(m.weights)).toEqual(m.encoderVariables());
    }
    expect(transfer.trainableVariables()).toEqual([...transfer.weights.heads.values()].flatMap((h) => [h.hidden!.kernel, h.hidden!.bias, h.out.kernel, h.out.bias]));
    transfer.dispose();
    for (const m of models) m.dispose();
  });

  it('gives typed access to each layer (the same variables as the checkpoint names)', () => {
    const m = tinyModel();
    const byName = new Map(m.namedVariables().map((e) => [e.name, e.variable]));
    const w = m.weights;
    const st = w.spatiotemporal!;
    const kernel: tf.Variable<tf.Rank.R5> = st.convs[0]!.kernel;
    expect(kernel).toBe(byName.get('spatiotemporal/conv0/kernel'));
    expect(kernel.shape).toEqual([3, 3, 3, 3, 4]);
    expect(st.convs[0]!.bias).toBe(byName.get('spatiotemporal/conv0/bias'));
    expect(st.dense.kernel).toBe(byName.get('spatiotemporal/dense/kernel'));
    expect(w.spatial!.convs[1]!.kernel).toBe(byName.get('spatial/conv1/kernel'));
    expect(w.lstm.forward?.recurrent).toBe(byName.get('encoder/forward/recurrent'));
    expect(w.lstm.backward).toBeNull();
    expect(w.perception).toBeNull();
    expect(w.heads.get('group')!.out.bias).toBe(byName.get('head/group/out/bias'));
    expect(w.caption!.contextKernel).toBe(byName.get('caption/lstm/context_kernel'));
    m.dispose();
  });


  it("a 'pool' encoder over the raw backbone feature has no weights: its states are the input, its logits a linear head of their mean", () => {
    const m = tinyModel({
      spatial: { features: 0 },
      spatiotemporal: { features: 0 },
      perception: { handObject: false, backbone: true, features: 480, projection: 'none' },
      encoder: { kind: 'pool' },
    });
    expect(encoderParams(m.architecture)).toEqual([]);
    expect(m.encodingWidth).toBe(480);
    expect(specsOf(m)).toEqual(described(m));
    const T = m.config.frames;
    const input = tf.randomNormal([2, T, 480], 0, 1, 'float32', 3) as tf.Tensor3D;
    const enc = m.encode(null, { perception: input });
    expect(enc.states.dataSync()).toEqual(input.dataSync());
    const head = m.weights.heads.get('group')!;
    const expected = tf.tidy(() => tf.add(tf.matMul(tf.mean(input, 1), head.out.kernel), head.out.bias));
    const logits = m.classLogits(enc).group!;
    expect(Math.max(...tf.sub(logits, expected).abs().dataSync())).toBeLessThan(1e-4);
    enc.states.dispose();
    expect(input.isDisposed).toBe(false);
    // The projection-free channel checks its width; an LSTM has no place in a pool encoder.
    expect(() => modelConfigSchema.parse({ ...m.config, perception: { ...m.config.perception, features: 128 } })).toThrow(/must be its width, 480/);
    expect(() => modelConfigSchema.parse({ ...m.config, encoder: { ...m.config.encoder, bidirectional: true } })).toThrow(/bidirectional must be false/);
    tf.dispose([input, enc.pooled, logits, expected]);
    m.dispose();
  });
  it("describes the bundled default checkpoint's weights exactly as model.json lists them", () => {
    const dir = path.join(ROOT, 'assets', 'model', 'default');
    const topology = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const arch = describeArchitecture(modelConfigSchema.parse(topology.config), manifest.heads, manifest.vocabulary && { size: topology.vocabularySize, length: topology.config.caption.length }, topology.headHidden);
    expect(architectureParams(arch).map((p) => ({ name: p.name, shape: [...p.shape] }))).toEqual(
      topology.weights.map((s: { name: string; shape: number[] }) => ({ name: s.name, shape: s.shape })),
    );
  });
});
