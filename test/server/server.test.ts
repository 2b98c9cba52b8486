/**
 * The server end to end over real sockets: a generated clip as the demo stream through ffmpeg, the
 * pipelines and a small real model; clients speak the WebSocket protocol.
 */
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../model/index.js';
import { kitchenVocabulary } from '../../server/model.js';
import type { ServerMessage } from '../../server/protocol.js';
import { hasFfmpeg, makeVideo, need, tempDir } from '../pipelines/tools.js';
import { SMALL_MODEL, startTestServer, TestClient, type TestServer } from './harness.js';
import { webcamPeer } from './webcamPeer.js';

const run = need(hasFfmpeg, 'ffmpeg');
const d = run ? describe : describe.skip;

/** Deterministic PRNG so a failing fuzz case can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

d('countertop server', () => {
  let t: TestServer;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    tmp = tempDir('server');
    const recordings = path.join(tmp.dir, 'recordings');
    const demo = makeVideo(path.join(tmp.dir, 'demo.webm'), { seconds: 4, fps: 8, size: '96x96' });
    // The fuzz test sends 300 messages at once: above the default per-client rate limit (test/server/limits.test.ts covers that).
    t = await startTestServer(['--recordings-dir', recordings, '--client-message-rate', '1000'], { demoFile: demo });
    // A short recording with annotations, for replay and evaluation.
    makeVideo(path.join(recordings, 'session.webm'), { seconds: 4, fps: 8, size: '96x96' });
    writeFileSync(
      path.join(recordings, 'session.json'),
      JSON.stringify({
        segments: [
          { start: 0, end: 2, template: 'Pouring [something] into [something]', caption: 'pouring water into a bowl' },
          { start: 2, end: 4, template: 'Shaking [something]', caption: 'shaking a bottle' },
        ],
      }),
    );
  });

  afterAll(async () => {
    await t?.close();
    tmp?.remove();
  });

  it('greets with the protocol version, the model and the running demo stream', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const welcome = await c.waitFor<Extract<ServerMessage, { type: 'welcome' }>>((m) => m.type === 'welcome');
    expect(welcome.protocol).toBe(1);
    expect(welcome.model.trained).toBe(false);
    expect(welcome.streams.map((s) => s.id)).toContain('demo');
    await c.close();
  });

  it('streams predictions, captions, stats and previews of the demo to a subscriber', async () => {
    const c = await TestClient.connect(t.wsUrl);
    c.send({ type: 'subscribe', streams: ['demo'], preview: true });
    const p = await c.waitFor<Extract<ServerMessage, { type: 'prediction' }>>((m) => m.type === 'prediction' && m.streamId === 'demo');
    expect(p.heads.action).toHaveLength(5);
    const scores = p.heads.action!.map((l) => l.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores); // sorted, highest first
    expect(p.stamps.emittedAt).toBeGreaterThanOrEqual(p.stamps.capturedAt);
    const caption = await c.waitFor<Extract<ServerMessage, { type: 'caption' }>>((m) => m.type === 'caption');
    // A decoded caption: words of the served model's vocabulary, at most one per decoder step.
    const words = caption.text.split(' ').filter(Boolean);
    expect(words.length, caption.text).toBeGreaterThan(0);
    expect(words.length, caption.text).toBeLessThanOrEqual(parseModelConfig(SMALL_MODEL).caption.length - 1);
    const vocabulary = kitchenVocabulary().words;
    expect(words.filter((w) => !vocabulary.includes(w)), caption.text).toEqual([]);
    const stats = await c.waitFor<Extract<ServerMessage, { type: 'stats' }>>((m) => m.type === 'stats' && m.fps > 0);
    expect(stats.streamId).toBe('demo');
    const preview = await c.waitFor<Extract<ServerMessage, { type: 'preview' }>>((m) => m.type === 'preview');
    expect(Buffer.from(preview.jpeg, 'base64').subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff])); // a JPEG
    await c.close();
  });

  it('serves the built dashboard and nothing outside it', async () => {
    const index = await fetch(`${t.url}/`);
    expect(index.status).toBe(200);
    const html = await index.text();
    expect(html).toMatch(/<title>countertop/);
    // Raw paths (fetch would normalise them): encoded and plain parent references stay inside client/dist.
    for (const p of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/server/config.ts', '/assets/../../../package.json']) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: t.server.port, path: p }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve(b));
        });
        req.on('error', reject);
        req.end();
      });
      expect(body).not.toMatch(/"name": "countertop"|configSchema/);
    }
    expect((await fetch(`${t.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('a client that did not subscribe gets no stream messages', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const other = await TestClient.connect(t.wsUrl);
    other.send({ type: 'subscribe', streams: '*', preview: false });
    // Once the subscribed client has seen two predictions, the silent one must still have none.
    await other.waitFor((m) => m.type === 'prediction');
    await other.next((m) => m.type === 'prediction');
    expect(c.messages.filter((m) => ['prediction', 'caption', 'preview', 'stats'].includes(m.type))).toEqual([]);
    expect(other.messages.some((m) => m.type === 'preview')).toBe(false);
    await Promise.all([c.close(), other.close()]);
  });

  it('fuzz: every malformed message gets an error reply and the server keeps serving', async () => {
    const rnd = mulberry32(20260101);
    const c = await TestClient.connect(t.wsUrl);
    c.send({ type: 'subscribe', streams: '*', preview: false });
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const garbage = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(rnd() * 95))).join('');
    const bad: (() => string | Buffer)[] = [
      () => `{${garbage(1 + Math.floor(rnd() * 40))}`, // not JSON
      () => JSON.stringify(pick([null, 42, 'ping', [], [1, 2], true, { x: 1 }])),
      () => JSON.stringify({ type: garbage(8) }),
      () => JSON.stringify({ type: 'subscribe', streams: pick([5, 'demo', [1], ['../x'], null]) }),
      () => JSON.stringify({ type: 'add-rtsp', url: pick(['http://cam/x', 'file:///etc/passwd', '-i /etc/passwd', 'rtsp://', `rtsp://cam/${'\n'}x`, garbage(20)]) }),
      () => JSON.stringify({ type: 'start-replay', recording: pick(['../../etc/passwd', '/etc/passwd', '..', '.hidden.webm', 'a/b.webm', 'nope.webm', 'x\u0000.webm']) }),
      () => JSON.stringify({ type: 'remove-stream', streamId: pick(['NOPE', '../demo', '', 'no-such-stream']) }),
      () => JSON.stringify({ type: 'webrtc-offer', sdp: pick(['', 'hello there, not sdp', 12]) }),
      () => JSON.stringify({ type: 'evaluate', recording: pick(['missing.webm', '../session.webm']) }),
      () => JSON.stringify({ type: 'hello', protocol: 99 }),
      () => Buffer.from(garbage(16)), // binary frame
      () => JSON.stringify({ type: 'ping', pad: 'x'.repeat(70_000) }), // over the 64 kB limit
    ];
    const N = 300;
    const errorsBefore = c.messages.filter((m) => m.type === 'error').length;
    let pings = 0;
    for (let i = 0; i < N; i++) {
      c.sendRaw(pick(bad)());
      if (i % 50 === 0) c.send({ type: 'ping', id: `p${pings++}` });
    }
    const lastPing = `p${pings}`;
    await c.request({ type: 'ping' }, lastPing);
    // Requests that fail after an await may be answered just after the last pong: wait for all N.
    await expect.poll(() => c.messages.filter((m) => m.type === 'error').length - errorsBefore, { timeout: 15_000 }).toBe(N);
    expect(c.messages.filter((m) => m.type === 'pong')).toHaveLength(pings + 1);
    expect(c.closed).toBe(false);
    // Still serving: this client gets fresh predictions, a new client gets its welcome, the demo still runs.
    const before = c.messages.length;
    await c.next((m) => m.type === 'prediction' && m.streamId === 'demo');
    expect(c.messages.length).toBeGreaterThan(before);
    const fresh = await TestClient.connect(t.wsUrl);
    await fresh.waitFor((m) => m.type === 'welcome');
    const health = (await (await fetch(`${t.url}/healthz`)).json()) as { ok: boolean; streams: { id: string }[] };
    expect(health.ok).toBe(true);
    expect(health.streams.map((s) => s.id)).toEqual(['demo']);
    await Promise.all([c.close(), fresh.close()]);
  });

  it('50 concurrent clients all receive predictions and captions', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => TestClient.connect(t.wsUrl)));
    for (const c of clients) c.send({ type: 'subscribe', streams: '*', preview: false });
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'prediction' && m.streamId === 'demo', 90_000, 'prediction')));
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'caption' && m.streamId === 'demo', 90_000, 'caption')));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^countertop_ws_clients 50$/m);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('refuses bad RTSP URLs and camera devices with a message that says what is wrong', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const r1 = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'add-rtsp', url: 'http://camera.local/stream' }, 'a');
    expect(r1).toMatchObject({ type: 'error', code: 'invalid-message' });
    expect(r1.message).toMatch(/rtsp:\/\//);
    const r2 = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'add-rtsp', url: 'rtsp://cam.local/x -f null' }, 'b');
    expect(r2.message).toMatch(/space|control/);
    const r3 = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'add-v4l2', device: '/dev/video99' }, 'c');
    expect(r3.message).toMatch(/\/dev\/video99 does not exist/);
    const r4 = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'add-v4l2', device: '/etc/passwd' }, 'd');
    expect(r4.message).toMatch(/V4L2 device/);
    await c.close();
  });

  it('a dead RTSP camera is reported as reconnecting, not silently idle, and can be removed', async () => {
    const c = await TestClient.connect(t.wsUrl);
    c.send({ type: 'subscribe', streams: '*', preview: false });
    const ack = await c.request<Extract<ServerMessage, { type: 'ack' }>>({ type: 'add-rtsp', url: 'rtsp://127.0.0.1:9/nothing-here', name: 'Dead camera' }, 'dead');
    const id = ack.streamId!;
    const status = await c.waitFor<Extract<ServerMessage, { type: 'status' }>>((m) => m.type === 'status' && m.streamId === id && (m.state === 'reconnecting' || m.state === 'failed'), 60_000, 'reconnecting status');
    expect(status.detail).toBeTruthy();
    expect((await c.request({ type: 'remove-stream', streamId: id }, 'rm-dead')).type).toBe('ack');
    await c.waitFor((m) => m.type === 'streams' && !m.streams.some((s) => s.id === id));
    await c.close();
  });

  it('WebRTC signalling: an offer from a second peer becomes a webcam stream with predictions, removed when its client leaves', async () => {
    // A moving bar, so consecutive frames differ.
    const cam = await webcamPeer();
    try {
      const c = await TestClient.connect(t.wsUrl);
      const watcher = await TestClient.connect(t.wsUrl);
      const answer = await c.request<Extract<ServerMessage, { type: 'webrtc-answer' }>>({ type: 'webrtc-offer', sdp: cam.offer, name: 'Node peer' }, 'offer');
      expect(answer.type).toBe('webrtc-answer');
      expect(answer.sdp).toMatch(/^v=0/);
      await cam.peer.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      watcher.send({ type: 'subscribe', streams: [answer.streamId], preview: false });
      const p = await watcher.waitFor<Extract<ServerMessage, { type: 'prediction' }>>((m) => m.type === 'prediction' && m.streamId === answer.streamId, 60_000, 'webcam prediction');
      expect(p.heads.action!.length).toBe(5);
      // The browser tab closes: its webcam stream goes with it.
      await c.close();
      await watcher.waitFor((m) => m.type === 'streams' && !m.streams.some((s) => s.id === answer.streamId), 30_000, 'webcam removal');
      await watcher.close();
    } finally {
      cam.stop();
    }
  });

  it('replays only files inside the recordings folder', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const list = await c.request<Extract<ServerMessage, { type: 'recordings' }>>({ type: 'list-recordings' }, 'l');
    expect(list.items).toEqual([{ name: 'session.webm', bytes: expect.any(Number), annotations: 'session.json' }]);
    for (const [i, name] of ['../demo.webm', '/etc/passwd', 'session.json', 'missing.webm'].entries()) {
      const r = await c.request({ type: 'start-replay', recording: name }, `bad${i}`);
      expect(r.type).toBe('error');
    }
    const ack = await c.request<Extract<ServerMessage, { type: 'ack' }>>({ type: 'start-replay', recording: 'session.webm' }, 'ok');
    expect(ack.streamId).toMatch(/^replay-\d+$/);
    c.send({ type: 'subscribe', streams: [ack.streamId!], preview: false });
    await c.waitFor((m) => m.type === 'prediction' && m.streamId === ack.streamId);
    // A non-looping replay ends by itself.
    await c.waitFor((m) => m.type === 'streams' && m.streams.some((s) => s.id === ack.streamId && s.state === 'ended'), 60_000, 'replay end');
    const removed = await c.request({ type: 'remove-stream', streamId: ack.streamId! }, 'rm');
    expect(removed.type).toBe('ack');
    await c.close();
  });

  it('records a live stream to a playable webm with its predictions beside it', async () => {
    const c = await TestClient.connect(t.wsUrl);
    c.send({ type: 'subscribe', streams: ['demo'], preview: false });
    const startedAt = Date.now();
    expect((await c.request({ type: 'start-recording', streamId: 'demo' }, 'rec')).type).toBe('ack');
    // Record until three windows made only of frames captured after the start have been predicted.
    for (let i = 0; i < 3; i++) await c.next((m) => m.type === 'prediction' && m.stamps.capturedAt > startedAt);
    const saved = c.next<Extract<ServerMessage, { type: 'recording-saved' }>>((m) => m.type === 'recording-saved');
    expect((await c.request({ type: 'stop-recording', streamId: 'demo' }, 'stop')).type).toBe('ack');
    const { video, events } = await saved;
    const dir = t.server.recordings.dir;
    expect(existsSync(path.join(dir, video))).toBe(true);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', path.join(dir, video)]);
    const stream = (JSON.parse(probe.stdout.toString()) as { streams: { codec_name: string; nb_read_frames: string }[] }).streams[0]!;
    expect(stream.codec_name).toBe('vp8');
    expect(Number(stream.nb_read_frames)).toBeGreaterThanOrEqual(4); // at least one stride of frames
    const log = JSON.parse(readFileSync(path.join(dir, events), 'utf8')) as { entries: { t: number; type: string }[]; frames: number };
    expect(log.entries.filter((e) => e.type === 'prediction').length).toBeGreaterThanOrEqual(3);
    expect(log.frames).toBe(Number(stream.nb_read_frames));
    // The new recording is listed for replay (events JSON is not mistaken for annotations).
    const list = await c.request<Extract<ServerMessage, { type: 'recordings' }>>({ type: 'list-recordings' }, 'l2');
    expect(list.items.find((r) => r.name === video)).toMatchObject({ annotations: null });
    await c.close();
  });

  it('evaluates an annotated recording and returns both timelines with the metrics', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const done = c.next<Extract<ServerMessage, { type: 'eval-result' }>>((m) => m.type === 'eval-result' && m.id === 'ev', 120_000, 'eval-result');
    const failed = c.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error' && m.id === 'ev', 120_000);
    c.send({ type: 'evaluate', recording: 'session.webm', id: 'ev' });
    const first = await Promise.race([done, failed]);
    if (first.type === 'error') throw new Error(`evaluation failed: ${first.message}`);
    const r = first.result;
    expect(r.truth.map((s) => [s.start, s.end, s.label])).toEqual([
      [0, 2, 'Pouring [something] into [something]'],
      [2, 4, 'Shaking [something]'],
    ]);
    expect(r.duration).toBeCloseTo(4, 0);
    expect(r.predicted.length).toBeGreaterThan(0);
    // Frame accuracy is the share of annotated frames (8 fps) whose predicted segment names the
    // annotated action; recomputed from the two timelines it returned (within a frame per boundary).
    const norm = (l: string) => l.replace(/[[\]]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
    let frames = 0, right = 0;
    for (const seg of r.truth) {
      for (let i = Math.ceil(seg.start * 8); i / 8 < seg.end; i++, frames++) {
        const p = r.predicted.find((q) => q.start <= i / 8 && i / 8 < q.end);
        if (p && norm(p.label) === norm(seg.label)) right++;
      }
    }
    expect(frames).toBe(32);
    expect(Math.abs(r.frameAccuracy - right / frames)).toBeLessThanOrEqual((2 * r.predicted.length) / frames);
    // The untrained model names neither annotated action here: no frame is right and no event matches.
    expect([r.frameAccuracy, r.eventF1]).toEqual([0, 0]);
    expect(r.captionBleu).toHaveLength(4);
    expect(c.messages.some((m) => m.type === 'eval-progress')).toBe(true);
    await c.close();
  });
});
