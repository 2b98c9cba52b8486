/**
 * Annotation files are read only from the recordings folder itself: a symlink (to /etc/passwd, to
 * another folder) is refused without its contents showing up anywhere, and so is a file too large
 * or with absurdly many segments for the length of its video.
 */
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../server/protocol.js';
import { AnnotationLimitError, MAX_ANNOTATION_BYTES, RecordingNotFound, RecordingsFolder } from '../../server/recordings.js';
import { hasFfmpeg, makeVideo, need, tempDir } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

const SECRET = 'SECRET-CAPTION-do-not-leak';
const segments = (n: number, seconds: number) =>
  Array.from({ length: n }, (_, i) => ({ start: (i * seconds) / n, end: ((i + 1) * seconds) / n, template: 'Shaking [something]', caption: 'shaking' }));

describe('RecordingsFolder.readAnnotations', () => {
  let tmp: ReturnType<typeof tempDir>;
  let folder: RecordingsFolder;
  beforeAll(() => {
    tmp = tempDir('annotations');
    folder = new RecordingsFolder(path.join(tmp.dir, 'recordings'));
    // Elsewhere on the disk: a valid annotation file that must never be read through the folder.
    writeFileSync(path.join(tmp.dir, 'outside.json'), JSON.stringify({ segments: [{ start: 0, end: 1, template: 'Opening [something]', caption: SECRET }] }));
  });
  afterAll(() => tmp?.remove());

  it('reads a plain annotation file beside its video', async () => {
    writeFileSync(path.join(folder.dir, 'ok.json'), JSON.stringify({ segments: segments(3, 6) }));
    const { file, segments: read } = await folder.readAnnotations('ok.webm', 6);
    expect(file).toBe('ok.json');
    expect(read.map((s) => s.end)).toEqual([2, 4, 6]);
  });

  it('refuses a symlinked annotation file, to a file outside or to /etc/passwd, and does not list it', async () => {
    symlinkSync(path.join(tmp.dir, 'outside.json'), path.join(folder.dir, 'linked.json'));
    symlinkSync('/etc/passwd', path.join(folder.dir, 'passwd.json'));
    for (const name of ['linked.webm', 'passwd.webm']) {
      const err = await folder.readAnnotations(name, 6).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err, name).toBeInstanceOf(RecordingNotFound);
      expect(err?.message).toMatch(/symbolic link/);
      expect(err?.message).not.toMatch(/root:|SECRET/);
      expect(folder.annotationsFor(name)).toBeNull();
    }
  });

  it('does not quote a file that is not JSON', async () => {
    writeFileSync(path.join(folder.dir, 'junk.json'), 'root:x:0:0:root:/root:/bin/bash\n');
    await expect(folder.readAnnotations('junk.webm', 6)).rejects.toThrow(/^"junk.json" is not valid JSON$/);
  });

  it('refuses a file above the byte limit', async () => {
    writeFileSync(path.join(folder.dir, 'huge.json'), JSON.stringify({ segments: segments(1, 6), pad: 'x'.repeat(MAX_ANNOTATION_BYTES) }));
    await expect(folder.readAnnotations('huge.webm', 6)).rejects.toThrow(AnnotationLimitError);
    await expect(folder.readAnnotations('huge.webm', 6)).rejects.toThrow(/limited to 4 MB/);
  });

  it('refuses absurdly many segments for the length of the video, or segments past its end', async () => {
    writeFileSync(path.join(folder.dir, 'many.json'), JSON.stringify(segments(2000, 6)));
    await expect(folder.readAnnotations('many.webm', 6)).rejects.toThrow(/2000 segments for a 6\.0 s video; at most 60/);
    // The same file is fine for a video long enough to hold it.
    expect((await folder.readAnnotations('many.webm', 600)).segments).toHaveLength(2000);
    writeFileSync(path.join(folder.dir, 'late.json'), JSON.stringify(segments(2, 1e9)));
    await expect(folder.readAnnotations('late.webm', 6)).rejects.toThrow(/after the end of the 6\.0 s video/);
  });
});

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('evaluate with a symlinked annotation file', () => {
  let t: TestServer;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('annotations-ws');
    const recordings = path.join(tmp.dir, 'recordings');
    t = await startTestServer(['--recordings-dir', recordings]);
    makeVideo(path.join(recordings, 'clip.webm'), { seconds: 2, fps: 8, size: '64x64' });
    writeFileSync(path.join(tmp.dir, 'outside.json'), JSON.stringify({ segments: [{ start: 0, end: 1, template: 'Opening [something]', caption: SECRET }] }));
    symlinkSync(path.join(tmp.dir, 'outside.json'), path.join(recordings, 'clip.json'));
  });
  afterAll(async () => {
    await t?.close();
    tmp?.remove();
  });

  it('answers a clear error and never evaluates the file the link points to', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const reply = await c.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'evaluate', recording: 'clip.webm' }, 'e1', 30_000);
    expect(reply).toMatchObject({ type: 'error', id: 'e1', code: 'not-found' });
    expect(reply.message).toMatch(/"clip.json" is a symbolic link/);
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.stringify(c.messages)).not.toContain(SECRET);
    await c.close();
  });
});
