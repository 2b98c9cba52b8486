/**
 * The live pipeline's tunable settings, in one validated object: how often a window is cut, how
 * scores are smoothed, when the segmenter starts and ends an action, how often to caption, and what
 * gap in capture time counts as a break in the stream.
 *
 * They belong to a model, not to the code: thresholds and streaks are counted in windows, so they
 * mean something only at the stride and frame rate they were picked at, and a different model has
 * different score distributions. So they live next to the checkpoint, as `live-settings.json`
 * (written by `npm run tune -- --write`), and the server, replay and tune all read them from there
 * with `loadLiveSettings`. A checkpoint without the file gets `defaultLiveSettings`.
 *
 * `saveCheckpoint` replaces the whole folder, so retraining into the same folder drops the file:
 * settings tuned on the old weights do not silently carry over to new ones.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { NO_ACTION } from '../data/catalogue/types.js';

export const LIVE_SETTINGS_FILE = 'live-settings.json';

const probability = z.number().min(0).max(1);

const smoothingSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('ema'), alpha: z.number().gt(0).max(1) }),
  z.strictObject({ method: z.literal('mean'), windows: z.int().min(1) }),
]);

const segmenterFields = z.strictObject({
  /** Which classification head to segment; absent: the model's first head. */
  head: z.string().min(1).optional(),
  startThreshold: probability,
  endThreshold: probability,
  minStartWindows: z.int().min(1),
  minEndWindows: z.int().min(1),
  /** Labels that never start an action. */
  ignoreLabels: z.array(z.string()),
});

const captionsFields = z.strictObject({ intervalMs: z.number().positive() });

const settingsFields = z.strictObject({
  /** Frames between consecutive windows (the window itself is the model's T frames at its fps). */
  stride: z.int().min(1),
  smoothing: smoothingSchema,
  segmenter: segmenterFields,
  /** A caption on each action start, otherwise every intervalMs of capture time. */
  captions: captionsFields,
  /** A longer capture-time gap between frames (a reconnection) starts windows and smoothing over and ends an open action. */
  maxFrameGapMs: z.number().positive(),
});

export const liveSettingsSchema = settingsFields.refine((s) => s.segmenter.endThreshold <= s.segmenter.startThreshold, {
    message: 'segmenter.endThreshold must not exceed segmenter.startThreshold',
    path: ['segmenter', 'endThreshold'],
  });

export type LiveSettings = z.infer<typeof liveSettingsSchema>;

/** What a caller or a file may give: any part, merged over the defaults (segmenter and captions field by field). */
export interface LiveSettingsInput {
  readonly stride?: number;
  readonly smoothing?: LiveSettings['smoothing'];
  readonly segmenter?: Partial<LiveSettings['segmenter']>;
  readonly captions?: Partial<LiveSettings['captions']>;
  readonly maxFrameGapMs?: number;
}

// Strict: a misspelt key ("startTreshold") is refused rather than silently left at its default.
const fileSchema = z.strictObject({
  stride: settingsFields.shape.stride.optional(),
  smoothing: smoothingSchema.optional(),
  segmenter: segmenterFields.partial().optional(),
  captions: captionsFields.partial().optional(),
  maxFrameGapMs: settingsFields.shape.maxFrameGapMs.optional(),
  /** Where the settings came from (recording, scores, date); informational, never read by the pipeline. */
  tuned: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Today's values. Smoothing and segmenter were picked with `npm run tune` on a generated 40-action
 * session and checked on the demo (docs/PIPELINES.md): at stride 4 and 12 fps (3 windows/s), a start
 * needs three confident windows in a row (≈1 s), an end one window below 0.4.
 */
export const defaultLiveSettings: LiveSettings = Object.freeze({
  stride: 4,
  smoothing: Object.freeze({ method: 'ema', alpha: 0.3 }),
  segmenter: Object.freeze({
    startThreshold: 0.5,
    endThreshold: 0.4,
    minStartWindows: 3,
    minEndWindows: 1,
    // "No action" is the idle counter: never an action event (the dashboard shows it as idle).
    ignoreLabels: Object.freeze([NO_ACTION]) as string[],
  }),
  // Often enough to follow a long action, rarely enough that the decoder never queues.
  captions: Object.freeze({ intervalMs: 4000 }),
  // Several frame intervals at any model rate, far below a reconnection's back-off.
  maxFrameGapMs: 1000,
}) as LiveSettings;

export class LiveSettingsError extends Error {
  override readonly name = 'LiveSettingsError';
}

function describeIssues(error: z.ZodError): string {
  // One line: "✖ Too small: expected number to be >=1 → at stride".
  return z.prettifyError(error).replace(/\n\s*/g, ' ');
}

/** `input` merged over `base` and validated; throws LiveSettingsError (prefixed with `where`) when the result is not valid. */
export function resolveLiveSettings(input: LiveSettingsInput = {}, base: LiveSettings = defaultLiveSettings, where = 'live settings'): LiveSettings {
  const merged = {
    stride: input.stride ?? base.stride,
    smoothing: input.smoothing ?? base.smoothing,
    segmenter: { ...base.segmenter, ...dropUndefined(input.segmenter) },
    captions: { ...base.captions, ...dropUndefined(input.captions) },
    maxFrameGapMs: input.maxFrameGapMs ?? base.maxFrameGapMs,
  };
  const result = liveSettingsSchema.safeParse(merged);
  if (!result.success) throw new LiveSettingsError(`${where}: ${describeIssues(result.error)}`);
  return result.data;
}

function dropUndefined<T extends object>(o: T | undefined): Partial<T> {
  return o ? (Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>) : {};
}

export interface LoadedLiveSettings {
  readonly settings: LiveSettings;
  /** 'file': read from `file` (merged over the defaults); 'defaults': no such file (or no checkpoint folder). */
  readonly source: 'file' | 'defaults';
  /** The file that was read or looked for (absent when there is no checkpoint folder). */
  readonly file?: string;
  /** The file's provenance block, if any. */
  readonly tuned?: Record<string, unknown>;
}

/**
 * The live settings for the checkpoint in `checkpointDir`: its live-settings.json merged over the
 * defaults, or the defaults when there is no such file (or no checkpoint: the untrained fallback).
 * A file that exists but is unreadable, not JSON or not valid is an error naming it: running with
 * other settings than the ones written there would mislead.
 */
export function loadLiveSettings(checkpointDir: string | undefined): LoadedLiveSettings {
  if (checkpointDir === undefined) return { settings: defaultLiveSettings, source: 'defaults' };
  const file = path.join(checkpointDir, LIVE_SETTINGS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    // ENOTDIR: the "checkpoint" is not a folder; the checkpoint loader says so better than we can.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { settings: defaultLiveSettings, source: 'defaults', file };
    throw new LiveSettingsError(`${file}: cannot be read (${code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LiveSettingsError(`${file}: is not valid JSON`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new LiveSettingsError(`${file}: ${describeIssues(parsed.error)}`);
  const { tuned, ...input } = parsed.data;
  // Checked again after the merge: end ≤ start may hold only with the defaults filled in.
  const settings = resolveLiveSettings(input, defaultLiveSettings, file);
  return { settings, source: 'file', file, ...(tuned ? { tuned } : {}) };
}

/**
 * Writes `settings` (complete, so the file stands alone) with an optional provenance block to
 * `<checkpointDir>/live-settings.json`, atomically (a reader never sees half a file). Returns the
 * file, whether it replaced an existing one and the text written, so the caller can say both.
 */
export function writeLiveSettings(checkpointDir: string, settings: LiveSettings, tuned?: Record<string, unknown>): { file: string; replaced: boolean; text: string } {
  const valid = resolveLiveSettings(settings, defaultLiveSettings, 'live settings to write');
  const file = path.join(checkpointDir, LIVE_SETTINGS_FILE);
  const replaced = existsSync(file);
  const tmp = `${file}.tmp-${process.pid}`;
  const text = `${JSON.stringify({ ...valid, ...(tuned ? { tuned } : {}) }, null, 1)}\n`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return { file, replaced, text };
}

/** One line for logs and CLI output. */
export function describeLiveSettings(s: LiveSettings): string {
  const smooth = s.smoothing.method === 'ema' ? `EMA α=${s.smoothing.alpha}` : `mean of ${s.smoothing.windows}`;
  const g = s.segmenter;
  return `stride ${s.stride}, ${smooth}, start ≥ ${g.startThreshold} for ${g.minStartWindows}, end < ${g.endThreshold} for ${g.minEndWindows}, captions every ${s.captions.intervalMs} ms, gap ${s.maxFrameGapMs} ms`;
}
