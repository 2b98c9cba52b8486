/**
 * The study's analysis: paired tests, the compact prediction record, the probe, and — on the
 * committed files — that every recorded figure and the report's study section recompute from the
 * committed predictions alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogueOf } from '../../data/catalogue/index.js';
import { assignRecords } from '../../data/generate.js';
import { planStudy, type StudyRun, STUDY_ADDENDUM_ARMS, STUDY_ADDENDUM_BUDGET, STUDY_ARMS, STUDY_BUDGETS, STUDY_DATA, STUDY_PRIMARY_BUDGET } from '../../training/experiment/plan.js';
import { runStudyPlan, sourceAgreement, studyDataDir, trainArgs } from '../../training/experiment/study-runner.js';
import { fitProbe, standardise } from '../../training/experiment/probe.js';
import { mcnemar, pairedBootstrap, seedsForPower } from '../../training/experiment/stats.js';
import { appendStudy, compactPredictions, correctness, decodeClasses, encodeClasses, readClips, ifUnlocked, registerClips, type StudyFiles, type StudyResult } from '../../training/experiment/store.js';
import { STUDY_FILES } from '../../training/experiment/study-files.js';
import { addendumDecoders, contrast, holm, isCollapsed, loadStudy, recomputedCaptions, remainingCompute, sharedMotionClasses, studySection } from '../../training/experiment/study-report.js';
import { SeededRandom } from '../../training/rng.js';

const work = mkdtempSync(path.join(tmpdir(), 'countertop-study-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the design', () => {
  it('gives every trained arm the same optimisation steps at each budget, on the splits the generator makes', () => {
    const split = (domain: 'something' | 'kitchenware', count: number, ratio?: { train: number; validation: number }) => {
      const recs = assignRecords(count, catalogueOf(domain).templates.length, '1', ratio);
      return { train: recs.filter((r) => r.split === 'train').length, test: recs.filter((r) => r.split === 'test').length };
    };
    const source = split('something', STUDY_DATA.sourceClips);
    const target = split('kitchenware', STUDY_DATA.targetClips, STUDY_DATA.targetSplit);
    expect(target.test).toBeGreaterThanOrEqual(600);
    expect(STUDY_DATA.sourceTrainClips).toBeLessThanOrEqual(source.train);
    expect(STUDY_DATA.targetTrainClips).toBe(target.train);
    const batches = (clips: number) => Math.ceil(clips / STUDY_DATA.batchSize);
    for (const budget of STUDY_BUDGETS) {
      const runs = planStudy([1]).filter((r) => r.budget === budget && r.kind !== 'probe');
      const steps = runs.map((r) => {
        const args = trainArgs(r, 'D', 'O');
        const epochs = Number(args[args.indexOf('--epochs') + 1]);
        const clips = Math.min(Number(args[args.indexOf('--max-train-clips') + 1]), r.kind === 'source' ? source.train : target.train);
        return epochs * batches(clips);
      });
      expect(new Set(steps)).toEqual(new Set([330 * budget]));
    }
  });
});

/** A 6× run has a 3× twin in the plan whose training arguments are the same but for the epochs, scaled by the budgets. */
function expectPrimaryTwin(plan: readonly StudyRun[], r: StudyRun): void {
  const twin = plan.find((x) => x.key === r.key.replace(`/b${STUDY_ADDENDUM_BUDGET}/`, `/b${STUDY_PRIMARY_BUDGET}/`));
  expect(twin, r.key).toBeDefined();
  const [a, b] = [trainArgs(r, 'D', 'O'), trainArgs(twin!, 'D', 'O')];
  const epochs = a.indexOf('--epochs') + 1;
  expect(Number(a[epochs])).toBe((Number(b[epochs]) * STUDY_ADDENDUM_BUDGET) / STUDY_PRIMARY_BUDGET);
  expect(a.filter((_, i) => i !== epochs)).toEqual(b.filter((_, i) => i !== epochs));
}

describe('addendum A', () => {
  it('adds only the two arms of C5 at 6×, on training seeds 1–2 of every data seed, after every run of the registered design', () => {
    const plan = planStudy();
    const addendum = plan.filter((r) => r.budget === STUDY_ADDENDUM_BUDGET && r.kind !== 'scratch');
    expect(addendum).toHaveLength(3 * 2 * STUDY_ADDENDUM_ARMS.length * 2);
    expect(new Set(addendum.map((r) => r.arm))).toEqual(new Set(STUDY_ADDENDUM_ARMS));
    expect(new Set(addendum.map((r) => `d${r.dataSeed}/s${r.seed}`))).toEqual(new Set(['d1/s1', 'd2/s1', 'd3/s1', 'd1/s2', 'd2/s2', 'd3/s2']));
    const firstAddendum = plan.findIndex((r) => r.budget === STUDY_ADDENDUM_BUDGET);
    expect(plan.slice(firstAddendum, firstAddendum + addendum.length)).toEqual(addendum);
    for (const r of addendum.filter((x) => x.kind === 'source')) expectPrimaryTwin(plan, r);
  });
});

describe('addendum B', () => {
  it('adds scratch at 6× on addendum A\'s seeds, last, each the twin of a 3× scratch run but for the epochs', () => {
    const plan = planStudy();
    const scratch = plan.filter((r) => r.budget === STUDY_ADDENDUM_BUDGET && r.kind === 'scratch');
    expect(scratch.map((r) => `d${r.dataSeed}/s${r.seed}`)).toEqual(['d1/s1', 'd2/s1', 'd3/s1', 'd1/s2', 'd2/s2', 'd3/s2']);
    expect(plan.slice(-scratch.length)).toEqual(scratch);
    for (const r of scratch) {
      // The named source's 6× probe of the same seeds is there to pair with.
      expect(plan.some((x) => x.key === `probe/captions-l0.5/b${STUDY_ADDENDUM_BUDGET}/d${r.dataSeed}/s${r.seed}`)).toBe(true);
      expectPrimaryTwin(plan, r);
    }
  });
});

describe('paired tests', () => {
  it('McNemar counts the discordant clips and gives the exact binomial p', () => {
    const r = mcnemar([true, true, true, false, true], [false, false, false, false, true]);
    expect(r).toMatchObject({ aOnly: 3, bOnly: 0 });
    expect(r.p).toBeCloseTo(2 / 8, 12);
    expect(mcnemar([true, false], [true, false]).p).toBe(1);
    // 10 vs 2 discordant: 2·P(X ≤ 2 | n=12) = 2·(1+12+66)/4096
    const a = [...Array(10).fill(true), ...Array(2).fill(false)];
    expect(mcnemar(a, a.map((x) => !x)).p).toBeCloseTo((2 * 79) / 4096, 12);
  });

  it('the bootstrap finds no difference between identical arms and a clear one between different arms', () => {
    const rng = new SeededRandom(3);
    const arm = (p: number, seeds: number, clips: number) => Array.from({ length: seeds }, () => Array.from({ length: clips }, () => rng.next() < p));
    const same = arm(0.5, 4, 300);
    const eq = pairedBootstrap([{ a: same, b: same }], { iterations: 500 });
    expect(eq.diff).toBe(0);
    expect(eq.lo).toBeLessThan(0);
    expect(eq.hi).toBeGreaterThan(0);
    expect(eq.p).toBeGreaterThan(0.5);
    // One run per arm: only the clips vary, and the same run against itself never differs.
    expect(pairedBootstrap([{ a: [same[0]!], b: [same[0]!] }], { iterations: 200 })).toMatchObject({ diff: 0, lo: 0, hi: 0, p: 1 });
    const far = pairedBootstrap([{ a: arm(0.7, 5, 300), b: arm(0.4, 5, 300) }, { a: arm(0.7, 3, 200), b: arm(0.4, 3, 200) }], { iterations: 500 });
    expect(far.diff).toBeGreaterThan(0.2);
    expect(far.lo).toBeGreaterThan(0.15);
    expect(far.p).toBeLessThan(0.01);
    expect(far).toMatchObject({ runsA: 8, runsB: 8, clips: 500 });
    const noise = pairedBootstrap([{ a: arm(0.5, 5, 300), b: arm(0.5, 5, 300) }], { iterations: 500 });
    expect(noise.lo).toBeLessThan(0);
    expect(noise.hi).toBeGreaterThan(0);
    expect(noise.p).toBeGreaterThan(0.05);
  });

  it('counts a decoder as collapsed at 3× chance or fewer than 10 distinct captions, as pre-registered', () => {
    // 45 actions: 3× chance is 6.7%, which is 9 of 135 test clips exactly.
    expect(isCollapsed({ actionCorrect: 9 / 135, distinct: 40 }, 45)).toBe(true);
    expect(isCollapsed({ actionCorrect: 10 / 135, distinct: 40 }, 45)).toBe(false);
    expect(isCollapsed({ actionCorrect: 0.5, distinct: 9 }, 45)).toBe(true);
    expect(isCollapsed({ actionCorrect: 0.5, distinct: 10 }, 45)).toBe(false);
  });

  it('Holm adjusts in rank order and keeps the adjusted p-values monotone', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(seedsForPower(5, 8)).toBe(7);
  });
});

describe('the compact record', () => {
  it('stores one letter per clip in the recorded clip order and reads back correctness', () => {
    expect(decodeClasses(encodeClasses([0, 9, 10, 44, 63]))).toEqual([0, 9, 10, 44, 63]);
    expect(() => encodeClasses([64])).toThrow(/alphabet/);
    const files = { results: path.join(work, 'r.jsonl'), predictions: path.join(work, 'p.jsonl'), clips: path.join(work, 'c.json') };
    const preds = [
      { id: '7', label: 2, ranked: [2, 0], confidence: 0.6, caption: 'moving a cup up', reference: 'Moving cup up' },
      { id: '3', label: 1, ranked: [0, 1], confidence: 0.5, caption: 'moving a cup up', reference: 'Moving ball down' },
    ];
    const clips = registerClips(files, 1, 'source', preds, ['A', 'B', 'C'], ['Moving [something] up', 'Moving [something] down', 'C'], 'simplified');
    expect(clips.ids).toEqual(['7', '3']);
    // A second run with the clips in another order is stored in the recorded order.
    const line = compactPredictions('source/x/b1/d1/s2', [preds[1]!, preds[0]!], clips);
    expect(line.top1).toBe('20');
    expect(line.captions).toEqual({ texts: ['moving a cup up'], of: [0, 0] });
    expect(correctness(line, clips)).toEqual([true, false]);
    expect(() => registerClips(files, 1, 'source', [preds[0]!], ['A'], [], undefined)).toThrow(/differ/);
  });

  it('compares a retrained source run with its recorded predictions clip by clip, in the recorded order', () => {
    const files = { results: path.join(work, 'r2.jsonl'), predictions: path.join(work, 'p2.jsonl'), clips: path.join(work, 'c2.json') };
    const pred = (id: string, top: number) => ({ id, label: 0, ranked: [top], confidence: 0.5 });
    const first = [pred('a', 0), pred('b', 1), pred('c', 2)];
    registerClips(files, 1, 'source', first, ['A', 'B', 'C'], ['A', 'B', 'C'], undefined);
    const [actions, groups] = ['actions', 'groups'].map((arm) => planStudy([1]).find((r) => r.key === `source/${arm}/b3/d1/s1`)!);
    const recorded = compactPredictions(actions!.key, first, readClips(files)['1']!.source!);
    // Retrained in another clip order, differing on clip b only.
    const again = sourceAgreement(actions!, recorded, [pred('c', 2), pred('b', 0), pred('a', 0)], readClips(files)['1']);
    expect(again).toEqual({ same: 2, clips: 3 });
    expect(() => sourceAgreement(groups!, { ...recorded, key: groups!.key }, first, readClips(files)['1'])).toThrow(/no recorded sourceGroup clips/);
  });

  it('keeps a lock held from elsewhere while its holder works longer than the stale age, and frees it after', async () => {
    const lock = path.join(work, 'data.lock');
    const stale = 200;
    const spans: Array<[string, number, number]> = [];
    const hold = (name: string, ms: number) => async () => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      spans.push([name, start, Date.now()]);
    };
    let waited = false;
    // The first holder works 5× the stale age; the second must wait for it, not take the lock as left over.
    const first = ifUnlocked(lock, hold('first', 5 * stale), stale);
    // As if held from another machine (a shared folder): its pid says nothing here, only the refreshed time does.
    writeFileSync(path.join(lock, 'owner.json'), JSON.stringify({ host: 'another-machine', pid: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    // The second tries again until the lock is free, as a runner does with the study's claims.
    const second = async () => {
      while ((await ifUnlocked(lock, hold('second', 10), stale)).held) {
        waited = true;
        await new Promise((r) => setTimeout(r, stale / 4));
      }
    };
    await Promise.all([first, second()]);
    expect(waited).toBe(true);
    const [a, b] = [spans.find((s) => s[0] === 'first')!, spans.find((s) => s[0] === 'second')!];
    expect(b[1]).toBeGreaterThanOrEqual(a[2]);
    expect(existsSync(lock)).toBe(false);
  });
});

describe('runners sharing the plan', () => {
  const plan = planStudy([1]).filter((r) => r.budget === 1);
  const setUp = (name: string) => {
    const workDir = path.join(work, name);
    const paths = { results: path.join(workDir, 'r.jsonl'), predictions: path.join(workDir, 'p.jsonl'), clips: path.join(workDir, 'c.json'), workDir };
    markDataComplete(paths, 1);
    return paths;
  };
  // Generated data the runner finds complete, so it generates none.
  const markDataComplete = (paths: ReturnType<typeof setUp>, dataSeed: number) => {
    for (const d of ['something', 'kitchenware']) {
      mkdirSync(path.join(studyDataDir(paths, dataSeed), d), { recursive: true });
      writeFileSync(path.join(studyDataDir(paths, dataSeed), d, 'countertop-dataset.json'), JSON.stringify({ complete: true }));
    }
  };
  const fakeRun = (order: string[]) => async (run: StudyRun, paths: ReturnType<typeof setUp>) => {
    await new Promise((r) => setTimeout(r, 5 + (run.kind === 'source' ? 20 : 0)));
    order.push(run.key);
    const result: StudyResult = { key: run.key, kind: run.kind, arm: run.arm, task: run.task, lambda: run.lambda, budget: run.budget, dataSeed: run.dataSeed, seed: run.seed, finishedAt: new Date().toISOString(), seconds: 0, steps: 1, top1: 0, top5: 0, classes: 2, testClips: 1 };
    appendStudy(paths, result, { key: run.key, top1: '0' });
  };

  it('two runners on the same seeds run every planned run once, probes after their sources, both busy', async () => {
    const paths = setUp('shared');
    const order: string[] = [];
    const byRunner: number[] = await Promise.all([1, 2].map(() => runStudyPlan(plan, paths, { log: () => {} }, { execute: fakeRun(order), idlePollMs: 10 })));
    expect([...order].sort()).toEqual(plan.map((r) => r.key).sort());
    for (const r of plan) if (r.sourceKey) expect(order.indexOf(r.key)).toBeGreaterThan(order.indexOf(r.sourceKey));
    expect(byRunner[0]! + byRunner[1]!).toBe(plan.length);
    expect(Math.min(...byRunner)).toBeGreaterThanOrEqual(3);
  });

  it('skips a run claimed by a live runner and takes over one whose runner is gone', async () => {
    const paths = setUp('claims');
    const [first, second] = [plan[0]!, plan[2]!];
    const claim = (key: string, pid: number) => {
      const dir = path.join(paths.workDir, 'runs', ...key.split('/')) + '.claim';
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ host: hostname(), pid }));
    };
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    claim(first.key, gone);
    claim(second.key, process.pid);
    const order: string[] = [];
    await runStudyPlan(plan, paths, { log: () => {} }, { execute: fakeRun(order), maxRuns: 2, idlePollMs: 10 });
    expect(order).toEqual([first.key, plan[1]!.key]);
  });

  it('takes a run of another data seed while a runner is generating the first one\'s data', async () => {
    const paths = setUp('data-busy');
    const later = planStudy([1]).filter((r) => r.budget === STUDY_PRIMARY_BUDGET && r.dataSeed > 1);
    expect(later[0]!.dataSeed).toBe(2);
    markDataComplete(paths, 3);
    // Data seed 2 is being generated by a live runner on this machine.
    const lock = `${studyDataDir(paths, 2)}.lock`;
    mkdirSync(lock, { recursive: true });
    writeFileSync(path.join(lock, 'owner.json'), JSON.stringify({ host: hostname(), pid: process.pid }));
    const order: string[] = [];
    await runStudyPlan(later, paths, { log: () => {} }, { execute: fakeRun(order), maxRuns: 1, idlePollMs: 10 });
    expect(order).toEqual([later.find((r) => r.dataSeed === 3)!.key]);
    expect(existsSync(lock)).toBe(true);
  });
});

describe('the probe', () => {
  it('standardises with the training statistics and chooses its settings on validation', () => {
    const rng = new SeededRandom(5);
    const make = (n: number) => {
      const labels = Array.from({ length: n }, (_, i) => i % 3);
      const x = new Float32Array(n * 4);
      labels.forEach((y, i) => {
        for (let d = 0; d < 4; d++) x[i * 4 + d] = 100 + 50 * (d === y ? 1 : 0) + 20 * (rng.next() - 0.5);
      });
      return { x, labels };
    };
    const train = make(60);
    const [st] = standardise(train, [], 4);
    const mean0 = st!.labels.reduce((s, _, i) => s + st!.x[i * 4]!, 0) / 60;
    expect(Math.abs(mean0)).toBeLessThan(1e-5);
    const r = fitProbe({ train, validation: make(30), test: make(30) }, 4, { classes: 3, seed: 1, epochs: 30, lrs: [1e-4, 1e-1], weightDecays: [0, 0.5] });
    expect(r.grid).toHaveLength(4);
    expect(r.chosen.validationTop1).toBe(Math.max(...r.grid.map((g) => g.validationTop1)));
    const probs = r.testProbs;
    let hits = 0;
    for (let i = 0; i < 30; i++) {
      const row = [probs[i * 3]!, probs[i * 3 + 1]!, probs[i * 3 + 2]!];
      if (row.indexOf(Math.max(...row)) === i % 3) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(27);
  });
});

describe('the study report from a synthetic record', () => {
  interface Synthetic {
    readonly files: StudyFiles;
    readonly names: readonly string[];
    readonly target: readonly { id: string; label: number }[];
    readonly rng: SeededRandom;
  }
  /** Appends one run on data seed 1's test clips, right on each clip with probability p (a wrong one names the next class). */
  const appendSynthetic = (s: Synthetic, p: number, run: Pick<StudyResult, 'key' | 'kind' | 'arm' | 'task' | 'lambda' | 'budget' | 'seed'> & Pick<Partial<StudyResult>, 'probe'>) => {
    const preds = s.target.map((t) => ({ id: t.id, label: t.label, ranked: [s.rng.next() < p ? t.label : (t.label + 1) % s.names.length], confidence: 1 }));
    const clips = registerClips(s.files, 1, 'target', preds, s.names, s.names);
    const top1 = preds.filter((q) => q.ranked[0] === q.label).length / preds.length;
    const result: StudyResult = { ...run, dataSeed: 1, finishedAt: 'x', seconds: 60, steps: 1, top1, top5: 1, classes: s.names.length, testClips: preds.length };
    appendStudy(s.files, result, compactPredictions(run.key, preds, clips));
  };
  const probe = { lr: 0.01, weightDecay: 0, validationTop1: 0.5 };

  it('computes each contrast from the per-clip predictions and says how much of the plan is done', () => {
    const dir = mkdtempSync(path.join(work, 'syn-'));
    const files = { results: path.join(dir, 'r.jsonl'), predictions: path.join(dir, 'p.jsonl'), clips: path.join(dir, 'c.json') };
    const names = [...sharedMotionClasses(), 'Stirring something with something', 'Shaking something'];
    const n = 40;
    const target = Array.from({ length: n }, (_, i) => ({ id: String(i + 1), label: i % names.length }));
    const syn = { files, names, target, rng: new SeededRandom(9) };
    for (const seed of [1, 2, 3]) {
      for (const [arm, p] of [['actions', 0.8], ['groups', 0.3]] as const) {
        appendSynthetic(syn, p, { key: `probe/${arm}/b${STUDY_PRIMARY_BUDGET}/d1/s${seed}`, kind: 'probe', arm, task: arm, lambda: 1, budget: STUDY_PRIMARY_BUDGET, seed, probe });
      }
    }
    const d = loadStudy(files);
    const c = contrast(d, 'actions', 'groups', STUDY_PRIMARY_BUDGET)!;
    const mean = (arm: string) => d.results.filter((r) => r.arm === arm).reduce((s, r) => s + r.top1, 0) / 3;
    expect(c.diff).toBeCloseTo(mean('actions') - mean('groups'), 12);
    const md = studySection(d);
    expect(md).toContain(`**Progress: 6 of the ${planStudy().length} planned runs are recorded**`);
    // Only probes at the primary budget are timed (60 s each here); a probe at another budget takes
    // the same time, and every other pending run is not timed.
    const probesLeft = planStudy().filter((r) => r.kind === 'probe').length - 6;
    expect(md).toContain(`Remaining: ${planStudy().length - 6} runs, about ${((probesLeft * 60) / 3600).toFixed(1)} core-hours at the recorded median time`);
    expect(md).toContain(`plus ${planStudy().length - 6 - probesLeft} runs of a kind not timed yet.`);
    expect(md).toMatch(new RegExp(`\\| C1 \\| RQ1 \\| fine actions vs coarse groups \\| \\+${(c.diff * 100).toFixed(1)} \\|`));
    expect(md).toContain('| C3 | RQ1 | full vs simplified captions, both joint λ=0.5 | captions-l0.5 − simplified-l0.5 | not measured yet |');
    expect(md).toContain('0.01 / 0 (3)');
    // Three runs per arm: under the pre-registered minimum, so undecided whatever p is.
    expect(md).toMatch(/\| C1 \|.*\| no: fewer than 6 runs per arm yet \|/);
  });

  it('measures the addenda\'s two contrasts at 6× and decides them with 6 runs per arm, Holm over those two only', () => {
    const dir = mkdtempSync(path.join(work, 'syn-a-'));
    const files = { results: path.join(dir, 'r.jsonl'), predictions: path.join(dir, 'p.jsonl'), clips: path.join(dir, 'c.json') };
    const names = ['Stirring something with something', 'Shaking something', 'No action'];
    const n = 60;
    const target = Array.from({ length: n }, (_, i) => ({ id: String(i + 1), label: i % names.length }));
    const syn = { files, names, target, rng: new SeededRandom(4) };
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      for (const [arm, p] of [['captions-l0.5', 0.8], ['captions-l0', 0.3]] as const) {
        appendSynthetic(syn, p, { key: `probe/${arm}/b${STUDY_ADDENDUM_BUDGET}/d1/s${seed}`, kind: 'probe', arm, task: 'captions', lambda: arm === 'captions-l0' ? 0 : 0.5, budget: STUDY_ADDENDUM_BUDGET, seed, probe });
      }
    }
    const tableOf = () => studySection(loadStudy(files)).split(`### Pre-registered contrasts, budget ${STUDY_ADDENDUM_BUDGET}× (addenda A and B: C5 and C6 only)`)[1]!.split('###')[0]!;
    // Before addendum B's scratch runs: C5 alone is measured, so its Holm p is its p.
    const before = tableOf();
    expect(before).toMatch(/\| C5 \| RQ2 \| joint vs captioning only \| \+\d+\.\d \| \[[^\]]+\] \| ([^|]+) \| \1 \| 6 \/ 6 runs, 60 clips \| yes: A better \|/);
    expect(before).toMatch(/\| C6 \|.*\| not measured yet \|/);
    expect(before).not.toContain('| C1 |');
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      appendSynthetic(syn, 0.95, { key: `scratch/b${STUDY_ADDENDUM_BUDGET}/d1/s${seed}`, kind: 'scratch', arm: 'scratch', task: 'actions', lambda: 1, budget: STUDY_ADDENDUM_BUDGET, seed });
    }
    const after = tableOf();
    expect(after).toMatch(/\| C6 \| RQ4 \|.*\| -\d+\.\d \|.*\| 6 \/ 6 runs, 60 clips \| yes: B better \|/);
    // With two contrasts C5's Holm p is no longer its own p; no contrast of another budget joins them.
    const [, p5, holm5] = after.match(/\| C5 \|(?:[^|]*\|){4} ([^|]+) \| ([^|]+) \|/)!;
    expect(p5).not.toBe(holm5);
    expect(after).not.toContain('| C1 |');
  });

  it('estimates a budget not timed yet from the primary budget, by steps for trained runs and as is for probes', () => {
    const at = (kind: 'source' | 'probe' | 'scratch', budget: number, seconds: number) => ({ kind, budget, seconds }) as unknown as StudyResult;
    const pending = planStudy([1]).filter((r) => r.budget === STUDY_ADDENDUM_BUDGET && r.dataSeed === 1);
    expect(pending.map((r) => r.kind).sort()).toEqual(['probe', 'probe', 'scratch', 'source', 'source']);
    const r = remainingCompute(pending, [at('source', STUDY_PRIMARY_BUDGET, 600), at('probe', STUDY_PRIMARY_BUDGET, 40), at('scratch', STUDY_PRIMARY_BUDGET, 500)]);
    const scale = STUDY_ADDENDUM_BUDGET / STUDY_PRIMARY_BUDGET;
    expect(r).toEqual({ runs: 5, seconds: 2 * 600 * scale + 2 * 40 + 500 * scale, unknown: 0 });
  });
});

describe('the committed study record', () => {
  const committed = existsSync(STUDY_FILES.results);
  it.runIf(committed)('every recorded top-1 and caption figure recomputes from the committed predictions, and docs/EXPERIMENT.md shows the section they make', () => {
    const d = loadStudy(STUDY_FILES);
    expect(d.results.length).toBeGreaterThan(0);
    const planned = new Set(planStudy().map((r) => r.key));
    for (const r of d.results) {
      expect(planned.has(r.key), r.key).toBe(true);
      const entry = d.clips[String(r.dataSeed)]!;
      const clips = r.kind === 'source' ? (r.task === 'groups' ? entry.sourceGroup! : entry.source!) : entry.target!;
      const right = correctness(d.predictions.get(r.key)!, clips);
      expect(right.filter(Boolean).length / right.length, r.key).toBeCloseTo(r.top1, 12);
      expect(right.length).toBe(r.testClips);
      expect(clips.classNames, `${r.key}: class names of its split`).toHaveLength(r.classes);
      if (r.caption) {
        const k = recomputedCaptions(d, r)!;
        expect(k.bleu4, r.key).toBeCloseTo(r.caption.bleu4, 9);
        expect(k.ciderD, r.key).toBeCloseTo(r.caption.ciderD, 9);
        expect(k.actionCorrect, r.key).toBeCloseTo(r.caption.actionCorrect, 12);
        expect(k.distinct, r.key).toBe(r.caption.distinct);
      }
    }
    const notes = existsSync('experiments/study-notes.md') ? readFileSync('experiments/study-notes.md', 'utf8') : undefined;
    expect(readFileSync('docs/EXPERIMENT.md', 'utf8')).toContain(studySection(d, notes));
    expect(STUDY_ARMS.length).toBe(5);
    // Every recorded 6× decoder of addendum A finds its 3× twin (all of them are recorded).
    for (const t of addendumDecoders(d)) expect(t.primary, t.key).toBeDefined();
  });
});
