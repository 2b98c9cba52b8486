/**
 * Partition leases in a JetStream key-value bucket whose TTL is the lease time. Each worker, every
 * third of the TTL: renews its presence (`w.<id>`), renews each lease it holds (`p.<n>`, a compare-
 * and-set on the revision it last wrote, so a lease someone else took is noticed), gives back
 * leases beyond its fair share (⌈partitions / live workers⌉) so that a worker that joins gets work,
 * and takes free partitions up to its fair share with `create` (atomic: of two takers one wins).
 * A killed worker stops renewing; its keys lapse after the TTL and the others take its partitions.
 *
 * ```ts
 * const leases = new PartitionLeases(kv, 'worker-a', { partitions: 12, ttlMs: 3000 }, { acquired: (p) => …, lost: (p, why) => … });
 * leases.start();
 * ```
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { leaseKey, presenceKey } from './subjects.js';

export interface LeaseEvents {
  acquired(partition: number): void;
  lost(partition: number, reason: string): void;
}

export interface LeaseOptions {
  readonly partitions: number;
  readonly ttlMs: number;
  /** Default ttlMs / 3: two heartbeats may be missed before a lease lapses. */
  readonly heartbeatMs?: number;
}

interface Held {
  revision: number;
  renewedAt: number;
}

/** The bucket's answer when a compare-and-set finds another revision (JetStream error 10071). */
function isConflict(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 10071 || /wrong last sequence/.test(String((err as Error)?.message));
}

export class PartitionLeases {
  private readonly held = new Map<number, Held>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private ticks = 0;
  private stopped = false;
  readonly heartbeatMs: number;

  constructor(
    private readonly kv: KV,
    readonly workerId: string,
    private readonly opts: LeaseOptions,
    private readonly events: LeaseEvents,
    private readonly log?: Logger,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(200, Math.floor(opts.ttlMs / 3));
  }

  /** Partitions held now. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  start(): void {
    const run = () => {
      if (this.stopped) return;
      this.tick()
        .catch((err: unknown) => this.log?.warn({ err: (err as Error).message }, 'lease heartbeat failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(run, this.heartbeatMs);
        });
    };
    run();
  }

  /** One heartbeat (exposed for tests). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.ticks++;
      // Presence first: it then lapses before the leases written after it, so when a dead
      // worker's leases free up, the others already count one worker fewer and take them.
      await this.kv.put(presenceKey(this.workerId), JSON.stringify({ at: Date.now() }));
      await this.renew();
      // The first beat only says "I am here", so that workers started together share from the start.
      if (this.ticks === 1) return;
      const workers = (await this.keys('w.*')).length;
      const fair = Math.ceil(this.opts.partitions / Math.max(1, workers));
      await this.giveBack(fair);
      await this.take(fair);
    } finally {
      this.ticking = false;
    }
  }

  private async renew(): Promise<void> {
    const now = Date.now();
    for (const [p, h] of [...this.held]) {
      try {
        h.revision = await this.kv.update(leaseKey(p), this.workerId, h.revision);
        h.renewedAt = Date.now();
      } catch (err) {
        if (isConflict(err)) this.drop(p, 'the lease lapsed or another worker holds it');
        // The bus away (a NATS restart): keep working on it until the lease would have lapsed anyway.
        else if (now - h.renewedAt > this.opts.ttlMs) this.drop(p, `lease not renewed for ${now - h.renewedAt} ms: ${(err as Error).message}`);
      }
    }
  }

  private async giveBack(fair: number): Promise<void> {
    const extra = this.partitions.slice(fair);
    for (const p of extra) {
      const h = this.held.get(p)!;
      this.drop(p, `rebalancing: ${fair} partitions per worker`);
      await this.kv.delete(leaseKey(p), { previousSeq: h.revision }).catch(() => {});
    }
  }

  private async take(fair: number): Promise<void> {
    if (this.held.size >= fair) return;
    const taken = new Set(await this.keys('p.*'));
    const free = Array.from({ length: this.opts.partitions }, (_, i) => i).filter((p) => !taken.has(leaseKey(p)) && !this.held.has(p));
    // A random order, so that workers looking at once mostly try different partitions.
    for (let i = free.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [free[i], free[j]] = [free[j]!, free[i]!];
    }
    for (const p of free) {
      if (this.held.size >= fair || this.stopped) break;
      try {
        const revision = await this.kv.create(leaseKey(p), this.workerId);
        this.held.set(p, { revision, renewedAt: Date.now() });
        this.log?.info({ partition: p, worker: this.workerId }, 'lease acquired');
        this.events.acquired(p);
      } catch (err) {
        if (!isConflict(err)) throw err; // another worker was quicker: fine
      }
    }
  }

  private drop(p: number, reason: string): void {
    if (!this.held.delete(p)) return;
    this.log?.info({ partition: p, worker: this.workerId, reason }, 'lease given up');
    this.events.lost(p, reason);
  }

  private async keys(filter: string): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv.keys(filter)) out.push(k);
    return out;
  }

  /** Stops heartbeating without giving anything back, as a killed worker does (tests). */
  abandon(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Gives every lease back at once (a clean stop: the others need not wait for the TTL). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const [p, h] of [...this.held]) {
      this.drop(p, 'worker stopping');
      await this.kv.delete(leaseKey(p), { previousSeq: h.revision }).catch(() => {});
    }
    await this.kv.delete(presenceKey(this.workerId)).catch(() => {});
  }
}
