/**
 * The live pipeline end to end with the REAL model (untrained, small config) and real ffmpeg:
 * the per-frame cache gives the same answers as recomputing, the pipeline turns a generated file
 * into stamped predictions, captions, status and stats, and a long run stays flat in memory.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { ignoreElements, lastValueFrom, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountertopModel } from '../../model/index.js';
import { createLivePipeline } from '../../pipelines/livePipeline.js';
import { InferenceStage } from '../../pipelines/inferenceStage.js';
import { ModelEngine } from '../../pipelines/modelEngine.js';
import { openSource } from '../../pipelines/sources/openSource.js';
import type { Frame, FrameWindow, PipelineOutput } from '../../pipelines/types.js';
import { smallModel } from './smallModel.js';
import { alive, hasFfmpeg, makeVideo, need, tempDir, until } from './tools.js';

let model: CountertopModel;
beforeAll(async () => {
  model = await smallModel();
});

function noiseFrame(streamId: string, seq: number, size = 32): Frame {
  const pixels = new Uint8Array(size * size * 3);
  let x = (seq + 1) * 2654435761;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = x >>> 24;
  }
  return { streamId, seq, capturedAt: seq * 83, width: size, height: size, pixels };
}

function windowsOf(frames: Frame[], T: number, stride: number): FrameWindow[] {
  const out: FrameWindow[] = [];
  for (let end = T; end <= frames.length; end += stride) out.push({ streamId: frames[0]!.streamId, frames: frames.slice(end - T, end), readyAt: 0 });
  return out;
}

describe('ModelEngine (real model)', () => {
  it('with the per-frame cache and the incremental 3D channel gives the same probabilities as recomputing every window, running the 2D CNN once per frame', async () => {
    const cached = new ModelEngine(model, { cacheCapacity: 16 });
    const plain = new ModelEngine(model, { cacheFrames: false });
    const frames = Array.from({ length: 20 }, (_, i) => noiseFrame('s', i));
    const windows = windowsOf(frames, 8, 2); // 7 windows, 20 distinct frames
    const a = [...(await cached.inferBatch(windows.slice(0, 3))), ...(await cached.inferBatch(windows.slice(3)))];
    const b = await plain.inferBatch(windows);
    expect(a).toHaveLength(7);
    for (let i = 0; i < 7; i++) {
      for (const head of ['action', 'group']) {
        const pa = a[i]!.probabilities[head]!;
        const pb = b[i]!.probabilities[head]!;
        expect(pa.length).toBe(head === 'action' ? 4 : 2);
        pa.forEach((p, k) => expect(Math.abs(p - pb[k]!)).toBeLessThan(1e-5));
        expect(pa.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
      }
      a[i]!.encoding.forEach((e, k) => expect(Math.abs(e - b[i]!.encoding[k]!)).toBeLessThan(1e-5));
    }
    // Different inputs, different answers: the comparison above is not between constants.
    expect(a[0]!.encoding).not.toEqual(a[6]!.encoding);
    expect(cached.framesEncoded).toBe(20);
    expect(plain.framesEncoded).toBe(7 * 8);
    expect(cached.cache.size('s')).toBeLessThanOrEqual(16);
    cached.dispose();
  });

  it('keeps at most `capacity` frames per stream and frees a stream\'s tensors when it is forgotten', async () => {
    const frames = Array.from({ length: 40 }, (_, i) => noiseFrame('k', i));
    // Frame cache only: exactly pixels + spatial features per cached frame.
    const before = tf.memory().numTensors;
    const plain = new ModelEngine(model, { cacheCapacity: 10, incremental3d: false });
    for (const w of windowsOf(frames, 8, 4)) await plain.inferBatch([w]);
    expect(plain.cache.size('k')).toBe(10);
    expect(plain.cache.evictions).toBe(30);
    expect(tf.memory().numTensors - before).toBe(10 * 2);
    plain.forgetStream('k');
    expect(tf.memory().numTensors).toBe(before);
    // With the incremental 3D channel: at most one activation per layer per cached frame more.
    const engine = new ModelEngine(model, { cacheCapacity: 10 });
    const base = tf.memory().numTensors; // its own copies of the 3D weights
    for (const w of windowsOf(frames, 8, 4)) await engine.inferBatch([w]);
    const layers = model.config.spatiotemporal.filters.length;
    expect(tf.memory().numTensors - base).toBeLessThanOrEqual(10 * (2 + layers));
    engine.forgetStream('k');
    expect(tf.memory().numTensors).toBe(base);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses windows that do not match the model', async () => {
    const engine = new ModelEngine(model);
    const frames = Array.from({ length: 8 }, (_, i) => noiseFrame('x', i, 16));
    await expect(engine.inferBatch([{ streamId: 'x', frames, readyAt: 0 }])).rejects.toThrow(/is 16×16; the model takes 32×32/);
    await expect(engine.inferBatch([{ streamId: 'x', frames: frames.slice(0, 3), readyAt: 0 }])).rejects.toThrow(/window of 3 frames; the model takes 8/);
  });

  it('decodes a caption from a pooled encoding with the model\'s decoder', async () => {
    const engine = new ModelEngine(model);
    const [result] = await engine.inferBatch(windowsOf(Array.from({ length: 8 }, (_, i) => noiseFrame('c', i)), 8, 1));
    const text = await engine.caption!(result!.encoding);
    expect(text).toBe(model.captionGreedy(tf.tensor2d(result!.encoding, [1, result!.encoding.length]))[0]);
    engine.dispose();
  });
});

describe('createLivePipeline (real ffmpeg + real model)', () => {
  const tmp = tempDir('live');
  afterAll(() => tmp.remove());

  it('turns a generated video into stamped predictions, captions, status and stats, then releases ffmpeg', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const clip = makeVideo(path.join(tmp.dir, 'clip.webm'), { seconds: 3, fps: 16, size: '96x72' });
    const tensorsBefore = tf.memory().numTensors;
    const engine = new ModelEngine(model);
    const stage = new InferenceStage(engine, { maxBatch: 4, queueCapacity: 64 });
    const engineTensors = tf.memory().numTensors; // its own copies of the 3D weights
    const children: ChildProcess[] = [];
    const source = openSource({ kind: 'file', streamId: 'kitchen', path: clip, pace: 'max' }, engine.input, { onSpawn: (c) => children.push(c) });
    const outputs = await lastValueFrom(createLivePipeline(source, stage, { stride: 2, captions: { intervalMs: 1000 }, statsIntervalMs: 60_000 }).pipe(toArray()));
    const of = <T extends PipelineOutput['type']>(t: T) => outputs.filter((o): o is Extract<PipelineOutput, { type: T }> => o.type === t);

    // 3 s at 12 fps ≈ 36 frames; windows of 8 every 2 frames ≈ 15, none dropped with a deep queue.
    const predictions = of('prediction').map((o) => o.prediction);
    expect(predictions.length).toBeGreaterThanOrEqual(14);
    expect(predictions.length).toBeLessThanOrEqual(16);
    predictions.forEach((p, i) => {
      expect(p.streamId).toBe('kitchen');
      expect(p.lastSeq - p.firstSeq).toBe(7);
      expect(p.firstSeq).toBe(i * 2);
      expect(p.heads.action!.map((l) => l.label).sort()).toEqual([...model.heads[0]!.labels].sort());
      expect(p.heads.action![0]!.score).toBeGreaterThanOrEqual(p.heads.action![1]!.score);
      const s = p.stamps;
      expect(s.capturedAt).toBeLessThanOrEqual(s.windowReadyAt);
      expect(s.windowReadyAt).toBeLessThanOrEqual(s.inferredAt);
      expect(s.inferredAt).toBeLessThanOrEqual(s.emittedAt);
    });
    // Captions: the first window, then one per second of capture time at most — never one per window.
    const captions = of('caption').map((o) => o.event);
    expect(captions.length).toBeGreaterThanOrEqual(1);
    expect(captions.length).toBeLessThan(predictions.length);
    expect(captions[0]!.reason).toBe('interval');
    // Each caption is a decoded word sequence, every word from the model's vocabulary, at most one
    // per decoder step (greedy decoding runs caption length − 1 steps after <go>).
    const vocabulary = model.vocabulary!;
    for (const c of captions) {
      const words = c.text.split(' ').filter(Boolean);
      expect(words.length, c.text).toBeGreaterThan(0);
      expect(words.length, c.text).toBeLessThanOrEqual(model.config.caption.length - 1);
      expect(words.filter((w) => !vocabulary.words.includes(w)), c.text).toEqual([]);
      expect(c.stamps.emittedAt).toBeGreaterThanOrEqual(c.stamps.inferredAt);
    }

    expect(of('status').map((o) => o.status.state)).toEqual(['connecting', 'live', 'ended']);
    const stats = of('stats').map((o) => o.stats);
    expect(stats.at(-1)!.drops).toBe(0);
    expect(stats.reduce((n, s) => n + s.windows, 0)).toBe(predictions.length);
    expect(stage.windowsScored).toBe(predictions.length);
    await until(() => !alive(children[0]!.pid!), 'ffmpeg to exit');
    expect(stage.streams).toEqual([]); // the stream left the stage
    // … taking its cached frame tensors with it: none of the run's tensors is left.
    expect(tf.memory().numTensors).toBe(engineTensors);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('unsubscribing mid-stream kills ffmpeg and frees the stream\'s cached tensors', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const clip = makeVideo(path.join(tmp.dir, 'loop.webm'), { seconds: 1, fps: 16, size: '64x48' });
    const engine = new ModelEngine(model);
    const stage = new InferenceStage(engine);
    const before = tf.memory().numTensors;
    const children: ChildProcess[] = [];
    const source = openSource({ kind: 'file', streamId: 'loop', path: clip, pace: 'realtime', loop: true }, engine.input, { onSpawn: (c) => children.push(c) });
    let predictions = 0;
    const sub = createLivePipeline(source, stage, { stride: 4 }).subscribe((o) => o.type === 'prediction' && predictions++);
    await until(() => predictions >= 2, 'two predictions');
    expect(engine.cache.size('loop')).toBeGreaterThan(0);
    sub.unsubscribe();
    await until(() => !alive(children[0]!.pid!), 'ffmpeg to exit');
    expect(engine.cache.size('loop')).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('long run (real model)', () => {
  it('about 5,000 windows over two streams keep the tensor count, tensor bytes and JS heap flat', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const engine = new ModelEngine(model);
    const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 4 });
    const perStream = 2500;
    const generator = (streamId: string) => () =>
      (function* () {
        // stride 1: one window per frame after the first T−1
        for (let i = 0; i < perStream + 7; i++) yield noiseFrame(streamId, i % 64);
      })();
    const samples: { windows: number; tensors: number; bytes: number; heap: number }[] = [];
    let windows = 0;
    const sample = () => {
      gc();
      samples.push({ windows, tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, heap: process.memoryUsage().heapUsed });
    };
    // Count outputs rather than keep them: the test itself must not be what grows.
    const counts = { prediction: 0, caption: 0, status: 0, action: 0, stats: 0 };
    const run = (id: string) =>
      lastValueFrom(
        createLivePipeline(openSource({ kind: 'procedural', streamId: id, generate: generator(id) }, engine.input), stage, { stride: 1, statsIntervalMs: 0, captions: { intervalMs: 5_000 } }).pipe(
          tap((o) => counts[o.type]++),
          ignoreElements(),
        ),
        { defaultValue: undefined },
      );
    const done = Promise.all(['a', 'b'].map(run));
    // Sample while running, each time a further 1,000 windows have been scored.
    const timer = setInterval(() => {
      windows = stage.windowsScored;
      if (windows >= (samples.length + 1) * 1000 && samples.length < 4) sample();
    }, 5);
    await done;
    clearInterval(timer);

    const scored = counts.prediction;
    expect(counts.caption).toBeGreaterThan(0);
    expect(counts.status).toBe(2 * 3); // connecting, live, ended per stream
    expect(scored + stage.dropsFor('a') + stage.dropsFor('b')).toBe(2 * perStream);
    expect(scored).toBeGreaterThanOrEqual(4000);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    const first = samples[0]!;
    for (const s of samples.slice(1)) {
      expect(s.tensors).toBe(first.tensors);
      expect(s.bytes).toBe(first.bytes);
      // Leaking even the frames alone would add 3 MB per 1,000 windows (32×32×3 bytes each).
      expect(s.heap - first.heap).toBeLessThan(1024 * 1024);
    }
    console.log('long run samples', samples.map((s) => ({ ...s, heapMB: +(s.heap / 2 ** 20).toFixed(1) })));
  });
});
