/**
 * Per-client send queue that never grows without bound. While the socket keeps up, messages go
 * out at once and in order. When the socket's own buffer (ws `bufferedAmount`) passes the high-water
 * mark, state-like messages (prediction, stats, status, preview) are coalesced per stream — a newer one
 * replaces the waiting one — and one-off messages (actions, captions, replies) wait in a bounded FIFO
 * that drops its oldest entry when full. Both kinds of loss are counted.
 */
import type { ServerMessage } from './protocol.js';

/** The part of a ws WebSocket the outbox needs (a fake in unit tests). */
export interface SendTarget {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

export interface OutboxOptions {
  highWaterBytes: number;
  maxQueued: number;
  retryMs: number;
  onDrop?: (reason: 'coalesced' | 'dropped', message: ServerMessage) => void;
}

const OPEN = 1;
const COALESCED_TYPES = new Set<ServerMessage['type']>(['prediction', 'stats', 'status', 'preview']);

function coalesceKey(m: ServerMessage): string | undefined {
  if (!COALESCED_TYPES.has(m.type)) return undefined;
  return `${m.type}:${(m as { streamId: string }).streamId}`;
}

/** A message with its JSON text, serialised once however many clients it goes to. */
interface Pending {
  readonly message: ServerMessage;
  readonly text: string;
}

export class Outbox {
  private readonly latest = new Map<string, Pending>();
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  coalesced = 0;
  dropped = 0;
  sent = 0;

  constructor(
    private readonly target: SendTarget,
    private readonly opts: OutboxOptions = { highWaterBytes: 256 * 1024, maxQueued: 256, retryMs: 25 },
  ) {}

  get pending(): number {
    return this.queue.length + this.latest.size;
  }

  /** Queues a message; `text` is its JSON when the caller already has it (one serialisation for all clients). */
  push(message: ServerMessage, text: string = JSON.stringify(message)): void {
    if (this.closed) return;
    const key = coalesceKey(message);
    const entry: Pending = { message, text };
    if (key !== undefined) {
      const waiting = this.latest.get(key);
      if (waiting) {
        this.coalesced++;
        this.opts.onDrop?.('coalesced', waiting.message);
        // Delete first so the newest state moves to the back of the insertion order.
        this.latest.delete(key);
      }
      this.latest.set(key, entry);
    } else {
      this.queue.push(entry);
      if (this.queue.length > this.opts.maxQueued) {
        const old = this.queue.shift()!;
        this.dropped++;
        this.opts.onDrop?.('dropped', old.message);
      }
    }
    this.flush();
  }

  /** Sends what the socket can take now; retries later if it cannot take everything. */
  flush(): void {
    if (this.closed || this.target.readyState !== OPEN) return;
    while (this.pending > 0 && this.target.bufferedAmount < this.opts.highWaterBytes) {
      const next = this.queue.length > 0 ? this.queue.shift()! : this.takeLatest();
      this.target.send(next.text);
      this.sent++;
    }
    if (this.pending > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.opts.retryMs);
      this.timer.unref();
    }
  }

  private takeLatest(): Pending {
    const [key, entry] = this.latest.entries().next().value as [string, Pending];
    this.latest.delete(key);
    return entry;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
    this.latest.clear();
  }
}
