/**
 * The live settings object (pipelines/liveSettings.ts): its defaults are the values the code had
 * before, a written file reads back as written, a bad file is refused naming it, and replay and
 * tune really use the file next to the checkpoint (the number of windows follows its stride).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ACTION } from '../../data/catalogue/types.js';
import { initBackend, saveCheckpoint } from '../../model/index.js';
import { defaultSegmenterOptions } from '../../pipelines/actionSegmenter.js';
import {
  defaultLiveSettings,
  LIVE_SETTINGS_FILE,
  LiveSettingsError,
  loadLiveSettings,
  resolveLiveSettings,
  writeLiveSettings,
  type LiveSettings,
} from '../../pipelines/liveSettings.js';
import { defaultSmoothing } from '../../pipelines/scoreSmoother.js';
import { untrainedKitchenModel } from '../../server/model.js';
import { repoRoot, SMALL_MODEL } from '../server/harness.js';
import { hasFfmpeg, makeVideo, need, tempDir } from './tools.js';

const custom: LiveSettings = {
  stride: 5,
  smoothing: { method: 'mean', windows: 3 },
  segmenter: { startThreshold: 0.6, endThreshold: 0.2, minStartWindows: 2, minEndWindows: 2, ignoreLabels: [NO_ACTION, 'idle'] },
  captions: { intervalMs: 2500 },
  maxFrameGapMs: 800,
};

describe('live settings', () => {
  const tmp = tempDir('live-settings');
  afterAll(() => tmp.remove());
  let n = 0;
  /** A fresh folder, with `content` as its live-settings.json when given. */
  const folder = (content?: string): string => {
    const dir = path.join(tmp.dir, `ckpt${++n}`);
    mkdirSync(dir);
    if (content !== undefined) writeFileSync(path.join(dir, LIVE_SETTINGS_FILE), content);
    return dir;
  };

  it('defaults are the values the pipeline, segmenter and smoother had as constants', () => {
    expect(defaultLiveSettings).toEqual({
      stride: 4,
      smoothing: { method: 'ema', alpha: 0.3 },
      segmenter: { startThreshold: 0.5, endThreshold: 0.4, minStartWindows: 3, minEndWindows: 1, ignoreLabels: ['No action'] },
      captions: { intervalMs: 4000 },
      maxFrameGapMs: 1000,
    });
    // The standalone defaults are read from the same object, not written twice.
    expect(defaultSmoothing).toBe(defaultLiveSettings.smoothing);
    expect(defaultSegmenterOptions).toEqual({ head: 'action', ...defaultLiveSettings.segmenter, maxGapMs: Number.POSITIVE_INFINITY });
  });

  it('no file (or no checkpoint) gives the defaults and says so', () => {
    const dir = folder();
    expect(loadLiveSettings(dir)).toEqual({ settings: defaultLiveSettings, source: 'defaults', file: path.join(dir, LIVE_SETTINGS_FILE) });
    expect(loadLiveSettings(undefined)).toEqual({ settings: defaultLiveSettings, source: 'defaults' });
  });

  it('a written file round-trips, provenance included, and says whether it replaced one', () => {
    const dir = folder();
    const first = writeLiveSettings(dir, custom, { recording: 'a.webm', objective: 0.61 });
    expect(first).toMatchObject({ file: path.join(dir, LIVE_SETTINGS_FILE), replaced: false });
    expect(readFileSync(first.file, 'utf8')).toBe(first.text);
    expect(loadLiveSettings(dir)).toEqual({ settings: custom, source: 'file', file: first.file, tuned: { recording: 'a.webm', objective: 0.61 } });
    expect(writeLiveSettings(dir, defaultLiveSettings).replaced).toBe(true);
    expect(loadLiveSettings(dir).settings).toEqual(defaultLiveSettings);
  });

  it('a partial file is merged over the defaults, segmenter and captions field by field', () => {
    const dir = folder(JSON.stringify({ stride: 2, segmenter: { startThreshold: 0.7 } }));
    const { settings, source } = loadLiveSettings(dir);
    expect(source).toBe('file');
    expect(settings).toEqual({ ...defaultLiveSettings, stride: 2, segmenter: { ...defaultLiveSettings.segmenter, startThreshold: 0.7 } });
  });

  it.each([
    ['not JSON', '{ stride: 4', /is not valid JSON/],
    ['a misspelt key', JSON.stringify({ segmenter: { startTreshold: 0.5 } }), /startTreshold/],
    ['an unknown top-level key', JSON.stringify({ strides: 2 }), /strides/],
    ['stride 0', JSON.stringify({ stride: 0 }), /stride/],
    ['a fractional stride', JSON.stringify({ stride: 2.5 }), /stride/],
    ['an unknown smoothing', JSON.stringify({ smoothing: { method: 'median', windows: 3 } }), /smoothing/],
    ['EMA alpha 0', JSON.stringify({ smoothing: { method: 'ema', alpha: 0 } }), /alpha/],
    ['end above start after the merge', JSON.stringify({ segmenter: { endThreshold: 0.45, startThreshold: 0.42 } }), /endThreshold must not exceed/],
    ['end above the default start', JSON.stringify({ segmenter: { endThreshold: 0.9 } }), /endThreshold must not exceed/],
    ['a threshold above 1', JSON.stringify({ segmenter: { startThreshold: 1.5, endThreshold: 0.4 } }), /startThreshold/],
    ['a negative gap', JSON.stringify({ maxFrameGapMs: -1 }), /maxFrameGapMs/],
    ['an array', '[]', /expected object/i],
  ])('refuses %s with a message naming the file', (_, content, problem) => {
    const dir = folder(content);
    const file = path.join(dir, LIVE_SETTINGS_FILE);
    let error: unknown;
    try {
      loadLiveSettings(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LiveSettingsError);
    expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).not.toContain('\n');
  });

  it('a folder in place of the file is an error naming it, not the defaults', () => {
    const dir = folder();
    mkdirSync(path.join(dir, LIVE_SETTINGS_FILE));
    expect(() => loadLiveSettings(dir)).toThrow(`${path.join(dir, LIVE_SETTINGS_FILE)}: cannot be read (EISDIR)`);
  });

  it('refuses to write invalid settings, and pipeline options are validated the same way', () => {
    const dir = folder();
    expect(() => writeLiveSettings(dir, { ...custom, stride: 0 })).toThrow(LiveSettingsError);
    expect(() => loadLiveSettings(dir)).not.toThrow();
    expect(loadLiveSettings(dir).source).toBe('defaults'); // nothing was written
    expect(() => resolveLiveSettings({ segmenter: { endThreshold: 0.6 } })).toThrow(/endThreshold must not exceed/);
  });
});

function cli(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', script), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 150_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('replay and tune read (and tune writes) the live settings next to the checkpoint', () => {
  const tmp = tempDir('live-settings-cli');
  const file = (name: string) => path.join(tmp.dir, name);
  const ckpt = file('ckpt');
  const settingsFile = path.join(ckpt, LIVE_SETTINGS_FILE);
  beforeAll(async () => {
    makeVideo(file('clip.webm'), { seconds: 3, fps: SMALL_MODEL.fps, size: '64x64' });
    writeFileSync(file('clip.json'), JSON.stringify([{ start: 0, end: 3, template: 'Shaking [something]' }]));
    await initBackend({ log: () => {} });
    await saveCheckpoint(ckpt, untrainedKitchenModel(SMALL_MODEL, 3));
  });
  afterAll(() => tmp.remove());

  const windowsOf = (stdout: string, stride: number) => {
    const frames = Number(/\((?:[\d.]+) s, (\d+) frames/.exec(stdout)?.[1]);
    const scored = Number(/windows +(\d+) scored/.exec(stdout)?.[1]);
    return { scored, expected: Math.floor((frames - SMALL_MODEL.frames) / stride) + 1 };
  };

  it("replay cuts windows at the file's stride, and says where its settings came from", () => {
    writeFileSync(settingsFile, JSON.stringify({ stride: 5 }));
    const r = cli('replay.ts', ['--recording', file('clip.webm'), '--annotations', file('clip.json'), '--model', ckpt]);
    expect(r.code, r.stderr).toBe(0);
    const { scored, expected } = windowsOf(r.stdout, 5);
    expect(scored).toBe(expected);
    expect(scored).not.toBe(windowsOf(r.stdout, defaultLiveSettings.stride).expected); // the stride made a difference
    expect(r.stdout).toContain(`live settings    stride 5, EMA α=0.3`);
    expect(r.stdout).toContain(settingsFile);
  });

  it('replay refuses a bad file before the model loads: one line naming it, exit 2', () => {
    writeFileSync(settingsFile, JSON.stringify({ stride: 'four' }));
    const r = cli('replay.ts', ['--recording', file('clip.webm'), '--annotations', file('clip.json'), '--model', ckpt]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`error: ${settingsFile}: `);
    expect(lines[0]).toMatch(/stride/);
  });

  it('tune starts from the file, writes only with --write, and says when it replaced one', () => {
    writeFileSync(settingsFile, JSON.stringify({ stride: 3, captions: { intervalMs: 1500 } }));
    const args = ['--recording', file('clip.webm'), '--annotations', file('clip.json'), '--model', ckpt, '--top', '1'];
    const dry = cli('tune.ts', args);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/ windows of .* at stride 3, /);
    expect(dry.stdout).toContain(`current (${settingsFile}: `);
    expect(dry.stdout).toContain(`not written; --write would save #1 to ${settingsFile}, replacing the one there`);
    expect(JSON.parse(readFileSync(settingsFile, 'utf8'))).toEqual({ stride: 3, captions: { intervalMs: 1500 } }); // untouched

    const wet = cli('tune.ts', [...args, '--write']);
    expect(wet.code, wet.stderr).toBe(0);
    expect(wet.stdout).toContain(`wrote ${settingsFile} (replaced the previous file): stride 3, `);
    const loaded = loadLiveSettings(ckpt);
    expect(loaded.source).toBe('file');
    // What tune did not search is kept from the file it started from.
    expect([loaded.settings.stride, loaded.settings.captions, loaded.settings.segmenter.ignoreLabels]).toEqual([3, { intervalMs: 1500 }, [NO_ACTION]]);
    expect(loaded.tuned).toMatchObject({ by: 'npm run tune', recording: file('clip.webm'), fps: SMALL_MODEL.fps, frames: SMALL_MODEL.frames });
    // It printed what it wrote.
    expect(wet.stdout).toContain(readFileSync(settingsFile, 'utf8'));
  });
});
