/**
 * `npm run tune`'s shortcut must be exact: replaying stored window scores through the pipeline's
 * smoother and segmenter (eval/tune.ts) gives the same figures as running the whole recording
 * through the live pipeline with that setting (`runReplay`). Checked with the bundled default model
 * on a generated kitchen session, so that there are real action events to compare.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSession } from '../../data/session.js';
import { runReplay } from '../../eval/replay-run.js';
import type { AnnotatedSegment } from '../../eval/replay.js';
import { recordingWindows, scoreSettings, settingsGrid, type RecordedWindows } from '../../eval/tune.js';
import { initBackend, loadCheckpoint } from '../../model/index.js';
import { defaultLiveSettings, ModelEngine, type LiveSettings } from '../../pipelines/index.js';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import { repoRoot } from './harness.js';

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('tuning the live settings on stored window scores', () => {
  const tmp = tempDir('tune');
  let engine: ModelEngine;
  let video: string;
  let annotations: AnnotatedSegment[];
  let recorded: RecordedWindows;

  beforeAll(async () => {
    await initBackend({ log: () => {} });
    engine = new ModelEngine((await loadCheckpoint(path.join(repoRoot, 'assets/model/default'))).model);
    const { fps, width, height } = engine.input;
    const session = await writeSession({ domain: 'kitchenware', seed: 'tune-test', actions: 5, width: width * 2, height: height * 2, fps, dir: tmp.dir, name: 'session', codec: 'vp8' });
    video = path.join(tmp.dir, 'session.webm');
    annotations = [...session.segments];
    recorded = await recordingWindows(video, engine, defaultLiveSettings);
  });
  afterAll(() => {
    engine?.dispose();
    tmp.remove();
  });

  it('scores a setting exactly as a full replay through the live pipeline does', async () => {
    const base = defaultLiveSettings;
    const grid = settingsGrid(base);
    const picks: LiveSettings[] = [
      { ...base, smoothing: { method: 'ema', alpha: 0.5 }, segmenter: { ...base.segmenter, startThreshold: 0.5, endThreshold: 0.3, minStartWindows: 2, minEndWindows: 2 } },
      grid.find((s) => s.smoothing.method === 'mean' && s.segmenter.minStartWindows === 1)!,
      grid.at(-1)!,
    ];
    let events = 0;
    for (const settings of picks) {
      const fast = await scoreSettings(recorded, annotations, settings);
      const full = (await runReplay({ video, annotations, engine, pace: 'max', pipeline: { ...settings, captions: false } })).report;
      expect([fast.frameAccuracy, fast.scoredFrames, fast.event, fast.predictions]).toEqual([full.frameAccuracy, full.scoredFrames, full.event, full.predictions]);
      events += fast.event.predicted;
    }
    expect(events).toBeGreaterThan(0); // the comparison covered real action events
  });

  it('searches every smoothing × threshold × streak combination, end never above start, keeping the rest of the base', () => {
    const base: LiveSettings = { ...defaultLiveSettings, stride: 3, segmenter: { ...defaultLiveSettings.segmenter, ignoreLabels: ['idle'] } };
    const grid = settingsGrid(base);
    expect(grid).toHaveLength(9 * 17 * 9);
    for (const s of grid) {
      expect(s.segmenter.endThreshold).toBeLessThanOrEqual(s.segmenter.startThreshold);
      expect([s.stride, s.segmenter.ignoreLabels, s.captions, s.maxFrameGapMs]).toEqual([3, ['idle'], base.captions, base.maxFrameGapMs]);
    }
  });

  it('refuses to score settings at another stride than the windows were cut at', async () => {
    await expect(scoreSettings(recorded, annotations, { ...defaultLiveSettings, stride: 2 })).rejects.toThrow(/stride 2 .* stride 4/);
  });
});
