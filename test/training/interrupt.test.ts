/**
 * Ctrl-C during `npm run train` saves a checkpoint at the end of the current step and prints the
 * command that resumes it; `--resume` with nothing to resume says so (exit 2) instead of silently
 * starting over. The interrupt goes to the whole process group, as a terminal's Ctrl-C does.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSV2_FILES } from '../../data/layout.js';
import { ROOT, TINY_CONFIG, makeTinyData, runCli, type CliResult } from './harness.js';

const work = mkdtempSync(path.join(tmpdir(), 'countertop-interrupt-'));
let source: string;

beforeAll(async () => {
  ({ source } = await makeTinyData(work, ['something']));
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const trainArgs = (out: string) => ['--data', source, '--task', 'actions', '--epochs', '2', '--batch-size', '4', '--seed', '5', '--config', TINY_CONFIG, '--out', out, '--no-progress'];

const steps = (out: string) => {
  const file = path.join(out, 'metrics.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"kind":"train"')).length : 0;
};

describe('Ctrl-C and --resume', () => {
  it('--resume with no checkpoint is refused with exit 2 and writes nothing', async () => {
    const out = path.join(work, 'never-started');
    const r = await runCli('scripts/train.ts', [...trainArgs(out), '--resume']).then(
      () => ({ code: 0, stderr: '' }),
      (e: Error) => ({ code: Number(/exited (\d+)/.exec(e.message)?.[1]), stderr: e.message }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`train: nothing to resume: ${out} has no checkpoint (${path.join(out, 'checkpoint', 'manifest.json')} is missing); run without --resume to start a new run there`);
    expect(existsSync(out)).toBe(false);
  });

  it('saves a checkpoint at the end of the current step, says how to resume, and the resumed run finishes', async () => {
    const out = path.join(work, 'interrupted');
    const train = JSON.parse(readFileSync(path.join(source, SSV2_FILES.train), 'utf8')) as unknown[];
    const perEpoch = Math.ceil(train.length / 4);
    expect(perEpoch).toBeGreaterThan(4);
    // No --checkpoint-every: before this, nothing was saved until the end of the first epoch.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/train.ts'), ...trainArgs(out)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.resume();
    const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr })));
    for (let i = 0; i < 6000 && steps(out) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(steps(out)).toBeGreaterThanOrEqual(2);
    process.kill(-child.pid!, 'SIGINT');
    const r = await done;
    expect([r.code, r.signal], r.stderr).toEqual([130, null]);
    const saved = JSON.parse(readFileSync(path.join(out, 'checkpoint', 'manifest.json'), 'utf8'));
    const step = Number(JSON.stringify(saved).match(/"step":(\d+)/)![1]);
    expect(step).toBe(steps(out)); // the step that was running when Ctrl-C came, finished and saved
    expect(step).toBeLessThan(perEpoch);
    expect(r.stderr).toContain(`train: interrupted after step ${step}; checkpoint saved in ${path.join(out, 'checkpoint')} (it resumes at epoch 1, batch ${step})`);
    const hint = r.stderr.split('\n').find((l) => l.startsWith('resume with: '))!;
    expect(hint).toBe(`resume with: npm run train -- ${trainArgs(out).map((a) => (a === TINY_CONFIG ? `'${a}'` : a)).join(' ')} --resume`);
    expect(existsSync(path.join(out, 'report.json'))).toBe(false);

    const resumed = await runCli('scripts/train.ts', [...trainArgs(out), '--resume']);
    expect(resumed.stderr).toMatch(new RegExp(`resuming .* at step ${step} \\(epoch 1, batch ${step}\\)`));
    expect(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).steps).toBe(2 * perEpoch);
  }, 600_000);
});
