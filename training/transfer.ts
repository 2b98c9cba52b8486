/**
 * Transfer: freeze a trained encoder, train a new action head on a target domain (kitchenware),
 * report test accuracy. Because the encoder is frozen, its per-timestep states are computed once
 * per split and cached on disk next to the encoder's checkpoint; head training then never touches
 * pixels. The encoder's weights are hashed before and after, and a change is an error.
 *
 * The result is a servable model: `<out>/checkpoint/` (saveCheckpoint's format: the frozen encoder,
 * the new head and its labels; the manifest's training metadata names the source encoder, the data,
 * the head's training options and its test metrics), which `npm start --model <out>` and the other
 * commands load through resolveCheckpoint.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { CHECKPOINT_DIR, type CountertopModel, initBackend, loadCheckpoint, resolveCheckpoint, saveCheckpoint } from '../model/index.js';
import { labelOf } from './batches.js';
import { encodeSplit, headProbabilities, trainHeadOnStates, type EncodedStates } from './head-training.js';
import type { ClipData, SplitName } from './data-source.js';
import { toPredictions } from './evaluate.js';
import { MetricsLog } from './metrics-log.js';
import { evaluatePredictions, writePredictions, type ClipPrediction, type EvaluationReport } from './predictions.js';
import { confusionMatrixSvg, lineChartSvg } from '../eval/charts.js';
import { compactReport } from './trainer.js';

export const transferOptionsSchema = z.strictObject({
  /** A checkpoint folder, a training run's folder or a transfer output folder (resolveCheckpoint). */
  encoder: z.string().min(1),
  data: z.string().min(1),
  out: z.string().min(1),
  head: z.enum(['linear', 'mlp']).default('linear'),
  hidden: z.number().int().min(1).max(4096).default(128),
  epochs: z.number().int().min(1).max(10_000).default(40),
  batchSize: z.number().int().min(1).max(4096).default(32),
  lr: z.number().positive().max(1).default(3e-3),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  /** Batch size for computing the frozen features. */
  featureBatchSize: z.number().int().min(1).max(512).default(8),
});
export type TransferOptions = z.infer<typeof transferOptionsSchema>;
export type TransferOptionsInput = z.input<typeof transferOptionsSchema>;

export interface TransferResult {
  readonly outDir: string;
  /** The saved model: the frozen encoder and the new head (`<out>/checkpoint`). */
  readonly checkpoint: string;
  readonly test: EvaluationReport;
  readonly encoderUnchanged: true;
  readonly featureCacheHit: boolean;
}

/** SHA-256 over every encoder variable's name, shape and bytes. */
export function hashVariables(vars: readonly tf.Variable[]): string {
  const h = createHash('sha256');
  for (const v of vars) {
    h.update(`${v.name}:${v.shape.join('x')};`);
    const d = v.dataSync() as Float32Array;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

/** Frozen per-timestep states of every clip of a split: [N, T, U], row i = records[i]. */
type SplitFeatures = EncodedStates;

const cachedRecordsSchema = z.array(z.strictObject({ id: z.string(), group: z.number(), action: z.number(), simplified: z.string(), caption: z.string() }));

/** Loads a split's cached features or computes and caches them (written to temp names, then renamed). */
async function splitFeatures(model: CountertopModel, data: ClipData, split: SplitName, cacheDir: string, batchSize: number): Promise<{ features: SplitFeatures; hit: boolean }> {
  const T = model.config.frames;
  const U = model.encodingWidth;
  const file = path.join(cacheDir, `${split}.f32`);
  const index = path.join(cacheDir, `${split}.json`);
  if (existsSync(file) && existsSync(index)) {
    const records = cachedRecordsSchema.safeParse(JSON.parse(readFileSync(index, 'utf8')));
    const buf = readFileSync(file);
    if (records.success && buf.byteLength === records.data.length * T * U * 4) {
      const states = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      return { features: { records: records.data, states, T, U }, hit: true };
    }
  }
  const features = await encodeSplit(model, data, split, batchSize);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file + '.tmp', new Uint8Array(features.states.buffer, features.states.byteOffset, features.states.byteLength));
  writeFileSync(index + '.tmp', JSON.stringify(features.records));
  renameSync(file + '.tmp', file);
  renameSync(index + '.tmp', index);
  return { features, hit: false };
}

function predictFeatures(model: CountertopModel, f: SplitFeatures, batchSize: number): { predictions: ClipPrediction[]; loss: number } {
  const probs = headProbabilities(model, f, f.records.map((_, i) => i), batchSize);
  const logged = toPredictions(f.records, probs, 'action');
  return { predictions: logged.predictions, loss: f.records.length ? logged.lossSum / f.records.length : 0 };
}

export async function transfer(opts: TransferOptions, data: ClipData, hooks: { log?: (line: string) => void } = {}): Promise<TransferResult> {
  const log = hooks.log ?? ((l: string) => process.stderr.write(l + '\n'));
  await initBackend({ log });
  const resolved = resolveCheckpoint(opts.encoder);
  log(resolved.note);
  const ckptDir = resolved.dir;
  if (path.resolve(opts.out, CHECKPOINT_DIR) === path.resolve(ckptDir)) throw new Error(`--out ${opts.out} would replace the source encoder's checkpoint ${ckptDir}: choose another output folder`);
  const loaded = await loadCheckpoint(ckptDir);
  const source = loaded.model;
  const encoderHashBefore = hashVariables(source.encoderVariables());
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(path.join(opts.out, 'options.json'), JSON.stringify(opts, null, 2) + '\n');

  // Cache key: the encoder's weights and the target data set, so a retrained encoder or another
  // data folder never reads stale features.
  const dataKey = createHash('sha256').update(path.resolve(data.dir)).update(JSON.stringify(source.config)).update(encoderHashBefore).digest('hex').slice(0, 16);
  const cacheDir = path.join(path.dirname(ckptDir), 'features', dataKey);
  const started = performance.now();
  const broken = await data.warm({ frames: source.config.frames, height: source.config.height, width: source.config.width }, ['train', 'validation', 'test']);
  if (broken.length > 0) log(`${data.dir}: ${broken.length} clip(s) could not be decoded and are left out: ${broken.slice(0, 5).join(', ')}`);
  const train = await splitFeatures(source, data, 'train', cacheDir, opts.featureBatchSize);
  const val = await splitFeatures(source, data, 'validation', cacheDir, opts.featureBatchSize);
  const test = await splitFeatures(source, data, 'test', cacheDir, opts.featureBatchSize);
  const featureCacheHit = train.hit && val.hit && test.hit;
  log(`frozen features: ${featureCacheHit ? 'read from cache' : 'computed'} in ${((performance.now() - started) / 1000).toFixed(1)} s (${cacheDir})`);

  const model = source.withNewHeads([{ name: 'action', labels: [...data.actionLabels] }], { hidden: opts.head === 'mlp' ? opts.hidden : 0 }, opts.seed);
  const metrics = new MetricsLog(path.join(opts.out, 'metrics.jsonl'));
  rmSync(metrics.path, { force: true });
  const trainRows = train.features.records.map((_, i) => i);
  const labels = Int32Array.from(train.features.records.map((r) => labelOf(r, 'action')));
  const classes = data.actionLabels.length;
  const step = await trainHeadOnStates(model, train.features, trainRows, (r) => labels[r]!, {
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    lr: opts.lr,
    seed: opts.seed,
    onEpoch: (epoch, step, loss) => {
      const v = predictFeatures(model, val.features, 256);
      const vr = evaluatePredictions('action', v.predictions, classes, data.actionTemplates);
      metrics.append({ kind: 'train', step, epoch, lr: opts.lr, loss, classification: loss, caption: 0, clipsPerSecond: 0 });
      metrics.append({ kind: 'validation', step, epoch, loss: v.loss, top1: vr.classification.top1, top5: vr.classification.top5 });
    },
  });

  const t = predictFeatures(model, test.features, 256);
  writePredictions(path.join(opts.out, 'predictions-test.jsonl'), t.predictions);
  const testReport = evaluatePredictions('action', t.predictions, classes, data.actionTemplates);
  metrics.append({ kind: 'test', step, top1: testReport.classification.top1, top5: testReport.classification.top5 });

  const encoderHashAfter = hashVariables(source.encoderVariables());
  if (encoderHashAfter !== encoderHashBefore) throw new Error('transfer changed the frozen encoder weights (hash differs); this is a bug');

  // Saved only once the encoder is known unchanged, so a served transfer model is what was tested.
  const checkpoint = path.join(opts.out, CHECKPOINT_DIR);
  const lastValidation = metrics.read().filter((r) => r.kind === 'validation').at(-1) as { top1: number; top5: number } | undefined;
  const sourceTraining = loaded.training ?? {};
  await saveCheckpoint(checkpoint, model, {
    training: {
      kind: 'transfer',
      task: 'actions',
      encoder: { checkpoint: ckptDir, hash: encoderHashBefore, task: sourceTraining.task ?? null, data: sourceTraining.data ?? null, step: sourceTraining.step ?? null },
      data: data.dir,
      head: opts.head,
      ...(opts.head === 'mlp' ? { hidden: opts.hidden } : {}),
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      lr: opts.lr,
      seed: opts.seed,
      steps: step,
      clips: { train: train.features.records.length, validation: val.features.records.length, test: test.features.records.length },
      ...(lastValidation ? { validation: { top1: lastValidation.top1, top5: lastValidation.top5 } } : {}),
      test: compactReport(testReport),
    },
  });
  log(`saved the transfer model to ${checkpoint} (serve it with npm start -- --model ${opts.out})`);

  const recs = metrics.read();
  writeFileSync(
    path.join(opts.out, 'curves.svg'),
    lineChartSvg({
      title: `Transfer head (${opts.head})`,
      xLabel: 'step',
      yLabel: 'loss / accuracy',
      series: [
        { name: 'train CE', points: recs.filter((r) => r.kind === 'train').map((r): [number, number] => [r.step, (r as { loss: number }).loss]) },
        { name: 'val CE', points: recs.filter((r) => r.kind === 'validation').map((r): [number, number] => [r.step, (r as { loss: number }).loss]) },
        { name: 'val top-1', points: recs.filter((r) => r.kind === 'validation').map((r): [number, number] => [r.step, (r as { top1: number }).top1]) },
      ],
    }),
  );
  writeFileSync(path.join(opts.out, 'confusion-test.svg'), confusionMatrixSvg(testReport.classification.confusion, data.actionLabels, 'Transfer test confusion (action)'));
  writeFileSync(
    path.join(opts.out, 'report.json'),
    JSON.stringify({ encoder: ckptDir, checkpoint, head: opts.head, steps: step, encoderHash: encoderHashBefore, encoderUnchanged: true, featureCacheHit, test: compactReport(testReport) }, null, 2) + '\n',
  );
  model.dispose();
  source.dispose();
  return { outDir: opts.out, checkpoint, test: testReport, encoderUnchanged: true, featureCacheHit };
}
