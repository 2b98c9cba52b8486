/**
 * Publishes into the durable event stream with acknowledgement, one at a time and in order,
 * retrying while the bus is away (a NATS restart). Each event carries a message id, so that a
 * retry of a publish whose ack was lost is stored once (the stream's duplicate window). The queue
 * waiting for the bus is bounded: past `capacity`, the oldest waiting event is dropped and counted.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';

export interface StoredEvent {
  readonly subject: string;
  readonly msgId: string;
  readonly seq: number;
}

interface Pending {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgId: string;
}

export class DurablePublisher {
  private readonly queue: Pending[] = [];
  private running = false;
  private closed = false;
  dropped = 0;
  stored = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly onStored: (e: StoredEvent) => void = () => {},
    private readonly capacity = 10_000,
    private readonly retryMs = 500,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  publish(subject: string, data: Uint8Array, msgId: string): void {
    if (this.closed) return;
    this.queue.push({ subject, data, msgId });
    if (this.queue.length > this.capacity) {
      this.queue.shift();
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 100 === 0) this.log.error({ dropped: this.dropped }, 'durable event queue full while the bus is away: oldest events dropped');
    }
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    let failures = 0;
    while (this.queue.length > 0 && !this.closed) {
      const next = this.queue[0]!;
      try {
        const ack = await this.js.publish(next.subject, next.data, { msgID: next.msgId, timeout: 5000 });
        if (this.queue[0] === next) this.queue.shift();
        this.stored++;
        failures = 0;
        if (!ack.duplicate) this.onStored({ subject: next.subject, msgId: next.msgId, seq: ack.seq });
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) this.log.warn({ err: (err as Error).message, waiting: this.queue.length }, 'durable event not stored yet; retrying');
        await new Promise((r) => setTimeout(r, this.retryMs));
      }
    }
    this.running = false;
  }

  /** Waits (up to `timeoutMs`) for what is queued to be stored, then stops. */
  async close(timeoutMs = 3000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.closed = true;
  }
}
