/**
 * Health endpoints and metric names: /healthz says `degraded` (ok false) while a stream has failed
 * or is reconnecting, /livez and /readyz answer for orchestrators, and /metrics follows the
 * Prometheus naming conventions (one prefix, counters end in _total).
 */
import { NEVER, Subject, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../pipelines/types.js';
import { startTestServer, type TestServer } from './harness.js';

interface Health {
  ok: boolean;
  status: string;
  streams: { id: string; state: string; detail?: string }[];
  failedStreams: string[];
  reconnectingStreams: string[];
  model: { trained: boolean; state: string };
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('health and metrics', () => {
  let t: TestServer;
  const health = async () => (await (await fetch(`${t.url}/healthz`)).json()) as Health;

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it('liveness and readiness answer on their own paths', async () => {
    const live = await fetch(`${t.url}/livez`);
    expect([live.status, await live.json()]).toEqual([200, { ok: true }]);
    const ready = await fetch(`${t.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
  });

  it('/healthz is ok with healthy streams and degraded, naming the stream and why, when one fails', async () => {
    const h0 = await health();
    expect([h0.ok, h0.status, h0.failedStreams]).toEqual([true, 'ok', []]);
    expect(h0.model).toMatchObject({ trained: false, state: 'untrained' });

    const { streams } = t.server;
    const quiet = streams.add({ kind: 'rtsp', name: 'quiet', open: (id) => ({ source: { streamId: id, frames: NEVER } }) });
    const broken = streams.add({ kind: 'rtsp', name: 'broken', open: (id) => ({ source: { streamId: id, frames: throwError(() => new Error('camera gone')) } }) });
    await until(async () => (await health()).failedStreams.length === 1, 'the broken stream to be reported');
    const h1 = await health();
    expect([h1.ok, h1.status, h1.failedStreams]).toEqual([false, 'degraded', [broken.id]]);
    expect(h1.streams.find((s) => s.id === broken.id)).toEqual({ id: broken.id, state: 'failed', detail: 'camera gone' });
    expect(h1.streams.find((s) => s.id === quiet.id)?.state).toBe('connecting');
    await streams.remove(broken.id);
    expect((await health()).status).toBe('ok');
    await streams.closeAll();
  });

  it('a reconnecting stream is degraded too, counted in reconnects_total and stream_up', async () => {
    const { streams } = t.server;
    const status = new Subject<StreamStatus>();
    const s = streams.add({ kind: 'rtsp', name: 'flaky', open: (id) => ({ source: { streamId: id, frames: NEVER, status } }) });
    const say = (state: StreamStatus['state']) => status.next({ streamId: s.id, state, at: Date.now() });
    say('live');
    await until(async () => (await health()).streams[0]?.state === 'live', 'live');
    const metric = async (name: string) => new RegExp(`^${name}\\{stream="${s.id}"\\} (\\S+)$`, 'm').exec(await (await fetch(`${t.url}/metrics`)).text())?.[1];
    expect(await metric('countertop_stream_up')).toBe('1');
    say('reconnecting');
    await until(async () => (await health()).status === 'degraded', 'degraded');
    expect((await health()).reconnectingStreams).toEqual([s.id]);
    expect(await metric('countertop_stream_up')).toBe('0');
    say('live');
    say('reconnecting');
    await until(async () => (await metric('countertop_stream_reconnects_total')) === '2', 'two reconnects counted');
    await streams.closeAll();
  });

  it('metric names follow the Prometheus conventions', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(types.length).toBeGreaterThan(10);
    for (const { name, type } of types) {
      expect(name, name).toMatch(/^countertop_[a-z0-9_]+$/);
      expect(name, name).not.toMatch(/countertop_process_process_|countertop_countertop_/);
      if (type === 'counter') expect(name, `${name} is a counter`).toMatch(/_total$/);
      // prom-client's own nodejs_active_*_total gauges are its naming, not ours.
      else if (!name.startsWith('countertop_nodejs_active_')) expect(name, `${name} is a ${type}`).not.toMatch(/_total$/);
    }
    const names = types.map((x) => x.name);
    expect(names).toContain('countertop_pipeline_drops_total');
    expect(names).toContain('countertop_process_cpu_seconds_total');
    expect(names).not.toContain('countertop_pipeline_drops');
  });
});
