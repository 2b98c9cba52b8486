/**
 * createLivePipeline's wiring with a deterministic engine: every window gives one prediction, a
 * confident label opens an action that the stream's end closes (without a duplicate prediction),
 * the caption comes from the action start, and status/stats frame the run.
 */
import { from, lastValueFrom, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { InferenceEngine, WindowInference } from '../../pipelines/engine.js';
import { InferenceStage } from '../../pipelines/inferenceStage.js';
import { createLivePipeline } from '../../pipelines/livePipeline.js';
import type { Frame, FrameWindow, LiveSource, PipelineOutput } from '../../pipelines/types.js';

/** Says "stir" (index 0) with 0.9 while frames are bright, "idle" otherwise. */
class BrightnessEngine implements InferenceEngine {
  readonly input = { frames: 4, width: 2, height: 2, fps: 10 };
  readonly heads = [{ name: 'action', labels: ['stir', 'idle'] }];
  captions = 0;
  async inferBatch(windows: readonly FrameWindow[]): Promise<WindowInference[]> {
    return windows.map((w) => {
      const bright = w.frames.at(-1)!.pixels[0]! > 128;
      return { probabilities: { action: Float32Array.of(bright ? 0.9 : 0.05, bright ? 0.1 : 0.95) }, encoding: Float32Array.of(bright ? 1 : 0) };
    });
  }
  async caption(encoding: Float32Array): Promise<string> {
    this.captions++;
    return encoding[0] ? 'someone stirs a pot' : 'nothing happens';
  }
}

function frames(n: number, bright: (i: number) => boolean): Frame[] {
  return Array.from({ length: n }, (_, seq) => ({ streamId: 'w', seq, capturedAt: 1000 + seq * 100, width: 2, height: 2, pixels: new Uint8Array(12).fill(bright(seq) ? 200 : 10) }));
}

const run = (source: LiveSource, engine = new BrightnessEngine()) =>
  // A synchronous source delivers every window at once: a deep queue keeps them all.
  lastValueFrom(createLivePipeline(source, new InferenceStage(engine, { queueCapacity: 100 }), { stride: 2, smoothing: { method: 'ema', alpha: 1 }, segmenter: { ignoreLabels: ['idle'] }, captions: { intervalMs: 60_000 }, statsIntervalMs: 60_000 }).pipe(toArray()));

describe('createLivePipeline wiring', () => {
  it('one prediction per window; an action open at the end is closed once; the caption follows the action start', async () => {
    // 20 frames, bright from frame 8: windows of 4 every 2 frames → 9 windows.
    const outputs = await run({ streamId: 'w', frames: from(frames(20, (i) => i >= 8)), frameRate: 10 });
    const types = outputs.map((o) => o.type);
    expect(types.filter((t) => t === 'prediction')).toHaveLength(9);
    const actions = outputs.filter((o): o is Extract<PipelineOutput, { type: 'action' }> => o.type === 'action').map((o) => o.event);
    expect(actions.map((a) => `${a.kind}:${a.label}`)).toEqual(['start:stir', 'end:stir']);
    expect(actions[1]!.end).toBe(1000 + 19 * 100);
    expect(actions[1]!.confidence).toBeCloseTo(0.9, 5);
    const captions = outputs.filter((o): o is Extract<PipelineOutput, { type: 'caption' }> => o.type === 'caption').map((o) => o.event);
    expect(captions.map((c) => `${c.reason}:${c.text}`)).toEqual(['interval:nothing happens', 'action-changed:someone stirs a pot']);
    expect(outputs.filter((o) => o.type === 'status').map((o) => (o as Extract<PipelineOutput, { type: 'status' }>).status.state)).toEqual(['connecting', 'live', 'ended']);
    expect(types.at(-1)).toBe('stats');
    const stats = (outputs.at(-1) as Extract<PipelineOutput, { type: 'stats' }>).stats;
    expect([stats.windows, stats.drops]).toEqual([9, 0]);
  });

  it('a failing source ends the output with a failed status carrying the reason, not an error', async () => {
    const failing: LiveSource = {
      streamId: 'w',
      frames: new Observable<Frame>((s) => {
        frames(5, () => true).forEach((f) => s.next(f));
        s.error(new Error('camera unplugged'));
      }),
      frameRate: 10,
    };
    const outputs = await run(failing);
    const statuses = outputs.filter((o): o is Extract<PipelineOutput, { type: 'status' }> => o.type === 'status').map((o) => o.status);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'live', 'failed']);
    expect(statuses.at(-1)!.detail).toBe('camera unplugged');
    expect(outputs.filter((o) => o.type === 'prediction')).toHaveLength(1);
  });

  it('rejects a segmenter head the model does not have', () => {
    expect(() => createLivePipeline({ streamId: 'w', frames: from([]) }, new InferenceStage(new BrightnessEngine()), { segmenter: { head: 'verb' } })).toThrow(/segmenter head "verb" is not a model head \(action\)/);
  });
});
