/**
 * Kill-and-resume: a training process killed (SIGKILL) mid-epoch and resumed with --resume must
 * reach the same step count, the same per-step losses and bit-identical final weights and Adam
 * state as an uninterrupted run with the same seed. Dropout is on, so this also checks that the
 * dropout random stream is restored, not restarted.
 *
 * The one source of nondeterminism found: the decoder occasionally fails on a clip under load
 * ("Output stream closed"), and the loader skips that clip, which changes a batch. The trainer
 * therefore decodes every clip into the clip cache first, retrying failures (ClipData.warm).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../../training/metrics-log.js';
import { TINY_CONFIG, makeTinyData, runCli, startCli } from './harness.js';

const work = mkdtempSync(path.join(tmpdir(), 'countertop-resume-'));
let source: string;

beforeAll(async () => {
  ({ source } = await makeTinyData(work, ['something']));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const trainArgs = (out: string) => [
  '--data', source, '--task', 'simplified', '--lambda', '0.5', '--epochs', '2', '--batch-size', '4', '--seed', '11',
  '--config', TINY_CONFIG.replace('"dropout":0.1', '"dropout":0.3'), '--checkpoint-every', '1', '--out', out, '--no-progress',
];

function trainSteps(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"kind":"train"')).length;
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kill and resume', () => {
  it('continues a killed run to the same weights as an uninterrupted one', async () => {
    const whole = path.join(work, 'whole');
    const killed = path.join(work, 'killed');
    await runCli('scripts/train.ts', trainArgs(whole));
    const wholeSteps = JSON.parse(readFileSync(path.join(whole, 'report.json'), 'utf8')).steps as number;
    const perEpoch = wholeSteps / 2;
    expect(perEpoch).toBeGreaterThan(4);

    // Kill inside the first epoch, after a few steps.
    const { child, done } = startCli('scripts/train.ts', trainArgs(killed));
    const killAt = 3;
    await waitFor(() => trainSteps(path.join(killed, 'metrics.jsonl')) >= killAt, `${killAt} logged steps`);
    child.kill('SIGKILL');
    const killedResult = await done;
    expect(killedResult.code).toBeNull(); // died from the signal, did not finish
    expect(existsSync(path.join(killed, 'report.json'))).toBe(false);
    const saved = JSON.parse(readFileSync(path.join(killed, 'checkpoint', 'manifest.json'), 'utf8'));
    const savedStep = JSON.stringify(saved).match(/"step":(\d+)/)![1];
    expect(Number(savedStep)).toBeGreaterThanOrEqual(killAt - 1);
    expect(Number(savedStep)).toBeLessThan(perEpoch);

    const resumed = await runCli('scripts/train.ts', [...trainArgs(killed), '--resume']);
    expect(resumed.stderr).toMatch(/resuming .* at step \d+ \(epoch 1, batch \d+\)/);
    expect(JSON.parse(readFileSync(path.join(killed, 'report.json'), 'utf8')).steps).toBe(wholeSteps);

    // Same per-step losses (the log of the redone steps was truncated, not duplicated) …
    const losses = (dir: string) => readMetrics(path.join(dir, 'metrics.jsonl')).filter((m) => m.kind === 'train').map((m) => [m.step, (m as { loss: number }).loss]);
    expect(losses(killed)).toEqual(losses(whole));
    // … and bit-identical weights and optimiser state.
    for (const file of ['weights.bin', 'optimizer.bin']) {
      expect(readFileSync(path.join(killed, 'checkpoint', file)).equals(readFileSync(path.join(whole, 'checkpoint', file))), file).toBe(true);
    }
  });

  it('refuses to resume with different options and to overwrite a run without --resume', async () => {
    const whole = path.join(work, 'whole');
    await expect(runCli('scripts/train.ts', [...trainArgs(whole).map((a) => (a === '11' ? '12' : a)), '--resume'])).rejects.toThrow(/different options/);
    await expect(runCli('scripts/train.ts', trainArgs(whole))).rejects.toThrow(/already holds a checkpoint/);
  });
});
