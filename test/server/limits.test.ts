/**
 * Per-client limits on the WebSocket: a message rate limit with a clear error, a size limit in
 * bytes (not UTF-16 units) whose error still names the request, and a bound on WebRTC offers in
 * negotiation so that a flood of garbage offers neither piles up peer connections nor fills the
 * log with stacks.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { TokenBucket } from '../../server/limits.js';
import { MAX_CLIENT_MESSAGE_BYTES, MAX_CLIENT_MESSAGES_PER_SECOND, MAX_PENDING_OFFERS_PER_CLIENT, type ServerMessage } from '../../server/protocol.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

describe('TokenBucket', () => {
  it('allows the burst, then the sustained rate', () => {
    let t = 0;
    const b = new TokenBucket(10, 5, () => t);
    expect(Array.from({ length: 7 }, () => b.take())).toEqual([true, true, true, true, true, false, false]);
    t += 100; // a tenth of a second: one token
    expect([b.take(), b.take()]).toEqual([true, false]);
    t += 10_000; // never more than the burst
    expect(Array.from({ length: 6 }, () => b.take()).filter(Boolean)).toHaveLength(5);
  });
});

describe('WebSocket limits', () => {
  let t: TestServer;
  const logLines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    t = await startTestServer([], { log: pino({ level: 'info' }, sink) });
  });
  afterAll(async () => t?.close());

  it('a flood of messages is cut at the rate limit with one clear error, and the client recovers', async () => {
    const c = await TestClient.connect(t.wsUrl);
    await c.waitFor((m) => m.type === 'welcome');
    for (let i = 0; i < 1000; i++) c.send({ type: 'ping', id: `p${i}` });
    const limited = await c.waitFor<ErrorMessage>((m) => m.type === 'error' && m.code === 'limit', 10_000, 'rate-limit error');
    expect(limited.message).toMatch(/too many messages: at most 50 per second/);
    await new Promise((r) => setTimeout(r, 500));
    const pongs = c.messages.filter((m) => m.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(2 * MAX_CLIENT_MESSAGES_PER_SECOND); // the burst
    expect(pongs).toBeLessThan(200); // the burst plus what the rate refilled meanwhile, far from 1000
    // One error for the flood, not one per dropped message.
    expect(c.messages.filter((m) => m.type === 'error').length).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.request({ type: 'ping' }, 'after', 5000)).type).toBe('pong');
    await c.close();
  });

  it('the rate is configurable', () => {
    expect(loadConfig([], {}).clientMessageRate).toBe(50);
    expect(loadConfig(['--client-message-rate', '500'], {}).clientMessageRate).toBe(500);
    expect(() => loadConfig(['--client-message-rate', '0'], {})).toThrow(/clientMessageRate/);
  });

  it('the size limit counts bytes, and the too-large error carries the request id', async () => {
    const c = await TestClient.connect(t.wsUrl);
    // 30,000 "€" are 30,000 UTF-16 units (under the limit) but 90,000 bytes (over it).
    const euros = await c.request<ErrorMessage>({ type: 'ping', pad: '€'.repeat(30_000) } as never, 'euro', 5000);
    expect(euros).toMatchObject({ type: 'error', id: 'euro', code: 'too-large' });
    expect(euros.message).toContain(`limited to ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
    const ascii = await c.request<ErrorMessage>({ type: 'ping', pad: 'a'.repeat(70_000) } as never, 'big', 5000);
    expect(ascii).toMatchObject({ id: 'big', code: 'too-large' });
    // Just under the limit in bytes is still served.
    expect((await c.request({ type: 'ping', pad: 'é'.repeat(30_000) } as never, 'fits', 5000)).type).toBe('pong');
    await c.close();
  });

  it('garbage WebRTC offers: a bounded number in negotiation, one log line each, no stacks', async () => {
    const c = await TestClient.connect(t.wsUrl);
    await c.waitFor((m) => m.type === 'welcome');
    const before = logLines.length;
    // Passes the cheap shape checks, so each one reaches the native peer connection.
    const bogus = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=bogus\r\n';
    const n = 30;
    const replies = Promise.all(Array.from({ length: n }, (_, i) => c.next<ErrorMessage>((m) => 'id' in m && m.id === `o${i}`, 30_000, `reply to offer ${i}`)));
    for (let i = 0; i < n; i++) c.send({ type: 'webrtc-offer', id: `o${i}`, sdp: bogus });
    const all = await replies;
    expect(all.every((m) => m.type === 'error')).toBe(true);
    const refusedAtOnce = all.filter((m) => m.code === 'limit');
    expect(refusedAtOnce.length).toBeGreaterThanOrEqual(n - 2 * MAX_PENDING_OFFERS_PER_CLIENT);
    expect(refusedAtOnce[0]!.message).toMatch(/offers may be in negotiation at once/);
    // Garbage that is not SDP at all is refused before any peer connection is made.
    const notSdp = await c.request<ErrorMessage>({ type: 'webrtc-offer', sdp: 'v=0\nm=video <script>\n\u0001\u0002 garbage' }, 'junk', 5000);
    expect(notSdp.message).toMatch(/not SDP/);
    const lines = logLines.slice(before).filter((l) => l.includes('webrtc-offer'));
    expect(lines.length).toBeLessThanOrEqual(n - refusedAtOnce.length + 1);
    for (const l of lines) expect(l).not.toMatch(/\\n\s+at /); // no stack trace
    expect(t.server.streams.list().filter((s) => s.kind === 'webcam')).toEqual([]);
    await c.close();
  });
});
