import { describe, expect, it, vi } from 'vitest';
import { Outbox, type SendTarget } from '../../server/outbox.js';
import type { ServerMessage } from '../../server/protocol.js';

/** A socket whose buffer we fill and drain by hand. */
class FakeSocket implements SendTarget {
  bufferedAmount = 0;
  readyState = 1;
  sent: ServerMessage[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ServerMessage);
  }
}

const stamps = { capturedAt: 0, windowReadyAt: 0, inferredAt: 0, emittedAt: 0 };
const prediction = (streamId: string, lastSeq: number): ServerMessage => ({ type: 'prediction', streamId, firstSeq: 0, lastSeq, heads: {}, stamps });
const caption = (text: string): ServerMessage => ({ type: 'caption', streamId: 's', text, reason: 'interval', stamps });

describe('Outbox', () => {
  it('sends everything in order while the socket keeps up', () => {
    const sock = new FakeSocket();
    const box = new Outbox(sock, { highWaterBytes: 1000, maxQueued: 4, retryMs: 5 });
    box.push(prediction('a', 1));
    box.push(caption('x'));
    box.push(prediction('a', 2));
    expect(sock.sent.map((m) => m.type)).toEqual(['prediction', 'caption', 'prediction']);
    expect(box.coalesced + box.dropped).toBe(0);
    box.close();
  });

  it('a slow client keeps only the newest state per stream and a bounded event queue', () => {
    const sock = new FakeSocket();
    const drops: string[] = [];
    const box = new Outbox(sock, { highWaterBytes: 1000, maxQueued: 3, retryMs: 5, onDrop: (r) => drops.push(r) });
    sock.bufferedAmount = 5000; // the client stopped reading
    for (let i = 0; i < 100; i++) box.push(prediction('a', i));
    for (let i = 0; i < 100; i++) box.push(prediction('b', i));
    for (let i = 0; i < 10; i++) box.push(caption(`c${i}`));
    expect(sock.sent).toHaveLength(0);
    expect(box.pending).toBe(2 + 3); // newest prediction of a and b, newest 3 captions
    expect(box.coalesced).toBe(99 * 2);
    expect(box.dropped).toBe(7);
    expect(drops.filter((d) => d === 'dropped')).toHaveLength(7);

    sock.bufferedAmount = 0; // the client catches up
    box.flush();
    expect(sock.sent).toEqual([caption('c7'), caption('c8'), caption('c9'), prediction('a', 99), prediction('b', 99)]);
    expect(box.pending).toBe(0);
    box.close();
  });

  it('retries on its own once the buffer drains', () => {
    vi.useFakeTimers();
    const sock = new FakeSocket();
    const box = new Outbox(sock, { highWaterBytes: 10, maxQueued: 8, retryMs: 5 });
    sock.bufferedAmount = 100;
    box.push(caption('late'));
    expect(sock.sent).toHaveLength(0);
    sock.bufferedAmount = 0;
    vi.advanceTimersByTime(5);
    expect(sock.sent).toEqual([caption('late')]);
    box.close();
    vi.useRealTimers();
  });
});
