/**
 * Model speed on every backend that loads: forward ms per clip at batch 1 and 8, the spatial
 * channel per frame, the live path (cached per-frame features), one training step at batch 8, the
 * three 3D-conv forms, parameters and FLOPs of the default config, and the backend's peak GFLOP/s
 * from a large matmul and a large conv (so the model's share of the machine can be stated).
 * `npm run bench -- model`; BENCH_MODEL_BACKENDS=wasm,cpu picks backends (default: all four).
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import {
  BACKEND_NAMES,
  CountertopModel,
  Vocabulary,
  defaultModelConfig,
  initBackend,
  type BackendName,
  type TrainingBatch,
} from '../model/index.js';

const CAPTIONS = [
  'pouring water from a cup into a bowl',
  'putting a spoon next to a plate',
  'taking a lid off a jar',
  'moving a mug closer to a kettle',
  'pretending to open a box without actually opening it',
];

interface Timing {
  readonly median: number;
  /**
   * Median CPU time of this process per run (user + system). wasm and cpu run on one thread, so on
   * a shared, loaded machine this is the steadier estimate of the uncontended wall time.
   */
  readonly cpu: number;
}

/** Wall and CPU times of `f` over `n` runs after `warmup` runs, in ms; `f` must await its results. */
async function time(n: number, f: () => Promise<void> | void, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { median: med(wall), cpu: med(cpu) };
}

const num = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ms = (t: Timing, per = 1): string => `${num(t.median / per)} ms (CPU ${num(t.cpu / per)})`;

async function benchBackend(name: BackendName): Promise<void> {
  const slow = name === 'cpu';
  const reps = slow ? 1 : 5;
  const vocabulary = Vocabulary.build(CAPTIONS);
  const model = CountertopModel.create(
    defaultModelConfig,
    [
      { name: 'action', labels: Array.from({ length: 174 }, (_, i) => `a${i}`) },
      { name: 'group', labels: Array.from({ length: 50 }, (_, i) => `g${i}`) },
    ],
    vocabulary,
  );
  const c = model.config;
  const clip = (b: number) => tf.randomUniform([b, c.frames, c.height, c.width, 3], -1, 1, 'float32', b) as tf.Tensor5D;
  const x1 = clip(1);
  const x8 = clip(8);
  const forward = (x: tf.Tensor5D) => async () => {
    const p = tf.tidy(() => model.classify(model.encode(x)));
    await Promise.all(Object.values(p).map((t) => t.data()));
    tf.dispose(Object.values(p));
  };

  const gflop = model.flopsPerClip() / 1e9;
  // The pure-JS backend takes minutes per training step: one run each, and no warm-up for the heavy ones.
  const heavyWarmup = slow ? 0 : 1;
  const line = (label: string, value: string) => console.log(`${label.padEnd(29)}${value}`);
  console.log(`\n### backend ${name}  (model resolves 3D conv to '${model.resolvedConv3dForm()}'); times: median wall (median CPU) of the runs`);
  console.log(`default config: ${model.parameterCount().toLocaleString('en')} parameters, ${gflop.toFixed(3)} GFLOP per ${c.frames}×${c.height}×${c.width} clip forward`);

  const fwd1 = await time(reps * 2, forward(x1));
  line('forward, batch 1:', `${ms(fwd1)} per clip`);
  const fwd8 = await time(slow ? 1 : 5, forward(x8), heavyWarmup);
  line('forward, batch 8:', `${ms(fwd8, 8)} per clip`);

  const frames16 = tf.tidy(() => x1.reshape([c.frames, c.height, c.width, 3]) as tf.Tensor4D);
  const frame1 = tf.tidy(() => frames16.slice([0], [1]) as tf.Tensor4D);
  const spatial = (f: tf.Tensor4D) => async () => {
    const out = model.spatialFeatures(f);
    await out.data();
    out.dispose();
  };
  const spatialBatch = await time(reps * 2, spatial(frames16));
  const spatialOne = await time(reps * 4, spatial(frame1));
  line('spatial channel:', `${ms(spatialBatch, c.frames)} per frame in a batch of ${c.frames}; ${ms(spatialOne)} for one frame`);
  // The live path: per-frame features come from a cache, so a window costs the 3D channel + LSTM + heads.
  const cached = tf.tidy(() => model.spatialFeatures(frames16).expandDims(0) as tf.Tensor3D);
  const live = await time(reps * 2, async () => {
    const p = tf.tidy(() => model.classify(model.encode(x1, { spatial: cached })));
    await Promise.all(Object.values(p).map((t) => t.data()));
    tf.dispose(Object.values(p));
  });
  line('live window (cached 2D):', `${ms(live)} (3D channel + LSTM + heads)`);
  const enc = model.encode(x1);
  const greedy = await time(reps, () => void model.captionGreedy(enc.pooled));
  const beam = await time(reps, () => void model.captionBeam(enc.pooled, 3));
  tf.dispose([enc.states, enc.pooled]);
  line('captions, batch 1:', `greedy ${ms(greedy)}, beam 3 ${ms(beam)}`);

  const batch: TrainingBatch = {
    clips: x8,
    labels: { action: tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), group: tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32') },
    captions: tf.tensor2d(Array.from({ length: 8 }, (_, i) => vocabulary.encode(CAPTIONS[i % CAPTIONS.length]!)), undefined, 'int32'),
  };
  const optimizer = tf.train.adam(1e-3);
  const train = await time(
    slow ? 1 : 5,
    () => {
      model.trainStep(optimizer, batch, 0.5);
    },
    heavyWarmup,
  );
  line('training step, batch 8 λ=.5:', ms(train));

  const forms: string[] = [];
  for (const form of ['shifted', 'stacked', 'native'] as const) {
    model.conv3dForm = form;
    forms.push(`${form} ${ms(await time(slow || form === 'native' ? 1 : reps, forward(x1), heavyWarmup))}`);
  }
  model.conv3dForm = 'auto';
  line('3D conv forms, batch 1 fwd:', forms.join(', '));

  // Peak throughput: one large matmul and one large 3×3 conv.
  const n = 1024;
  const a = tf.randomUniform([n, n]);
  const mm = await time(slow ? 1 : 5, async () => {
    const y = tf.matMul(a, a);
    await y.data();
    y.dispose();
  });
  const mmGflops = (2 * n ** 3) / 1e9 / (Math.min(mm.median, mm.cpu) / 1000);
  const cx = tf.randomUniform([8, 64, 64, 64]) as tf.Tensor4D;
  const ck = tf.randomUniform([3, 3, 64, 64]) as tf.Tensor4D;
  const cv = await time(
    slow ? 1 : 5,
    async () => {
      const y = tf.conv2d(cx, ck, 1, 'same');
      await y.data();
      y.dispose();
    },
    heavyWarmup,
  );
  const convGflops = (2 * 8 * 64 * 64 * 9 * 64 * 64) / 1e9 / (Math.min(cv.median, cv.cpu) / 1000);
  const peak = Math.max(mmGflops, convGflops);
  const achieved = gflop / (Math.min(fwd8.median, fwd8.cpu) / 8 / 1000);
  line('peak (from CPU time):', `matmul ${n}³ ${mmGflops.toFixed(1)} GFLOP/s, conv 8×64×64×64→64 ${convGflops.toFixed(1)} GFLOP/s`);
  line('model forward at batch 8:', `${achieved.toFixed(1)} GFLOP/s = ${((100 * achieved) / peak).toFixed(0)}% of that peak`);

  tf.dispose([x1, x8, frames16, frame1, cached, a, cx, ck, ...Object.values(batch.labels), batch.captions!]);
  optimizer.dispose();
  model.dispose();
}

export async function run(): Promise<void> {
  const wanted = (process.env.BENCH_MODEL_BACKENDS ?? BACKEND_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is BackendName => (BACKEND_NAMES as readonly string[]).includes(s));
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; tfjs ${tf.version.tfjs}`);
  for (const name of wanted) {
    try {
      await initBackend({ force: name, log: () => {} });
    } catch (err) {
      console.log(`\n### backend ${name}: not available — ${(err as Error).message}`);
      continue;
    }
    await benchBackend(name);
  }
}
