/**
 * RTSP like an NVR: cameras retry forever by default (capped backoff, a configurable limit), a
 * stall watchdog drops a live connection that sends no frame, reconnects and stalls are counted
 * per camera in /metrics and in the status the dashboard gets, and a failed stream can be retried
 * (`retry-stream`). Against the GStreamer RTSP server, frozen with SIGSTOP and killed and restarted.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource, StallError, stallWatchdog } from '../../pipelines/sources/openSource.js';
import type { StreamStatus } from '../../pipelines/types.js';
import { loadConfig } from '../../server/config.js';
import { parseClientMessage, type ServerMessage } from '../../server/protocol.js';
import { freePort, hasFfmpeg, hasRtspServer, need, startRtspServer, tempDir, until, type RtspServer } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

type Status = Extract<ServerMessage, { type: 'status' }>;

describe('the stall watchdog', () => {
  it('errors with StallError and counts once when frames stop after the first, never before the first', async () => {
    const frames = new Subject<number>();
    let stalls = 0;
    let error: unknown;
    const seen: number[] = [];
    frames.pipe(stallWatchdog(80, () => stalls++)).subscribe({ next: (v) => seen.push(v), error: (e: unknown) => (error = e) });
    await new Promise((r) => setTimeout(r, 200)); // no frame yet: the connect timeout's business, not a stall
    expect([stalls, error]).toEqual([0, undefined]);
    for (let i = 0; i < 5; i++) {
      frames.next(i);
      await new Promise((r) => setTimeout(r, 30)); // frames 30 ms apart keep it alive
    }
    expect(error).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(stalls).toBe(1);
    expect(error).toBeInstanceOf(StallError);
  });
});

describe('RTSP reconnection policy', () => {
  it('retries a dead camera forever by default: past the old limit of 10 it is still reconnecting', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const port = await freePort();
    const src = openSource({ kind: 'rtsp', streamId: 'dead', url: `rtsp://127.0.0.1:${port}/none`, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } }, { width: 32, height: 32, fps: 8 });
    const states: StreamStatus[] = [];
    src.status!.subscribe((s) => states.push(s));
    const sub = src.frames.subscribe({ error: () => undefined });
    try {
      await until(() => states.some((s) => /retry 12\b/.test(s.detail ?? '')), 'a 12th retry', 60_000);
      expect(states.map((s) => s.state)).not.toContain('failed');
      expect(states.find((s) => s.detail?.includes('retry 1 '))?.detail).not.toMatch(/retry 1\/\d/); // no limit shown: there is none
    } finally {
      sub.unsubscribe();
    }
  });

  it('the limit is configurable, server-wide and per camera', () => {
    expect(loadConfig(['--rtsp-max-attempts', '3', '--rtsp-stall-timeout-ms', '2000'], {}).rtspReconnect).toEqual({ maxAttempts: 3, stallTimeoutMs: 2000 });
    expect(loadConfig([], {}).rtspReconnect).toEqual({});
    const parsed = parseClientMessage(JSON.stringify({ type: 'retry-stream', streamId: 'Bad Id' }));
    expect(parsed.ok).toBe(false);
  });
});

describe('RTSP cameras through a stall, an outage and a retry', () => {
  let t: TestServer | undefined;
  let rtsp: RtspServer | undefined;
  let second: RtspServer | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterAll(async () => {
    await t?.close();
    await rtsp?.stop();
    await second?.stop();
    tmp?.remove();
  });

  it('a frozen camera is a counted stall, a restarted one comes back alone, a failed one comes back on Retry', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx) || !need(hasRtspServer, 'the GStreamer RTSP server', ctx)) return;
    tmp = tempDir('rtsp-retry');
    const port = await freePort();
    const flakyPort = await freePort();
    rtsp = await startRtspServer(port, '/counter');
    const file = path.join(tmp.dir, 'countertop.json');
    writeFileSync(
      file,
      JSON.stringify({
        rtspReconnect: { initialDelayMs: 100, maxDelayMs: 500, stallTimeoutMs: 1500, connectTimeoutMs: 3000 },
        cameras: [
          { kind: 'rtsp', id: 'counter', url: rtsp.url },
          // Nothing listens there yet, and it may try only once: it fails, until Retry finds a server.
          { kind: 'rtsp', id: 'flaky', url: `rtsp://127.0.0.1:${flakyPort}/flaky`, reconnect: { maxAttempts: 1 } },
        ],
      }),
    );
    t = await startTestServer(['--config', file, '--recordings-dir', path.join(tmp.dir, 'rec'), '--preview-fps', '0']);
    const { streams } = t.server;
    const state = (id: string) => streams.list().find((s) => s.id === id);
    const metric = async (name: string, id: string) => Number(new RegExp(`^${name}\\{stream="${id}"\\} (\\S+)$`, 'm').exec(await (await fetch(`${t!.url}/metrics`)).text())?.[1]);
    const client = await TestClient.connect(t.wsUrl);
    client.send({ type: 'subscribe', streams: '*', preview: false });

    await until(() => state('counter')?.state === 'live', 'the camera to go live', 30_000);
    expect(await metric('countertop_stream_stalls_total', 'counter')).toBe(0);

    // Frozen: the TCP connection stays open and silent. The watchdog, not ffmpeg, notices.
    rtsp.child.kill('SIGSTOP');
    const stalled = await client.next<Status>((m) => m.type === 'status' && m.streamId === 'counter' && m.state === 'reconnecting' && m.stalls === 1, 20_000, 'a stall');
    expect(stalled.detail).toMatch(/stalled: no frame for 1500 ms/);
    expect(stalled.reconnects).toBe(1);
    expect(await metric('countertop_stream_stalls_total', 'counter')).toBe(1);
    rtsp.child.kill('SIGCONT');
    await until(() => state('counter')?.state === 'live', 'the thawed camera to be live again', 30_000);

    // Killed and started again on the same port: back without a click, one more reconnect.
    await rtsp.stop();
    await until(() => state('counter')?.state === 'reconnecting', 'reconnecting after the kill', 20_000);
    await new Promise((r) => setTimeout(r, 1500)); // several failed attempts while it is down
    rtsp = await startRtspServer(port, '/counter');
    await until(() => state('counter')?.state === 'live', 'live again after the restart', 30_000);
    expect(state('counter')).toMatchObject({ reconnects: 2, stalls: 1 });
    expect(await metric('countertop_stream_reconnects_total', 'counter')).toBe(2);

    // The one-attempt camera failed; Retry on a live stream is refused, on the failed one starts it again.
    await until(() => state('flaky')?.state === 'failed', 'the one-attempt camera to fail', 30_000);
    const refused = await client.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'retry-stream', streamId: 'counter' }, 'r1');
    expect([refused.type, refused.message]).toEqual(['error', 'stream "counter" is live: only a failed or ended stream can be retried']);
    const unknown = await client.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'retry-stream', streamId: 'nope' }, 'r2');
    expect(unknown.code).toBe('unknown-stream');
    second = await startRtspServer(flakyPort, '/flaky');
    const ack = await client.request({ type: 'retry-stream', streamId: 'flaky' }, 'r3');
    expect(ack).toMatchObject({ type: 'ack', of: 'retry-stream', streamId: 'flaky' });
    await until(() => state('flaky')?.state === 'live', 'the retried camera to go live', 30_000);
    await client.waitFor((m) => m.type === 'prediction' && m.streamId === 'flaky', 60_000, 'predictions from the retried camera');
    expect(state('flaky')?.reconnects).toBe(1); // its one failed reconnection, kept across the retry
    await client.close();
  });
});
