/**
 * Stream slots and states: a failed stream gives its maxStreams slot to a new one, "Record" is
 * refused on a stream that is not live (no empty file), the same camera cannot be added twice,
 * and an upper-case `RTSP://` is normalised at validation (ffmpeg knows only `rtsp`).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { NEVER, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClientMessage, rtspCameraKey, type ServerMessage } from '../../server/protocol.js';
import { StreamLimitError } from '../../server/streams.js';
import { freePort, tempDir } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RTSP URL validation', () => {
  it('normalises an upper-case scheme so that ffmpeg finds the protocol', () => {
    const parsed = parseClientMessage(JSON.stringify({ type: 'add-rtsp', url: 'RTSP://user:pw@Cam.Local:8554/Live' }));
    expect(parsed.ok && parsed.message.type === 'add-rtsp' && parsed.message.url).toBe('rtsp://user:pw@Cam.Local:8554/Live');
    const rtsps = parseClientMessage(JSON.stringify({ type: 'add-rtsp', url: 'Rtsps://cam/x' }));
    expect(rtsps.ok && rtsps.message.type === 'add-rtsp' && rtsps.message.url).toBe('rtsps://cam/x');
  });

  it('one camera has one key whatever the spelling, and the key holds no credentials', () => {
    expect(rtspCameraKey('rtsp://a:b@CAM.local/x')).toBe('rtsp://cam.local:554/x');
    expect(rtspCameraKey('rtsp://cam.local:554/x')).toBe(rtspCameraKey('rtsp://other:creds@Cam.Local/x'));
    expect(rtspCameraKey('rtsp://cam.local/x')).not.toBe(rtspCameraKey('rtsp://cam.local/y'));
  });
});

describe('stream slots and states', () => {
  let t: TestServer;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('lifecycle');
    t = await startTestServer(['--max-streams', '2', '--recordings-dir', path.join(tmp.dir, 'recordings')]);
  });
  afterAll(async () => {
    await t?.close();
    tmp?.remove();
  });

  it('failed streams free their slot for a new one', async () => {
    const { streams } = t.server;
    const failing = (n: number) => streams.add({ kind: 'rtsp', name: `broken ${n}`, open: (id) => ({ source: { streamId: id, frames: throwError(() => new Error('camera gone')) } }) });
    const a = failing(1);
    const b = failing(2);
    await until(() => streams.list().every((s) => s.state === 'failed'), 'both streams to fail');
    const c = streams.add({ kind: 'rtsp', name: 'silent', open: (id) => ({ source: { streamId: id, frames: NEVER } }) });
    // The oldest failed stream made room; the other failed card is still shown.
    expect(streams.list().map((s) => s.id)).toEqual([b.id, c.id]);
    expect(streams.has(a.id)).toBe(false);
    // Live (or connecting) streams are not evicted: the limit still holds.
    streams.add({ kind: 'rtsp', name: 'silent 2', open: (id) => ({ source: { streamId: id, frames: NEVER } }) });
    expect(() => streams.add({ kind: 'rtsp', name: 'one too many', open: (id) => ({ source: { streamId: id, frames: NEVER } }) })).toThrow(StreamLimitError);
    await streams.closeAll();
  });

  it('"Record" on a stream that is not live is refused and writes no file', async () => {
    const { streams, recordings } = t.server;
    const silent = streams.add({ kind: 'rtsp', name: 'silent', open: (id) => ({ source: { streamId: id, frames: NEVER } }) });
    const c = await TestClient.connect(t.wsUrl);
    const reply = await c.request<ErrorMessage>({ type: 'start-recording', streamId: silent.id }, 'rec', 5000);
    expect(reply).toMatchObject({ type: 'error', id: 'rec', code: 'failed' });
    expect(reply.message).toMatch(/is connecting, not live/);
    expect(streams.list().find((s) => s.id === silent.id)?.recording).toBe(false);
    const stop = await c.request<ErrorMessage>({ type: 'stop-recording', streamId: silent.id }, 'stop', 5000);
    expect(stop.type).toBe('error');
    expect(readdirSync(recordings.dir)).toEqual([]);
    await c.close();
    await streams.closeAll();
  });

  it('the same camera cannot be added twice, however its URL is spelled', async () => {
    const port = await freePort(); // nothing listens: the stream stays reconnecting
    const c = await TestClient.connect(t.wsUrl);
    const first = await c.request<Extract<ServerMessage, { type: 'ack' }>>({ type: 'add-rtsp', url: `rtsp://127.0.0.1:${port}/cam` }, 'a1', 5000);
    expect(first.type).toBe('ack');
    const again = await c.request<ErrorMessage>({ type: 'add-rtsp', url: `RTSP://user:secret@127.0.0.1:${port}/cam` }, 'a2', 5000);
    expect(again).toMatchObject({ type: 'error', code: 'limit' });
    expect(again.message).toContain(`already stream "${first.streamId}"`);
    expect(again.message).not.toContain('secret');
    // Another path on the same host is another camera.
    expect((await c.request({ type: 'add-rtsp', url: `rtsp://127.0.0.1:${port}/cam2` }, 'a3', 5000)).type).toBe('ack');
    await c.close();
    await t.server.streams.closeAll();
  });
});
