/**
 * Decodes a video into RGB24 frames of a fixed size with fluent-ffmpeg (rawvideo piped to Node).
 * The picture is scaled so that it covers the size, then centre-cropped: a 427×240 SSv2 video and
 * a 128×128 generated one both come out square without distortion.
 *
 * A file ffmpeg cannot open, one that yields no frames, and one that ends early (ffmpeg says
 * "File ended prematurely" yet exits 0 for a cut-off WebM) all reject with a `DecodeError`, so the
 * loader can skip and report them.
 */
import ffmpeg from 'fluent-ffmpeg';
import { FFMPEG, safeMediaPath } from './ffmpegPath.js';

if (process.env.FFMPEG_PATH) ffmpeg.setFfmpegPath(FFMPEG);

export interface DecodedVideo {
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  /** frames × height × width × 3 bytes. */
  readonly data: Uint8Array;
}

export class DecodeError extends Error {
  constructor(readonly file: string, readonly reason: 'unreadable' | 'truncated' | 'empty', detail: string) {
    super(`${file}: ${reason}: ${detail}`);
  }
}

/** stderr lines (at level "error") that mean the file is damaged even when ffmpeg exits 0. */
const DAMAGE = /premature|truncat|invalid data|corrupt|error while decoding|decoding error|missing/i;

export function decodeVideo(file: string, size: { width: number; height: number }, opts: { maxFrames?: number } = {}): Promise<DecodedVideo> {
  const src = safeMediaPath(file);
  const { width, height } = size;
  const frameBytes = width * height * 3;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let stderr = '';
    const cmd = ffmpeg(src)
      .inputOptions(['-v', 'error'])
      .noAudio()
      .videoFilters([`scale=${width}:${height}:force_original_aspect_ratio=increase:flags=area`, `crop=${width}:${height}`])
      .outputOptions(['-pix_fmt', 'rgb24', ...(opts.maxFrames ? ['-frames:v', String(opts.maxFrames)] : [])])
      .format('rawvideo')
      .on('stderr', (line: string) => {
        stderr = (stderr + line + '\n').slice(-2000);
      })
      .on('error', (err: Error) => reject(new DecodeError(src, 'unreadable', (stderr.trim() || err.message).split('\n').slice(-2).join(' | '))))
      .on('end', () => {
        const bytes = Buffer.concat(chunks);
        const frames = Math.floor(bytes.length / frameBytes);
        if (frames === 0) return reject(new DecodeError(src, 'empty', 'no frames decoded'));
        if (DAMAGE.test(stderr) || bytes.length % frameBytes !== 0) return reject(new DecodeError(src, 'truncated', `${frames} frames decoded; ffmpeg: ${stderr.trim().split('\n')[0] ?? 'partial frame'}`));
        resolve({ frames, width, height, data: new Uint8Array(bytes.buffer, bytes.byteOffset, frames * frameBytes) });
      });
    const out = cmd.pipe();
    out.on('data', (c: Buffer) => chunks.push(c));
    out.on('error', () => undefined); // the command's 'error' handler reports it
  });
}
