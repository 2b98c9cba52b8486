/**
 * A client that stops reading, over a real TCP WebSocket: the server must keep only the newest state
 * for it (bounded, counted) while a reading client beside it keeps receiving, and once the slow
 * client reads again it receives the newest preview, not a backlog.
 * Assertions hold whatever the machine's speed: nothing here depends on how fast a socket drains.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientHub, type Client } from '../../server/hub.js';
import { ServerMetrics } from '../../server/metrics.js';
import type { ServerMessage } from '../../server/protocol.js';

describe('slow WebSocket client', () => {
  let http: Server;
  let wss: WebSocketServer;
  const metrics = new ServerMetrics();
  const hub = new ClientHub(metrics);
  const clients: Client[] = [];
  let url: string;

  beforeAll(async () => {
    http = createServer();
    wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => {
      const c = hub.add(ws);
      c.subscriptions = '*';
      c.previews = '*';
      clients.push(c);
      ws.on('close', () => hub.remove(c));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    hub.closeAll(1001, 'done');
    wss.close();
    await new Promise((r) => http.close(r));
  });

  it('coalesces to the newest preview per stream, bounds what waits, and does not hold up a reading client', async () => {
    const connect = () => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('open', () => resolve(ws));
    });
    const slow = await connect();
    const fast = await connect();
    await new Promise((r) => setTimeout(r, 50)); // both registered in the hub
    const [slowClient] = clients;

    const fastSeen: number[] = [];
    fast.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'preview') fastSeen.push(m.seq);
    });
    const slowSeen: number[] = [];
    slow.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'preview') slowSeen.push(m.seq);
    });
    // The slow client stops reading its socket: the kernel buffers fill, then the server's.
    (slow as unknown as { _socket: Socket })._socket.pause();

    const jpeg = Buffer.alloc(96 * 1024, 7).toString('base64'); // ~128 kB per message
    const N = 400; // ~51 MB in all: far more than the socket buffers hold
    for (let seq = 0; seq < N; seq++) {
      hub.publish('cam', { type: 'preview', streamId: 'cam', seq, width: 1, height: 1, jpeg });
      // Let the event loop flush between messages, as live frames would.
      if (seq % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    // While stalled, at most one preview per stream waits for the slow client.
    expect(slowClient!.outbox.pending).toBeLessThanOrEqual(1);
    expect(slowClient!.outbox.coalesced).toBeGreaterThan(0);

    // The reading client is not held up by the stalled one: it ends with the newest preview too, and
    // whatever it skipped (if it fell behind the burst) is counted, never lost silently.
    const [, fastClient] = clients;
    await expect.poll(() => fastSeen.at(-1), { timeout: 30_000 }).toBe(N - 1);
    expect(fastSeen.length + fastClient!.outbox.coalesced).toBe(N);
    expect(fastSeen).toEqual([...fastSeen].sort((a, b) => a - b)); // in order

    // The slow client reads again: it ends with the newest preview, having skipped the backlog.
    (slow as unknown as { _socket: Socket })._socket.resume();
    await expect.poll(() => slowSeen.at(-1), { timeout: 30_000 }).toBe(N - 1);
    expect(slowSeen.length).toBeLessThan(N);
    expect(slowSeen.length + slowClient!.outbox.coalesced).toBe(N);
    const text = await metrics.registry.getSingleMetricAsString('countertop_ws_messages_dropped_total');
    expect(text).toMatch(/reason="coalesced"} [1-9]/);
    slow.close();
    fast.close();
  });
});
