/**
 * Behaviour pinned across refactors of model/: the bundled default checkpoint's predictions on a
 * fixed input, and a fresh tiny model's variable names, initial weights, loss values and a few
 * training steps, compared with test/fixtures/model-golden.json (written on wasm).
 *
 * Regenerate (only when a change of numbers is intended, e.g. a retrained default model):
 *   UPDATE_GOLDEN=1 npx vitest run test/model/golden.test.ts
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { loadCheckpoint } from '../../model/checkpoint.js';
import type { CountertopModel } from '../../model/network.js';
import { HEADS, disposeBatch, tinyBatch, tinyModel } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DEFAULT_MODEL = path.join(ROOT, 'assets', 'model', 'default');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'model-golden.json');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Golden {
  defaultModel: {
    weightsSha256: string;
    variables: string[];
    parameters: number;
    flops: number;
    probs: number[];
    greedy: string[];
    beam: string[];
  };
  tiny: Record<string, unknown>;
}

const hash = (values: Float32Array): string => createHash('sha256').update(Buffer.from(values.buffer, values.byteOffset, values.byteLength)).digest('hex').slice(0, 16);
const describeVars = (m: CountertopModel): string[] => m.namedVariables().map((e) => `${e.name} [${e.variable.shape}] ${hash(e.variable.dataSync() as Float32Array)}`);
const names = (m: CountertopModel, vars: readonly tf.Variable[]): string[] => {
  const byVar = new Map(m.namedVariables().map((e) => [e.variable, e.name]));
  return vars.map((v) => byVar.get(v) ?? `?${v.name}`);
};

async function defaultModelFacts(): Promise<Golden['defaultModel']> {
  const { model } = await loadCheckpoint(DEFAULT_MODEL);
  const c = model.config;
  const x = tf.randomUniform([2, c.frames, c.height, c.width, 3], -1, 1, 'float32', 11) as tf.Tensor5D;
  const enc = model.encode(x);
  const probs = model.classify(enc);
  const facts = {
    weightsSha256: createHash('sha256').update(readFileSync(path.join(DEFAULT_MODEL, 'weights.bin'))).digest('hex'),
    variables: model.namedVariables().map((e) => `${e.name} [${e.variable.shape}]`),
    parameters: model.parameterCount(),
    flops: model.flopsPerClip(),
    probs: Array.from(probs.action!.dataSync()),
    greedy: model.captionGreedy(enc.pooled),
    beam: model.captionBeam(enc.pooled, 3),
  };
  tf.dispose([x, enc.states, enc.pooled, ...Object.values(probs)]);
  model.dispose();
  return facts;
}

function tinyFacts(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Plain, bidirectional + perception, and a transfer model with hidden heads.
  const model = tinyModel({}, 3);
  out.variables = describeVars(model);
  out.flops = model.flopsPerClip();
  out.parameters = model.parameterCount();
  const batch = tinyBatch(model.config, model.vocabulary, 4);
  const loss = model.loss(batch, 0.5);
  out.loss = [loss.total, loss.classification, loss.caption].map((t) => t.dataSync()[0]);
  tf.dispose([loss.total, loss.classification, loss.caption]);
  const opt = tf.train.adam(0.01);
  out.steps = [0, 0.5, 1, 0.5].map((lambda) => model.trainStep(opt, batch, lambda));
  out.trained = describeVars(model);
  opt.dispose();

  const transfer = model.withNewHeads([{ name: 'verb', labels: ['a', 'b', 'c', 'd'] }], { hidden: 5 }, 4);
  out.transferVariables = describeVars(transfer);
  out.transferTrainable = names(transfer, transfer.trainableVariables());
  out.transferEncoder = names(transfer, transfer.encoderVariables());
  out.transferFlops = transfer.flopsPerClip();
  const tl = transfer.loss({ clips: batch.clips, labels: { verb: batch.labels.action! } }, 1);
  out.transferLoss = tl.total.dataSync()[0];
  tf.dispose([tl.total, tl.classification, tl.caption]);
  transfer.dispose();
  disposeBatch(batch);
  model.dispose();

  const wide = tinyModel({ encoder: { units: 8, bidirectional: true }, perception: { handObject: true, backbone: false, features: 6, coordinates: 'image' } }, 5);
  out.wideVariables = describeVars(wide);
  out.wideFlops = wide.flopsPerClip();
  const wb = tinyBatch(wide.config, wide.vocabulary, 2);
  const P = wide.namedVariables().find((e) => e.name === 'perception/dense/kernel')!.variable.shape[0]!;
  const perception = tf.randomUniform([2, wide.config.frames, P], 0, 1, 'float32', 9) as tf.Tensor3D;
  const wl = wide.loss({ ...wb, perception }, 0.3);
  out.wideLoss = [wl.total, wl.classification, wl.caption].map((t) => t.dataSync()[0]);
  tf.dispose([wl.total, wl.classification, wl.caption, perception]);
  disposeBatch(wb);
  wide.dispose();

  const spatialOnly = tinyModel({ spatiotemporal: { filters: [4], temporalKernel: 3, features: 0 } }, 6, null);
  out.spatialOnlyVariables = describeVars(spatialOnly);
  out.spatialOnlyFlops = spatialOnly.flopsPerClip();
  spatialOnly.dispose();
  void HEADS;
  return out;
}

describe('model golden values', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm', log: () => {} });
  });

  it('match test/fixtures/model-golden.json (the default checkpoint loads and predicts as before; fresh models initialise and train as before)', async () => {
    const current: Golden = { defaultModel: await defaultModelFacts(), tiny: tinyFacts() };
    if (UPDATE || !existsSync(FIXTURE)) {
      writeFileSync(FIXTURE, `${JSON.stringify(current, null, 1)}\n`);
      if (!UPDATE) throw new Error(`wrote missing ${FIXTURE}; rerun`);
      return;
    }
    const golden = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Golden;
    // A retrained default model changes its predictions legitimately: say so rather than fail obscurely.
    expect(current.defaultModel.weightsSha256, 'assets/model/default changed: regenerate with UPDATE_GOLDEN=1').toBe(golden.defaultModel.weightsSha256);
    const { probs, ...rest } = current.defaultModel;
    const { probs: goldenProbs, ...goldenRest } = golden.defaultModel;
    expect(rest).toEqual(goldenRest);
    expect(probs).toHaveLength(goldenProbs.length);
    probs.forEach((p, i) => expect(Math.abs(p - goldenProbs[i]!), `prob ${i}`).toBeLessThan(1e-6));
    // Same ops on the same backend: initial weights, losses and trained weights are bit-identical.
    expect(current.tiny).toEqual(golden.tiny);
  });
});
