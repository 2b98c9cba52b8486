/**
 * Health endpoints and metric names: /healthz says `degraded` (ok false) while a stream has failed
 * or is reconnecting, /livez and /readyz answer for orchestrators, and /metrics follows the
 * Prometheus naming conventions (one prefix, counters end in _total).
 */
import { NEVER, Subject, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../pipelines/types.js';
import type { Frame } from '../../pipelines/types.js';
import { smallEngine, startTestServer, type TestServer } from './harness.js';

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

  it('per camera: frames the frame-rate adapter skipped, and the engine time of its windows (per stream and per batch)', async () => {
    const { streams } = t.server;
    const { input } = await smallEngine();
    const frames = new Subject<Frame>();
    // A camera at three times the model's rate: two frames in three are skipped before the model.
    const s = streams.add({ kind: 'webcam', name: 'fast camera', open: (id) => ({ source: { streamId: id, frames, frameRate: input.fps * 3 } }) });
    const pixels = new Uint8Array(input.width * input.height * 3).fill(90);
    const period = 1000 / (input.fps * 3);
    const t0 = Date.now();
    const sent = 6 * input.frames * 3; // enough for several windows
    for (let i = 0; i < sent; i++) frames.next({ streamId: s.id, seq: i, capturedAt: t0 + i * period, width: input.width, height: input.height, pixels });
    const text = async () => (await fetch(`${t.url}/metrics`)).text();
    const value = (body: string, series: string) => Number(new RegExp(`^${series.replace(/[{}+]/g, '\\$&')} (\\S+)$`, 'm').exec(body)?.[1] ?? NaN);
    await until(async () => value(await text(), `countertop_stream_inference_seconds_count{stream="${s.id}"}`) > 0, 'an inferred window');
    const body = await text();
    expect(value(body, `countertop_frames_in_total{stream="${s.id}"}`)).toBe(sent);
    // adaptFrameRate keeps one frame in three of an evenly spaced 3× stream.
    expect(value(body, `countertop_stream_skipped_frames_total{stream="${s.id}"}`)).toBe((sent * 2) / 3);
    expect(body).toMatch(/^# TYPE countertop_stream_inference_seconds histogram$/m);
    expect(value(body, `countertop_stream_inference_seconds_bucket{le="+Inf",stream="${s.id}"}`)).toBeGreaterThan(0);
    expect(value(body, 'countertop_inference_batch_seconds_count')).toBeGreaterThan(0);
    expect(value(body, 'countertop_inference_batch_seconds_sum')).toBeGreaterThan(0);
    expect(value(body, 'countertop_inference_batch_windows_count')).toBe(value(body, 'countertop_inference_batch_seconds_count'));
    await streams.remove(s.id);
    // A removed camera's series go with it.
    expect(await text()).not.toMatch(new RegExp(`stream="${s.id}"`));
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
