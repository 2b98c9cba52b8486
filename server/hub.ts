/**
 * The connected dashboard clients and what each one subscribed to. Stream messages go only to the
 * clients subscribed to that stream (previews only to those that asked for them), each through its
 * own bounded Outbox, so one slow client never holds up the others.
 */
import type { WebSocket } from 'ws';
import { Outbox } from './outbox.js';
import type { ServerMessage } from './protocol.js';
import type { ServerMetrics } from './metrics.js';

export interface Client {
  readonly id: number;
  readonly ws: WebSocket;
  readonly outbox: Outbox;
  /** "*" = every stream, present and future. */
  subscriptions: Set<string> | '*';
  previews: Set<string> | '*';
  /** Streams this client started (its webcam): removed when it disconnects. */
  readonly owned: Set<string>;
}

export class ClientHub {
  private readonly clients = new Map<number, Client>();
  private nextId = 1;

  constructor(private readonly metrics: ServerMetrics) {}

  get size(): number {
    return this.clients.size;
  }

  add(ws: WebSocket): Client {
    const client: Client = {
      id: this.nextId++,
      ws,
      outbox: new Outbox(ws, {
        highWaterBytes: 512 * 1024,
        maxQueued: 256,
        retryMs: 25,
        onDrop: (reason) => this.metrics.clientDrops.inc({ reason }),
      }),
      subscriptions: new Set(),
      previews: new Set(),
      owned: new Set(),
    };
    this.clients.set(client.id, client);
    this.metrics.clients.set(this.clients.size);
    return client;
  }

  remove(client: Client): void {
    client.outbox.close();
    this.clients.delete(client.id);
    this.metrics.clients.set(this.clients.size);
  }

  send(client: Client, message: ServerMessage): void {
    client.outbox.push(message);
  }

  /** To every client, subscribed or not (e.g. the stream list). */
  broadcast(message: ServerMessage): void {
    const text = JSON.stringify(message);
    for (const c of this.clients.values()) c.outbox.push(message, text);
  }

  /** To the clients subscribed to `streamId`. */
  publish(streamId: string, message: ServerMessage): void {
    const isPreview = message.type === 'preview';
    let text: string | undefined; // serialised once, on first use, for every client
    for (const c of this.clients.values()) {
      const set = isPreview ? c.previews : c.subscriptions;
      if (set !== '*' && !set.has(streamId)) continue;
      // Stats tell each client what it alone has missed.
      if (message.type === 'stats') c.outbox.push({ ...message, clientDrops: this.clientDrops(c) });
      else c.outbox.push(message, (text ??= JSON.stringify(message)));
    }
  }

  /** Whether anyone wants previews of this stream (so JPEGs are not encoded for nobody). */
  wantsPreview(streamId: string): boolean {
    for (const c of this.clients.values()) if (c.previews === '*' || c.previews.has(streamId)) return true;
    return false;
  }

  /** Messages this client lost to coalescing or a full queue. */
  clientDrops(client: Client): number {
    return client.outbox.coalesced + client.outbox.dropped;
  }

  all(): IterableIterator<Client> {
    return this.clients.values();
  }

  closeAll(code: number, reason: string): void {
    for (const c of this.clients.values()) {
      c.outbox.close();
      c.ws.close(code, reason);
    }
    this.clients.clear();
    this.metrics.clients.set(0);
  }
}
