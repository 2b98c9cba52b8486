import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { CAPTIONS, HEADS, disposeBatch, snapshot, tinyBatch, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ force: 'wasm', log: () => {} });
});

/** Trains `steps` Adam steps on one fixed batch; returns the first and last step's losses. */
function overfit(lambda: number, steps: number, n = 4) {
  const model = tinyModel();
  const batch = tinyBatch(model.config, model.vocabulary, n);
  const opt = tf.train.adam(0.01);
  const losses = Array.from({ length: steps }, () => model.trainStep(opt, batch, lambda));
  return { model, batch, opt, first: losses[0]!, last: losses[losses.length - 1]! };
}

describe('training on a tiny overfit set', () => {
  it('classification only (λ = 1): the loss falls and the labels are learnt; the decoder is untouched', () => {
    const model0 = tinyModel();
    const decoderBefore = snapshot(model0.namedVariables().filter((e) => e.name.startsWith('caption/')).map((e) => e.variable));
    model0.dispose();
    const { model, batch, opt, first, last } = overfit(1, 40);
    expect(last.total).toBeLessThan(first.total * 0.2);
    expect(last.caption).toBe(0);
    const probs = tf.tidy(() => model.classify(model.encode(batch.clips)));
    expect(Array.from(probs.action!.argMax(1).dataSync())).toEqual([0, 1, 2, 0]);
    expect(Array.from(probs.group!.argMax(1).dataSync())).toEqual([0, 1, 0, 1]);
    // Zero gradients keep Adam's state aligned but must not move the unused decoder.
    const decoderAfter = snapshot(model.namedVariables().filter((e) => e.name.startsWith('caption/')).map((e) => e.variable));
    expect(decoderAfter).toEqual(decoderBefore);
    tf.dispose(Object.values(probs));
    disposeBatch(batch);
    opt.dispose();
    model.dispose();
  });

  it('captioning only (λ = 0): the masked caption loss falls', () => {
    const { model, batch, opt, first, last } = overfit(0, 60);
    expect(first.classification).toBe(0);
    expect(last.caption).toBeLessThan(first.caption * 0.2);
    disposeBatch(batch);
    opt.dispose();
    model.dispose();
  });

  it('joint loss (λ = 0.5): total = λ·class + (1−λ)·caption, and both parts fall', () => {
    const { model, batch, opt, first, last } = overfit(0.5, 60);
    expect(last.total).toBeCloseTo(0.5 * last.classification + 0.5 * last.caption, 5);
    expect(last.classification).toBeLessThan(first.classification * 0.3);
    expect(last.caption).toBeLessThan(first.caption * 0.3);
    disposeBatch(batch);
    opt.dispose();
    model.dispose();
  });

  it('after overfitting one example, greedy and beam decoding return its caption', () => {
    const model = tinyModel();
    const batch = tinyBatch(model.config, model.vocabulary, 1);
    const opt = tf.train.adam(0.02);
    const before = tf.tidy(() => model.captionGreedy(model.encode(batch.clips).pooled));
    expect(before[0]).not.toBe(CAPTIONS[0]);
    for (let i = 0; i < 80; i++) model.trainStep(opt, batch, 0);
    const enc = model.encode(batch.clips);
    expect(model.captionGreedy(enc.pooled)).toEqual([CAPTIONS[0]]);
    expect(model.captionBeam(enc.pooled, 3)).toEqual([CAPTIONS[0]]);
    expect(model.captionBeam(enc.pooled, 1)).toEqual([CAPTIONS[0]]);
    expect(model.captionBeam(enc.pooled, 3, { lengthPenalty: 0.7 })).toEqual([CAPTIONS[0]]);
    expect(() => model.captionBeam(enc.pooled, 0)).toThrow(/beam width must be a positive integer/);
    tf.dispose([enc.states, enc.pooled]);
    disposeBatch(batch);
    opt.dispose();
    model.dispose();
  });

  it('refuses inconsistent batches and λ with a clear message', () => {
    const model = tinyModel();
    const batch = tinyBatch(model.config, null, 2);
    expect(() => model.loss(batch, 0.5)).toThrow(/λ < 1 needs captions/);
    expect(() => model.loss(batch, 1.5)).toThrow(/λ must be in \[0, 1\]/);
    expect(() => model.loss({ ...batch, labels: { colour: batch.labels.action! } }, 1)).toThrow(/unknown head "colour"/);
    const noDecoder = tinyModel({}, 1, null);
    expect(() => noDecoder.loss(batch, 0.5)).toThrow(/no caption decoder: use λ = 1/);
    expect(() => noDecoder.captionGreedy(tf.zeros([1, 16]) as tf.Tensor2D)).toThrow(/no caption decoder/);
    disposeBatch(batch);
    model.dispose();
    noDecoder.dispose();
  });
});

describe('transfer', () => {
  it('the frozen encoder stays bit-identical over training steps while the new head learns', () => {
    const source = tinyModel();
    const target = source.withNewHeads([{ name: 'kitchenware', labels: ['a', 'b', 'c', 'd'] }], { hidden: 12 });
    expect(target.frozenEncoder).toBe(true);
    expect(target.vocabulary).toBeNull();
    const encoder = target.encoderVariables();
    expect(encoder).toEqual(source.encoderVariables()); // the same variables, shared
    const trainable = target.trainableVariables();
    expect(trainable.some((v) => encoder.includes(v))).toBe(false);
    expect(target.namedVariables().filter((e) => trainable.includes(e.variable)).map((e) => e.name)).toEqual([
      'head/kitchenware/hidden/kernel',
      'head/kitchenware/hidden/bias',
      'head/kitchenware/out/kernel',
      'head/kitchenware/out/bias',
    ]);

    const encoderBefore = snapshot(encoder);
    const headBefore = snapshot(trainable);
    const batch = tinyBatch(target.config, null, 4);
    const labels = { kitchenware: tf.tensor1d([0, 1, 2, 3], 'int32') };
    const opt = tf.train.adam(0.01);
    const first = target.trainStep(opt, { clips: batch.clips, labels }, 1);
    let last = first;
    for (let i = 0; i < 30; i++) last = target.trainStep(opt, { clips: batch.clips, labels }, 1);
    expect(last.total).toBeLessThan(first.total);
    expect(snapshot(encoder)).toEqual(encoderBefore);
    snapshot(trainable).forEach((after, i) => expect(after).not.toEqual(headBefore[i]));

    // Disposing the transfer model frees only its heads.
    target.dispose();
    expect(source.encoderVariables().every((v) => !v.isDisposed)).toBe(true);
    expect(trainable.every((v) => v.isDisposed)).toBe(true);
    const enc = source.encode(batch.clips);
    expect(enc.pooled.shape).toEqual([4, 16]);
    tf.dispose([enc.states, enc.pooled, labels.kitchenware]);
    disposeBatch(batch);
    opt.dispose();
    source.dispose();
    expect(HEADS).toHaveLength(2);
  });
});
