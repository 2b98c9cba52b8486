/**
 * Encodes RGB24 frames to a WebM file with a real ffmpeg process (VP9 by default, like SSv2).
 * Frames are streamed to ffmpeg's stdin with back-pressure, so a long session never sits in memory.
 *
 * `encodeWebmGroup` encodes several short clips in one ffmpeg process (input i on pipe 3 + i,
 * output i to its own file): ffmpeg's start-up costs more than encoding a 3 s clip. All frames of
 * the group are handed to Node's pipe buffers at once (a few MB for 8 clips), so ffmpeg can read
 * its inputs in whatever order it likes without a deadlock.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { FFMPEG, safeMediaPath } from './ffmpegPath.js';

export interface EncodeOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly codec?: 'vp9' | 'vp8';
  /** Constant-quality level (lower is better; 4…63). */
  readonly crf?: number;
}

const inputArgs = (o: EncodeOptions, pipe: string) => ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', pipe];

function outputArgs(out: string, o: EncodeOptions): string[] {
  const codec = o.codec ?? 'vp9';
  return [
    '-an', '-c:v', codec === 'vp9' ? 'libvpx-vp9' : 'libvpx',
    '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1',
    '-crf', String(o.crf ?? 30), '-b:v', codec === 'vp9' ? '0' : '1M',
    '-pix_fmt', 'yuv420p', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-f', 'webm', out,
  ];
}

export function encoderArgs(out: string, o: EncodeOptions): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-y', ...inputArgs(o, 'pipe:0'), ...outputArgs(out, o)];
}

/** Encodes each clip (its frames, width*height*3 bytes each) to its file in one ffmpeg process. */
export async function encodeWebmGroup(clips: readonly { frames: readonly Uint8Array[]; out: string }[], o: EncodeOptions): Promise<void> {
  if (clips.length === 0) return;
  const files = clips.map((c) => safeMediaPath(c.out, 'output video'));
  const frameBytes = o.width * o.height * 3;
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  clips.forEach((_, i) => args.push(...inputArgs(o, `pipe:${i + 3}`)));
  files.forEach((f, i) => args.push('-map', `${i}:v:0`, ...outputArgs(f, o)));
  const child = spawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe', ...clips.map(() => 'pipe' as const)] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`cannot start ffmpeg (${FFMPEG}): ${err.message}`)));
    child.on('close', (code) => resolve(code ?? -1));
  });
  clips.forEach((c, i) => {
    const pipe = child.stdio[i + 3] as NodeJS.WritableStream;
    pipe.on('error', () => undefined); // reported through the exit code and stderr
    c.frames.forEach((f, k) => {
      if (f.length !== frameBytes) throw new Error(`${files[i]}: frame ${k} has ${f.length} bytes, expected ${frameBytes}`);
      pipe.write(f);
    });
    pipe.end();
  });
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg failed to encode ${files.length} clips (${files[0]} …) (exit ${code}): ${stderr.trim()}`);
}

/** Writes `frames` (each width*height*3 bytes) to `out` as WebM; resolves with the frame count. */
export async function encodeWebm(frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, out: string, o: EncodeOptions): Promise<number> {
  const file = safeMediaPath(out, 'output video');
  const child = spawn(FFMPEG, encoderArgs(file, o), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`cannot start ffmpeg (${FFMPEG}): ${err.message}`)));
    child.on('close', (code) => resolve(code ?? -1));
  });
  const frameBytes = o.width * o.height * 3;
  let count = 0;
  let writeError: Error | undefined;
  child.stdin.on('error', (err) => {
    writeError = err;
  });
  try {
    for await (const f of frames) {
      if (f.length !== frameBytes) throw new Error(`frame ${count} has ${f.length} bytes, expected ${frameBytes}`);
      if (writeError) break;
      if (!child.stdin.write(f)) await Promise.race([once(child.stdin, 'drain'), exited]);
      count++;
    }
  } finally {
    child.stdin.end();
  }
  const code = await exited;
  if (code !== 0 || writeError) throw new Error(`ffmpeg failed to encode ${file} (exit ${code}): ${stderr.trim() || writeError?.message}`);
  return count;
}
