/**
 * WebSocket heartbeat: the server pings every interval and drops a client that leaves two pings
 * unanswered (a suspended or vanished peer), while a client that answers stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

describe('WebSocket heartbeat', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(['--heartbeat-ms', '100']);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is configurable and defaults to 15 s', () => {
    expect(loadConfig([], {}).heartbeatMs).toBe(15_000);
    expect(loadConfig([], { COUNTERTOP_HEARTBEAT_MS: '2000' }).heartbeatMs).toBe(2000);
    expect(() => loadConfig(['--heartbeat-ms', '0'], {})).toThrow(/heartbeatMs/);
  });

  it('terminates a peer that stops answering pings and keeps one that answers', async () => {
    const alive = await TestClient.connect(t.wsUrl);
    // autoPong: false is a peer that is still connected at the TCP level but no longer responds.
    const dead = await TestClient.connect(t.wsUrl, {}, { autoPong: false });
    let pingsToDead = 0;
    let pingsToAlive = 0;
    dead.ws.on('ping', () => pingsToDead++);
    alive.ws.on('ping', () => pingsToAlive++);
    await alive.waitFor((m) => m.type === 'welcome');
    expect(t.server.hub.size).toBe(2);

    const closedAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the silent peer was never dropped')), 5000);
      dead.ws.once('close', () => {
        clearTimeout(timer);
        resolve(Date.now());
      });
    });
    expect(closedAt).toBeGreaterThan(0);
    expect(pingsToDead).toBeGreaterThanOrEqual(2); // two missed, then dropped
    await new Promise((r) => setTimeout(r, 400)); // several more intervals
    expect(alive.closed).toBe(false);
    expect(pingsToAlive).toBeGreaterThanOrEqual(4);
    expect(t.server.hub.size).toBe(1);
    const metrics = await t.server.metrics.registry.getSingleMetricAsString('countertop_ws_dead_peers_terminated_total');
    expect(metrics).toMatch(/countertop_ws_dead_peers_terminated_total 1$/m);
    // The surviving client is still served.
    const pong = await alive.request({ type: 'ping' }, 'p1', 2000);
    expect(pong.type).toBe('pong');
    await alive.close();
  });
});
