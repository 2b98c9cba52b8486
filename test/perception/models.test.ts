/**
 * The pretrained detectors load from the installed @vladmandic/human package on wasm with no
 * network, find a hand on a real clip (read from ../shared/real-clips, which CI has: evaluation
 * only, nothing of it is kept), free their tensors, and fail clearly on missing or damaged files.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeVideo } from '../../data/decode.js';
import { initBackend } from '../../model/backend.js';
import { humanModelsDir, loadPerceptionModel, PERCEPTION_MODELS } from '../../perception/modelFiles.js';
import { PerceptionRunner } from '../../perception/runner.js';
import { FramePerceptionStage } from '../../pipelines/framePerception.js';
import type { Frame } from '../../pipelines/types.js';

const REAL = path.resolve(__dirname, '../../../shared/real-clips/clips');
/** Two hands open a container, close to the camera (alexey-chaykin, Apache-2.0). */
const HANDS_CLIP = path.join(REAL, 'ac_open_container1.webm');
const haveReal = existsSync(HANDS_CLIP);
if (process.env.CI && !haveReal) throw new Error(`CI must have ${HANDS_CLIP} (../shared/real-clips)`);

let runner: PerceptionRunner;
let tmp: string;

beforeAll(async () => {
  await initBackend({ force: 'wasm', log: () => {} });
  // Nothing may come from the network: any fetch fails the load.
  vi.stubGlobal('fetch', () => Promise.reject(new Error('network used')));
  runner = await PerceptionRunner.load();
  tmp = await mkdtemp(path.join(tmpdir(), 'ct-perception-'));
}, 120_000);

afterAll(async () => {
  vi.unstubAllGlobals();
  runner?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('pretrained detectors', () => {
  it.skipIf(!haveReal)('find hands with keypoints on a real clip, inside the frame', async () => {
    const size = 256;
    const video = await decodeVideo(HANDS_CLIP, { width: size, height: size });
    const stream = runner.newStream({ detectEvery: 3 });
    let withHands = 0;
    const n = Math.min(12, video.frames);
    for (let i = 0; i < n; i++) {
      const t = tf.tensor3d(video.data.subarray(i * size * size * 3, (i + 1) * size * size * 3), [size, size, 3], 'int32');
      const state = await stream.step(t);
      t.dispose();
      if (state.hands.some((h) => h.keypoints)) withHands++;
      for (const h of state.hands) for (const v of [h.box.cx, h.box.cy]) expect(v).toBeGreaterThan(-0.1), expect(v).toBeLessThan(1.1);
    }
    expect(withHands).toBeGreaterThanOrEqual(n / 2);
    // Tracking: the hand detector ran on fewer frames than the landmark model.
    expect(stream.handDetections).toBeLessThan(n);
  }, 120_000);

  it('free their tensors: the tensor count stays flat over many frames', async () => {
    const stage = new FramePerceptionStage(runner, { objectEvery: 2, detectEvery: 2 });
    const frame = (seq: number): Frame => {
      const pixels = new Uint8Array(48 * 48 * 3).map((_, i) => (i * 7 + seq * 13) % 251);
      const detail = new Uint8Array(160 * 160 * 3).map((_, i) => (i * 3 + seq) % 253);
      return { streamId: 's', seq, capturedAt: 1000 + seq * 166, width: 48, height: 48, pixels, detail: { width: 160, height: 160, pixels: detail } };
    };
    await stage.perceive([frame(0), frame(1)]);
    const before = tf.memory().numTensors;
    for (let k = 2; k < 14; k += 2) await stage.perceive([frame(k), frame(k + 1)]);
    expect(tf.memory().numTensors).toBe(before);
    expect(stage.framesPerceived).toBe(14);
  }, 120_000);

  it('name the file when a model is missing or damaged', async () => {
    const src = humanModelsDir();
    const name = PERCEPTION_MODELS.handLandmarks;
    await expect(loadPerceptionModel(name, { dir: tmp })).rejects.toThrow(new RegExp(`${name}\\.json`));
    // Truncated weights.
    await copyFile(path.join(src, `${name}.json`), path.join(tmp, `${name}.json`));
    await copyFile(path.join(src, `${name}.bin`), path.join(tmp, `${name}.bin`));
    await truncate(path.join(tmp, `${name}.bin`), 1000);
    await expect(loadPerceptionModel(name, { dir: tmp })).rejects.toThrow(/weight files hold 1000 bytes/);
    // Not JSON.
    await writeFile(path.join(tmp, `${name}.json`), '{"modelTopology": ');
    await expect(loadPerceptionModel(name, { dir: tmp })).rejects.toThrow(new RegExp(`${name}\\.json: not a readable TensorFlow.js graph model`));
    // A weight path that tries to leave the folder.
    const json = JSON.parse(await readFile(path.join(src, `${name}.json`), 'utf8'));
    json.weightsManifest[0].paths = ['../../etc/passwd'];
    await writeFile(path.join(tmp, `${name}.json`), JSON.stringify(json));
    await expect(loadPerceptionModel(name, { dir: tmp })).rejects.toThrow(/plain names/);
  });
});

describe('the detectors in the live path', () => {
  it('stay bounded under overload: a stream read at full speed drops windows (counted), the pipeline completes and tensors stay flat', async () => {
    const { CountertopModel } = await import('../../model/index.js');
    const { parseModelConfig } = await import('../../model/config.js');
    const { ModelEngine } = await import('../../pipelines/modelEngine.js');
    const { InferenceStage } = await import('../../pipelines/inferenceStage.js');
    const { createLivePipeline } = await import('../../pipelines/livePipeline.js');
    const { openSource, decodeFormat } = await import('../../pipelines/sources/openSource.js');
    const { lastValueFrom, toArray } = await import('rxjs');
    const { makeVideo } = await import('../pipelines/tools.js');
    const config = parseModelConfig({ frames: 4, fps: 6, height: 32, width: 32, spatial: { features: 0 }, spatiotemporal: { features: 0 }, perception: { handObject: true, backbone: false, features: 8, coordinates: 'hand' }, encoder: { units: 8 } });
    const model = CountertopModel.create(config, [{ name: 'action', labels: ['a', 'No action'] }], null);
    const engine = await ModelEngine.create(model, { perception: { objectEvery: 3, detectEvery: 3 } });
    expect(engine.input.detailSize).toBe(256);
    const video = makeVideo(path.join(tmp, 'overload.webm'), { seconds: 6, fps: 16, size: '320x240' });
    const stage = new InferenceStage(engine, { maxBatch: 2, queueCapacity: 1 });
    const run = async () =>
      lastValueFrom(createLivePipeline(openSource({ kind: 'file', streamId: 'cam', path: video, pace: 'max' }, decodeFormat(engine.input)), stage, { stride: 1, statsIntervalMs: 0, captions: false }).pipe(toArray()));
    const first = await run();
    const before = tf.memory().numTensors;
    const second = await run();
    const predictions = second.filter((o) => o.type === 'prediction');
    expect(predictions.length).toBeGreaterThan(0);
    // Frames arrive far faster than the detectors run: the stage drops the oldest windows and counts them.
    expect(stage.dropsFor('cam')).toBeGreaterThan(0);
    expect(engine.perception!.framesPerceived).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(first.some((o) => o.type === 'prediction')).toBe(true);
    engine.dispose();
    model.dispose();
  }, 180_000);
});
