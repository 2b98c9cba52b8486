/**
 * What replay and tune both do before loading a model: resolve --model (a checkpoint, a training
 * run or a transfer output; the bundled model when absent) and read that checkpoint's live settings,
 * so that a bad folder or settings file is one usage line before a minute of loading.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveCheckpoint } from '../model/index.js';
import { loadLiveSettings, type LoadedLiveSettings } from '../pipelines/index.js';
import { BUNDLED_MODEL_DIR } from '../server/model.js';

export function chooseModel(model: string | undefined, usage: (message: string) => never): { checkpoint: string | undefined; loaded: LoadedLiveSettings } {
  const attempt = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      return usage((err as Error).message);
    }
  };
  const resolved = model === undefined ? undefined : attempt(() => resolveCheckpoint(model));
  // Which checkpoint a run folder or transfer output meant goes to stderr (a checkpoint folder named itself).
  if (resolved && path.resolve(resolved.dir) !== path.resolve(model!)) process.stderr.write(`${resolved.note}\n`);
  const checkpoint = resolved?.dir ?? (existsSync(path.join(BUNDLED_MODEL_DIR, 'manifest.json')) ? BUNDLED_MODEL_DIR : undefined);
  return { checkpoint, loaded: attempt(() => loadLiveSettings(checkpoint)) };
}
