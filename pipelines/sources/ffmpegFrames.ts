/**
 * Runs one ffmpeg process that decodes `input` to raw RGB24 frames at the model's size and frame
 * rate (scaling and resampling happen in ffmpeg, before the pixels reach Node), and emits each
 * frame as it completes. Unsubscribing SIGKILLs the process; a decoder has nothing to flush.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Observable } from 'rxjs';
import { now } from '../clock.js';
import type { Frame, FrameFormat } from '../types.js';

/** The ffmpeg binary: $FFMPEG_PATH or `ffmpeg` on PATH. */
export const ffmpegPath = process.env.FFMPEG_PATH || 'ffmpeg';

export class FfmpegError extends Error {
  override readonly name = 'FfmpegError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

export interface FfmpegDecodeOptions {
  readonly streamId: string;
  /** Input-side arguments, ending with `-i <validated input>`. */
  readonly inputArgs: readonly string[];
  readonly format: FrameFormat;
  /** Called with each spawned process (tests check that it is gone after unsubscribe). */
  readonly onSpawn?: (child: ChildProcess) => void;
  readonly clock?: () => number;
  /**
   * How capturedAt is stamped. 'arrival' (default): when Node reads the frame. 'nominal': for input
   * paced at real time (-re), the first frame's arrival + seq / fps, capped at arrival — the time a
   * camera would have captured it — so that time a frame spends waiting in the pipe while Node is
   * busy counts as latency instead of being hidden by a late read.
   */
  readonly stamp?: 'arrival' | 'nominal';
  /**
   * The input is a recorded file with a constant frame rate: resample it on a grid a quarter of an
   * output frame away from the input's frame times. WebM stores times in whole milliseconds, and on
   * those fps's rounding took uneven frames (12 → 6 fps: frames 1, 2, 4, 7, 8, 10, …) instead of
   * every second one, as the training loader does (test/data/sampling.test.ts). Shifted by a
   * quarter, millisecond jitter cannot move a frame across a boundary: 0, 2, 4, …
   */
  readonly constantRate?: boolean;
}

const STDERR_TAIL = 2048;

/** The full argv for a decode: quiet, video only, fps then scale, rgb24 rawvideo on stdout. */
export function decodeArgs(inputArgs: readonly string[], { width, height, fps }: FrameFormat, constantRate = false): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...inputArgs,
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', `${constantRate ? `setpts=PTS-0.25/(${fps}*TB),fps=${fps}:round=up` : `fps=${fps}`},scale=${width}:${height}:flags=bilinear`,
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
}

export function ffmpegFrames(options: FfmpegDecodeOptions): Observable<Frame> {
  const { streamId, format, clock = now } = options;
  const frameBytes = format.width * format.height * 3;
  return new Observable<Frame>((subscriber) => {
    let seq = 0;
    let anchor: number | undefined;
    const stamp = (): number => {
      const arrival = clock();
      if (options.stamp !== 'nominal') return arrival;
      anchor ??= arrival;
      return Math.min(arrival, anchor + (seq * 1000) / format.fps);
    };
    let current = new Uint8Array(frameBytes);
    let filled = 0;
    let stderr = '';
    let closed = false;
    const child = spawn(ffmpegPath, decodeArgs(options.inputArgs, format, options.constantRate), { stdio: ['ignore', 'pipe', 'pipe'] });
    options.onSpawn?.(child);

    child.stdout!.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        current.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          const pixels = current;
          current = new Uint8Array(frameBytes);
          filled = 0;
          const capturedAt = stamp();
          subscriber.next({ streamId, seq: seq++, capturedAt, width: format.width, height: format.height, pixels });
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL);
    });
    child.on('error', (err) => {
      closed = true;
      subscriber.error(new FfmpegError(`cannot run ffmpeg (${ffmpegPath}): ${err.message}`, null, stderr));
    });
    child.on('close', (code, signal) => {
      if (closed) return;
      closed = true;
      if (code === 0) subscriber.complete();
      else {
        const last = stderr.trim().split('\n').slice(-3).join(' | ') || 'no error output';
        subscriber.error(new FfmpegError(`ffmpeg exited with ${code ?? signal}: ${last}`, code, stderr));
      }
    });

    return () => {
      closed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
  });
}
