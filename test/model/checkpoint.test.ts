import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { CHECKPOINT_FORMAT_VERSION, loadCheckpoint, restoreAdam, saveCheckpoint } from '../../model/checkpoint.js';
import type { CountertopModel } from '../../model/network.js';
import { clips, disposeBatch, snapshot, tinyBatch, tinyModel } from './helpers.js';

let root: string;
beforeAll(async () => {
  await initBackend({ force: 'wasm', log: () => {} });
  root = mkdtempSync(path.join(tmpdir(), 'countertop-ckpt-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const freshDir = (): string => path.join(root, `ckpt${counter++}`);

function predictions(model: CountertopModel, x: tf.Tensor5D): { probs: Float32Array[]; captions: string[] } {
  const enc = model.encode(x);
  const p = model.classify(enc);
  const out = { probs: Object.values(p).map((t) => t.dataSync() as Float32Array), captions: model.vocabulary ? model.captionBeam(enc.pooled, 2) : [] };
  tf.dispose([enc.states, enc.pooled, ...Object.values(p)]);
  return out;
}

/** Rewrites a JSON file of the checkpoint and updates its hash in the manifest, as a consistent but wrong checkpoint would be. */
function rewriteJson(dir: string, file: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  edit(json);
  const buf = Buffer.from(JSON.stringify(json));
  writeFileSync(path.join(dir, file), buf);
  if (file !== 'manifest.json') {
    rewriteJson(dir, 'manifest.json', (m) => {
      m.files[file] = { bytes: buf.byteLength, sha256: createHash('sha256').update(buf).digest('hex') };
    });
  }
}

describe('checkpoints', () => {
  it('round trip: the loaded model gives bit-identical predictions and captions; metadata survives', async () => {
    const model = tinyModel({ dropout: 0.1 }, 3);
    const x = clips(model.config, 2);
    const dir = freshDir();
    await saveCheckpoint(dir, model, { training: { step: 12, lambda: 0.5, dataset: 'procedural-v1' } });
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'model.json', 'weights.bin']);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ formatVersion: CHECKPOINT_FORMAT_VERSION, backend: 'wasm', heads: model.heads, vocabulary: model.vocabulary!.toJSON() });

    const loaded = await loadCheckpoint(dir);
    expect(loaded.training).toEqual({ step: 12, lambda: 0.5, dataset: 'procedural-v1' });
    expect(loaded.savedOnBackend).toBe('wasm');
    expect(loaded.model.config).toEqual(model.config);
    expect(loaded.model.vocabulary!.words).toEqual(model.vocabulary!.words);
    const a = predictions(model, x);
    const b = predictions(loaded.model, x);
    expect(b.probs).toEqual(a.probs); // bit-identical Float32Arrays
    expect(b.captions).toEqual(a.captions);
    x.dispose();
    model.dispose();
    loaded.model.dispose();
  });

  it('a transfer model round-trips with its frozen encoder and MLP head', async () => {
    const source = tinyModel();
    const target = source.withNewHeads([{ name: 'kitchenware', labels: ['a', 'b'] }], { hidden: 6 });
    const dir = freshDir();
    await saveCheckpoint(dir, target);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.model.frozenEncoder).toBe(true);
    expect(loaded.model.headHidden).toBe(6);
    expect(loaded.model.vocabulary).toBeNull();
    expect(loaded.model.trainableVariables()).toHaveLength(4);
    const x = clips(source.config, 1);
    expect(predictions(loaded.model, x).probs).toEqual(predictions(target, x).probs);
    x.dispose();
    [target, source, loaded.model].forEach((m) => m.dispose());
  });

  it('saving over an existing checkpoint replaces it whole', async () => {
    const dir = freshDir();
    const a = tinyModel({}, 1);
    const b = tinyModel({}, 2);
    await saveCheckpoint(dir, a, { training: { step: 1 } });
    await saveCheckpoint(dir, b, { training: { step: 2 } });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.training).toEqual({ step: 2 });
    expect(snapshot(loaded.model.namedVariables().map((e) => e.variable))).toEqual(snapshot(b.namedVariables().map((e) => e.variable)));
    expect(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    [a, b, loaded.model].forEach((m) => m.dispose());
  });

  it('resuming from a checkpoint with its Adam state continues training exactly', async () => {
    const model = tinyModel();
    const batch = tinyBatch(model.config, model.vocabulary, 2);
    const opt = tf.train.adam(0.01, 0.8, 0.99, 1e-6);
    for (let i = 0; i < 3; i++) model.trainStep(opt, batch, 0.5);
    const dir = freshDir();
    await saveCheckpoint(dir, model, { optimizer: opt, training: { step: 3 } });
    expect(readdirSync(dir)).toContain('optimizer.bin');
    for (let i = 0; i < 2; i++) model.trainStep(opt, batch, 0.5);
    const continued = snapshot(model.trainableVariables());

    const loaded = await loadCheckpoint(dir);
    expect(loaded.optimizerConfig).toEqual({ className: 'Adam', config: { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 } });
    const resumedOpt = await restoreAdam(loaded);
    for (let i = 0; i < 2; i++) loaded.model.trainStep(resumedOpt, batch, 0.5);
    expect(snapshot(loaded.model.trainableVariables())).toEqual(continued);
    disposeBatch(batch);
    [opt, resumedOpt].forEach((o) => o.dispose());
    [model, loaded.model].forEach((m) => m.dispose());
  });

  describe('corrupt checkpoints fail with a message naming the file', () => {
    let good: string;
    let model: CountertopModel;
    beforeAll(async () => {
      model = tinyModel();
      good = freshDir();
      const opt = tf.train.adam(0.01);
      const batch = tinyBatch(model.config, model.vocabulary, 2);
      model.trainStep(opt, batch, 0.5);
      await saveCheckpoint(good, model, { optimizer: opt });
      disposeBatch(batch);
      opt.dispose();
    });
    afterAll(() => model.dispose());

    const copy = async (): Promise<string> => {
      const dir = freshDir();
      await saveCheckpoint(dir, model);
      return dir;
    };

    it('not a checkpoint / missing manifest', async () => {
      await expect(loadCheckpoint(path.join(root, 'nothing-here'))).rejects.toThrow(/manifest\.json is missing/);
    });

    it('missing weights file', async () => {
      const dir = await copy();
      unlinkSync(path.join(dir, 'weights.bin'));
      await expect(loadCheckpoint(dir)).rejects.toThrow(/weights\.bin is missing/);
    });

    it('missing optimiser file', async () => {
      unlinkSync(path.join(good, 'optimizer.bin'));
      await expect(loadCheckpoint(good)).rejects.toThrow(/optimizer\.bin is missing/);
    });

    it('truncated weights', async () => {
      const dir = await copy();
      const size = readFileSync(path.join(dir, 'weights.bin')).byteLength;
      truncateSync(path.join(dir, 'weights.bin'), size - 100);
      await expect(loadCheckpoint(dir)).rejects.toThrow(new RegExp(`weights\\.bin is truncated: ${size - 100} bytes, the manifest says ${size}`));
    });

    it('flipped bytes in the weights', async () => {
      const dir = await copy();
      const buf = readFileSync(path.join(dir, 'weights.bin'));
      buf[40] = buf[40]! ^ 0xff;
      writeFileSync(path.join(dir, 'weights.bin'), buf);
      await expect(loadCheckpoint(dir)).rejects.toThrow(/weights\.bin is corrupt: its SHA-256 does not match/);
    });

    it('a weight whose shape does not match what the config builds', async () => {
      const dir = await copy();
      rewriteJson(dir, 'model.json', (t) => {
        const w = t.weights.find((s: { name: string }) => s.name === 'spatial/conv1/kernel');
        w.shape = [3, 3, 8, 4]; // was [3, 3, 4, 8]: same size, wrong shape
      });
      await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.json gives spatial\/conv1\/kernel shape \[3,3,8,4\], but the config builds \[3,3,4,8\]/);
    });

    it('a config that builds different shapes than the weights hold', async () => {
      const dir = await copy();
      const widen = (c: any) => {
        c.encoder.units = 20;
      };
      rewriteJson(dir, 'model.json', (t) => widen(t.config));
      rewriteJson(dir, 'manifest.json', (m) => widen(m.config));
      await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.json gives encoder\/forward\/kernel shape \[16,64\], but the config builds \[16,80\]/);
    });

    it('a manifest whose label sets disagree with the topology', async () => {
      const dir = await copy();
      rewriteJson(dir, 'manifest.json', (m) => m.heads[0].labels.push('extra'));
      await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.json heads differ from the label sets in manifest\.json/);
    });

    it('wrong format version', async () => {
      const dir = await copy();
      rewriteJson(dir, 'manifest.json', (m) => {
        m.formatVersion = 99;
      });
      await expect(loadCheckpoint(dir)).rejects.toThrow(/manifest\.json has format version 99; this build reads version 1/);
    });

    it('a manifest that is not JSON', async () => {
      const dir = await copy();
      writeFileSync(path.join(dir, 'manifest.json'), '{"format": "countertop-checkpoint", ');
      await expect(loadCheckpoint(dir)).rejects.toThrow(/manifest\.json is not valid JSON/);
    });

    it('a failed load leaks no tensors', async () => {
      const dir = await copy();
      rewriteJson(dir, 'model.json', (t) => {
        t.weights[t.weights.length - 1].shape = [1, 1];
        t.weights[t.weights.length - 1].bytes = 4;
      });
      const before = tf.memory().numTensors;
      await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.json/);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
