/**
 * Evaluates a trained checkpoint on a data set it has never seen (e.g. a held-out set generated
 * with a new seed): every labelled clip of the chosen splits, predictions logged, report + chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend, loadCheckpoint, resolveCheckpoint } from '../model/index.js';
import { confusionMatrixSvg } from '../eval/charts.js';
import type { ClipData, SplitName } from './data-source.js';
import { evaluateSplit } from './evaluate.js';
import { evaluatePredictions, writePredictions, type ClipPrediction, type EvaluationReport } from './predictions.js';
import { compactReport } from './trainer.js';

/** Windows per clip when evaluating a 'window' model: start, middle and end. */
export const EVALUATION_VIEWS = 3;

export async function evaluateCheckpoint(
  checkpoint: string,
  data: ClipData,
  out: string,
  opts: { splits: readonly SplitName[]; batchSize: number; log?: (l: string) => void },
): Promise<EvaluationReport> {
  await initBackend({ log: opts.log });
  const resolved = resolveCheckpoint(checkpoint);
  (opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(resolved.note);
  const dir = resolved.dir;
  const { model, training } = await loadCheckpoint(dir);
  const head = model.heads[0];
  if (!head || (head.name !== 'action' && head.name !== 'group')) throw new Error(`${dir}: no action or group head`);
  const labels = head.name === 'group' ? data.groupLabels : data.actionLabels;
  if (labels.length !== head.labels.length || labels.some((l, i) => l !== head.labels[i])) {
    throw new Error(`${dir}: its ${head.name} labels differ from ${data.dir}'s; evaluate it on data of the same domain and templates`);
  }
  const task = (training as { task?: string } | undefined)?.task;
  const captionSource = model.vocabulary ? (task === 'simplified' ? 'simplified' : 'captions') : undefined;
  await data.warm({ frames: model.config.frames, height: model.config.height, width: model.config.width }, opts.splits);
  const predictions: ClipPrediction[] = [];
  // Window models are scored over the whole clip (EVALUATION_VIEWS windows from start to end, averaged).
  const views = model.config.sampling === 'window' ? EVALUATION_VIEWS : 1;
  for (const split of opts.splits) predictions.push(...(await evaluateSplit(model, data, split, head.name, { batchSize: opts.batchSize, captionSource, views })).predictions);
  mkdirSync(out, { recursive: true });
  writePredictions(path.join(out, 'predictions.jsonl'), predictions);
  const report = evaluatePredictions(head.name, predictions, head.labels.length, data.actionTemplates);
  writeFileSync(path.join(out, 'confusion.svg'), confusionMatrixSvg(report.classification.confusion, head.labels, `Held-out confusion (${head.name})`));
  writeFileSync(path.join(out, 'report.json'), JSON.stringify({ checkpoint: dir, data: data.dir, splits: opts.splits, views, ...compactReport(report) }, null, 2) + '\n');
  model.dispose();
  return report;
}
