/**
 * WorkerEngine: the real model on its own thread, loaded from a real checkpoint, must answer
 * exactly as the in-thread ModelEngine, serve a live pipeline, and fail clearly.
 */
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint, type CountertopModel } from '../../model/index.js';
import { InferenceStage } from '../../pipelines/inferenceStage.js';
import { createLivePipeline } from '../../pipelines/livePipeline.js';
import { ModelEngine } from '../../pipelines/modelEngine.js';
import { openSource } from '../../pipelines/sources/openSource.js';
import type { Frame, FrameWindow } from '../../pipelines/types.js';
import { WorkerEngine } from '../../pipelines/workerEngine.js';
import { RestartingEngine } from '../../pipelines/restartingEngine.js';
import { smallModel } from './smallModel.js';
import { tempDir } from './tools.js';

const tmp = tempDir('worker');
let model: CountertopModel;
let checkpoint = '';
let engine: WorkerEngine;

beforeAll(async () => {
  model = await smallModel();
  checkpoint = path.join(tmp.dir, 'ckpt');
  await saveCheckpoint(checkpoint, model);
  engine = await WorkerEngine.start({ checkpoint });
});
afterAll(async () => {
  await engine?.close();
  tmp.remove();
});

function noise(streamId: string, seq: number): Frame {
  const pixels = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 13 + seq * 101 + ((i >> 5) * seq)) & 255);
  return { streamId, seq, capturedAt: seq, width: 32, height: 32, pixels };
}

describe('WorkerEngine (model on its own thread)', () => {
  it('answers exactly as the in-thread engine, across batches that share frames', async () => {
    expect(engine.input).toEqual(new ModelEngine(model).input);
    expect(engine.heads.map((h) => h.name)).toEqual(['action', 'group']);
    const local = new ModelEngine(model);
    const frames = Array.from({ length: 20 }, (_, i) => noise('s', i));
    const windows: FrameWindow[] = [];
    for (let end = 8; end <= 20; end += 2) windows.push({ streamId: 's', frames: frames.slice(end - 8, end), readyAt: 0 });
    const remote = [...(await engine.inferBatch(windows.slice(0, 3))), ...(await engine.inferBatch(windows.slice(3)))];
    const here = await local.inferBatch(windows);
    expect(remote).toHaveLength(windows.length);
    remote.forEach((r, i) => {
      r.probabilities.action!.forEach((p, k) => expect(Math.abs(p - here[i]!.probabilities.action![k]!)).toBeLessThan(1e-5));
      r.encoding.forEach((e, k) => expect(Math.abs(e - here[i]!.encoding[k]!)).toBeLessThan(1e-5));
    });
    expect(await engine.caption!(remote[0]!.encoding)).toBe(await local.caption!(here[0]!.encoding));
    local.dispose();
  });

  it('serves a live pipeline: every window of a generated stream comes back scored', async () => {
    const generate = function* () {
      for (let i = 0; i < 40; i++) yield noise('g', i);
    };
    const stage = new InferenceStage(engine, { queueCapacity: 64 });
    const outputs = await lastValueFrom(createLivePipeline(openSource({ kind: 'procedural', streamId: 'gen', generate }, engine.input), stage, { stride: 4, statsIntervalMs: 0 }).pipe(toArray()));
    const predictions = outputs.filter((o) => o.type === 'prediction');
    expect(predictions).toHaveLength(9); // windows of 8 ending at frames 8, 12, …, 40
    expect(stage.dropsFor('gen')).toBe(0);
  });

  it('refuses to start on a missing checkpoint, naming the problem', async () => {
    await expect(WorkerEngine.start({ checkpoint: path.join(tmp.dir, 'nope') })).rejects.toThrow(/inference worker could not start: .*(missing|not a checkpoint)/);
  });

  it('after close, calls fail instead of hanging', async () => {
    const other = await WorkerEngine.start({ checkpoint });
    await other.close();
    await expect(other.inferBatch([{ streamId: 'x', frames: Array.from({ length: 8 }, (_, i) => noise('x', i)), readyAt: 0 }])).rejects.toThrow(/closed/);
  });
});

describe('RestartingEngine (a worker that dies is replaced)', () => {
  const windowOf = (streamId: string, end: number): FrameWindow => ({ streamId, frames: Array.from({ length: 8 }, (_, i) => noise(streamId, end - 8 + i)), readyAt: 0 });
  /** What a crash or an OOM kill does: the thread is gone. Reaches into the engine on purpose. */
  const killWorker = (e: WorkerEngine) => (e as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
  /** Starts workers on the test checkpoint, keeping each in `started`. */
  const startTracked = (started: WorkerEngine[]) => async () => {
    const e = await WorkerEngine.start({ checkpoint });
    started.push(e);
    return e;
  };

  it('retries the batch that met a dead worker on a fresh one, with the same answers', async () => {
    const started: WorkerEngine[] = [];
    const restarts: string[] = [];
    const supervised = await RestartingEngine.start(
      startTracked(started),
      { onRestart: (reason, n) => restarts.push(`${n}: ${reason.message}`) },
    );
    try {
      const before = await supervised.inferBatch([windowOf('r', 8), windowOf('r', 10)]);
      const captionBefore = await supervised.caption!(before[0]!.encoding);
      await killWorker(started[0]!);
      expect(started[0]!.alive).toBe(false);
      // Concurrent calls that meet the dead worker share one restart.
      const [after, again] = await Promise.all([supervised.inferBatch([windowOf('r', 8), windowOf('r', 10)]), supervised.inferBatch([windowOf('q', 12)])]);
      expect(started).toHaveLength(2);
      expect(restarts).toEqual(['1: inference worker exited (1)']);
      after.forEach((r, i) => r.probabilities.action!.forEach((p, k) => expect(Math.abs(p - before[i]!.probabilities.action![k]!)).toBeLessThan(1e-5)));
      expect(again).toHaveLength(1);
      // The restarted worker decodes the same caption as the first one did.
      expect(await supervised.caption!(after[0]!.encoding)).toBe(captionBefore);
      expect(captionBefore.split(' ').filter(Boolean).length).toBeGreaterThan(0);
    } finally {
      await supervised.close();
    }
  });

  it('passes a model error on without restarting, and gives up after maxRestarts', async () => {
    const started: WorkerEngine[] = [];
    const supervised = await RestartingEngine.start(
      startTracked(started),
      { maxRestarts: 1 },
    );
    try {
      // A window of the wrong length is the model's error: the worker lives and is kept.
      await expect(supervised.inferBatch([{ ...windowOf('m', 8), frames: windowOf('m', 8).frames.slice(0, 3) }])).rejects.toThrow(/frames/);
      expect(started).toHaveLength(1);
      await killWorker(started[0]!);
      await expect(supervised.inferBatch([windowOf('m', 8)])).resolves.toHaveLength(1);
      await killWorker(started[1]!);
      await expect(supervised.inferBatch([windowOf('m', 8)])).rejects.toThrow(/died 2 times within 600 s; not restarting it again/);
      expect(started).toHaveLength(2);
    } finally {
      await supervised.close();
    }
  });
});
