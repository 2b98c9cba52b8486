/**
 * The shipped models load, are small, and score what their cards say: the default model on a
 * kitchenware set generated here with a seed it has never seen (the evaluation is deterministic,
 * so the figures are pinned close to what it scores and a regression shows), and on the bundled
 * demo it calls the idle gaps "No action"; the real-camera model reads the detectors; the
 * pretrained-features model reads the frozen COCO backbone and has no encoder weights of its own.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_ACTION } from '../../data/catalogue/types.js';
import { readPredictions } from '../../training/predictions.js';
import { ROOT, runCli } from './harness.js';

const MODEL = path.join(ROOT, 'assets', 'model', 'default');
const REAL_CAMERA = path.join(ROOT, 'assets', 'model', 'real-camera');
const PRETRAINED_FEATURES = path.join(ROOT, 'assets', 'model', 'pretrained-features');
const DEMO = path.join(ROOT, 'assets', 'demo');
const work = mkdtempSync(path.join(tmpdir(), 'countertop-default-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sizeOf = (dir: string) => readdirSync(dir).reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);

/** Measured when the models were shipped (docs/TRAINING.md model card); a small margin for float differences between machines. */
const PINNED = { defaultTop1: 55, idleShare: 17 / 84, idleClipShare: 8 / 9, realCameraTop1: 41, pretrainedFeaturesTop1: 40 };

describe('shipped models', () => {
  const data = path.join(work, 'kitchenware');
  /** Top-1 hits of a model on the 69 fresh clips the first test makes (npm run train --evaluate). */
  const top1Hits = async (model: string, name: string): Promise<number> => {
    const out = path.join(work, name);
    await runCli('scripts/train.ts', ['--evaluate', model, '--data', data, '--out', out]);
    const preds = readPredictions(path.join(out, 'predictions.jsonl'));
    expect(preds).toHaveLength(69);
    return preds.filter((p) => p.ranked[0] === p.label).length;
  };

  it('the default model is under 20 MB and scores its pinned accuracy on fresh kitchenware clips', async () => {
    expect(sizeOf(MODEL)).toBeLessThan(20 * 1024 * 1024);
    // 3 clips per class; a seed no training or held-out set used (41, 42, 43).
    await runCli('scripts/data-make.ts', ['--domain', 'kitchenware', '--count', '69', '--out', data, '--seed', '4711', '--width', '64', '--height', '64']);
    const out = path.join(work, 'eval');
    await runCli('scripts/train.ts', ['--evaluate', MODEL, '--data', data, '--out', out]);
    const preds = readPredictions(path.join(out, 'predictions.jsonl'));
    expect(preds).toHaveLength(69);
    const classes = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).classification.classes as number;
    expect(classes).toBe(23);
    const hits = preds.filter((p) => p.ranked[0] === p.label).length;
    expect(hits).toBeGreaterThanOrEqual(PINNED.defaultTop1 - 3);
  }, 600_000);

  it('the default model calls the idle gaps of the bundled demo "No action"', async () => {
    const out = path.join(work, 'demo.json');
    await runCli('scripts/replay.ts', ['--recording', path.join(DEMO, 'kitchen-session.webm'), '--annotations', path.join(DEMO, 'kitchen-session.json'), '--speed', 'max', '--json', out]);
    const run = JSON.parse(readFileSync(out, 'utf8')) as { observations: { predictions: { t: number; label: string }[] } };
    const segments = (JSON.parse(readFileSync(path.join(DEMO, 'kitchen-session.json'), 'utf8')) as { segments: { start: number; end: number; label: string; caption: string }[] }).segments;
    const idle = segments.filter((s) => s.label === NO_ACTION);
    expect(idle.length).toBeGreaterThan(5);
    const inIdle = run.observations.predictions.filter((p) => idle.some((s) => p.t >= s.start && p.t < s.end));
    expect(inIdle.length).toBeGreaterThan(10);
    const share = inIdle.filter((p) => p.label === NO_ACTION).length / inIdle.length;
    expect(share).toBeGreaterThanOrEqual(PINNED.idleShare - 0.1);
    // The gaps are short (0.6–1.6 s, under a 1.3 s window plus the action before it); the drawn idle clip is not.
    const clip = segments.find((s) => s.label === NO_ACTION && s.caption !== '')!;
    const inClip = run.observations.predictions.filter((p) => p.t >= clip.start && p.t < clip.end);
    expect(inClip.length).toBeGreaterThanOrEqual(5);
    expect(inClip.filter((p) => p.label === NO_ACTION).length / inClip.length).toBeGreaterThanOrEqual(PINNED.idleClipShare - 0.15);
  }, 600_000);

  it('the real-camera model is small and reads the detectors (scored on states simulated from the scenes)', async () => {
    expect(sizeOf(REAL_CAMERA)).toBeLessThan(5 * 1024 * 1024);
    expect(await top1Hits(REAL_CAMERA, 'eval-real-camera')).toBeGreaterThanOrEqual(PINNED.realCameraTop1 - 3);
  }, 600_000);

  it('the pretrained-features model has no encoder weights and reads the backbone measured on the fly', async () => {
    const manifest = JSON.parse(readFileSync(path.join(PRETRAINED_FEATURES, 'manifest.json'), 'utf8')) as { config: { encoder: { kind: string }; perception: { backbone: boolean; projection: string } } };
    expect(manifest.config.encoder.kind).toBe('pool');
    expect(manifest.config.perception).toMatchObject({ backbone: true, projection: 'none' });
    expect(sizeOf(PRETRAINED_FEATURES)).toBeLessThan(5 * 1024 * 1024);
    expect(await top1Hits(PRETRAINED_FEATURES, 'eval-pretrained-features')).toBeGreaterThanOrEqual(PINNED.pretrainedFeaturesTop1 - 3);
  }, 600_000);
});
