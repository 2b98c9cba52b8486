/**
 * The study's committed record: one results line per finished run (experiments/study.jsonl), the
 * per-clip test predictions of every run (experiments/study-predictions.jsonl, one compact line per
 * run) and, once per data seed, the test clips those predictions refer to (experiments/study-clips.json:
 * ids, true labels, class names, caption references). Every figure of the report is recomputed
 * from these three files; nothing is read from runs/.
 *
 * A run's top-1 predictions are one character per test clip (class index in a 64-letter alphabet),
 * in the clip order of its data seed's entry; a caption run adds its distinct greedy captions and,
 * per clip, the index of its caption in that list.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { readJsonlFile, type ClipPrediction } from '../predictions.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_';

export function encodeClasses(classes: readonly number[]): string {
  return classes.map((c) => {
    const ch = ALPHABET[c];
    if (ch === undefined) throw new Error(`class index ${c} does not fit the 64-letter alphabet`);
    return ch;
  }).join('');
}

export function decodeClasses(s: string): number[] {
  return [...s].map((ch) => {
    const c = ALPHABET.indexOf(ch);
    if (c < 0) throw new Error(`"${ch}" is not a class letter`);
    return c;
  });
}

export const studyResultSchema = z.strictObject({
  key: z.string(),
  kind: z.enum(['source', 'probe', 'scratch']),
  arm: z.string(),
  task: z.string(),
  lambda: z.number(),
  budget: z.number(),
  dataSeed: z.number(),
  seed: z.number(),
  finishedAt: z.string(),
  seconds: z.number(),
  steps: z.number(),
  top1: z.number(),
  top5: z.number(),
  classes: z.number(),
  testClips: z.number(),
  caption: z.strictObject({ bleu4: z.number(), ciderD: z.number(), exactMatch: z.number(), actionCorrect: z.number(), distinct: z.number() }).optional(),
  probe: z.strictObject({ lr: z.number(), weightDecay: z.number(), validationTop1: z.number() }).optional(),
});
export type StudyResult = z.infer<typeof studyResultSchema>;

export const studyPredictionSchema = z.strictObject({
  key: z.string(),
  /** Predicted class per test clip, in the clip order of the data seed's entry for this split. */
  top1: z.string(),
  captions: z.strictObject({ texts: z.array(z.string()), of: z.array(z.number().int().min(0)) }).optional(),
});
export type StudyPrediction = z.infer<typeof studyPredictionSchema>;

const splitClipsSchema = z.strictObject({
  ids: z.array(z.string()),
  labels: z.array(z.number().int().min(0)),
  classNames: z.array(z.string()),
});
const sourceClipsSchema = splitClipsSchema.extend({ templates: z.array(z.string()), simplified: z.array(z.string()), captions: z.array(z.string()) });
const clipsFileSchema = z.record(z.string(), z.strictObject({ source: sourceClipsSchema.optional(), sourceGroup: splitClipsSchema.optional(), target: splitClipsSchema.optional() }));
/** Source clips under the action head, the same clips under the group head, kitchenware clips. */
export type ClipSplit = 'source' | 'sourceGroup' | 'target';
export type SplitClips = z.infer<typeof splitClipsSchema>;
export type SourceClips = z.infer<typeof sourceClipsSchema>;
export type ClipsFile = z.infer<typeof clipsFileSchema>;

export interface StudyFiles {
  readonly results: string;
  readonly predictions: string;
  readonly clips: string;
}

/** A results file not written yet holds no runs. */
const readJsonl = <T>(file: string, schema: z.ZodType<T>): T[] => (existsSync(file) ? readJsonlFile(file, schema) : []);

export const readStudyResults = (f: StudyFiles) => readJsonl(f.results, studyResultSchema);
export const readStudyPredictions = (f: StudyFiles) => new Map(readJsonl(f.predictions, studyPredictionSchema).map((p) => [p.key, p]));
export function readClips(f: StudyFiles): ClipsFile {
  return existsSync(f.clips) ? clipsFileSchema.parse(JSON.parse(readFileSync(f.clips, 'utf8'))) : {};
}

/** A lock of another machine (a shared folder) not refreshed for this long is taken to be left by a killed runner. */
const STALE_LOCK_MS = 10 * 60 * 1000;
const OWNER_FILE = 'owner.json';

/**
 * Whether a lock was left by a runner that is gone. On this machine the owner's pid says so at once
 * (a runner paused with SIGSTOP is alive however long it sleeps); otherwise the lock's age does.
 */
function isStale(dir: string, staleMs: number): boolean {
  try {
    const owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as { host?: string; pid?: number };
    if (owner.host === hostname() && typeof owner.pid === 'number') {
      try {
        process.kill(owner.pid, 0);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
  } catch {
    // No owner yet (being created) or unreadable: fall back to the age.
  }
  return Date.now() - statSync(dir).mtimeMs > staleMs;
}

function tryLock(dir: string, staleMs = STALE_LOCK_MS, retry = true): boolean {
  try {
    mkdirSync(dir);
    writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ host: hostname(), pid: process.pid }));
    return true;
  } catch (e) {
    // Only an existing lock means "held"; a missing parent folder or a full disk is an error.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (!isStale(dir, staleMs)) return false;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Gone meanwhile: the attempt below may take it.
    }
    // Left over, now removed: take it at once (once; a racing runner may take it first).
    return retry && tryLock(dir, staleMs, false);
  }
}

/** Runs fn holding a lock directory (mkdir is atomic), so two runners never interleave a read-modify-write. */
export function withLockSync<T>(dir: string, fn: () => T): T {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!tryLock(dir)) Atomics.wait(pause, 0, 0, 100);
  try {
    return fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Holds a taken lock through long work, refreshing its time so a runner elsewhere does not take it. */
async function holding<T>(dir: string, fn: () => Promise<T>, staleMs: number): Promise<T> {
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(dir, now, now);
    } catch {
      // Removed by hand: the finally below has nothing left to do either.
    }
  }, staleMs / 10);
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs fn if the lock is free (claiming a run of the study, generating a data seed); `held` when another runner has it. */
export async function ifUnlocked<T>(dir: string, fn: () => Promise<T>, staleMs = STALE_LOCK_MS): Promise<{ held: true } | { held: false; value: T }> {
  if (!tryLock(dir, staleMs)) return { held: true };
  return { held: false, value: await holding(dir, fn, staleMs) };
}

/**
 * Records the test clips of a data seed's split the first time a run of it finishes (from that
 * run's predictions), and checks later runs against them. Returns the clip order to store in.
 */
export function registerClips(f: StudyFiles, dataSeed: number, split: ClipSplit, preds: readonly ClipPrediction[], classNames: readonly string[], templates: readonly string[], captionSource?: 'simplified' | 'captions'): SplitClips {
  return withLockSync(`${f.clips}.lock`, () => registerClipsLocked(f, dataSeed, split, preds, classNames, templates, captionSource));
}

function registerClipsLocked(f: StudyFiles, dataSeed: number, split: ClipSplit, preds: readonly ClipPrediction[], classNames: readonly string[], templates: readonly string[], captionSource?: 'simplified' | 'captions'): SplitClips {
  const all = readClips(f);
  const entry = all[String(dataSeed)] ?? {};
  let clips = entry[split];
  let changed = false;
  if (clips) {
    const byId = new Map(preds.map((p) => [p.id, p.label]));
    if (byId.size !== clips.ids.length || clips.ids.some((id) => byId.get(id) === undefined)) throw new Error(`the run's test clips differ from those recorded for data seed ${dataSeed} (${split})`);
    clips.ids.forEach((id, i) => {
      if (byId.get(id) !== clips!.labels[i]) throw new Error(`clip ${id}: label differs from the recorded one`);
    });
  } else {
    const base = { ids: preds.map((p) => p.id), labels: preds.map((p) => p.label), classNames: [...classNames] };
    clips = split === 'source' ? { ...base, templates: [...templates], simplified: [], captions: [] } : base;
    changed = true;
  }
  if (split === 'source' && captionSource) {
    const source = clips as SourceClips;
    if (source[captionSource].length === 0) {
      const ref = new Map(preds.map((p) => [p.id, p.reference ?? '']));
      clips = { ...source, [captionSource]: source.ids.map((id) => ref.get(id)!) };
      changed = true;
    }
  }
  if (changed) {
    all[String(dataSeed)] = { ...entry, [split]: clips };
    writeFileSync(f.clips, JSON.stringify(all) + '\n');
  }
  return clips;
}

/** The compact prediction line of a run, in the recorded clip order. */
export function compactPredictions(key: string, preds: readonly ClipPrediction[], clips: SplitClips): StudyPrediction {
  const byId = new Map(preds.map((p) => [p.id, p]));
  const ordered = clips.ids.map((id) => {
    const p = byId.get(id);
    if (!p) throw new Error(`${key}: no prediction for clip ${id}`);
    return p;
  });
  const line: StudyPrediction = { key, top1: encodeClasses(ordered.map((p) => p.ranked[0]!)) };
  if (ordered.every((p) => p.caption !== undefined)) {
    const texts = [...new Set(ordered.map((p) => p.caption!))];
    const index = new Map(texts.map((t, i) => [t, i]));
    return { ...line, captions: { texts, of: ordered.map((p) => index.get(p.caption!)!) } };
  }
  return line;
}

export function appendStudy(f: StudyFiles, result: StudyResult, prediction: StudyPrediction): void {
  // Predictions first: a results line never exists without its predictions.
  appendFileSync(f.predictions, JSON.stringify(studyPredictionSchema.parse(prediction)) + '\n');
  appendFileSync(f.results, JSON.stringify(studyResultSchema.parse(result)) + '\n');
}

/** Per-clip correctness of a run against its data seed's recorded labels. */
export function correctness(p: StudyPrediction, clips: SplitClips): boolean[] {
  const pred = decodeClasses(p.top1);
  if (pred.length !== clips.labels.length) throw new Error(`${p.key}: ${pred.length} predictions for ${clips.labels.length} clips`);
  return pred.map((c, i) => c === clips.labels[i]);
}
