/**
 * `npm run replay` end to end: a generated kitchen session (the data generator's session mode), a
 * small checkpoint saved and loaded through the real checkpoint format, and the CLI in its own
 * process. The printed and JSON figures must agree with each other and with a recomputation from
 * the predictions the run itself logged.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSession } from '../../data/session.js';
import { initBackend, saveCheckpoint } from '../../model/index.js';
import { untrainedKitchenModel } from '../../server/model.js';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import { repoRoot, SMALL_MODEL } from './harness.js';

const run = need(hasFfmpeg, 'ffmpeg');
const d = run ? describe : describe.skip;

function replay(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/replay.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 150_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface ReportJson {
  report: { frameAccuracy: number; scoredFrames: number; event: { f1: number; predicted: number }; predictions: number; latencyMs: { mean: number; p95: number } };
  observations: { fps: number; predictions: { t: number; label: string }[] };
  windowsDropped: number;
}

d('npm run replay', () => {
  let tmp: ReturnType<typeof tempDir>;
  let segments: readonly { start: number; end: number; template: string }[];
  const file = (name: string) => path.join(tmp.dir, name);

  beforeAll(async () => {
    tmp = tempDir('replay-cli');
    const session = await writeSession({ domain: 'kitchenware', seed: 'cli', actions: 3, width: 96, height: 96, fps: 8, dir: tmp.dir, name: 'session', codec: 'vp8' });
    segments = session.segments;
    await initBackend();
    await saveCheckpoint(file('ckpt'), untrainedKitchenModel(SMALL_MODEL, 3));
  });
  afterAll(() => tmp?.remove());

  it('scores a session and its printed, JSON and recomputed figures agree', () => {
    const r = replay(['--recording', file('session.webm'), '--annotations', file('session.json'), '--model', file('ckpt'), '--json', file('report.json')]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(file('report.json'), 'utf8')) as ReportJson;
    expect(j.windowsDropped).toBe(0); // max speed waits for the model instead of dropping
    expect(j.report.predictions).toBe(j.observations.predictions.length);
    expect(r.stdout).toContain(`frame accuracy   ${j.report.frameAccuracy.toFixed(3)} over ${j.report.scoredFrames} annotated frames`);
    expect(r.stdout).toContain(`event F1         ${j.report.event.f1.toFixed(3)}`);

    // Recompute frame accuracy by brute force from the logged predictions.
    const { fps, predictions } = j.observations;
    const norm = (s: string) => s.replace(/\[|\]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
    let frames = 0;
    let correct = 0;
    for (const s of segments) {
      for (let i = Math.ceil(s.start * fps - 1e-9); i / fps < s.end - 1e-9; i++) {
        frames++;
        let best = predictions[0]!;
        for (const p of predictions) if (Math.abs(p.t - i / fps) < Math.abs(best.t - i / fps)) best = p;
        if (norm(best.label) === norm(s.template)) correct++;
      }
    }
    expect(j.report.scoredFrames).toBe(frames);
    expect(j.report.frameAccuracy).toBeCloseTo(correct / frames, 10);
    // Windows cover the whole session: the last window's centre is within a window of the end.
    const duration = segments.at(-1)!.end;
    expect(predictions.at(-1)!.t).toBeGreaterThan(duration - 16 / 8);
  });

  it('bad input fails with a message that names the problem', () => {
    const missing = replay(['--recording', file('nope.webm'), '--annotations', file('session.json')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no such recording/);
    writeFileSync(file('bad.json'), JSON.stringify({ segments: [{ start: 2, end: 1, template: 'x' }] }));
    const bad = replay(['--recording', file('session.webm'), '--annotations', file('bad.json')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/bad\.json.*end after/);
    const speed = replay(['--recording', file('session.webm'), '--annotations', file('session.json'), '--speed', 'warp']);
    expect(speed.code).not.toBe(0);
    expect(speed.stderr).toMatch(/realtime, max/);
  });
});
