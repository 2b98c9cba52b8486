/**
 * `npm run selfcheck [-- --checkpoint dir] [--backend wasm]`: builds the default-config model (or
 * loads a checkpoint), runs one synthetic clip through it and prints the backend, the shapes and
 * the timings. Exits non-zero if anything is off (wrong shape, non-finite output, a tensor leak).
 */
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  BACKEND_NAMES,
  CountertopModel,
  Vocabulary,
  defaultModelConfig,
  initBackend,
  loadCheckpoint,
  normalisePixels,
  type BackendName,
  type ModelConfig,
} from '../model/index.js';

/** `--runs -3` or `--runs x` is a usage error said in one line, not a TypeError later on. */
function positiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

const program = new Command()
  .name('selfcheck')
  .description('build the model, run a clip through it, print backend, shapes and timing')
  .option('--checkpoint <dir>', 'load this checkpoint instead of a freshly initialised default model')
  .addOption(new Option('--backend <name>', 'force a tensor backend').choices([...BACKEND_NAMES]))
  .option('--runs <n>', 'timed forward passes', positiveInteger, 5)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();
const opts = program.opts<{ checkpoint?: string; backend?: BackendName; runs: number }>();

/** A clip of a bright square sliding left to right over a grey counter, as normalised pixels. */
function syntheticClip(c: ModelConfig): tf.Tensor5D {
  const { frames: T, height: H, width: W } = c;
  const pixels = new Float32Array(T * H * W * 3);
  const rgb = new Uint8Array(H * W * 3);
  const side = Math.max(2, Math.round(H / 5));
  for (let t = 0; t < T; t++) {
    rgb.fill(110);
    const x0 = Math.round(((W - side) * t) / Math.max(1, T - 1));
    const y0 = Math.round((H - side) / 2);
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) rgb.set([230, 80, 40], (y * W + x) * 3);
    normalisePixels(rgb, pixels, t * H * W * 3);
  }
  return tf.tensor5d(pixels, [1, T, H, W, 3]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const backend = await initBackend(opts.backend ? { force: opts.backend } : {});
  let model: CountertopModel;
  let source: string;
  if (opts.checkpoint) {
    model = (await loadCheckpoint(opts.checkpoint)).model;
    source = `checkpoint ${opts.checkpoint}`;
  } else {
    const vocabulary = Vocabulary.build(['pouring water from a cup into a bowl', 'putting a spoon next to a plate']);
    model = CountertopModel.create(
      defaultModelConfig,
      [
        { name: 'action', labels: Array.from({ length: 174 }, (_, i) => `action ${i}`) },
        { name: 'group', labels: Array.from({ length: 50 }, (_, i) => `group ${i}`) },
      ],
      vocabulary,
    );
    source = 'default config, random weights (untrained: labels and captions are meaningless)';
  }
  const c = model.config;
  console.log(`model: ${source}`);
  console.log(`backend: ${backend.name} (${backend.detail})${backend.skipped.length ? `; skipped ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join(', ')}` : ''}`);
  console.log(
    `config: T=${c.frames} ${c.height}×${c.width} @ ${c.fps} fps; 2D ${c.spatial.features ? `[${c.spatial.filters}]→${c.spatial.features}` : 'off'}; ` +
      `3D ${c.spatiotemporal.features ? `kt=${c.spatiotemporal.temporalKernel} [${c.spatiotemporal.filters}]→${c.spatiotemporal.features}` : 'off'}; ` +
      `${c.encoder.kind === 'pool' ? 'pool encoder (no LSTM)' : `LSTM ${c.encoder.units}${c.encoder.bidirectional ? '×2' : ''}`}; 3D form ${model.resolvedConv3dForm()}`,
  );
  console.log(`parameters: ${model.parameterCount().toLocaleString('en')}; forward ${(model.flopsPerClip() / 1e9).toFixed(3)} GFLOP per clip`);

  const clip = syntheticClip(c);
  const before = tf.memory().numTensors;
  const forward = (): { probs: Record<string, tf.Tensor2D>; states: number[]; pooled: number[] } =>
    tf.tidy(() => {
      const enc = model.encode(clip);
      return { probs: model.classify(enc), states: enc.states.shape, pooled: enc.pooled.shape };
    });
  let t0 = performance.now();
  const first = forward();
  await Promise.all(Object.values(first.probs).map((p) => p.data()));
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    t0 = performance.now();
    const r = forward();
    await Promise.all(Object.values(r.probs).map((p) => p.data()));
    times.push(performance.now() - t0);
    tf.dispose(Object.values(r.probs));
  }
  console.log(`input: clip [${clip.shape}] → states [${first.states}], pooled [${first.pooled}]`);
  let ok = first.states.join() === [1, c.frames, model.encodingWidth].join();
  for (const [name, p] of Object.entries(first.probs)) {
    const v = Array.from(await p.data());
    const sum = v.reduce((a, b) => a + b, 0);
    const top = v.indexOf(Math.max(...v));
    const head = model.heads.find((h) => h.name === name)!;
    console.log(`head ${name}: probabilities [${p.shape}], sum ${sum.toFixed(4)}, top "${head.labels[top]}" ${v[top]!.toFixed(3)}`);
    ok &&= Number.isFinite(sum) && Math.abs(sum - 1) < 1e-3 && p.shape[1] === head.labels.length;
  }
  tf.dispose(Object.values(first.probs));
  console.log(`forward (batch 1): first ${fmt(firstMs)}, median of ${opts.runs} ${fmt(median(times))}`);

  if (c.spatial.features > 0) {
    const frame = tf.tidy(() => clip.slice([0, 0], [1, 1]).reshape([1, c.height, c.width, 3]) as tf.Tensor4D);
    const ft: number[] = [];
    for (let i = 0; i < opts.runs + 1; i++) {
      t0 = performance.now();
      const f = model.spatialFeatures(frame);
      await f.data();
      ft.push(performance.now() - t0);
      if (i === 0) console.log(`spatial features: frame [${frame.shape}] → [${f.shape}]`);
      f.dispose();
    }
    console.log(`spatial channel: median ${fmt(median(ft.slice(1)))} per frame`);
    frame.dispose();
  }
  if (model.vocabulary) {
    const enc = model.encode(clip);
    t0 = performance.now();
    const greedy = model.captionGreedy(enc.pooled);
    const greedyMs = performance.now() - t0;
    t0 = performance.now();
    const beam = model.captionBeam(enc.pooled, 3);
    const beamMs = performance.now() - t0;
    console.log(`caption: greedy "${greedy[0]}" (${fmt(greedyMs)}), beam 3 "${beam[0]}" (${fmt(beamMs)})`);
    tf.dispose([enc.states, enc.pooled]);
  }
  const leaked = tf.memory().numTensors - before;
  console.log(`tensors leaked: ${leaked}`);
  ok &&= leaked === 0;
  clip.dispose();
  model.dispose();
  console.log(ok ? 'selfcheck: OK' : 'selfcheck: FAILED');
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`selfcheck: ${(err as Error).message ?? String(err)}`);
  process.exitCode = 1;
});
