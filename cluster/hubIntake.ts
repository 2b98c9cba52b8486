/**
 * The hub's side of the bus: turns what edges and workers publish into streams of the hub's own
 * StreamManager (each a StreamRequest whose `outputs` come from the bus), so the dashboard, the
 * WebSocket fan-out, /healthz, /metrics and the event history work on remote streams unchanged.
 *
 *   edge status (core, every second)  → the stream's card; silence → `reconnecting`, then `failed`
 *   predictions, stats (core)         → live only: a hub that was away does not need old ones
 *   action events, captions           → this hub's durable consumer (`hub-<id>`) on CT_EVENTS, acked
 *                                       once handed on, so a hub that restarts catches up where it stopped
 */
import { EMPTY, Subject } from 'rxjs';
import type { Logger } from 'pino';
import { AckPolicy, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import type { PipelineOutput, StreamState } from '../pipelines/types.js';
import type { StreamManager } from '../server/streams.js';
import type { StreamKind } from '../server/protocol.js';
import type { ClientHub } from '../server/hub.js';
import type { Bus } from './bus.js';
import { shows } from './busConfig.js';
import { EVENTS_STREAM, PREVIEW_WANT_SUBJECT, liveResultSubjects, parseResultSubject } from './subjects.js';
import { decodeEdgeStatus, decodePreview, decodeResult, type EdgeStatusMessage } from './wire.js';

export interface HubIntakeOptions {
  /** No status from a stream's edge for this long: `reconnecting`. */
  readonly staleMs?: number;
  /** …and for this long: `failed` (the edge is gone). */
  readonly goneMs?: number;
  /** How long to listen for edges' statuses before replaying the durable stream, so that replayed events find their cards. */
  readonly discoverMs?: number;
  /** The streams this hub shows (bus.show): ids or prefixes ending in `*`. */
  readonly show?: readonly string[];
  /** The dashboard clients, for previews: asked of the edges only while a client watches, sent straight to them. */
  readonly clients?: Pick<ClientHub, 'wantsPreview' | 'publish'>;
}

interface RemoteStream {
  readonly id: string;
  readonly outputs: Subject<PipelineOutput>;
  edge?: string;
  lastSeen: number;
  state: StreamState;
}

export class HubIntake {
  private readonly remote = new Map<string, RemoteStream>();
  private readonly subs: Subscription[] = [];
  private messages?: ConsumerMessages;
  private timer?: NodeJS.Timeout;
  private previewTimer?: NodeJS.Timeout;
  private closed = false;
  /** Streams this hub had no slot for: said once each, not every second. */
  private readonly refused = new Set<string>();
  /** Durable events handed on (and acked) since start. */
  eventsDelivered = 0;
  readonly consumerName: string;

  constructor(
    private readonly bus: Bus,
    private readonly streams: StreamManager,
    private readonly log: Logger,
    private readonly opts: HubIntakeOptions = {},
  ) {
    this.consumerName = `hub-${bus.id}`;
  }

  async start(): Promise<void> {
    for (const subject of liveResultSubjects()) {
      this.subs.push(this.bus.nc.subscribe(subject, { callback: (err, msg) => void (err || this.onLive(msg.subject, msg.data)) }));
    }
    this.timer = setInterval(() => this.checkSilence(), 500);
    this.previewTimer = setInterval(() => this.askPreviews(), 2000);
    await new Promise((r) => setTimeout(r, this.opts.discoverMs ?? 1500));
    void this.consumeEvents();
  }

  private onLive(subject: string, data: Uint8Array): void {
    const where = parseResultSubject(subject);
    if (!where || !this.shown(where.streamId)) return;
    try {
      if (where.kind === 'status') return this.onStatus(decodeEdgeStatus(data));
      if (where.kind === 'preview') {
        const p = decodePreview(data);
        if (this.remote.has(where.streamId) && this.opts.clients?.wantsPreview(where.streamId)) this.opts.clients.publish(where.streamId, { type: 'preview', ...p, streamId: where.streamId });
        return;
      }
      const { out } = decodeResult(data);
      // A result for a stream no edge has reported yet: its card comes with the edge's next status.
      const r = this.remote.get(where.streamId);
      if (r) r.outputs.next(out);
    } catch (err) {
      this.log.warn({ subject, err: (err as Error).message }, 'malformed bus message dropped');
    }
  }

  private onStatus(m: EdgeStatusMessage): void {
    const r = this.ensure(m.status.streamId, m.kind, m.name);
    if (!r) return;
    r.edge = m.edge;
    r.lastSeen = Date.now();
    const { state, detail } = m.status;
    if (state !== r.state || state === 'reconnecting' || detail) {
      r.state = state;
      r.outputs.next({ type: 'status', status: { ...m.status, at: Date.now() } });
    }
  }

  /** The stream's card on this hub, made on first sight; undefined when the hub has no slot for it. */
  private ensure(id: string, kind: StreamKind, name: string): RemoteStream | undefined {
    const known = this.remote.get(id);
    if (known && this.streams.has(id)) return known;
    const r: RemoteStream = known ?? { id, outputs: new Subject<PipelineOutput>(), lastSeen: Date.now(), state: 'connecting' };
    try {
      this.streams.add({ id, kind, name, key: `bus:${id}`, open: () => ({ source: { streamId: id, frames: EMPTY } }), outputs: r.outputs });
    } catch (err) {
      if (!this.refused.has(id)) this.log.warn({ stream: id, err: (err as Error).message }, 'remote stream not shown on this hub (raise maxStreams, or share the streams out with bus.show)');
      this.refused.add(id);
      return undefined;
    }
    this.refused.delete(id);
    this.remote.set(id, r);
    this.log.info({ stream: id, kind }, 'remote stream');
    return r;
  }

  /** Tells the edges which of this hub's streams a dashboard watches (they encode previews for those only). */
  private askPreviews(): void {
    const clients = this.opts.clients;
    if (!clients) return;
    const streams = [...this.remote.keys()].filter((id) => clients.wantsPreview(id));
    if (streams.length === 0) return;
    try {
      this.bus.nc.publish(PREVIEW_WANT_SUBJECT, JSON.stringify({ streams }));
    } catch {
      // the bus is away: asked again in 2 s
    }
  }

  private shown(streamId: string): boolean {
    return shows(this.opts.show ?? ['*'], streamId);
  }

  private checkSilence(): void {
    const now = Date.now();
    const stale = this.opts.staleMs ?? 3500;
    const gone = this.opts.goneMs ?? 30_000;
    for (const r of this.remote.values()) {
      if (r.state === 'ended' || r.state === 'failed') continue;
      const quiet = now - r.lastSeen;
      const edge = r.edge ? `edge ${r.edge}` : 'its edge';
      if (quiet > gone) {
        r.state = 'failed';
        r.outputs.next({ type: 'status', status: { streamId: r.id, state: 'failed', at: now, detail: `${edge} not heard from for ${Math.round(quiet / 1000)} s: gone` } });
      } else if (quiet > stale && r.state !== 'reconnecting') {
        r.state = 'reconnecting';
        r.outputs.next({ type: 'status', status: { streamId: r.id, state: 'reconnecting', at: now, detail: `${edge} not heard from for ${Math.round(quiet / 1000)} s` } });
      }
    }
  }

  /** The durable consumer, made if missing; consumed until close, and resumed after a failure (a NATS restart). */
  private async consumeEvents(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        await this.bus.jsm.consumers.info(EVENTS_STREAM, this.consumerName).catch(() =>
          this.bus.jsm.consumers.add(EVENTS_STREAM, { durable_name: this.consumerName, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1000, ack_wait: 30e9 }),
        );
        const consumer = await this.bus.js.consumers.get(EVENTS_STREAM, this.consumerName);
        this.messages = await consumer.consume({ max_messages: 200 });
        failures = 0;
        for await (const m of this.messages) {
          const where = parseResultSubject(m.subject);
          try {
            if (where && this.shown(where.streamId)) this.onEvent(where.streamId, decodeResult(m.data).out);
          } catch (err) {
            this.log.warn({ subject: m.subject, err: (err as Error).message }, 'malformed durable event skipped');
          }
          m.ack();
        }
      } catch (err) {
        if (this.closed) break;
        failures++;
        if (failures === 1 || failures % 10 === 0) this.log.warn({ err: (err as Error).message }, 'durable event consumer stopped; resuming');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private onEvent(streamId: string, out: PipelineOutput): void {
    // A stream no edge reports any more (replayed after a restart): it gets a card all the same, so its events are kept.
    const r = this.remote.get(streamId) ?? this.ensure(streamId, 'rtsp', `${streamId} (not reported by any edge now)`);
    if (!r) return;
    if (!this.remote.get(streamId)?.edge && r.state === 'connecting') {
      r.state = 'ended';
      r.outputs.next({ type: 'status', status: { streamId, state: 'ended', at: Date.now(), detail: 'no edge reports this stream now' } });
    }
    r.outputs.next(out);
    this.eventsDelivered++;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.previewTimer);
    for (const s of this.subs) s.unsubscribe();
    await this.messages?.close().catch(() => {});
  }
}
