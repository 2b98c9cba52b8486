/**
 * What a file in the recordings folder really is, asked of ffprobe rather than read off its name:
 * a file called `x.webm` may hold an HLS or concat playlist, which would make ffmpeg open every
 * file or URL the playlist names. ffprobe itself is held to the same limits as the decoder: the
 * `file` protocol only and the real-video demuxers only, so probing a playlist opens nothing else.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { FILE_INPUT_ARGS } from '../pipelines/sources/openSource.js';

export const ffprobePath = process.env.FFPROBE_PATH || 'ffprobe';

/**
 * The input options the decoder uses for files (the `file` protocol only; real video demuxers
 * only — no hls, concat or other playlist that follows references to other files).
 */
export const SAFE_INPUT_ARGS = FILE_INPUT_ARGS;
/** The demuxers a recording may use (ffmpeg's names; `matroska,webm` and `mov,mp4,…` are one demuxer each). */
export const VIDEO_DEMUXERS = FILE_INPUT_ARGS[FILE_INPUT_ARGS.indexOf('-format_whitelist') + 1]!.split(',');

export class NotAVideoError extends Error {}

export interface VideoProbe {
  /** ffprobe's format name, e.g. "matroska,webm". */
  readonly container: string;
  /** Seconds; NaN when the file does not say (some live-written files). */
  readonly duration: number;
}

/** Probes an absolute path; rejects with NotAVideoError (a message for the user) for anything but a real video file. */
export function probeVideo(file: string, timeoutMs = 20_000): Promise<VideoProbe> {
  if (!path.isAbsolute(file)) return Promise.reject(new Error(`probeVideo needs an absolute path, got ${JSON.stringify(file)}`));
  const name = path.basename(file);
  const args = ['-v', 'error', ...SAFE_INPUT_ARGS, '-show_entries', 'format=format_name,duration:stream=codec_type,duration', '-of', 'json', `file:${file}`];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`cannot run ffprobe (${ffprobePath}): is ffmpeg installed?`));
      // A playlist or any other refused format ends here: ffprobe exits non-zero ("Format not on whitelist").
      if (err) return reject(new NotAVideoError(`"${name}" is not a video file countertop reads (webm, mkv, mp4, mov or avi)`));
      let info: { format?: { format_name?: string; duration?: string }; streams?: { codec_type?: string; duration?: string }[] };
      try {
        info = JSON.parse(stdout) as typeof info;
      } catch {
        return reject(new NotAVideoError(`"${name}" could not be probed`));
      }
      const container = info.format?.format_name ?? '';
      const demuxerOk = container.split(',').some((d) => VIDEO_DEMUXERS.includes(d));
      const hasVideo = (info.streams ?? []).some((s) => s.codec_type === 'video');
      if (!demuxerOk || !hasVideo) return reject(new NotAVideoError(`"${name}" is not a video file countertop reads (no video stream in a webm, mkv, mp4, mov or avi container)`));
      const durations = [info.format?.duration, ...(info.streams ?? []).map((s) => s.duration)].map(Number).filter((d) => Number.isFinite(d) && d > 0);
      resolve({ container, duration: durations.length > 0 ? Math.max(...durations) : NaN });
    });
  });
}
