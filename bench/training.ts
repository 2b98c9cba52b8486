/**
 * Training speed: clips/s of a full training step (forward + backward + Adam) for the default
 * network and the honest speed-ups (smaller input, narrower network, batch size, no caption
 * decoder), the clip loader cold (ffmpeg) vs from the decoded-clip cache, and the transfer head
 * on precomputed frozen features vs through the encoder. Also projects time per epoch.
 *
 *   npm run bench -- training                       # all
 *   BENCH_STEPS=8 npm run bench -- training         # more timed steps per variant (default 4)
 *
 * Step timings use random clips (the step's cost does not depend on pixel values); the loader
 * variant generates a small data set into tmp/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CountertopModel, Vocabulary, initBackend, parseModelConfig, type ModelConfigInput, type TrainingBatch } from '../model/index.js';
import { SMALL_NET } from '../training/experiment/plan.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 4);
const CAPTIONS = ['putting a red ball into a blue box', 'pushing a small cup from left to right', 'moving a green book up'];

interface Variant {
  readonly name: string;
  readonly config: ModelConfigInput;
  readonly batch: number;
  /** λ = 1: no caption decoder in the step. */
  readonly lambda: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function stepTimes(v: Variant): { msPerStep: number; params: number } {
  const config = parseModelConfig(v.config);
  const vocab = v.lambda < 1 ? Vocabulary.build(CAPTIONS, { length: config.caption.length }) : null;
  const model = CountertopModel.create(config, [{ name: 'action', labels: Array.from({ length: 44 }, (_, i) => `a${i}`) }], vocab, 1);
  const optimizer = tf.train.adam(1e-3);
  const B = v.batch;
  const batch: TrainingBatch = {
    clips: tf.randomUniform([B, config.frames, config.height, config.width, 3], -1, 1) as tf.Tensor5D,
    labels: { action: tf.tensor1d(Array.from({ length: B }, (_, i) => i % 44), 'int32') },
    ...(vocab ? { captions: tf.tensor2d(Array.from({ length: B }, (_, i) => vocab.encode(CAPTIONS[i % CAPTIONS.length])), [B, vocab.length], 'int32') } : {}),
  };
  model.trainStep(optimizer, batch, v.lambda); // warm-up (kernel set-up, first allocations)
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    model.trainStep(optimizer, batch, v.lambda);
    times.push(performance.now() - t0);
  }
  const params = model.parameterCount();
  batch.clips.dispose();
  Object.values(batch.labels).forEach((t) => t.dispose());
  batch.captions?.dispose();
  model.dispose();
  optimizer.dispose();
  return { msPerStep: median(times), params };
}

async function loaderThroughput(): Promise<void> {
  const { makeTinyData } = await import('../test/training/harness.js');
  const { openClipData } = await import('../training/open-data.js');
  const work = mkdtempSync(path.join(tmpdir(), 'countertop-bench-'));
  try {
    const { source } = await makeTinyData(work, ['something']);
    const shape = { frames: 16, height: 64, width: 64 };
    for (const [label, cacheDir] of [
      ['loader, no cache (ffmpeg decode every clip)', null],
      ['loader, cache cold (decode + write)', path.join(work, 'cache')],
      ['loader, cache warm', path.join(work, 'cache')],
    ] as const) {
      const data = await openClipData(source, { cacheDir });
      const t0 = performance.now();
      let n = 0;
      for await (const b of data.batches('train', { shape, batchSize: 8, training: true, seed: 1, epoch: 0 })) n += b.records.length;
      const s = (performance.now() - t0) / 1000;
      console.log(`${label.padEnd(48)} ${(n / s).toFixed(1).padStart(7)} clips/s  (${n} clips 16×64×64 from 64×64 WebM)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function transferHead(): void {
  const config = parseModelConfig({});
  const source = CountertopModel.create(config, [{ name: 'action', labels: Array.from({ length: 44 }, (_, i) => `a${i}`) }], null, 1);
  const head = source.withNewHeads([{ name: 'action', labels: Array.from({ length: 22 }, (_, i) => `k${i}`) }], { hidden: 0 });
  const optimizer = tf.train.adam(1e-3);
  const B = 32;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 22), 'int32'), 22);
  const states = tf.randomNormal([B, config.frames, source.encodingWidth]) as tf.Tensor3D;
  const clips = tf.randomUniform([8, config.frames, config.height, config.width, 3], -1, 1) as tf.Tensor5D;
  const step = () =>
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, head.classLogits({ states, pooled: states.mean(1) as tf.Tensor2D }).action) as tf.Scalar, false, head.trainableVariables());
  step();
  const headTimes: number[] = [];
  for (let i = 0; i < STEPS * 3; i++) {
    const t0 = performance.now();
    step();
    headTimes.push(performance.now() - t0);
  }
  const encTimes: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    tf.tidy(() => source.encode(clips).states.dataSync());
    encTimes.push(performance.now() - t0);
  }
  const headCps = B / (median(headTimes) / 1000);
  const encCps = 8 / (median(encTimes) / 1000);
  console.log(`transfer head step on cached features (batch ${B})         ${headCps.toFixed(0).padStart(7)} clips/s`);
  console.log(`frozen encoder forward, computed once per clip (batch 8)   ${encCps.toFixed(1).padStart(7)} clips/s`);
  console.log(`→ an epoch of head training on cached features is ~${(encCps > 0 ? headCps / encCps : 0).toFixed(0)}× cheaper than re-encoding the clips every epoch`);
  [labels, states, clips].forEach((t) => t.dispose());
  head.dispose();
  source.dispose();
  optimizer.dispose();
}

export async function run(): Promise<void> {
  const backend = await initBackend({ log: () => undefined });
  console.log(`backend ${backend.name} (${backend.detail}); ${STEPS} timed steps per variant after one warm-up; median step time`);
  const variants: Variant[] = [
    { name: 'default 16×64×64, joint λ=0.5, batch 8', config: {}, batch: 8, lambda: 0.5 },
    { name: 'default, classification only (λ=1), batch 8', config: {}, batch: 8, lambda: 1 },
    { name: 'default, joint, batch 16', config: {}, batch: 16, lambda: 0.5 },
    { name: 'default, joint, batch 4', config: {}, batch: 4, lambda: 0.5 },
    { name: 'input 16×48×48, joint, batch 8', config: { height: 48, width: 48 }, batch: 8, lambda: 0.5 },
    { name: 'input 8×64×64, joint, batch 8', config: { frames: 8 }, batch: 8, lambda: 0.5 },
    { name: 'narrow net (experiment "small"), 16×64×64, joint, b 16', config: SMALL_NET, batch: 16, lambda: 0.5 },
  ];
  const base = stepTimes(variants[0]);
  const baseCps = variants[0].batch / (base.msPerStep / 1000);
  for (const v of variants) {
    const r = v === variants[0] ? base : stepTimes(v);
    const cps = v.batch / (r.msPerStep / 1000);
    console.log(
      `${v.name.padEnd(56)} ${r.msPerStep.toFixed(0).padStart(6)} ms/step ${cps.toFixed(1).padStart(6)} clips/s  ×${(cps / baseCps).toFixed(2)}  ` +
        `${(r.params / 1e6).toFixed(2)} M params; epoch of 1,000 clips ≈ ${((1000 / cps) / 60).toFixed(1)} min`,
    );
  }
  transferHead();
  await loaderThroughput();
}
