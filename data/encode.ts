/**
 * Encodes RGB24 frames to a WebM file with a real ffmpeg process (VP9 by default, like SSv2).
 * Frames are streamed to ffmpeg's stdin with back-pressure, so a long session never sits in memory.
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

export function encoderArgs(out: string, o: EncodeOptions): string[] {
  const codec = o.codec ?? 'vp9';
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0',
    '-an', '-c:v', codec === 'vp9' ? 'libvpx-vp9' : 'libvpx',
    '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1',
    '-crf', String(o.crf ?? 30), '-b:v', codec === 'vp9' ? '0' : '1M',
    '-pix_fmt', 'yuv420p', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-f', 'webm', out,
  ];
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
