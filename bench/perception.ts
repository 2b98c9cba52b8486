/**
 * Perception benchmark (`npm run bench -- perception`): what the pretrained detectors cost live.
 *
 *  1. median ms per frame of each part on real frames (read from ../shared/real-clips, evaluation
 *     only, when it is there; otherwise a procedural session): the COCO detector with its backbone
 *     (512 px), the backbone feature alone (224 px), the hand detector, the landmark model per hand,
 *     and one stream's whole step with tracking (objects every `objectEvery` frames, the hand
 *     detector only when a hand is lost or every `detectEvery` frames);
 *  2. the most concurrent real-time streams (16 fps in) held with p95 capture → prediction < 250 ms
 *     and no window dropped, with perception on (a hand–object model of the real-camera model's
 *     shape: the detectors run on every frame at the model's rate; a backbone model of the shape
 *     BACKBONE_SHAPE: the backbone alone on every frame) and off (the pixel-only config).
 *
 * Env: PERCEPTION_BENCH_FRAMES (frames per part, default 40), PERCEPTION_BENCH_TRIAL_S (seconds per
 * stream-count trial, default 15), PERCEPTION_BENCH_MAX_STREAMS (default 12).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { templateKey } from '../data/captions.js';
import { CATALOGUES } from '../data/catalogue/index.js';
import { decodeVideo } from '../data/decode.js';
import { writeSession } from '../data/session.js';
import { CountertopModel, currentBackend, defaultModelConfig, initBackend, parseModelConfig, type ModelConfigInput } from '../model/index.js';
import { BACKBONE_BATCH } from '../perception/constants.js';
import { PerceptionRunner } from '../perception/runner.js';
import { ModelEngine } from '../pipelines/modelEngine.js';
import { realtimeTrial } from './pipeline.js';

const REAL = path.resolve(import.meta.dirname, '../../shared/real-clips/clips/epic_w8_00.webm');
const SIZE = 256;

/** The shipped perception model's shape (see docs/TRAINING.md); weights do not change the cost. */
export const PERCEPTION_SHAPE: ModelConfigInput = {
  frames: 12, fps: 6, height: 48, width: 48,
  spatial: { features: 0 }, spatiotemporal: { features: 0 },
  perception: { handObject: true, backbone: false, features: 96, coordinates: 'hand' },
  encoder: { units: 128 },
};

/** A model that reads the frozen backbone's feature alone (the shape docs/TRAINING.md trains). */
export const BACKBONE_SHAPE: ModelConfigInput = {
  frames: 12, fps: 6, height: 48, width: 48,
  spatial: { features: 0 }, spatiotemporal: { features: 0 },
  perception: { handObject: false, backbone: true, features: 128, coordinates: 'image' },
  encoder: { units: 128 },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const n = Number(process.env.PERCEPTION_BENCH_FRAMES ?? 40);
  const trialSeconds = Number(process.env.PERCEPTION_BENCH_TRIAL_S ?? 15);
  const maxStreams = Number(process.env.PERCEPTION_BENCH_MAX_STREAMS ?? 12);
  await initBackend();
  console.log(`backend ${currentBackend()}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'countertop-perception-bench-'));
  try {
    const session = await writeSession({ domain: 'kitchenware', seed: 7, actions: 6, width: 320, height: 240, fps: 16, dir, codec: 'vp8' });
    const sessionVideo = path.join(dir, path.basename(session.video));
    const source = existsSync(REAL) ? REAL : sessionVideo;
    console.log(`frames: ${existsSync(REAL) ? `a real clip (${path.basename(REAL)}, ../shared/real-clips, evaluation only)` : 'the procedural session'} at ${SIZE}×${SIZE}`);
    const video = await decodeVideo(source, { width: SIZE, height: SIZE });
    const frameAt = (i: number) => tf.tensor3d(video.data.subarray((i % video.frames) * SIZE * SIZE * 3, ((i % video.frames) + 1) * SIZE * SIZE * 3), [SIZE, SIZE, 3], 'float32');

    const runner = await PerceptionRunner.load();
    const time = async (f: (frame: tf.Tensor3D) => unknown | Promise<unknown>) => {
      const ms: number[] = [];
      for (let i = 0; i < n + 3; i++) {
        const frame = frameAt(i);
        const t0 = performance.now();
        const out = await f(frame);
        if (i >= 3) ms.push(performance.now() - t0); // three warm-up frames
        tf.dispose(out as tf.Tensor);
        frame.dispose();
      }
      return median(ms);
    };
    const box = { cx: 0.5, cy: 0.55, w: 0.4, h: 0.4 };
    const hands = runner.hands!; // loaded: no `hands: false` above
    const parts = {
      'objects + backbone (CenterNet, 512 px)': await time((f) => void runner.objects.run(f)),
      'backbone feature alone (224 px)': await time((f) => runner.objects.features(f.expandDims(0) as tf.Tensor4D)),
      'hand detector (handtrack)': await time((f) => hands.detect(f, 0.4)),
      'hand landmarks, one hand (224 px crop)': await time((f) => void hands.landmarksIn(f, box)),
    };
    // The same frame BACKBONE_BATCH times in one call, as the live stage batches fresh frames across streams.
    const batched = (await time((f) => tf.tidy(() => runner.objects.features(tf.stack(Array.from({ length: BACKBONE_BATCH }, () => f)) as tf.Tensor4D)))) / BACKBONE_BATCH;
    const stream = runner.newStream();
    const step = await time((f) => stream.step(f));
    for (const [k, v] of Object.entries(parts)) console.log(`${k.padEnd(40)} ${v.toFixed(1)} ms/frame (median of ${n})`);
    console.log(`${`backbone, ${BACKBONE_BATCH} frames a call (224 px)`.padEnd(40)} ${batched.toFixed(1)} ms/frame (median of ${n} calls)`);
    console.log(`${'one stream, tracked (objects every 3rd)'.padEnd(40)} ${step.toFixed(1)} ms/frame; hand detector ran on ${stream.handDetections} of ${n + 3} frames`);
    runner.dispose();

    // Streams held, perception on and off; the same 16 fps session as the pipeline bench.
    const labels = CATALOGUES.kitchenware.templates.map((t) => templateKey(t.template));
    // The detectors run on a window's new frames when it is scored, so a window of `stride` new
    // frames waits for all of them: the perception model runs at stride 1 (its live-settings.json).
    for (const [name, config, stride] of [
      ['perception on (hand–object model, detectors on every frame at 6 fps, stride 1)', parseModelConfig(PERCEPTION_SHAPE), 1],
      ['perception on, stride 4', parseModelConfig(PERCEPTION_SHAPE), 4],
      ['backbone model (the backbone on every frame at 6 fps, stride 1)', parseModelConfig(BACKBONE_SHAPE), 1],
      ['perception off (pixel-only default config, 16 frames at 12 fps, stride 4)', parseModelConfig({ ...defaultModelConfig, height: 48, width: 48 }), 4],
    ] as const) {
      const model = CountertopModel.create(config, [{ name: 'action', labels }], null);
      let best = 0;
      for (const k of [1, 2, 3, 4, 5, 6, 8, 10, 12, 16].filter((x) => x <= maxStreams)) {
        const engine = await ModelEngine.create(model);
        const t = await realtimeTrial(engine, sessionVideo, k, trialSeconds, stride);
        engine.dispose();
        const ok = t.p95 < 250 && t.drops === 0;
        console.log(`${name}: ${String(k).padStart(2)} streams: p50 ${t.p50.toFixed(0)} ms, p95 ${t.p95.toFixed(0)} ms, drops ${t.drops}, ${t.coresUsed.toFixed(2)} cores → ${ok ? 'holds' : 'FAILS'}`);
        if (!ok) break;
        best = k;
      }
      console.log(`${name}: most real-time streams held ${best}`);
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
