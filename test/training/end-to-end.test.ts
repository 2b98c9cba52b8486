/**
 * Generate → train (joint captions, 2 epochs) → transfer (linear, then MLP from the feature cache)
 * → experiment runner, all through the real CLIs on a few dozen generated clips. Every reported
 * number is recomputed here from the run's logged predictions and the data set's own files.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusBleu } from '../../eval/caption.js';
import { readMetrics } from '../../training/metrics-log.js';
import { readPredictions } from '../../training/predictions.js';
import { readResults } from '../../training/experiment/results.js';
import { TINY_CONFIG, makeTinyData, runCli } from './harness.js';

const work = mkdtempSync(path.join(tmpdir(), 'countertop-e2e-'));
let data: { source: string; target: string };
const run = path.join(work, 'runs', 'captions');

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** id → class id from the data set's own files (labels + test answers), not through the loader. */
function testAnswers(dir: string): Map<string, number> {
  const labels = json(path.join(dir, 'something-something-v2-labels.json')) as Record<string, string>;
  const out = new Map<string, number>();
  for (const line of readFileSync(path.join(dir, 'something-something-v2-test-answers.csv'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const [id, name] = line.split(';');
    out.set(id, Number(labels[name]));
  }
  return out;
}

function recomputedTopK(preds: { label: number; ranked: number[] }[], k: number): number {
  return preds.filter((p) => p.ranked.slice(0, k).includes(p.label)).length / preds.length;
}

beforeAll(async () => {
  data = await makeTinyData(work, ['something', 'kitchenware']);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('train → transfer → report', () => {
  it('trains a joint caption model and reports numbers that its predictions reproduce', async () => {
    const out = await runCli('scripts/train.ts', [
      '--data', data.source, '--task', 'captions', '--lambda', '0.5', '--epochs', '2', '--batch-size', '4',
      '--out', run, '--config', TINY_CONFIG, '--seed', '3', '--no-progress',
    ]);
    const report = json(path.join(run, 'report.json'));
    const trainCount = (json(path.join(data.source, 'something-something-v2-train.json')) as unknown[]).length;
    expect(report.steps).toBe(2 * Math.ceil(trainCount / 4));

    // Metrics log: one train record per step, in order; a validation record per epoch; one test record.
    const metrics = readMetrics(path.join(run, 'metrics.jsonl'));
    expect(metrics.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual(Array.from({ length: report.steps }, (_, i) => i + 1));
    expect(metrics.filter((m) => m.kind === 'validation').map((m) => (m as { epoch: number }).epoch)).toEqual([0, 1]);
    expect(metrics.filter((m) => m.kind === 'test')).toHaveLength(1);
    for (const m of metrics.filter((m) => m.kind === 'train')) expect(Number.isFinite((m as { loss: number }).loss)).toBe(true);

    // Predictions cover every test clip once, with the true labels from the answers file.
    const preds = readPredictions(path.join(run, 'predictions-test.jsonl'));
    const answers = testAnswers(data.source);
    expect(preds.map((p) => p.id).sort()).toEqual([...answers.keys()].sort());
    for (const p of preds) expect(p.label).toBe(answers.get(p.id));

    // Classification numbers = counts over the logged predictions.
    const c = report.test.classification;
    expect(c.items).toBe(preds.length);
    expect(c.top1).toBeCloseTo(recomputedTopK(preds, 1), 12);
    expect(c.top5).toBeCloseTo(recomputedTopK(preds, 5), 12);
    expect(c.support.reduce((s: number, x: number) => s + x, 0)).toBe(preds.length);
    expect(out.stdout).toContain(`top-1 ${(c.top1 * 100).toFixed(1)}%`);

    // Caption numbers = metrics over the logged captions; references are the data set's full captions.
    const captionsFile = json(path.join(data.source, 'countertop-captions.json')) as Record<string, { caption: string }>;
    for (const p of preds) expect(p.reference).toBe(captionsFile[p.id].caption);
    const pairs = preds.map((p) => ({ candidate: p.caption!, references: [p.reference!] }));
    const norm = (s: string) => s.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter(Boolean).join(' ');
    expect(report.test.caption.exactMatch).toBeCloseTo(pairs.filter((p) => norm(p.candidate) === norm(p.references[0])).length / pairs.length, 12);
    expect(report.test.caption.bleu1).toBeCloseTo(corpusBleu(pairs).bleu[0], 12);

    // Charts: the curves have lines; the confusion matrix has one cell per class pair.
    expect(readFileSync(path.join(run, 'curves-loss.svg'), 'utf8')).toMatch(/<path d="M/);
    const confusion = readFileSync(path.join(run, 'confusion-test.svg'), 'utf8');
    expect(confusion.match(/<rect x="\d+" y="\d+" width/g)?.length).toBe(c.classes * c.classes);
  });

  it('evaluates a checkpoint on every labelled clip of a data set, and refuses another label set', async () => {
    const evalOut = path.join(work, 'runs', 'captions-eval');
    await runCli('scripts/train.ts', ['--evaluate', run, '--data', data.source, '--out', evalOut]);
    const report = json(path.join(evalOut, 'report.json'));
    const preds = readPredictions(path.join(evalOut, 'predictions.jsonl'));
    const listed = ['train', 'validation'].flatMap((s) => (json(path.join(data.source, `something-something-v2-${s}.json`)) as { id: string }[]).map((e) => e.id));
    expect(preds.map((p) => p.id).sort()).toEqual([...listed, ...testAnswers(data.source).keys()].sort());
    expect(report.classification.top1).toBeCloseTo(recomputedTopK(preds, 1), 12);
    await expect(runCli('scripts/train.ts', ['--evaluate', run, '--data', data.target, '--out', path.join(work, 'runs', 'bad-eval')])).rejects.toThrow(/labels differ/);
  });

  it('transfers to kitchenware with the encoder untouched, and reuses the frozen features', async () => {
    const weightsBefore = sha(path.join(run, 'checkpoint', 'weights.bin'));
    const linearOut = path.join(work, 'runs', 'transfer-linear');
    await runCli('scripts/transfer.ts', ['--encoder', run, '--data', data.target, '--out', linearOut, '--epochs', '15']);
    const report = json(path.join(linearOut, 'report.json'));
    expect(report.encoderUnchanged).toBe(true);
    expect(report.featureCacheHit).toBe(false);
    expect(sha(path.join(run, 'checkpoint', 'weights.bin'))).toBe(weightsBefore);

    const preds = readPredictions(path.join(linearOut, 'predictions-test.jsonl'));
    const answers = testAnswers(data.target);
    expect(preds.map((p) => p.id).sort()).toEqual([...answers.keys()].sort());
    for (const p of preds) expect(p.label).toBe(answers.get(p.id));
    expect(report.test.classification.top1).toBeCloseTo(recomputedTopK(preds, 1), 12);
    expect(report.test.classification.classes).toBe(6);
    expect(report.steps).toBe(15 * Math.ceil((json(path.join(data.target, 'something-something-v2-train.json')) as unknown[]).length / 32));

    const featureDirs = readdirSync(path.join(run, 'features'));
    expect(featureDirs).toHaveLength(1);
    const cached = sha(path.join(run, 'features', featureDirs[0], 'train.f32'));
    const mlpOut = path.join(work, 'runs', 'transfer-mlp');
    await runCli('scripts/transfer.ts', ['--encoder', run, '--data', data.target, '--out', mlpOut, '--head', 'mlp', '--hidden', '16', '--epochs', '5']);
    const mlp = json(path.join(mlpOut, 'report.json'));
    expect(mlp.featureCacheHit).toBe(true);
    expect(mlp.encoderHash).toBe(report.encoderHash);
    expect(sha(path.join(run, 'features', featureDirs[0], 'train.f32'))).toBe(cached);
    expect(mlp.test.classification.top1).toBeCloseTo(recomputedTopK(readPredictions(path.join(mlpOut, 'predictions-test.jsonl')), 1), 12);
  });

  it('records finished experiment runs and skips them when started again', async () => {
    const args = ['--scale', 'tiny', '--seeds', '1', '--work-dir', work, '--results-dir', path.join(work, 'experiments'), '--report', path.join(work, 'EXPERIMENT.md')];
    await runCli('scripts/experiment.ts', [...args, '--max-runs', '2']);
    const results = path.join(work, 'experiments', 'tiny.jsonl');
    const first = readResults(results);
    expect(first.map((r) => r.key)).toEqual(['source/groups/l1/s1', 'transfer/groups/l1/s1']);
    // The recorded transfer accuracy is the one its own predictions give.
    const preds = readPredictions(path.join(work, 'runs', 'transfer', 'groups', 'l1', 's1', 'predictions-test.jsonl'));
    expect(first[1].top1).toBeCloseTo(recomputedTopK(preds, 1), 12);

    const again = await runCli('scripts/experiment.ts', [...args, '--max-runs', '1']);
    expect(again.stdout).toContain('2 already recorded');
    expect(readResults(results).map((r) => r.key)).toEqual(['source/groups/l1/s1', 'transfer/groups/l1/s1', 'source/actions/l1/s1']);
    const md = readFileSync(path.join(work, 'EXPERIMENT.md'), 'utf8');
    expect(md).toContain('## Scale `tiny`');
    expect(md).toContain(`| groups | coarse groups | 1 | ${(first[1].top1 * 100).toFixed(1)} ± ? (n=1)`);
  });
});
