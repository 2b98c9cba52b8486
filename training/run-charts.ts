/**
 * The charts of a finished run, from its metrics log and test report: training curves (loss, and
 * validation accuracy / caption scores per epoch) and the test confusion matrix.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { confusionMatrixSvg, lineChartSvg, type Series } from '../eval/charts.js';
import type { MetricsRecord } from './metrics-log.js';
import type { EvaluationReport } from './predictions.js';

/** Moving average so noisy per-step losses read as a curve. */
function smooth(points: [number, number][], window: number): [number, number][] {
  return points.map(([x], i) => {
    const from = Math.max(0, i - window + 1);
    const slice = points.slice(from, i + 1);
    return [x, slice.reduce((s, p) => s + p[1], 0) / slice.length];
  });
}

export function writeRunCharts(out: string, records: readonly MetricsRecord[], test: EvaluationReport, labels: readonly string[]): void {
  const train = records.filter((r): r is Extract<MetricsRecord, { kind: 'train' }> => r.kind === 'train');
  const val = records.filter((r): r is Extract<MetricsRecord, { kind: 'validation' }> => r.kind === 'validation');
  const window = Math.max(1, Math.round(train.length / 50));
  const lossSeries: Series[] = [
    { name: 'train loss (total)', points: smooth(train.map((r): [number, number] => [r.step, r.loss]), window) },
    { name: 'train classification', points: smooth(train.map((r): [number, number] => [r.step, r.classification]), window) },
    { name: 'train caption', points: smooth(train.map((r): [number, number] => [r.step, r.caption]), window) },
    { name: 'validation class. CE', points: val.map((r): [number, number] => [r.step, r.loss]) },
  ].filter((s) => s.points.some(([, y]) => y !== 0));
  writeFileSync(path.join(out, 'curves-loss.svg'), lineChartSvg({ title: 'Training loss', xLabel: 'step', yLabel: 'loss', series: lossSeries }));
  const scoreSeries: Series[] = [
    { name: 'val top-1', points: val.filter((r) => r.top1 !== undefined).map((r): [number, number] => [r.step, r.top1!]) },
    { name: 'val top-5', points: val.filter((r) => r.top5 !== undefined).map((r): [number, number] => [r.step, r.top5!]) },
    { name: 'val BLEU-4', points: val.filter((r) => r.bleu4 !== undefined).map((r): [number, number] => [r.step, r.bleu4!]) },
    { name: 'val action correct', points: val.filter((r) => r.actionCorrect !== undefined).map((r): [number, number] => [r.step, r.actionCorrect!]) },
  ].filter((s) => s.points.length > 0);
  writeFileSync(path.join(out, 'curves-validation.svg'), lineChartSvg({ title: 'Validation', xLabel: 'step', yLabel: 'score', series: scoreSeries }));
  writeFileSync(path.join(out, 'confusion-test.svg'), confusionMatrixSvg(test.classification.confusion, labels, `Test confusion (${test.head})`));
}
