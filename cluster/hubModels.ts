/**
 * The dashboard's model list and switch on a hub, which runs no model: the list is the bundled
 * models (the folders every worker may load, cluster/modelControl.ts); a switch is a request on
 * ct.control.model, done when a worker announces the new model in the cluster bucket (the hub's
 * watch calls `announced`). Taught models live on the machine that trained them, not on the
 * workers, so a hub does not offer them.
 */
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subject } from 'rxjs';
import { ModelSwitchError, type ModelControl } from '../server/liveModel.js';
import { BUNDLED_PREFIX, type ModelRegistry } from '../server/modelRegistry.js';
import type { ModelInfo, ModelsView } from '../server/protocol.js';
import { requestModelSwitch } from './modelControl.js';

export class HubModelControl implements ModelControl {
  readonly changed$ = new Subject<ModelsView>();
  private switching: { id: string; done: () => void } | null = null;
  private previous: string | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly registry: ModelRegistry,
    /** The model the workers announced last (updated in place by the hub's watch). */
    private readonly info: ModelInfo,
    private readonly timeoutMs = 120_000,
  ) {}

  private activeId(): string {
    return `${BUNDLED_PREFIX}${path.basename(this.info.name)}`;
  }

  view(): ModelsView {
    return {
      items: this.registry.list().filter((m) => m.origin === 'bundled'),
      info: { ...this.info },
      active: this.activeId(),
      previous: this.previous,
      switching: this.switching?.id ?? null,
    };
  }

  /** A worker announced a model: a switch waiting for it is done. */
  announced(): void {
    if (this.switching && this.activeId() === this.switching.id) this.switching.done();
    this.changed$.next(this.view());
  }

  async switchTo(id: string): Promise<void> {
    if (this.switching) throw new ModelSwitchError(`a switch to "${this.switching.id}" is in progress; wait for it`);
    if (!id.startsWith(BUNDLED_PREFIX)) throw new ModelSwitchError(`"${id}" is not a bundled model: the workers load only those (a taught model is served by the process that trained it)`);
    if (id === this.activeId()) throw new ModelSwitchError(`"${id}" is already the running model`);
    this.registry.folder(id); // UnknownModelError for a name that is not there
    const from = this.activeId();
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.switching = { id, done: resolve };
        this.changed$.next(this.view());
        timer = setTimeout(() => reject(new ModelSwitchError(`no worker announced "${id}" within ${this.timeoutMs / 1000} s (are workers running? their logs say why a model was refused)`)), this.timeoutMs);
        requestModelSwitch(this.nc, id.slice(BUNDLED_PREFIX.length));
      });
      this.previous = from;
    } finally {
      clearTimeout(timer);
      this.switching = null;
      this.changed$.next(this.view());
    }
  }

  rollback(): Promise<void> {
    if (!this.previous) return Promise.reject(new ModelSwitchError('there is no previous model to roll back to'));
    return this.switchTo(this.previous);
  }
}
