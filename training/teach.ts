/**
 * Teach: a model of the user's own classes from a folder of their clips (SSv2 layout), the core
 * that `npm run teach` and the dashboard's job runner call.
 *
 *   const report = await teach(teachOptionsSchema.parse({ base: 'assets/model/default', data: 'clips', out: 'runs/mine' }),
 *     { onProgress: (p) => …, signal });
 *
 * Two modes: `transfer` (the base's encoder frozen, a new head trained on its states — each clip's
 * middle window and a few random windows, computed once and cached in `<out>/features/`) and
 * `finetune` (every weight trainable from the base, the head starting as a linear probe, a lower
 * learning rate, λ = 1 since the new classes have no captions). Every labelled
 * clip of the folder is used (all splits). Accuracy is measured on clips held out from training —
 * transfer: stratified k-fold, k = min(folds, smallest class), each clip scored once by a head
 * that never saw it; finetune: one stratified split (≥ 1 clip per class held out) — and then the
 * final model is trained on all clips and saved to `<out>/checkpoint` (no caption decoder), with
 * `<out>/report.json`. A cancelled run (the signal) writes no checkpoint; a finetune run keeps a
 * resumable state in `<out>/resume/` after every epoch. The data folder is only read.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { CHECKPOINT_DIR, type CountertopModel, initBackend, loadCheckpoint, resolveCheckpoint, restoreAdam, saveCheckpoint } from '../model/index.js';
import { frameStep } from '../model/config.js';
import type { VideoRecord } from '../data/index.js';
import { classificationReport } from '../eval/classification.js';
import { evaluateSplit } from './evaluate.js';
import { finetuneEpochs, finetuneStart, probeHead } from './finetune.js';
import { encodeSplit, joinPasses, predictByClip, rowsWhere, trainHeadOnStates, type EncodedStates, type RowStates } from './head-training.js';
import { type RngState, SeededRandom } from './rng.js';
import { TeachInputError, checkClips, readTeachSet, stratifiedFolds, subsetData, type TeachSet } from './teach-data.js';
import { hashVariables } from './transfer.js';
import { loadLiveSettings, resolveLiveSettings, writeLiveSettings } from '../pipelines/liveSettings.js';

export { TeachInputError } from './teach-data.js';

/** Per-mode defaults of epochs, learning rate and batch size (chosen by the few-shot measurement, docs/TRAINING.md). */
export const TEACH_DEFAULTS = {
  transfer: { epochs: 100, lr: 3e-3, batchSize: 32 },
  finetune: { epochs: 12, lr: 3e-4, batchSize: 8 },
} as const;

export const teachOptionsSchema = z.strictObject({
  /** A checkpoint folder, a training run's folder, a transfer or teach output (resolveCheckpoint). */
  base: z.string().min(1),
  /** The user's clips, SSv2 layout; only read. */
  data: z.string().min(1),
  out: z.string().min(1),
  mode: z.enum(['transfer', 'finetune']).default('transfer'),
  /** Defaults per mode: TEACH_DEFAULTS. */
  epochs: z.number().int().min(1).max(10_000).optional(),
  lr: z.number().positive().max(1).optional(),
  batchSize: z.number().int().min(1).max(512).optional(),
  /** Transfer only: the new head's kind and the MLP's hidden units. */
  head: z.enum(['linear', 'mlp']).default('linear'),
  hidden: z.number().int().min(1).max(4096).default(128),
  /**
   * Windows per clip (start … end) for window-sampling models: both modes score a held-out clip by
   * averaging its windows' probabilities.
   */
  views: z.number().int().min(1).max(8).default(3),
  /**
   * Passes of the loader's training sampling (random window, crop, label-safe flip) per clip added
   * to the frozen states a head is trained on, beside the clip's middle window: transfer's head,
   * and finetune's starting head (a linear probe).
   */
  augment: z.number().int().min(0).max(16).default(4),
  /** Transfer: at most this many folds. */
  folds: z.number().int().min(2).max(10).default(5),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  /** Finetune: continue from `<out>/resume/` (same options). Transfer: reuse its cached features (head training restarts; it takes seconds). */
  resume: z.boolean().default(false),
});
export type TeachOptions = z.infer<typeof teachOptionsSchema>;
export type TeachOptionsInput = z.input<typeof teachOptionsSchema>;

export const TEACH_PHASES = ['check', 'features', 'train', 'evaluate', 'save'] as const;

export const teachProgressSchema = z.strictObject({
  phase: z.enum(TEACH_PHASES),
  /** Of the whole job, 0 … 1, never decreasing. */
  fraction: z.number().min(0).max(1),
  epoch: z.number().int().min(1).optional(),
  epochs: z.number().int().min(1).optional(),
  /** 1-based held-out fold being trained; absent while the final model trains. */
  fold: z.number().int().min(1).optional(),
  folds: z.number().int().min(1).optional(),
  loss: z.number().optional(),
  trainAccuracy: z.number().min(0).max(1).optional(),
  /** Accuracy on the clips held out so far. */
  heldOutAccuracy: z.number().min(0).max(1).optional(),
});
export type TeachProgress = z.infer<typeof teachProgressSchema>;

export const teachClassSchema = z.strictObject({
  label: z.string(),
  /** Clips of the class in the folder (all used to train the saved model). */
  clips: z.number().int().min(0),
  /** Of them, scored by a model that had not seen them. */
  heldOut: z.number().int().min(0),
  correct: z.number().int().min(0),
  accuracy: z.number().min(0).max(1),
});

export const teachReportSchema = z.strictObject({
  kind: z.literal('teach'),
  mode: z.enum(['transfer', 'finetune']),
  /** The base checkpoint folder used. */
  base: z.string(),
  data: z.string(),
  /** The saved model (serve it with npm start -- --model <out>). */
  checkpoint: z.string(),
  labels: z.array(z.string()),
  classes: z.array(teachClassSchema),
  /** confusion[true][predicted] over the held-out predictions. */
  confusion: z.array(z.array(z.number().int().min(0))),
  /** Of all held-out predictions. */
  top1: z.number().min(0).max(1),
  heldOut: z.strictObject({
    method: z.enum(['stratified-k-fold', 'stratified-split']),
    folds: z.number().int().min(1),
    clips: z.number().int().min(1),
    description: z.string(),
  }),
  clips: z.number().int().min(1),
  options: z.strictObject({ epochs: z.number(), lr: z.number(), batchSize: z.number(), head: z.string(), views: z.number(), augment: z.number(), seed: z.number() }),
  seconds: z.strictObject({
    /** Checking (decoding) the clips. */
    check: z.number(),
    /** Transfer: the frozen states (0 when read from the cache). */
    features: z.number(),
    /** Training and scoring the held-out model(s). */
    heldOut: z.number(),
    /** Training the saved model on all clips. */
    final: z.number(),
    total: z.number(),
  }),
  /** Finetune: the epoch a resumed run started from (1-based), else null. */
  resumedAtEpoch: z.number().int().nullable(),
});
export type TeachReport = z.infer<typeof teachReportSchema>;

/**
 * The CLI's `--json` wire format, one object per line on stdout (scripts/teach.ts). Stable: the
 * server's job runner parses it. `done` and `error` and `cancelled` are the last line.
 */
export const teachMessageSchema = z.discriminatedUnion('type', [
  teachProgressSchema.extend({ type: z.literal('progress') }),
  z.strictObject({ type: z.literal('log'), message: z.string() }),
  z.strictObject({ type: z.literal('done'), report: teachReportSchema }),
  /** `input`: the data or options were refused (fix them); otherwise something failed. */
  z.strictObject({ type: z.literal('error'), message: z.string(), input: z.boolean() }),
  z.strictObject({ type: z.literal('cancelled') }),
]);
export type TeachMessage = z.infer<typeof teachMessageSchema>;

/** Exit codes of scripts/teach.ts. */
export const TEACH_EXIT = { done: 0, failed: 1, badInput: 2, cancelled: 130 } as const;

/** The run was aborted through its signal; no checkpoint was written. */
export class TeachCancelled extends Error {
  constructor() {
    super('cancelled: no model was saved');
  }
}

export interface TeachHooks {
  onProgress?: (p: TeachProgress) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

interface Resolved extends TeachOptions {
  epochs: number;
  lr: number;
  batchSize: number;
}

export function resolveTeachOptions(o: TeachOptions): Resolved {
  const d = TEACH_DEFAULTS[o.mode];
  return { ...o, epochs: o.epochs ?? d.epochs, lr: o.lr ?? d.lr, batchSize: o.batchSize ?? d.batchSize };
}

/** What a resumed finetune run must match: everything that shapes the computation. */
function optionsHash(o: Resolved, baseDir: string, clipIds: readonly string[]): string {
  const { resume: _r, out: _o, ...rest } = o;
  return createHash('sha256').update(JSON.stringify({ ...rest, base: path.resolve(baseDir), data: path.resolve(o.data), clipIds })).digest('hex').slice(0, 16);
}

const isInside = (child: string, parent: string) => {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** Monotonic overall progress from (phase, fraction of the phase) over fixed phase shares. */
class ProgressMeter {
  private last = 0;
  private lastAt = 0;
  private lastPhase = '';
  constructor(private readonly shares: Partial<Record<TeachProgress['phase'], [number, number]>>, private readonly sink?: (p: TeachProgress) => void) {}
  /** `share`: the phase whose part of the job `within` is measured in (a fold's evaluation sits inside training's). */
  report(phase: TeachProgress['phase'], within: number, extra: Omit<TeachProgress, 'phase' | 'fraction'> = {}, force = false, share: TeachProgress['phase'] = phase): void {
    const [start, width] = this.shares[share] ?? [this.last, 0];
    const fraction = Math.min(1, Math.max(this.last, start + width * Math.min(1, Math.max(0, within))));
    const now = performance.now();
    // At most ~4 lines a second, but every phase change and every forced (fold/epoch end) line.
    if (!force && phase === this.lastPhase && now - this.lastAt < 250) return;
    this.last = fraction;
    this.lastAt = now;
    this.lastPhase = phase;
    this.sink?.({ phase, fraction, ...extra });
  }
}

interface HeldOutResult {
  /** Per held-out clip: its class and the predicted class. */
  readonly predictions: { clip: number; label: number; predicted: number }[];
  readonly method: TeachReport['heldOut']['method'];
  readonly folds: number;
  readonly description: string;
}

/** Evenly spread window positions (start … end); one window in the middle for 'spread' models. */
function viewPositions(model: CountertopModel, views: number): number[] {
  if (model.config.sampling !== 'window' || views === 1) return [0.5];
  return Array.from({ length: views }, (_, v) => v / (views - 1));
}

export async function teach(input: TeachOptions, hooks: TeachHooks = {}): Promise<TeachReport> {
  const o = resolveTeachOptions(input);
  const log = hooks.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const signal = hooks.signal;
  const cancelled = () => {
    if (signal?.aborted) throw new TeachCancelled();
  };
  const started = performance.now();
  const seconds = { check: 0, features: 0, heldOut: 0, final: 0, total: 0 };
  const meter = new ProgressMeter(
    o.mode === 'transfer' ? { check: [0, 0.1], features: [0.1, 0.4], train: [0.5, 0.45], evaluate: [0.95, 0.01], save: [0.96, 0.04] } : { check: [0, 0.05], train: [0.05, 0.9], evaluate: [0.95, 0.01], save: [0.96, 0.04] },
    hooks.onProgress,
  );
  meter.report('check', 0, {}, true);

  await initBackend({ log });
  const resolved = resolveCheckpoint(o.base);
  log(resolved.note);
  const baseDir = resolved.dir;
  const ckptOut = path.join(o.out, CHECKPOINT_DIR);
  if (isInside(o.out, o.data)) throw new TeachInputError(`--out ${o.out} is inside the data folder ${o.data}: the clips are only read, choose an output folder elsewhere`);
  if (isInside(baseDir, o.out)) throw new TeachInputError(`--out ${o.out} holds the base model ${baseDir}: choose a new output folder`);
  if (existsSync(ckptOut)) throw new TeachInputError(`${o.out} already holds a taught model (${ckptOut}): choose a new output folder`);

  const set = await readTeachSet(o.data);
  // Read (and checked) before any training. A taught model cuts the same windows at the same rate as its
  // base, so the base's stride and frame gap carry over; smoothing and segmenter thresholds depend on a
  // head's score distribution, so the new head starts from the defaults (npm run tune can pick its own).
  const baseLive = loadLiveSettings(baseDir);
  const loaded = await loadCheckpoint(baseDir);
  const base = loaded.model;
  const baseTraining = loaded.training ?? {};
  tf.dispose(loaded.optimizerWeights?.map((w) => w.tensor) ?? []);
  try {
    const c = base.config;
    const needFrames = c.sampling === 'window' ? (c.frames - 1) * frameStep(c) + 1 : c.frames;
    await checkClips(set, needFrames, { ...(signal ? { signal } : {}), onProgress: (f) => meter.report('check', f) });
    cancelled();
    seconds.check = (performance.now() - started) / 1000;
    const labels = [...set.ds.actions];
    log(`${set.clips.length} clips of ${labels.length} classes (${labels.map((l, i) => `${JSON.stringify(l)} ${set.counts[i]}`).join(', ')}); mode ${o.mode}`);
    mkdirSync(o.out, { recursive: true });
    const baseHash = hashVariables(base.encoderVariables());
    const hash = optionsHash(o, baseDir, set.clips.map((r) => r.id));

    const run = o.mode === 'transfer'
      ? await teachTransfer(o, set, base, baseHash, meter, seconds, { log, signal })
      : await teachFinetune(o, set, base, hash, meter, seconds, { log, signal });
    const { model, heldOut, resumedAtEpoch } = run;
    try {
      if (o.mode === 'transfer' && hashVariables(base.encoderVariables()) !== baseHash) throw new Error('teach changed the frozen encoder weights (hash differs); this is a bug');
      const report = buildReport(o, set, labels, baseDir, ckptOut, heldOut, seconds, resumedAtEpoch);
      // The last point a cancel is honoured: after it the checkpoint is written (atomically) and reported.
      cancelled();
      meter.report('save', 0, {}, true);
      seconds.total = (performance.now() - started) / 1000;
      const final = { ...report, seconds: { ...seconds } };
      await saveCheckpoint(ckptOut, model, {
        training: {
          kind: 'teach',
          mode: o.mode,
          task: 'actions',
          base: { checkpoint: baseDir, hash: baseHash, task: baseTraining.task ?? null, data: baseTraining.data ?? null },
          data: set.ds.dir,
          classes: labels,
          clips: { total: set.clips.length, perClass: [...set.counts] },
          heldOut: final.heldOut,
          perClassAccuracy: final.classes.map((k) => k.accuracy),
          top1: final.top1,
          epochs: o.epochs,
          lr: o.lr,
          batchSize: o.batchSize,
          seed: o.seed,
          ...(o.mode === 'transfer' ? { head: o.head, ...(o.head === 'mlp' ? { hidden: o.hidden } : {}) } : {}),
          seconds: final.seconds,
        },
      });
      if (baseLive.source === 'file') {
        const { stride, maxFrameGapMs } = baseLive.settings;
        writeLiveSettings(ckptOut, resolveLiveSettings({ stride, maxFrameGapMs }), { from: baseLive.file, kept: ['stride', 'maxFrameGapMs'] });
      }
      writeJsonAtomic(path.join(o.out, 'report.json'), final);
      rmSync(path.join(o.out, 'resume'), { recursive: true, force: true });
      meter.report('save', 1, {}, true);
      log(`saved the taught model to ${ckptOut}: held-out top-1 ${(final.top1 * 100).toFixed(1)}% (${final.heldOut.description}); serve it with npm start -- --model ${o.out}`);
      return teachReportSchema.parse(final);
    } finally {
      model.dispose();
    }
  } catch (e) {
    // An abort surfaces as the signal's reason from throwIfAborted, or as our own check.
    if (signal?.aborted) throw new TeachCancelled();
    throw e;
  } finally {
    base.dispose();
  }
}

function buildReport(o: Resolved, set: TeachSet, labels: string[], baseDir: string, checkpoint: string, h: HeldOutResult, seconds: TeachReport['seconds'], resumedAtEpoch: number | null): TeachReport {
  const r = classificationReport(h.predictions.map((p) => ({ label: p.label, ranked: [p.predicted] })), labels.length);
  const correct = labels.map((_, c) => r.confusion[c]![c]!);
  return {
    kind: 'teach',
    mode: o.mode,
    base: baseDir,
    data: set.ds.dir,
    checkpoint,
    labels,
    classes: labels.map((label, c) => ({ label, clips: set.counts[c]!, heldOut: r.support[c]!, correct: correct[c]!, accuracy: r.support[c]! > 0 ? correct[c]! / r.support[c]! : 0 })),
    confusion: r.confusion.map((row) => [...row]),
    top1: r.top1,
    heldOut: { method: h.method, folds: h.folds, clips: h.predictions.length, description: h.description },
    clips: set.clips.length,
    options: { epochs: o.epochs, lr: o.lr, batchSize: o.batchSize, head: o.mode === 'transfer' ? o.head : 'linear', views: o.views, augment: o.mode === 'transfer' ? o.augment : 0, seed: o.seed },
    seconds,
    resumedAtEpoch,
  };
}

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileSync(file + '.tmp', JSON.stringify(value, null, 2) + '\n');
  renameSync(file + '.tmp', file);
}

interface ModeContext {
  readonly log: (line: string) => void;
  readonly signal: AbortSignal | undefined;
}

interface ModeResult {
  /** The model to save, trained on every clip. */
  readonly model: CountertopModel;
  readonly heldOut: HeldOutResult;
  readonly resumedAtEpoch: number | null;
}

// ---------------------------------------------------------------- transfer

/**
 * Frozen states of every clip: one pass per scoring window (`views`, start … end), the middle
 * window if it is not one of them, and `augment` passes of the loader's training sampling (random
 * window, crop, label-safe flip). Cached in <out>/features/ under a key of everything they depend on.
 */
async function transferStates(o: Resolved, set: TeachSet, base: CountertopModel, baseHash: string, meter: ProgressMeter, ctx: ModeContext) {
  const scoring = viewPositions(base, o.views);
  const fixed = scoring.includes(0.5) ? scoring : [...scoring, 0.5];
  const N = set.clips.length;
  const key = createHash('sha256').update(JSON.stringify({ data: path.resolve(set.ds.dir), ids: set.clips.map((r) => r.id), config: base.config, baseHash, fixed, augment: o.augment, seed: o.seed })).digest('hex').slice(0, 16);
  const file = path.join(o.out, 'features', `${key}.f32`);
  const index = path.join(o.out, 'features', `${key}.json`);
  const passes = fixed.length + o.augment;
  const T = base.config.frames, U = base.encodingWidth;
  const layout = { scoring: scoring.map((p) => fixed.indexOf(p)), middle: fixed.indexOf(0.5), augmented: (part: number) => part >= fixed.length };
  if (existsSync(file) && existsSync(index)) {
    const meta = cachedRowsSchema.safeParse(JSON.parse(readFileSync(index, 'utf8')));
    const buf = readFileSync(file);
    if (meta.success && meta.data.clip.length === passes * N && buf.byteLength === passes * N * T * U * 4) {
      ctx.log(`frozen features read from ${file}`);
      const states = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const rows: RowStates = { states, T, U, clip: Int32Array.from(meta.data.clip), label: Int32Array.from(meta.data.label), part: Int32Array.from(meta.data.part) };
      return { rows, layout, hit: true };
    }
  }
  const data = subsetData(set, set.clips);
  const indexOf = new Map(set.clips.map((r, i) => [r.id, i]));
  const encoded: EncodedStates[] = [];
  let done = 0;
  const common = { ...(ctx.signal ? { signal: ctx.signal } : {}), onBatch: (n: number) => meter.report('features', (done += n) / (N * passes)) };
  for (const windowAt of fixed) encoded.push(await encodeSplit(base, data, 'train', 8, { windowAt, ...common }));
  for (let a = 0; a < o.augment; a++) encoded.push(await encodeSplit(base, data, 'train', 8, { augment: { seed: o.seed, epoch: a }, ...common }));
  for (const e of encoded) if (e.records.length !== N) throw new Error(`frozen features: ${e.records.length} of ${N} clips were encoded`);
  const rows = joinPasses((id) => indexOf.get(id)!, encoded);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file + '.tmp', new Uint8Array(rows.states.buffer, rows.states.byteOffset, rows.states.byteLength));
  writeFileSync(index + '.tmp', JSON.stringify({ clip: Array.from(rows.clip), label: Array.from(rows.label), part: Array.from(rows.part) }));
  renameSync(file + '.tmp', file);
  renameSync(index + '.tmp', index);
  return { rows, layout, hit: false };
}

const cachedRowsSchema = z.strictObject({ clip: z.array(z.number().int()), label: z.array(z.number().int()), part: z.array(z.number().int()) });

async function teachTransfer(o: Resolved, set: TeachSet, base: CountertopModel, baseHash: string, meter: ProgressMeter, seconds: TeachReport['seconds'], ctx: ModeContext): Promise<ModeResult> {
  const t0 = performance.now();
  if (o.resume) ctx.log('transfer keeps no resumable head state: head training restarts (it takes seconds), from the cached frozen features when they are there');
  const { rows: f, layout, hit } = await transferStates(o, set, base, baseHash, meter, ctx);
  seconds.features = hit ? 0 : (performance.now() - t0) / 1000;
  const N = set.clips.length;
  // Trained on the middle window and the random-window passes; the start and end windows of a clip
  // often miss the action (measured: they cost 5–13 points at 5 clips per class, docs/TRAINING.md).
  const isTrainPart = (part: number) => part === layout.middle || layout.augmented(part);
  const isScoringPart = (part: number) => layout.scoring.includes(part);
  const labels = [...set.ds.actions];
  const k = Math.min(o.folds, ...set.counts);
  const fold = stratifiedFolds(set, k, o.seed);
  const jobs = k + 1;
  const newHead = (seed: number) => base.withNewHeads([{ name: 'action', labels }], { hidden: o.head === 'mlp' ? o.hidden : 0 }, seed);
  const train = async (head: CountertopModel, clips: ReadonlySet<number>, job: number, foldNo?: number) => {
    await trainHeadOnStates(head, f, rowsWhere(f, (clip, part) => clips.has(clip) && isTrainPart(part)), (r) => f.label[r]!, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      lr: o.lr,
      seed: o.seed,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onEpoch: (epoch, _step, loss) => meter.report('train', (job + (epoch + 1) / o.epochs) / jobs, { epoch: epoch + 1, epochs: o.epochs, ...(foldNo ? { fold: foldNo, folds: k } : {}), loss }, epoch + 1 === o.epochs),
    });
  };
  /** Top-1 class of each clip, its scoring windows' probabilities averaged. */
  const predict = (head: CountertopModel, clips: ReadonlySet<number>) => predictByClip(head, f, rowsWhere(f, (clip, part) => clips.has(clip) && isScoringPart(part)));
  const accuracy = (pred: Map<number, number>) => [...pred].filter(([clip, p]) => set.clips[clip]!.action === p).length / Math.max(1, pred.size);

  const tHeld = performance.now();
  const predictions: HeldOutResult['predictions'] = [];
  const all = set.clips.map((_, i) => i);
  for (let j = 0; j < k; j++) {
    const head = newHead(o.seed + 1 + j);
    try {
      const trainClips = new Set(all.filter((i) => fold[i] !== j));
      const testClips = new Set(all.filter((i) => fold[i] === j));
      await train(head, trainClips, j, j + 1);
      const trainAccuracy = accuracy(predict(head, trainClips));
      for (const [clip, p] of predict(head, testClips)) predictions.push({ clip, label: set.clips[clip]!.action, predicted: p });
      const heldOutAccuracy = predictions.filter((p) => p.label === p.predicted).length / predictions.length;
      meter.report('evaluate', (j + 1) / jobs, { fold: j + 1, folds: k, trainAccuracy, heldOutAccuracy }, true, 'train');
    } finally {
      head.dispose();
    }
  }
  if (predictions.length !== N) throw new Error(`held-out scoring covered ${predictions.length} of ${N} clips; this is a bug`);
  seconds.heldOut = (performance.now() - tHeld) / 1000;
  const tFinal = performance.now();
  const model = newHead(o.seed);
  try {
    await train(model, new Set(all), k);
  } catch (e) {
    model.dispose();
    throw e;
  }
  seconds.final = (performance.now() - tFinal) / 1000;
  const windows = layout.scoring.length > 1 ? `; scored on ${layout.scoring.length} windows per clip` : '';
  return {
    model,
    heldOut: { method: 'stratified-k-fold', folds: k, predictions, description: `stratified ${k}-fold: each of the ${N} clips scored by a head trained on the other folds${windows}` },
    resumedAtEpoch: null,
  };
}

// ---------------------------------------------------------------- finetune

/** Held-out clips of a stratified split: about a fifth of each class, at least 1, never all. */
function stratifiedSplit(set: TeachSet, seed: number): Set<number> {
  const rng = new SeededRandom((seed * 40503 + 11) >>> 0);
  const held = new Set<number>();
  set.counts.forEach((n, c) => {
    const mine = rng.shuffled(set.clips.map((r, i) => (r.action === c ? i : -1)).filter((i) => i >= 0));
    const h = Math.min(n - 1, Math.max(1, Math.round(n / 5)));
    mine.slice(0, h).forEach((i) => held.add(i));
  });
  return held;
}

const resumeStateSchema = z.strictObject({
  hash: z.string(),
  stage: z.enum(['heldOut', 'final']),
  /** Next epoch to run (0-based). */
  epoch: z.number().int().min(0),
  rng: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  predictions: z.array(z.strictObject({ clip: z.number().int(), label: z.number().int(), predicted: z.number().int() })),
  heldOutSeconds: z.number(),
});
type ResumeState = z.infer<typeof resumeStateSchema>;

async function teachFinetune(o: Resolved, set: TeachSet, base: CountertopModel, hash: string, meter: ProgressMeter, seconds: TeachReport['seconds'], ctx: ModeContext): Promise<ModeResult> {
  const labels = [...set.ds.actions];
  const resumeDir = path.join(o.out, 'resume');
  const N = set.clips.length;
  const held = stratifiedSplit(set, o.seed);
  const trainIdx = set.clips.map((_, i) => i).filter((i) => !held.has(i));
  const heldIdx = [...held].sort((a, b) => a - b);
  const pick = (idx: readonly number[]) => idx.map((i) => set.clips[i]!);
  // Shares of the training phase, by clips × epochs of each stage.
  const heldWork = trainIdx.length * o.epochs, finalWork = N * o.epochs;
  const stageShare = { heldOut: [0, heldWork / (heldWork + finalWork)], final: [heldWork / (heldWork + finalWork), finalWork / (heldWork + finalWork)] } as const;

  let state: ResumeState = { hash, stage: 'heldOut', epoch: 0, rng: new SeededRandom(o.seed ^ 0x5eed).state() as [number, number, number, number], predictions: [], heldOutSeconds: 0 };
  let model: CountertopModel | undefined;
  let optimizer: tf.AdamOptimizer | undefined;
  let resumedAtEpoch: number | null = null;
  const hasState = existsSync(path.join(resumeDir, 'manifest.json'));
  if (hasState && !o.resume) throw new TeachInputError(`${o.out} holds an unfinished fine-tuning run (${resumeDir}): pass --resume to continue it, or choose a new output folder`);
  if (o.resume && hasState) {
    const loaded = await loadCheckpoint(resumeDir);
    const saved = resumeStateSchema.safeParse((loaded.training as { resume?: unknown } | undefined)?.resume);
    if (!saved.success || saved.data.hash !== hash) {
      loaded.model.dispose();
      tf.dispose(loaded.optimizerWeights?.map((w) => w.tensor) ?? []);
      throw new TeachInputError(`${resumeDir} was written with other options, data or base model: resume with the same ones, or choose a new output folder`);
    }
    state = saved.data;
    model = loaded.model;
    optimizer = await restoreAdam(loaded, o.lr);
    resumedAtEpoch = state.epoch + 1;
    ctx.log(`resuming fine-tuning at epoch ${state.epoch + 1} of the ${state.stage === 'heldOut' ? 'held-out' : 'final'} model`);
  } else if (o.resume) {
    ctx.log(`nothing saved in ${resumeDir} to resume from: fine-tuning starts at epoch 1`);
  }

  const save = async (m: CountertopModel, opt: tf.AdamOptimizer, s: ResumeState) => {
    state = s;
    await saveCheckpoint(resumeDir, m, { optimizer: opt, training: { kind: 'teach-resume', resume: s } });
  };
  const runStage = async (stage: 'heldOut' | 'final', records: readonly VideoRecord[]) => {
    if (!model || !optimizer) {
      model = finetuneStart(base, labels, o.seed);
      optimizer = tf.train.adam(o.lr);
    }
    const rng = new SeededRandom(state.rng as RngState);
    const [s0, w] = stageShare[stage];
    const m = model, opt = optimizer;
    const data = subsetData(set, records);
    if (state.epoch === 0) {
      // The head starts as a linear probe on the base's frozen states (finetune.ts says why).
      const t = TEACH_DEFAULTS.transfer;
      await probeHead(m, base, data, { epochs: t.epochs, lr: t.lr, batchSize: t.batchSize, seed: o.seed, augment: o.augment, ...(ctx.signal ? { signal: ctx.signal } : {}), onPass: () => meter.report('features', s0, {}, false, 'train') });
    }
    await finetuneEpochs(m, opt, data, rng, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      lr: o.lr,
      seed: o.seed,
      fromEpoch: state.epoch,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onStep: (epoch, within, loss) => meter.report('train', s0 + (w * (epoch + within)) / o.epochs, { epoch: epoch + 1, epochs: o.epochs, ...(stage === 'heldOut' ? { fold: 1, folds: 1 } : {}), loss }),
      onEpoch: async (epoch, loss) => {
        meter.report('train', s0 + (w * (epoch + 1)) / o.epochs, { epoch: epoch + 1, epochs: o.epochs, ...(stage === 'heldOut' ? { fold: 1, folds: 1 } : {}), loss }, true);
        if (epoch + 1 < o.epochs) await save(m, opt, { ...state, stage, epoch: epoch + 1, rng: rng.state() as [number, number, number, number] });
      },
    });
  };

  try {
    if (state.stage === 'heldOut') {
      const t = performance.now();
      await runStage('heldOut', pick(trainIdx));
      const ev = await evaluateSplit(model!, subsetData(set, pick(heldIdx)), 'train', 'action', { batchSize: 16, views: o.views });
      const byId = new Map(ev.predictions.map((p) => [p.id, p]));
      const predictions = heldIdx.map((i) => {
        const p = byId.get(set.clips[i]!.id);
        if (!p) throw new Error(`held-out clip ${set.clips[i]!.id} was not scored`);
        return { clip: i, label: set.clips[i]!.action, predicted: p.ranked[0]! };
      });
      const heldOutAccuracy = predictions.filter((p) => p.label === p.predicted).length / predictions.length;
      meter.report('evaluate', stageShare.heldOut[1], { fold: 1, folds: 1, heldOutAccuracy }, true, 'train');
      model!.dispose();
      optimizer!.dispose();
      model = finetuneStart(base, labels, o.seed);
      optimizer = tf.train.adam(o.lr);
      const heldOutSeconds = state.heldOutSeconds + (performance.now() - t) / 1000;
      await save(model, optimizer, { hash, stage: 'final', epoch: 0, rng: new SeededRandom(o.seed ^ 0x5eed).state() as [number, number, number, number], predictions, heldOutSeconds });
    }
    seconds.heldOut = state.heldOutSeconds;
    const t = performance.now();
    await runStage('final', set.clips);
    seconds.final = (performance.now() - t) / 1000;
    optimizer!.dispose();
    const perClass = labels.map((_, c) => heldIdx.filter((i) => set.clips[i]!.action === c).length);
    return {
      model: model!,
      heldOut: {
        method: 'stratified-split',
        folds: 1,
        predictions: state.predictions,
        description: `stratified split: ${heldIdx.length} of ${N} clips held out (${Math.min(...perClass)}–${Math.max(...perClass)} per class), scored by a model fine-tuned on the other ${trainIdx.length}${o.views > 1 && base.config.sampling === 'window' ? `, ${o.views} windows per clip` : ''}`,
      },
      resumedAtEpoch,
    };
  } catch (e) {
    model?.dispose();
    optimizer?.dispose();
    throw e;
  }
}
