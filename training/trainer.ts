/**
 * One source-task training run: Adam with a step-indexed learning-rate schedule, validation after
 * every epoch, a checkpoint at every epoch end (and optionally every N steps), metrics to JSONL,
 * and at the end a test-split evaluation with its predictions, report and charts.
 *
 * Exact resume: a checkpoint stores the model, Adam's moments and iteration count, the global step,
 * the position inside the epoch, and the state of the PRNG that Math.random (hence tfjs's dropout)
 * draws from. The per-epoch data order is a function of (seed, epoch), so it is rebuilt, not stored.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CountertopModel, Vocabulary, initBackend, loadCheckpoint, parseModelConfig, restoreAdam, saveCheckpoint, type HeadSpec } from '../model/index.js';
import { chunk, disposeBatch, epochOrder, makeTrainingBatch } from './batches.js';
import type { ClipData } from './data-source.js';
import { evaluateSplit } from './evaluate.js';
import { MetricsLog } from './metrics-log.js';
import { type TrainOptions, resumeKey } from './options.js';
import { evaluatePredictions, writePredictions, type EvaluationReport } from './predictions.js';
import { TrainingProgress } from './progress.js';
import { type RngState, SeededRandom, withSeededMathRandom } from './rng.js';
import { writeRunCharts } from './run-charts.js';
import { learningRateAt } from './schedule.js';
import { TASK_DEFINITIONS, effectiveLambda } from './tasks.js';

export const CHECKPOINT_DIR = 'checkpoint';

/** Training state stored in the checkpoint manifest. */
interface ResumeState {
  readonly resumeKey: string;
  readonly step: number;
  /** Next epoch to run from `batchInEpoch`. */
  readonly epoch: number;
  readonly batchInEpoch: number;
  readonly rng: RngState;
  readonly finished: boolean;
}

export interface TrainResult {
  readonly outDir: string;
  readonly steps: number;
  readonly test: EvaluationReport;
  readonly validation?: EvaluationReport;
}

export async function train(opts: TrainOptions, data: ClipData, hooks: { log?: (line: string) => void } = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((l: string) => process.stderr.write(l + '\n'));
  await initBackend({ log });
  const task = TASK_DEFINITIONS[opts.task];
  const lambda = effectiveLambda(opts.task, opts.lambda);
  const out = opts.out;
  mkdirSync(out, { recursive: true });
  const ckptDir = path.join(out, CHECKPOINT_DIR);
  const metrics = new MetricsLog(path.join(out, 'metrics.jsonl'));

  const allTrain = data.records('train');
  const trainRecords = opts.maxTrainClips > 0 ? allTrain.slice(0, opts.maxTrainClips) : allTrain;
  if (trainRecords.length === 0) throw new Error(`${data.dir}: no training clips`);
  const validation = data.records('validation');
  const batchesPerEpoch = Math.ceil(trainRecords.length / opts.batchSize);
  const totalSteps = batchesPerEpoch * opts.epochs;
  const schedule = { kind: opts.schedule, baseLr: opts.lr, totalSteps, warmupSteps: opts.warmupSteps };
  const captionSource = lambda < 1 ? task.captionSource : undefined;

  let model: CountertopModel;
  let optimizer: tf.AdamOptimizer;
  let state: ResumeState;
  if (opts.resume && existsSync(path.join(ckptDir, 'manifest.json'))) {
    const loaded = await loadCheckpoint(ckptDir);
    const saved = loaded.training as unknown as ResumeState | undefined;
    if (!saved || saved.resumeKey !== resumeKey(opts)) {
      throw new Error(`${ckptDir} was written by a run with different options; resume with the same options or use a new --out`);
    }
    model = loaded.model;
    optimizer = await restoreAdam(loaded, opts.lr);
    state = saved;
    metrics.truncateAfter(state.step);
    log(`resuming ${out} at step ${state.step} (epoch ${state.epoch + 1}, batch ${state.batchInEpoch})`);
  } else {
    if (existsSync(ckptDir) && !opts.resume) throw new Error(`${out} already holds a checkpoint: pass --resume to continue it, or choose a new --out`);
    rmSync(metrics.path, { force: true });
    const [frames, height, width] = data.clipShape;
    const config = parseModelConfig({ ...opts.config, frames, height, width });
    const labels = task.head === 'group' ? data.groupLabels : data.actionLabels;
    const heads: HeadSpec[] = [{ name: task.head, labels: [...labels] }];
    const vocab = captionSource
      ? Vocabulary.build(
          trainRecords.map((r) => (captionSource === 'simplified' ? r.simplified : r.caption)),
          { minCount: opts.minWordCount, length: config.caption.length },
        )
      : null;
    model = CountertopModel.create(config, heads, vocab, opts.seed);
    optimizer = tf.train.adam(opts.lr);
    state = { resumeKey: resumeKey(opts), step: 0, epoch: 0, batchInEpoch: 0, rng: new SeededRandom(opts.seed ^ 0x5eed).state(), finished: false };
  }
  writeFileSync(path.join(out, 'options.json'), JSON.stringify({ ...opts, lambda, resume: undefined }, null, 2) + '\n');

  const rng = new SeededRandom(state.rng);
  const checkpoint = async (s: Omit<ResumeState, 'rng' | 'resumeKey'>) => {
    state = { ...s, rng: rng.state(), resumeKey: resumeKey(opts) };
    await saveCheckpoint(ckptDir, model, { optimizer, training: { ...state, task: opts.task, lambda, data: data.dir } });
  };

  const progress = new TrainingProgress(opts.progress, totalSteps, state.step);
  let lastValidation: EvaluationReport | undefined;
  await withSeededMathRandom(rng, async () => {
    for (let epoch = state.epoch; epoch < opts.epochs; epoch++) {
      const batches = chunk(epochOrder(trainRecords, opts.seed, epoch), opts.batchSize);
      for (let b = epoch === state.epoch ? state.batchInEpoch : 0; b < batches.length; b++) {
        const records = batches[b];
        const started = performance.now();
        const batch = await makeTrainingBatch(data, records, task.head, captionSource && model.vocabulary ? { vocab: model.vocabulary, source: captionSource } : null);
        const lr = learningRateAt(schedule, state.step);
        setLearningRate(optimizer, lr);
        let losses;
        try {
          losses = model.trainStep(optimizer, batch, lambda);
        } finally {
          disposeBatch(batch);
        }
        const step = state.step + 1;
        const clipsPerSecond = records.length / ((performance.now() - started) / 1000);
        metrics.append({ kind: 'train', step, epoch, lr, loss: losses.total, classification: losses.classification, caption: losses.caption, clipsPerSecond });
        progress.tick({ epoch: epoch + 1, epochs: opts.epochs, loss: losses.total, clipsPerSecond });
        const atEpochEnd = b + 1 === batches.length;
        state = { ...state, step, epoch: atEpochEnd ? epoch + 1 : epoch, batchInEpoch: atEpochEnd ? 0 : b + 1 };
        if (!atEpochEnd && opts.checkpointEvery > 0 && step % opts.checkpointEvery === 0) await checkpoint(state);
      }
      if (validation.length > 0) {
        const v = await evaluateSplit(model, data, validation, task.head, { batchSize: opts.batchSize, captionSource });
        lastValidation = evaluatePredictions(task.head, v.predictions, classCount(model, task.head), data.actionLabels);
        metrics.append({
          kind: 'validation',
          step: state.step,
          epoch,
          loss: v.classificationLoss,
          top1: lastValidation.classification.top1,
          top5: lastValidation.classification.top5,
          ...(lastValidation.caption ? { bleu4: lastValidation.caption.bleu4, ciderD: lastValidation.caption.ciderD, exactMatch: lastValidation.caption.exactMatch, actionCorrect: lastValidation.caption.actionCorrect } : {}),
        });
        progress.note(`epoch ${epoch + 1}: validation top-1 ${(lastValidation.classification.top1 * 100).toFixed(1)}%` + (lastValidation.caption ? `, BLEU-4 ${lastValidation.caption.bleu4.toFixed(3)}` : ''));
      }
      await checkpoint({ ...state, epoch: epoch + 1, batchInEpoch: 0, finished: epoch + 1 === opts.epochs });
    }
  });
  progress.stop();

  const test = await writeEvaluation(model, data, 'test', task.head, captionSource, out, opts.batchSize);
  metrics.append({ kind: 'test', step: state.step, top1: test.classification.top1, top5: test.classification.top5, ...(test.caption ? { bleu4: test.caption.bleu4, ciderD: test.caption.ciderD } : {}) });
  writeRunCharts(out, metrics.read(), test, model.heads[0].labels);
  writeFileSync(path.join(out, 'report.json'), JSON.stringify({ task: opts.task, lambda, steps: state.step, test: compactReport(test), validation: lastValidation && compactReport(lastValidation) }, null, 2) + '\n');
  const result = { outDir: out, steps: state.step, test, validation: lastValidation };
  model.dispose();
  optimizer.dispose();
  return result;
}

export async function writeEvaluation(
  model: CountertopModel,
  data: ClipData,
  split: 'test' | 'validation',
  head: 'group' | 'action',
  captionSource: 'simplified' | 'captions' | undefined,
  out: string,
  batchSize: number,
): Promise<EvaluationReport> {
  const records = data.records(split);
  const ev = await evaluateSplit(model, data, records, head, { batchSize, captionSource });
  writePredictions(path.join(out, `predictions-${split}.jsonl`), ev.predictions);
  return evaluatePredictions(head, ev.predictions, classCount(model, head), data.actionLabels);
}

function classCount(model: CountertopModel, head: string): number {
  const spec = model.heads.find((h) => h.name === head);
  if (!spec) throw new Error(`model has no head "${head}"`);
  return spec.labels.length;
}

/** The report without the (large) confusion matrix, which the chart and predictions file hold. */
export function compactReport(r: EvaluationReport): Record<string, unknown> {
  const { confusion: _c, ...classification } = r.classification;
  return { head: r.head, classification, caption: r.caption };
}

/** Adam reads its learning rate from this field at every step (tfjs 4.22). */
function setLearningRate(optimizer: tf.AdamOptimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
