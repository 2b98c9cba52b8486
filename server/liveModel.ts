/**
 * The model the live streams run, and switching it while they run. A switch loads the new model
 * (checkpoint, live settings, engine on its worker thread) beside the old one; only when all of
 * that worked do the streams move to it (StreamManager.useStage: windows in flight finish on the old
 * model, the new one builds its own per-stream caches from the next frames), and the old engine is
 * freed after. A model that fails to load is refused with its loader's message and nothing changes.
 * One switch at a time; the previous model is kept by name for rollback.
 */
import { type Observable, Subject } from 'rxjs';
import type { Logger } from 'pino';
import { InferenceStage, loadLiveSettings, type LiveSettings } from '../pipelines/index.js';
import { evaluator } from './evaluation.js';
import { timedEngine, type BatchTiming } from './inferenceTiming.js';
import { loadServingModel, servingEngine, type ServingEngine } from './model.js';
import type { ModelRegistry } from './modelRegistry.js';
import type { ModelInfo, ModelsView } from './protocol.js';
import type { StreamManager } from './streams.js';
import type { SessionContext } from './handlers/types.js';

/** One loaded model, ready to serve. */
export interface ServedModel {
  /** Its id in the registry (undefined for the untrained fallback, which is not on disk). */
  readonly id: string | undefined;
  readonly info: ModelInfo;
  readonly engine: ServingEngine;
  readonly stage: InferenceStage;
  readonly settings: LiveSettings;
  readonly evaluate: NonNullable<SessionContext['evaluate']>;
}

export class ModelSwitchError extends Error {}

/** What the dashboard's model list and switch need: this process's LiveModel, or a hub's control of its workers' model (cluster/hubModels.ts). */
export interface ModelControl {
  view(): ModelsView;
  switchTo(id: string): Promise<void>;
  rollback(): Promise<void>;
  readonly changed$: Observable<ModelsView>;
}

export interface LiveModelOptions {
  readonly where: 'worker' | 'inline';
  readonly log: Logger;
  readonly registry: ModelRegistry;
}

export class LiveModel implements ModelControl {
  private served: ServedModel;
  private previousId: string | null = null;
  private switching: string | null = null;
  private streams: StreamManager | undefined;
  /** Every engine call's timing, whichever model made it (for /metrics). */
  readonly timings$ = new Subject<BatchTiming>();
  /** The running model changed (or a switch started or ended). */
  readonly changed$ = new Subject<ModelsView>();

  private constructor(
    private readonly opts: LiveModelOptions,
    first: ServedModel,
  ) {
    this.served = first;
  }

  /** Loads the model the server starts with: `checkpoint`, else the bundled default (loadServingModel's rules). */
  static async start(checkpoint: string | undefined, opts: LiveModelOptions): Promise<LiveModel> {
    const holder: { live?: LiveModel } = {};
    const first = await LiveModel.load(checkpoint, opts, (t) => holder.live?.timings$.next(t));
    holder.live = new LiveModel(opts, first);
    return holder.live;
  }

  private static async load(checkpoint: string | undefined, opts: LiveModelOptions, onTiming: (t: BatchTiming) => void, id?: string): Promise<ServedModel> {
    const served = await loadServingModel(checkpoint, opts.log);
    // A bad live-settings.json refuses the model, like a bad checkpoint.
    const loaded = loadLiveSettings(served.checkpoint);
    const { settings } = loaded;
    opts.log.info({ from: loaded.file && loaded.source === 'file' ? loaded.file : 'defaults', settings }, 'live settings');
    const engine = await servingEngine(opts.where, served, opts.log);
    const timed = timedEngine(engine);
    timed.timings$.subscribe(onTiming);
    const stage = new InferenceStage(timed.engine, { maxBatch: 8, queueCapacity: 2 });
    stage.drops$.subscribe(({ streamId, drops }) => {
      if (drops === 1 || drops % 100 === 0) opts.log.warn({ stream: streamId, drops }, 'inference stage dropping windows (overloaded)');
    });
    const modelId = id ?? opts.registry.idOf(served.checkpoint);
    // A taught model goes by the name the user gave it, not its folder.
    const version = modelId ? opts.registry.list().find((m) => m.id === modelId) : undefined;
    const info = version?.origin === 'taught' ? { ...served.info, name: version.name, note: `${version.name} (taught from ${version.base ?? 'unknown'}, ${version.mode ?? ''})` } : served.info;
    return { id: modelId, info, engine, stage, settings, evaluate: evaluator(engine, settings) };
  }

  get current(): ServedModel {
    return this.served;
  }

  /** The stream manager whose streams follow the model (set once the server has one). */
  attach(streams: StreamManager): void {
    this.streams = streams;
  }

  view(): ModelsView {
    return {
      items: this.opts.registry.list(),
      info: this.served.info,
      active: this.served.id ?? 'untrained',
      previous: this.previousId,
      switching: this.switching,
    };
  }

  /** Moves every stream to model `id`. Refused (nothing changes) if it does not load. */
  async switchTo(id: string): Promise<void> {
    if (this.switching) throw new ModelSwitchError(`a switch to "${this.switching}" is in progress; wait for it`);
    if (id === this.served.id) throw new ModelSwitchError(`"${id}" is already the running model`);
    const folder = this.opts.registry.folder(id);
    this.switching = id;
    this.changed$.next(this.view());
    const log = this.opts.log;
    try {
      let next: ServedModel;
      try {
        next = await LiveModel.load(folder, this.opts, (t) => this.timings$.next(t), id);
      } catch (err) {
        log.warn({ model: id, reason: (err as Error).message }, 'model switch refused: the model does not load; the running model stays');
        throw new ModelSwitchError(`model "${id}" cannot be used: ${(err as Error).message}`);
      }
      if (next.engine.heads.length === 0) {
        await next.engine.close();
        throw new ModelSwitchError(`model "${id}" has no classification head`);
      }
      const old = this.served;
      this.served = next;
      this.previousId = old.id ?? null;
      log.info({ from: old.id, to: id, labels: next.info.labels }, 'switching the live streams to another model');
      await this.streams?.useStage(next.stage, next.settings, next.info.name);
      await old.engine.close();
      log.info({ model: id }, 'model switched; the old one is freed');
    } finally {
      this.switching = null;
      this.changed$.next(this.view());
    }
  }

  rollback(): Promise<void> {
    if (!this.previousId) return Promise.reject(new ModelSwitchError('there is no previous model to roll back to'));
    return this.switchTo(this.previousId);
  }

  async close(): Promise<void> {
    await this.served.engine.close();
  }
}
