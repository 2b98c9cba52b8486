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
import { CHECKPOINT_DIR, CountertopModel, Vocabulary, initBackend, loadCheckpoint, parseModelConfig, restoreAdam, saveCheckpoint, type HeadSpec } from '../model/index.js';
import type { CaptionDecoder } from '../model/decoder.js';
import { clipShapeOf, clipTensor, disposeBatch, encodeInputs, makeTrainingBatch } from './batches.js';
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

// Defined with the resolver that finds it again (model/checkpoint-folder.ts).
export { CHECKPOINT_DIR };

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

const NO_HELD_OUT = (dir: string) => `${dir}: no labelled test or validation clips to evaluate on (the data maker needs ≥ 3 clips per class for them); nothing was trained`;

/** `--resume` on a run folder with no checkpoint: said, not silently started over. */
export class NothingToResumeError extends Error {}

/** The run stopped at a step end because `hooks.signal` was aborted (Ctrl-C), after saving a checkpoint. */
export class TrainingInterrupted extends Error {
  constructor(
    readonly out: string,
    readonly checkpointDir: string,
    readonly step: number,
    /** Where the resumed run goes on: 1-based epoch and the batches of it already done. */
    readonly epoch: number,
    readonly batchInEpoch: number,
  ) {
    super(`interrupted after step ${step}; checkpoint saved in ${checkpointDir} (it resumes at epoch ${epoch}, batch ${batchInEpoch})`);
  }
}

export interface TrainHooks {
  log?: (line: string) => void;
  /** Aborting it stops the run at the end of the current step, with a checkpoint (TrainingInterrupted). */
  signal?: AbortSignal;
}

export interface TrainResult {
  readonly outDir: string;
  readonly steps: number;
  readonly test: EvaluationReport;
  readonly validation?: EvaluationReport;
}

export async function train(opts: TrainOptions, data: ClipData, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((l: string) => process.stderr.write(l + '\n'));
  await initBackend({ log });
  const task = TASK_DEFINITIONS[opts.task];
  const lambda = effectiveLambda(opts.task, opts.lambda);
  const out = opts.out;
  const trainCount = opts.maxTrainClips > 0 ? Math.min(opts.maxTrainClips, data.count('train')) : data.count('train');
  if (trainCount === 0) throw new Error(`${data.dir}: no labelled training clips`);
  // Refused before any epoch runs: with nothing held out the run could not report at its end.
  if (data.count('test') === 0 && data.count('validation') === 0) throw new Error(NO_HELD_OUT(data.dir));
  const ckptDir = path.join(out, CHECKPOINT_DIR);
  if (opts.resume && !existsSync(path.join(ckptDir, 'manifest.json'))) {
    throw new NothingToResumeError(`nothing to resume: ${out} has no checkpoint (${path.join(ckptDir, 'manifest.json')} is missing); run without --resume to start a new run there`);
  }
  mkdirSync(out, { recursive: true });
  const metrics = new MetricsLog(path.join(out, 'metrics.jsonl'));

  const hasValidation = data.count('validation') > 0;
  const batchesPerEpoch = Math.ceil(trainCount / opts.batchSize);
  const totalSteps = batchesPerEpoch * opts.epochs;
  const schedule = { kind: opts.schedule, baseLr: opts.lr, totalSteps, warmupSteps: opts.warmupSteps };
  const captionSource = lambda < 1 ? task.captionSource : undefined;

  let model: CountertopModel;
  let optimizer: tf.AdamOptimizer;
  let state: ResumeState;
  if (opts.resume) {
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
    const config = parseModelConfig(opts.config);
    const labels = task.head === 'group' ? data.groupLabels : data.actionLabels;
    const heads: HeadSpec[] = [{ name: task.head, labels: [...labels] }];
    const vocab = captionSource ? Vocabulary.build(data.captions('train', captionSource), { minCount: opts.minWordCount, length: config.caption.length }) : null;
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

  const shape = clipShapeOf(model.config);
  const broken = await data.warm(shape, ['train', 'validation', 'test']);
  if (broken.length > 0) log(`${data.dir}: ${broken.length} clip(s) could not be decoded and are left out: ${broken.slice(0, 5).join(', ')}`);
  if (!opts.resume && state.step === 0 && model.config.caption.contextInit === 'standardise' && captionSource) {
    const stats = await standardiseDecoderContext(model, data, shape, opts.batchSize);
    log(`decoder context standardised over ${stats.clips} training clips (between-clip sd of the encoding: median ${stats.medianSd.toPrecision(3)})`);
  }
  const wordDropout = model.config.caption.wordDropout ?? 0;
  if (wordDropout > 0 && captionSource) {
    const decoder = (model as unknown as { decoder: CaptionDecoder | null }).decoder;
    if (decoder) decoder.wordDropout = wordDropout;
  }
  const captionTarget = captionSource && model.vocabulary ? { vocab: model.vocabulary, source: captionSource } : null;
  const progress = new TrainingProgress(opts.progress, totalSteps, state.step);
  let lastValidation: EvaluationReport | undefined;
  // Ctrl-C: a checkpoint at the end of the current step, then TrainingInterrupted (the CLI says how to resume).
  const interrupted = async (saved: boolean) => {
    if (!saved) await checkpoint(state);
    progress.stop();
    model.dispose();
    optimizer.dispose();
    return new TrainingInterrupted(out, ckptDir, state.step, state.epoch + 1, state.batchInEpoch);
  };
  if (hooks.signal?.aborted && !state.finished) throw await interrupted(false);
  for (let epoch = state.epoch; epoch < opts.epochs; epoch++) {
    // The epoch's order and augmentation are fixed by (seed, epoch); a resumed epoch skips the batches already trained.
    const skip = epoch === state.epoch ? state.batchInEpoch : 0;
    let b = -1;
    let loaded = performance.now();
    const stream = data.batches('train', { shape, batchSize: opts.batchSize, training: true, seed: opts.seed, epoch, ...(opts.maxTrainClips > 0 ? { limit: opts.maxTrainClips } : {}) });
    for await (const loadedBatch of stream) {
      b++;
      if (b < skip) continue;
      const records = loadedBatch.records;
      const started = loaded;
      const batch = makeTrainingBatch(loadedBatch, shape, task.head, captionTarget);
      const lr = learningRateAt(schedule, state.step);
      setLearningRate(optimizer, lr);
      let losses;
      try {
        losses = withSeededMathRandom(rng, () => model.trainStep(optimizer, batch, lambda));
      } finally {
        disposeBatch(batch);
      }
      const step = state.step + 1;
      const clipsPerSecond = records.length / ((performance.now() - started) / 1000);
      metrics.append({ kind: 'train', step, epoch, lr, loss: losses.total, classification: losses.classification, caption: losses.caption, clipsPerSecond });
      progress.tick({ epoch: epoch + 1, epochs: opts.epochs, loss: losses.total, clipsPerSecond });
      state = { ...state, step, batchInEpoch: b + 1 };
      if (hooks.signal?.aborted && b + 1 < batchesPerEpoch) throw await interrupted(false);
      if (opts.checkpointEvery > 0 && step % opts.checkpointEvery === 0 && b + 1 < batchesPerEpoch) await checkpoint(state);
      loaded = performance.now();
    }
    state = { ...state, epoch: epoch + 1, batchInEpoch: 0 };
    if (hasValidation) {
      const v = await evaluateSplit(model, data, 'validation', task.head, { batchSize: opts.batchSize, captionSource });
      lastValidation = evaluatePredictions(task.head, v.predictions, classCount(model, task.head), data.actionTemplates);
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
    await checkpoint({ ...state, finished: epoch + 1 === opts.epochs });
    // After the last batch of an epoch the interruption waits for its validation and checkpoint.
    if (hooks.signal?.aborted && epoch + 1 < opts.epochs) throw await interrupted(true);
  }
  progress.stop();

  // Real SSv2 ships its test split unlabelled: then the validation split is the held-out set.
  const heldOut = data.count('test') > 0 ? 'test' : 'validation';
  if (data.count(heldOut) === 0) throw new Error(NO_HELD_OUT(data.dir));
  if (heldOut !== 'test') log(`${data.dir}: the test split is unlabelled; reporting the validation split instead`);
  const test = await writeEvaluation(model, data, heldOut, task.head, captionSource, out, opts.batchSize);
  metrics.append({ kind: 'test', step: state.step, top1: test.classification.top1, top5: test.classification.top5, ...(test.caption ? { bleu4: test.caption.bleu4, ciderD: test.caption.ciderD } : {}) });
  writeRunCharts(out, metrics.read(), test, model.heads[0].labels);
  writeFileSync(path.join(out, 'report.json'), JSON.stringify({ task: opts.task, lambda, steps: state.step, heldOutSplit: heldOut, test: compactReport(test), validation: lastValidation && compactReport(lastValidation) }, null, 2) + '\n');
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
  const ev = await evaluateSplit(model, data, split, head, { batchSize, captionSource });
  writePredictions(path.join(out, `predictions-${split}.jsonl`), ev.predictions);
  return evaluatePredictions(head, ev.predictions, classCount(model, head), data.actionTemplates);
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

/** Clips whose encodings set the decoder's context standardisation (model config caption.contextInit). */
const CONTEXT_INIT_CLIPS = 64;

/**
 * Data-dependent initialisation of the caption decoder's context weights: the per-feature mean and
 * sd of the fresh encoder's clip encodings over the first training clips (dropout off), the sd
 * floored at a tenth of its mean so that an all but constant feature is not blown up.
 */
async function standardiseDecoderContext(model: CountertopModel, data: ClipData, shape: ReturnType<typeof clipShapeOf>, batchSize: number): Promise<{ clips: number; medianSd: number }> {
  const decoder = (model as unknown as { decoder: CaptionDecoder | null }).decoder;
  if (!decoder) throw new Error('caption.contextInit needs a model with a caption decoder');
  const rows: Float32Array[] = [];
  for await (const b of data.batches('train', { shape, batchSize, training: false, seed: 0, epoch: 0, limit: CONTEXT_INIT_CLIPS })) {
    const pooled = tf.tidy(() => model.encode(clipTensor(b, shape), encodeInputs(b, shape)).pooled);
    const values = (await pooled.data()) as Float32Array;
    const C = pooled.shape[1]!;
    for (let i = 0; i < b.records.length; i++) rows.push(values.slice(i * C, (i + 1) * C));
    pooled.dispose();
  }
  const C = rows[0]!.length;
  const mean = new Float32Array(C);
  const sd = new Float32Array(C);
  for (const r of rows) r.forEach((v, c) => (mean[c]! += v / rows.length));
  for (const r of rows) r.forEach((v, c) => (sd[c]! += (v - mean[c]!) ** 2 / Math.max(1, rows.length - 1)));
  for (let c = 0; c < C; c++) sd[c] = Math.sqrt(sd[c]!);
  const floor = 0.1 * (sd.reduce((a, v) => a + v, 0) / C);
  const sorted = [...sd].sort((a, b) => a - b);
  decoder.standardiseContext(mean, Float32Array.from(sd, (v) => Math.max(v, floor)));
  return { clips: rows.length, medianSd: sorted[Math.floor(C / 2)]! };
}

/** Adam reads its learning rate from this field at every step (tfjs 4.22). */
function setLearningRate(optimizer: tf.AdamOptimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
