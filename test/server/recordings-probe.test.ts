/**
 * Recordings are what ffprobe says they are, not what their names say: an HLS or concat playlist
 * named `.webm` is refused before replay or evaluation, and ffmpeg itself, given one, opens nothing
 * it names (file protocol only, real video demuxers only).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../pipelines/sources/openSource.js';
import { NotAVideoError, probeVideo } from '../../server/probe.js';
import type { ServerMessage } from '../../server/protocol.js';
import { hasFfmpeg, makeVideo, need, tempDir } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('recordings are probed', () => {
  let tmp: ReturnType<typeof tempDir>;
  let recordings: string;
  let t: TestServer;

  beforeAll(async () => {
    tmp = tempDir('probe');
    recordings = path.join(tmp.dir, 'recordings');
    t = await startTestServer(['--recordings-dir', recordings]);
    makeVideo(path.join(recordings, 'real.webm'), { seconds: 2, fps: 8, size: '64x64' });
    makeVideo(path.join(recordings, 'real.mp4'), { seconds: 1, fps: 8, size: '64x64', codec: 'libx264' });
    // A video outside the folder, and playlists inside it that name it.
    const secret = makeVideo(path.join(tmp.dir, 'secret.mkv'), { seconds: 2, fps: 8, size: '64x64' });
    writeFileSync(path.join(recordings, 'hls.webm'), `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:${secret}\n#EXT-X-ENDLIST\n`);
    writeFileSync(path.join(recordings, 'concat.mkv'), `ffconcat version 1.0\nfile '${secret}'\n`);
    writeFileSync(path.join(recordings, 'text.webm'), 'just some text, not a video\n');
  });
  afterAll(async () => {
    await t?.close();
    tmp?.remove();
  });

  it('ffprobe accepts real containers and gives their duration', async () => {
    const webm = await probeVideo(path.join(recordings, 'real.webm'));
    expect(webm.container).toMatch(/webm|matroska/);
    expect(webm.duration).toBeCloseTo(2, 0);
    expect((await probeVideo(path.join(recordings, 'real.mp4'))).container).toMatch(/mp4/);
  });

  it('ffprobe refuses playlists and other non-videos whatever their names', async () => {
    for (const name of ['hls.webm', 'concat.mkv', 'text.webm']) {
      await expect(probeVideo(path.join(recordings, name)), name).rejects.toThrow(NotAVideoError);
      await expect(probeVideo(path.join(recordings, name)), name).rejects.toThrow(new RegExp(`"${name.replace('.', '\\.')}" is not a video file`));
    }
  });

  it('the decoder, handed a playlist anyway, opens none of the files it names', async () => {
    for (const name of ['hls.webm', 'concat.mkv']) {
      const source = openSource({ kind: 'file', streamId: 'evil', path: path.join(recordings, name), pace: 'max' }, { width: 32, height: 32, fps: 8 });
      // Before the whitelists, these decoded the 16 frames of secret.mkv.
      await expect(lastValueFrom(source.frames.pipe(toArray())), name).rejects.toThrow(/whitelist|Invalid/i);
    }
  });

  it('start-replay and evaluate refuse a playlist named .webm with a clear error', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const replay = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'start-replay', recording: 'hls.webm' }, 'r1', 30_000);
    expect(replay).toMatchObject({ type: 'error', code: 'not-found' });
    expect(replay.message).toMatch(/"hls.webm" is not a video file/);
    const evaluate = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'evaluate', recording: 'hls.webm' }, 'e1', 30_000);
    expect(evaluate.message).toMatch(/is not a video file/);
    expect(t.server.streams.list().filter((s) => s.kind === 'replay')).toEqual([]);
    // A real recording still replays.
    const ok = await c.request({ type: 'start-replay', recording: 'real.webm' }, 'r2', 30_000);
    expect(ok).toMatchObject({ type: 'ack', of: 'start-replay' });
    await c.close();
  });
});
