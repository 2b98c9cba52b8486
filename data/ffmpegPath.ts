/**
 * Where ffmpeg is and how file names reach it. Paths given to ffmpeg are checked first: they go
 * into an argument array (never a shell string), but a name starting with "-" would still be read
 * as an option, and a URL-like name would make ffmpeg open a network protocol.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';

/** True when ffmpeg runs here. */
export function ffmpegAvailable(): boolean {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** An absolute local file path safe to hand to ffmpeg, or an error saying why not. */
export function safeMediaPath(file: string, what = 'video path'): string {
  if (typeof file !== 'string' || file.length === 0) throw new Error(`${what} is empty`);
  if (file.includes('\0')) throw new Error(`${what} contains a NUL byte`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(file)) throw new Error(`${what} "${file}" looks like a URL; only local files are accepted`);
  const abs = path.resolve(file);
  if (path.basename(abs).startsWith('-')) throw new Error(`${what} "${file}" starts with "-", which ffmpeg would read as an option`);
  return abs;
}
