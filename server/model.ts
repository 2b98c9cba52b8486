/**
 * The model the server runs: a checkpoint named by the config, else the bundled default model in
 * assets/model/default/, else — until a trained default exists — a freshly built default-config model with
 * the kitchenware label set. The last case is said loudly (log line and dashboard banner):
 * its predictions are noise.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { KITCHENWARE } from '../data/catalogue/kitchenware.js';
import { CountertopModel, Vocabulary, initBackend, loadCheckpoint, parseModelConfig, resolveCheckpoint, type ModelConfigInput } from '../model/index.js';
import { ModelEngine, RestartingEngine, WorkerEngine, type InferenceEngine } from '../pipelines/index.js';
import type { ModelInfo } from './protocol.js';
import { REPO_ROOT } from './repoRoot.js';

export const BUNDLED_MODEL_DIR = path.join(REPO_ROOT, 'assets', 'model', 'default');

export interface ServingModel {
  readonly model: CountertopModel;
  readonly info: ModelInfo;
  /** The folder it was loaded from (absent for the untrained fallback). */
  readonly checkpoint?: string;
}

/** Captions an untrained model can at least spell: the kitchen templates and object words. */
export function kitchenVocabulary(): Vocabulary {
  const texts = [...KITCHENWARE.templates.map((t) => t.template.replace(/\[something\]/g, '')), ...KITCHENWARE.objects.map((o) => `a ${o.noun}`)];
  return Vocabulary.build(texts, { minCount: 1 });
}

export function untrainedKitchenModel(config: ModelConfigInput = {}, seed = 1): CountertopModel {
  const heads = [{ name: 'action', labels: KITCHENWARE.templates.map((t) => t.template) }];
  return CountertopModel.create(parseModelConfig(config), heads, kitchenVocabulary(), seed);
}

export async function loadServingModel(checkpoint: string | undefined, log: Logger, fallbackConfig: ModelConfigInput = {}): Promise<ServingModel> {
  // The backend's one line goes through the logger like everything else (JSON lines), not to stderr.
  let line: string | undefined;
  const backend = await initBackend({ log: (l) => (line = l) });
  log.info({ backend: backend.name, detail: backend.detail, skipped: backend.skipped }, line?.replace(/^\[countertop\] /, '') ?? `tensor backend: ${backend.name}`);
  // A named folder may be a checkpoint, a training run or a transfer output (resolveCheckpoint).
  const resolved = checkpoint === undefined ? undefined : resolveCheckpoint(checkpoint);
  if (resolved) log.info({ model: checkpoint, checkpoint: resolved.dir, kind: resolved.kind }, resolved.note);
  const dir = resolved?.dir ?? (existsSync(path.join(BUNDLED_MODEL_DIR, 'manifest.json')) ? BUNDLED_MODEL_DIR : undefined);
  if (dir) {
    // A named checkpoint that fails to load is fatal: serving some other model silently would mislead.
    const loaded = await loadCheckpoint(dir);
    const labels = loaded.model.heads[0]?.labels.length ?? 0;
    log.info({ checkpoint: dir, labels }, 'model loaded');
    const shown = path.relative(REPO_ROOT, path.resolve(dir));
    const name = shown.startsWith('..') ? path.resolve(dir) : shown;
    return {
      model: loaded.model,
      info: { name, trained: true, backend: backend.name, labels, note: `Checkpoint ${name}` },
      checkpoint: dir,
    };
  }
  const model = untrainedKitchenModel(fallbackConfig);
  const note =
    'No trained model found (assets/model/default/ is missing and no --model was given): running an UNTRAINED default-config model with the kitchenware labels. Its actions and captions are random until a trained checkpoint is supplied.';
  log.warn({ labels: model.heads[0]?.labels.length }, note);
  return { model, info: { name: 'untrained default', trained: false, backend: backend.name, labels: model.heads[0]?.labels.length ?? 0, note } };
}

/** An engine the server owns: `close` releases the worker thread or the inline model's tensors. */
export type ServingEngine = InferenceEngine & { close(): Promise<void> };

/**
 * The engine that scores windows for the served model. `worker` loads the checkpoint again on a
 * worker thread (and frees the main thread's copy), restarted if it dies; the untrained fallback
 * has no checkpoint to load there, so it runs inline, and says so.
 */
export async function servingEngine(where: 'worker' | 'inline', served: ServingModel, log: Logger): Promise<ServingEngine> {
  const checkpoint = served.checkpoint;
  if (where === 'worker' && checkpoint) {
    const engine = await RestartingEngine.start(() => WorkerEngine.start({ checkpoint }), {
      onRestart: (reason, restarts) => log.error({ engine: 'worker', restarts, reason: reason.message }, 'inference worker died; started a new one and retried its batch'),
    });
    served.model.dispose();
    log.info({ engine: 'worker' }, 'model runs on a worker thread');
    return engine;
  }
  if (where === 'worker') log.warn({ engine: 'inline' }, 'the untrained fallback model has no checkpoint for a worker thread: running it inline');
  else log.info({ engine: 'inline' }, 'model runs on the main thread');
  const engine = await ModelEngine.create(served.model);
  return Object.assign(engine, {
    close: async () => {
      engine.dispose();
      served.model.dispose();
    },
  });
}
