/**
 * Sources against real programs: ffmpeg decoding generated files, a GStreamer RTSP server that is
 * restarted mid-stream, and the validation that keeps user text out of ffmpeg's options.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, from, lastValueFrom, Subscription, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource, SourceConfigError, type SourceConfig } from '../../pipelines/sources/openSource.js';
import { sessionFrames } from '../../pipelines/sources/sessionFrames.js';
import type { Frame, StreamStatus } from '../../pipelines/types.js';
import { alive, freePort, hasFfmpeg, hasRtspServer, makeVideo, need, startRtspServer, tempDir, until } from './tools.js';
import { slidingWindow } from '../../pipelines/operators/slidingWindow.js';

const format = { width: 32, height: 24, fps: 12 };
const tmp = tempDir('sources');
afterAll(() => tmp.remove());

function collectStatus(source: { status?: import('rxjs').Observable<StreamStatus> }): StreamStatus[] {
  const seen: StreamStatus[] = [];
  source.status!.subscribe((s) => seen.push(s));
  return seen;
}

describe('file source (real ffmpeg)', () => {
  let clip = '';
  let red = '';
  beforeAll(() => {
    if (!need(hasFfmpeg, 'ffmpeg')) return;
    clip = makeVideo(path.join(tmp.dir, 'clip.webm'), { seconds: 2, fps: 16 });
    red = path.join(tmp.dir, 'red.mp4');
    const r = runFfmpeg(['-f', 'lavfi', '-i', 'color=c=red:size=64x48:rate=16:duration=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', red]);
    expect(r).toBe(0);
  });

  it('decodes a generated VP8 file to RGB24 at the model size and fps, then reports ended', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const source = openSource({ kind: 'file', streamId: 'clip', path: clip, pace: 'max' }, format);
    const statuses = collectStatus(source);
    const frames = await lastValueFrom(source.frames.pipe(toArray()));
    // 2 s resampled from 16 to 12 fps.
    expect(frames.length).toBeGreaterThanOrEqual(23);
    expect(frames.length).toBeLessThanOrEqual(25);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    for (const f of frames) {
      expect([f.streamId, f.width, f.height, f.pixels.length]).toEqual(['clip', 32, 24, 32 * 24 * 3]);
    }
    // testsrc2 moves: consecutive frames differ.
    expect(Buffer.compare(Buffer.from(frames[0]!.pixels), Buffer.from(frames[10]!.pixels))).not.toBe(0);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'live', 'ended']);
  });

  it('delivers the right colours (RGB order, not BGR or YUV)', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const source = openSource({ kind: 'file', streamId: 'red', path: red, pace: 'max' }, format);
    const frame = await firstValueFrom(source.frames);
    const mid = (12 * 32 + 16) * 3;
    const [r, g, b] = frame.pixels.subarray(mid, mid + 3);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(40);
    expect(b).toBeLessThan(40);
  });

  it('loops a file and, on unsubscribe, kills its ffmpeg process', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const children: ChildProcess[] = [];
    const source = openSource({ kind: 'file', streamId: 'loop', path: clip, pace: 'max', loop: true }, format, { onSpawn: (c) => children.push(c) });
    // More frames than the clip holds (≈24): only a loop can deliver them.
    const frames = await lastValueFrom(source.frames.pipe(take(60), toArray()));
    expect(frames).toHaveLength(60);
    expect(children).toHaveLength(1);
    const pid = children[0]!.pid!;
    await until(() => !alive(pid), 'ffmpeg to exit after unsubscribe');
  });

  it('a real-time file source still running is killed by unsubscribe', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const children: ChildProcess[] = [];
    const source = openSource({ kind: 'file', streamId: 'rt', path: clip, pace: 'realtime', loop: true }, format, { onSpawn: (c) => children.push(c) });
    const got: Frame[] = [];
    const sub = source.frames.subscribe((f) => got.push(f));
    await until(() => got.length >= 2, 'two frames');
    const pid = children[0]!.pid!;
    expect(alive(pid)).toBe(true);
    sub.unsubscribe();
    await until(() => !alive(pid), 'ffmpeg to exit after unsubscribe');
  });

  it('a corrupt file fails with ffmpeg\'s reason in the error and the status', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const bad = path.join(tmp.dir, 'corrupt.webm');
    writeFileSync(bad, Buffer.from('this is not a video file at all'.repeat(20)));
    const source = openSource({ kind: 'file', streamId: 'bad', path: bad, pace: 'max' }, format);
    const statuses = collectStatus(source);
    await expect(lastValueFrom(source.frames)).rejects.toThrow(/ffmpeg exited with 1: .*(Invalid data|EBML|header)/i);
    expect(statuses.at(-1)?.state).toBe('failed');
    expect(statuses.at(-1)?.detail).toMatch(/Invalid data|EBML|header/i);
  });
});

function runFfmpeg(args: string[]): number | null {
  return spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]).status;
}

describe('input validation: nothing a user types becomes an ffmpeg option', () => {
  const spawned: ChildProcess[] = [];
  const open = (c: SourceConfig) => openSource(c, format, { onSpawn: (p) => spawned.push(p) });
  afterAll(() => expect(spawned).toHaveLength(0));

  it.each([
    ['-i', /starts with "-"/],
    ['-y', /starts with "-"/],
    ['concat:a.webm|b.webm', /looks like a URL or protocol/],
    ['http://example.com/x.webm', /looks like a URL or protocol/],
    // Passed as file:/abs/path, so even ffmpeg's odd "subfile,…:" syntax is only a (missing) file name.
    ['subfile,,start,0,end,9,,:/etc/passwd', /does not exist/],
    ['clip\n.webm', /control characters/],
    ['/nonexistent/clip.webm', /does not exist/],
    ['', /non-empty/],
  ])('refuses the file name %j', (name, message) => {
    expect(() => open({ kind: 'file', streamId: 'x', path: name })).toThrow(SourceConfigError);
    expect(() => open({ kind: 'file', streamId: 'x', path: name })).toThrow(message);
  });

  it('refuses a directory and accepts a file whose name merely contains odd characters', () => {
    const dir = path.join(tmp.dir, 'a-dir');
    mkdirSync(dir, { recursive: true });
    expect(() => open({ kind: 'file', streamId: 'x', path: dir })).toThrow(/not a regular file/);
    const odd = path.join(tmp.dir, 'my clip; -y | $(x).webm');
    writeFileSync(odd, 'x');
    expect(open({ kind: 'file', streamId: 'x', path: odd }).streamId).toBe('x');
  });

  it.each([
    ['-rtsp_transport udp', /whitespace|starts with "-"/],
    ['-i rtsp://cam/x', /whitespace|starts with "-"/],
    ['http://cam/stream', /must start with rtsp:\/\/ or rtsps:\/\//],
    ['file:///etc/passwd', /must start with rtsp/],
    ['rtsp://cam/live -vf drawtext', /whitespace/],
    ['rtsp://cam/live\n-y', /whitespace or control/],
    ['rtsp:///live', /no host|not a valid URL/],
    ['rtsp://-cam/live', /invalid host/],
    ['rtsp://ca_m/live', /invalid host/],
    ['rtsp://cam:0/live', /invalid port/],
    ['rtsp://cam:99999/live', /not a valid URL|invalid port/],
    ['rtsp://cam:+1/live', /not a valid URL|invalid port/],
    ['rtsp://cam/live#frag', /fragment/],
    ['rtsp://cam/li"ve', /characters a URL may not contain/],
    ['rtsp://cam/li\\ve', /characters a URL may not contain/],
    ['rtsp://cam/a|b', /characters a URL may not contain/],
  ])('refuses the camera URL %j', (url, message) => {
    expect(() => open({ kind: 'rtsp', streamId: 'cam', url })).toThrow(SourceConfigError);
    expect(() => open({ kind: 'rtsp', streamId: 'cam', url })).toThrow(message);
  });

  it('accepts ordinary camera URLs, and never shows the password in an error', () => {
    for (const url of ['rtsp://admin:s3cret@192.168.1.10:554/Streaming/Channels/101?transportmode=unicast', 'rtsps://cam.local/live', 'rtsp://[::1]:8554/test']) {
      expect(open({ kind: 'rtsp', streamId: 'cam', url }).streamId).toBe('cam');
    }
    try {
      open({ kind: 'rtsp', streamId: 'cam', url: 'rtsp://admin:s3cret@cam:0/x' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/invalid port/);
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('refuses unknown config keys (no way to smuggle ffmpeg options), bad stream ids and bad devices', () => {
    expect(() => open({ kind: 'file', streamId: 'x', path: '/etc/hostname', inputOptions: ['-f', 'lavfi'] } as unknown as SourceConfig)).toThrow(/Unrecognized key/i);
    expect(() => open({ kind: 'file', streamId: '-x', path: '/etc/hostname' })).toThrow(/stream id/);
    expect(() => open({ kind: 'file', streamId: 'a b', path: '/etc/hostname' })).toThrow(/stream id/);
    expect(() => open({ kind: 'v4l2', streamId: 'cam', device: '/dev/sda' })).toThrow(/look like \/dev\/video0/);
    expect(() => open({ kind: 'v4l2', streamId: 'cam', device: '/dev/video0 -f lavfi' })).toThrow(/look like \/dev\/video0/);
    expect(() => open({ kind: 'v4l2', streamId: 'cam', device: '/dev/video987' })).toThrow(/does not exist/);
    expect(() => open({ kind: 'shell', streamId: 'x' } as unknown as SourceConfig)).toThrow(SourceConfigError);
  });
});

describe('RTSP source against a real GStreamer RTSP server', () => {
  it('reconnects with backoff after the server restarts mid-stream, and frames resume', async (ctx) => {
    if (!need(hasRtspServer && hasFfmpeg, 'the GStreamer RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0) and ffmpeg', ctx)) return;
    const port = await freePort();
    let server = await startRtspServer(port, '/kitchen');
    const children: ChildProcess[] = [];
    const source = openSource(
      { kind: 'rtsp', streamId: 'cam', url: server.url, reconnect: { initialDelayMs: 200, maxDelayMs: 1000, maxRetries: 50, stallTimeoutMs: 3000, connectTimeoutMs: 10_000 } },
      format,
      { onSpawn: (c) => children.push(c) },
    );
    const statuses = collectStatus(source);
    const frames: Frame[] = [];
    const sub = new Subscription();
    try {
      sub.add(source.frames.subscribe({ next: (f) => frames.push(f), error: (e) => frames.push(e) }));
      await until(() => frames.length >= 10, '10 frames before the restart');
      await server.stop();
      await until(() => statuses.some((s) => s.state === 'reconnecting'), 'a reconnecting status');
      const before = frames.length;
      server = await startRtspServer(port, '/kitchen');
      await until(() => frames.length >= before + 10, '10 frames after the restart');
      expect(frames.every((f) => f.pixels?.length === 32 * 24 * 3)).toBe(true);
      // One numbering across the reconnection.
      expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
      const states = statuses.map((s) => s.state);
      expect(states.slice(0, 2)).toEqual(['connecting', 'live']);
      expect(states.at(-1)).toBe('live');
      expect(states).toContain('reconnecting');
      expect(states).not.toContain('failed');
      expect(children.length).toBeGreaterThanOrEqual(2);
      // The reconnection leaves a hole in capture time longer than the live pipeline's default gap
      // limit, and slidingWindow cut at that limit never joins frames from both sides of it.
      const gaps = frames.slice(1).map((f, i) => f.capturedAt - frames[i]!.capturedAt);
      const hole = gaps.indexOf(Math.max(...gaps)) + 1;
      expect(gaps[hole - 1]).toBeGreaterThan(1000);
      const windows = await firstValueFrom(from(frames).pipe(slidingWindow(4, 1, { maxGapMs: 1000 }), toArray()));
      expect(windows.length).toBeGreaterThan(0);
      for (const w of windows) expect(new Set(w.frames.map((f) => f.seq >= hole)).size).toBe(1);
    } finally {
      sub.unsubscribe();
      await server.stop();
    }
    // Every attempt's ffmpeg is gone once the subscriber leaves.
    for (const c of children) await until(() => !alive(c.pid!), `ffmpeg ${c.pid} to exit`);
  });

  it('a dead camera fails after maxRetries with the reason, leaving no ffmpeg behind', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const port = await freePort(); // nothing listens here
    const children: ChildProcess[] = [];
    const source = openSource(
      { kind: 'rtsp', streamId: 'dead', url: `rtsp://127.0.0.1:${port}/none`, reconnect: { initialDelayMs: 50, maxDelayMs: 100, maxRetries: 2 } },
      format,
      { onSpawn: (c) => children.push(c) },
    );
    const statuses = collectStatus(source);
    await expect(lastValueFrom(source.frames)).rejects.toThrow(/ffmpeg exited/);
    expect(children).toHaveLength(3);
    const states = statuses.map((s) => s.state);
    expect(states).toEqual(['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'failed']);
    expect(statuses[1]!.detail).toMatch(/retry 1\/2 in 50 ms/);
    expect(statuses[3]!.detail).toMatch(/retry 2\/2 in 100 ms/);
    expect(statuses.at(-1)!.detail).toMatch(/Connection refused|ffmpeg exited/);
    for (const c of children) await until(() => !alive(c.pid!), `ffmpeg ${c.pid} to exit`);
  });
});

describe('procedural source (data/ session renderer)', () => {
  it('streams every frame of a rendered session, in order, with lifecycle status', async () => {
    const { generate, session } = sessionFrames({ domain: 'kitchenware', seed: 5, actions: 1, width: 48, height: 36, fps: 12 });
    const source = openSource({ kind: 'procedural', streamId: 'demo', generate }, format);
    const statuses = collectStatus(source);
    const frames = await lastValueFrom(source.frames.pipe(toArray()));
    expect(frames).toHaveLength(session.frameCount);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    // The renderer's own size: the pipeline's resizeFrames brings it to the model's.
    expect([frames[0]!.width, frames[0]!.height, frames[0]!.pixels.length]).toEqual([48, 36, 48 * 36 * 3]);
    const [first] = generate();
    expect(Buffer.from(frames[0]!.pixels).equals(Buffer.from(first!.pixels))).toBe(true);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'live', 'ended']);
    // Unpaced generated frames count as model-rate frames (not thinned by capture time).
    expect(source.frameRate).toBe(format.fps);
  });

  it('stops generating when unsubscribed', async () => {
    let produced = 0;
    const generate = function* () {
      for (;;) {
        produced++;
        yield { width: 8, height: 8, pixels: new Uint8Array(8 * 8 * 3) };
      }
    };
    const source = openSource({ kind: 'procedural', streamId: 'inf', generate }, format);
    await lastValueFrom(source.frames.pipe(take(5), toArray()));
    const after = produced;
    await new Promise((r) => setTimeout(r, 50));
    expect(produced).toBe(after);
  });
});
