/**
 * A segment of a recording as a library clip: ffmpeg reads the recording (file protocol and real
 * video demuxers only, as every decoder here) from `start` to `end` and writes the clip at the
 * model's frame rate, VP8. Times are checked numbers; the paths are the library's and the recordings
 * folder's own.
 */
import { spawn } from 'node:child_process';
import { FFMPEG } from '../data/ffmpegPath.js';
import { SAFE_INPUT_ARGS } from './probe.js';

export async function cutClip(video: string, start: number, end: number, fps: number, out: string, timeoutMs = 60_000): Promise<void> {
  if (!(Number.isFinite(start) && Number.isFinite(end) && end > start && start >= 0)) throw new Error(`cannot cut ${start}–${end} s`);
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-ss', start.toFixed(3), ...SAFE_INPUT_ARGS, '-i', `file:${video}`, '-t', (end - start).toFixed(3),
    '-an', '-vf', `fps=${fps}`, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '10', '-b:v', '1M', '-pix_fmt', 'yuv420p', '-f', 'webm', `file:${out}`,
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => reject(new Error(`cannot run ffmpeg: ${err.message}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg could not cut the clip (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}
