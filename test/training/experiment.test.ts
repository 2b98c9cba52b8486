import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCALES, planRuns } from '../../training/experiment/plan.js';
import { scaleSection, stat } from '../../training/experiment/report.js';
import type { RunResult } from '../../training/experiment/results.js';
import { runStudy } from '../../training/experiment/runner.js';
import { learningRateAt } from '../../training/schedule.js';
import { SeededRandom } from '../../training/rng.js';
import { effectiveLambda } from '../../training/tasks.js';

const work = mkdtempSync(path.join(tmpdir(), 'countertop-exp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const result = (key: string, top1: number, extra: Partial<RunResult> = {}): RunResult => {
  const [kind, task, l, s] = key.split('/');
  return { key, kind: kind as RunResult['kind'], task, lambda: Number(l.slice(1)), seed: Number(s.slice(1)), finishedAt: '2026-01-01T00:00:00Z', seconds: 1, steps: 1, top1, top5: 1, classes: 6, testClips: 6, ...extra };
};

describe('experiment plan and report', () => {
  it('plans every granularity and λ per seed, each source followed by its transfer', () => {
    const runs = planRuns(SCALES.tiny, [1, 2, 3]);
    expect(runs).toHaveLength(3 * 13);
    expect(new Set(runs.map((r) => r.key)).size).toBe(runs.length);
    const keys = runs.filter((r) => r.seed === 1).map((r) => r.key);
    expect(keys).toContain('source/groups/l1/s1');
    expect(keys).toContain('source/simplified/l0/s1');
    expect(keys).toContain('source/captions/l0.5/s1');
    expect(keys).toContain('scratch/actions/l1/s1');
    runs.forEach((r, i) => {
      if (r.kind === 'transfer') expect(runs[i - 1].key).toBe(r.sourceKey);
    });
  });

  it('summarises seeds as mean and sample standard deviation, and words answers from them', () => {
    const s = stat([0.5, 0.7]);
    expect(s.mean).toBeCloseTo(0.6, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(Number.isNaN(stat([0.4]).sd)).toBe(true);
    const results = [
      result('transfer/groups/l1/s1', 0.4), result('transfer/groups/l1/s2', 0.42),
      result('transfer/actions/l1/s1', 0.6), result('transfer/actions/l1/s2', 0.62),
      result('scratch/actions/l1/s1', 0.5), result('scratch/actions/l1/s2', 0.7),
    ];
    const md = scaleSection(SCALES.tiny, results, 'chart.svg');
    expect(md).toContain('| groups | coarse groups | 1 | 41.0 ± 1.4 (n=2)');
    expect(md).toContain('actions − groups = +20.0 points (larger than twice the seeds’ spread)');
    expect(md).toContain('best transfer (actions) − from scratch = +1.0 points (within the spread across seeds: no clear difference)');
    expect(md).toContain('captions λ=0.5 vs captions λ=0 (captioning only): not measured yet.');
  });

  it('gives the median time per kind of run and copies a scale\'s hand-written notes', () => {
    const results = [
      result('source/groups/l1/s1', 0.4, { seconds: 300 }), result('source/groups/l1/s2', 0.4, { seconds: 360 }), result('source/actions/l1/s1', 0.4, { seconds: 900 }),
      result('transfer/groups/l1/s1', 0.4, { seconds: 12 }),
    ];
    const md = scaleSection(SCALES.tiny, results, 'chart.svg', 'Captions were degenerate.\n');
    expect(md).toContain('(median per run: source 6.0 min, transfer 0.2 min)');
    expect(md).toContain('### Observations\n\nCaptions were degenerate.\n');
    expect(scaleSection(SCALES.tiny, results, 'chart.svg')).not.toContain('### Observations');
  });

  it('skips every run already recorded without touching data', async () => {
    const scale = SCALES.tiny;
    const runs = planRuns(scale, [7]);
    const file = path.join(work, 'tiny.jsonl');
    writeFileSync(file, runs.map((r) => JSON.stringify(result(r.key, 0.5))).join('\n') + '\n');
    const lines: string[] = [];
    const ran = await runStudy(scale, runs, { workDir: path.join(work, 'w'), resultsFile: file }, { log: (l) => lines.push(l) });
    expect(ran).toBe(0);
    expect(lines[0]).toContain(`${runs.length} already recorded`);
    expect(existsSync(path.join(work, 'w'))).toBe(false);
  });
});

describe('schedules, RNG, tasks', () => {
  it('warms up linearly and decays the cosine schedule to 5% of the base rate', () => {
    const spec = { kind: 'cosine' as const, baseLr: 1e-3, totalSteps: 110, warmupSteps: 10 };
    expect(learningRateAt(spec, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(spec, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(spec, 60)).toBeCloseTo(1e-3 * (0.05 + 0.95 * 0.5), 12);
    expect(learningRateAt(spec, 110)).toBeCloseTo(5e-5, 12);
    expect(learningRateAt({ ...spec, kind: 'step' }, 100)).toBeCloseTo(1e-4, 12);
  });

  it('continues a random stream exactly from a saved state', () => {
    const a = new SeededRandom(42);
    for (let i = 0; i < 5; i++) a.next();
    const b = new SeededRandom(a.state());
    expect(Array.from({ length: 10 }, () => b.next())).toEqual(Array.from({ length: 10 }, () => a.next()));
    expect(new SeededRandom(1).next()).not.toBe(new SeededRandom(2).next());
  });

  it('forces λ = 1 for classification-only tasks and validates it for caption tasks', () => {
    expect(effectiveLambda('groups', undefined)).toBe(1);
    expect(() => effectiveLambda('actions', 0.5)).toThrow(/λ must be 1/);
    expect(effectiveLambda('captions', undefined)).toBe(0.5);
    expect(effectiveLambda('simplified', 0)).toBe(0);
  });
});
