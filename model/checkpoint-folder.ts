/**
 * Which checkpoint a folder a user names stands for. Every command that takes a model (`npm start
 * --model`, replay, tune, `train --evaluate`, transfer's --encoder) goes through `resolveCheckpoint`,
 * so they all accept the same three folders:
 *   - a checkpoint folder itself (it holds manifest.json);
 *   - a training run's folder (`npm run train --out`): its checkpoint/, the run's last checkpoint
 *     (the trainer keeps one, replaced at every epoch end);
 *   - a transfer output folder (`npm run transfer --out`): its checkpoint/, the frozen encoder and
 *     the new head;
 *   - a teach output folder (`npm run teach --out`): its checkpoint/, the taught model.
 * Only manifest.json is read here (for the log line); loadCheckpoint still validates everything.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_FILES } from './checkpoint.js';

/** The checkpoint's folder inside a training run's or a transfer's output folder. */
export const CHECKPOINT_DIR = 'checkpoint';

export interface ResolvedCheckpoint {
  /** The checkpoint folder to load. */
  readonly dir: string;
  readonly kind: 'checkpoint' | 'run' | 'transfer' | 'teach';
  /** One line saying which checkpoint was chosen and why, e.g. "using runs/a/checkpoint (last checkpoint of run runs/a, …)". */
  readonly note: string;
}

/** The manifest's training metadata, or {} when it is unreadable (loadCheckpoint reports that properly). */
function trainingOf(dir: string): Record<string, unknown> {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, CHECKPOINT_FILES.manifest), 'utf8')) as { training?: unknown };
    return m.training && typeof m.training === 'object' ? (m.training as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function describeTransfer(t: Record<string, unknown>): string {
  const encoder = (t.encoder as { checkpoint?: unknown } | undefined)?.checkpoint;
  return `transfer head${typeof t.head === 'string' ? ` (${t.head})` : ''}${typeof encoder === 'string' ? ` on the frozen encoder of ${encoder}` : ''}`;
}

function describeTeach(t: Record<string, unknown>): string {
  const classes = Array.isArray(t.classes) ? `${t.classes.length} classes` : 'new classes';
  const base = (t.base as { checkpoint?: unknown } | undefined)?.checkpoint;
  return `taught model (${typeof t.mode === 'string' ? t.mode : 'teach'}, ${classes}${typeof base === 'string' ? ` from ${base}` : ''})`;
}

function isOldTransferOutput(folder: string): boolean {
  try {
    const o = JSON.parse(readFileSync(path.join(folder, 'options.json'), 'utf8')) as { encoder?: unknown };
    return typeof o.encoder === 'string' && existsSync(path.join(folder, 'report.json'));
  } catch {
    return false;
  }
}

export function resolveCheckpoint(folder: string): ResolvedCheckpoint {
  // Messages start "checkpoint DIR: manifest.json is missing" like loadCheckpoint's, so a bad
  // --model reads the same whichever of the two notices it.
  if (!existsSync(folder)) throw new Error(`checkpoint ${folder}: manifest.json is missing (no such folder)`);
  if (existsSync(path.join(folder, CHECKPOINT_FILES.manifest))) {
    const t = trainingOf(folder);
    const what = t.kind === 'transfer' ? describeTransfer(t) : t.kind === 'teach' ? describeTeach(t) : 'checkpoint folder';
    return { dir: folder, kind: t.kind === 'transfer' ? 'transfer' : t.kind === 'teach' ? 'teach' : 'checkpoint', note: `using ${folder} (${what})` };
  }
  const inner = path.join(folder, CHECKPOINT_DIR);
  if (existsSync(path.join(inner, CHECKPOINT_FILES.manifest))) {
    const t = trainingOf(inner);
    if (t.kind === 'transfer') return { dir: inner, kind: 'transfer', note: `using ${inner} (${describeTransfer(t)}, output of npm run transfer)` };
    if (t.kind === 'teach') return { dir: inner, kind: 'teach', note: `using ${inner} (${describeTeach(t)}, output of npm run teach)` };
    const step = typeof t.step === 'number' ? `, step ${t.step}` : '';
    const state = t.finished === false ? ', unfinished: the run stopped or is still training' : '';
    return { dir: inner, kind: 'run', note: `using ${inner} (last checkpoint of run ${folder}${step}${state})` };
  }
  // A transfer folder written before transfer saved a checkpoint has a report but nothing to load.
  const hint = isOldTransferOutput(folder) ? '; it looks like a transfer output from before transfer saved a model: run npm run transfer again' : '';
  throw new Error(`checkpoint ${folder}: manifest.json is missing here and in ${inner}/ (not a checkpoint, training run or transfer output folder${hint})`);
}
