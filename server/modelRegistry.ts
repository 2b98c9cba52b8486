/**
 * The models a server can switch between, versioned on disk: the bundled ones (assets/model/*),
 * the one named by --model, and every model taught from the dashboard, one folder each in
 * modelsDir (`<modelsDir>/<id>/`, written by a training job). The list is read from disk each time
 * it is asked for, so a model that a job just finished is there without a restart. A folder that is
 * not a loadable model is listed with the reason, and switching to it is refused.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_FILES } from '../model/checkpoint.js';
import { resolveCheckpoint } from '../model/index.js';
import type { ModelVersion } from './protocol.js';

export const BUNDLED_PREFIX = 'bundled:';
export const CONFIGURED_ID = 'configured';
/** A taught model's folder name: made by the job runner, checked again here before it becomes a path. */
export const TAUGHT_ID = /^[a-z0-9][a-z0-9-]{2,80}$/;

/** Beside a taught model's checkpoint: what the dashboard asked for (server/trainingJobs.ts writes it). */
export const TAUGHT_INFO_FILE = 'countertop-model.json';
export interface TaughtModelInfo {
  readonly name: string;
  /** The registry id of the model it was taught from. */
  readonly base: string;
  readonly mode: 'transfer' | 'finetune';
  readonly classes: readonly string[];
  readonly top1: number;
  readonly job: string;
  readonly createdAt: string;
}

export class UnknownModelError extends Error {}

function readTaughtInfo(folder: string): Partial<TaughtModelInfo> {
  try {
    const v = JSON.parse(readFileSync(path.join(folder, TAUGHT_INFO_FILE), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Partial<TaughtModelInfo>) : {};
  } catch {
    return {};
  }
}

interface ManifestSummary {
  createdAt: string | null;
  labels: string[];
  training: Record<string, unknown>;
  photoFeatures: boolean;
}

function readManifest(checkpointDir: string): ManifestSummary {
  const file = path.join(checkpointDir, CHECKPOINT_FILES.manifest);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${CHECKPOINT_FILES.manifest} cannot be read: ${(err as Error).message}`);
  }
  const m = json as {
    createdAt?: unknown;
    heads?: { labels?: unknown }[];
    training?: unknown;
    config?: { perception?: { backbone?: unknown } };
  };
  const labels = Array.isArray(m.heads?.[0]?.labels) ? (m.heads![0]!.labels as unknown[]).filter((l): l is string => typeof l === 'string') : [];
  return {
    createdAt: typeof m.createdAt === 'string' ? m.createdAt : null,
    labels,
    training: m.training && typeof m.training === 'object' ? (m.training as Record<string, unknown>) : {},
    photoFeatures: m.config?.perception?.backbone === true,
  };
}

function top1Of(training: Record<string, unknown>): number | null {
  for (const key of ['heldOut', 'test', 'validation']) {
    const r = training[key] as { top1?: unknown; classification?: { top1?: unknown } } | undefined;
    const v = r?.top1 ?? r?.classification?.top1;
    if (typeof v === 'number') return v;
  }
  return typeof training.top1 === 'number' ? training.top1 : null;
}

export class ModelRegistry {
  constructor(
    private readonly opts: { bundledDir: string; modelsDir: string; configured?: string },
  ) {}

  get modelsDir(): string {
    return this.opts.modelsDir;
  }

  /** Every model, bundled first, then --model, then taught ones newest first. */
  list(): ModelVersion[] {
    const out: ModelVersion[] = [];
    if (existsSync(this.opts.bundledDir)) {
      for (const name of readdirSync(this.opts.bundledDir).sort()) {
        const dir = path.join(this.opts.bundledDir, name);
        if (existsSync(path.join(dir, CHECKPOINT_FILES.manifest))) out.push(this.describe(`${BUNDLED_PREFIX}${name}`, name, 'bundled', dir));
      }
    }
    if (this.opts.configured) out.push(this.describe(CONFIGURED_ID, path.basename(path.resolve(this.opts.configured)), 'configured', this.opts.configured));
    if (existsSync(this.opts.modelsDir)) {
      const taught = readdirSync(this.opts.modelsDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && TAUGHT_ID.test(e.name))
        .map((e) => this.describe(e.name, e.name, 'taught', path.join(this.opts.modelsDir, e.name)));
      out.push(...taught.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '')));
    }
    return out;
  }

  /** The folder to load for a model id; UnknownModelError for anything not listed. */
  folder(id: string): string {
    if (id.startsWith(BUNDLED_PREFIX)) {
      const name = id.slice(BUNDLED_PREFIX.length);
      if (/^[a-z0-9][a-z0-9-]*$/.test(name) && existsSync(path.join(this.opts.bundledDir, name, CHECKPOINT_FILES.manifest))) return path.join(this.opts.bundledDir, name);
    } else if (id === CONFIGURED_ID && this.opts.configured) {
      return this.opts.configured;
    } else if (TAUGHT_ID.test(id) && existsSync(path.join(this.opts.modelsDir, id))) {
      return path.join(this.opts.modelsDir, id);
    }
    throw new UnknownModelError(`no model "${id}" (list-models names the ones there are)`);
  }

  /** The id under which a checkpoint folder is listed, if it is one of them (the model the server started with). */
  idOf(folder: string | undefined): string | undefined {
    if (!folder) return undefined;
    const want = path.resolve(folder);
    return this.list().find((m) => {
      try {
        const f = path.resolve(this.folder(m.id));
        return f === want || path.resolve(resolveCheckpoint(f).dir) === want;
      } catch {
        return false;
      }
    })?.id;
  }

  private describe(id: string, name: string, origin: ModelVersion['origin'], folder: string): ModelVersion & { problem?: string } {
    try {
      const dir = resolveCheckpoint(folder).dir;
      const m = readManifest(dir);
      const t = m.training;
      const taught = origin === 'taught' ? readTaughtInfo(folder) : {};
      const mode = taught.mode ?? (t.mode === 'transfer' || t.mode === 'finetune' ? t.mode : t.kind === 'transfer' ? 'transfer' : null);
      const base = typeof taught.base === 'string' ? taught.base : typeof t.base === 'string' ? t.base : null;
      const shown = typeof taught.name === 'string' ? taught.name : name;
      const top1 = typeof taught.top1 === 'number' ? taught.top1 : top1Of(t);
      return { id, name: shown, origin, createdAt: taught.createdAt ?? m.createdAt, base, mode, classes: m.labels, top1, photoFeatures: m.photoFeatures };
    } catch (err) {
      return { id, name, origin, createdAt: null, base: null, mode: null, classes: [], top1: null, photoFeatures: false, problem: (err as Error).message };
    }
  }
}
