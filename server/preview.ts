/**
 * Preview images for the dashboard: at most `fps` frames a second per stream, downscaled to
 * `width` and JPEG-encoded with @napi-rs/canvas. Frames that arrive while an encode is running are
 * skipped (exhaustMap), so a slow encoder lowers the preview rate instead of queueing.
 */
import { createCanvas, ImageData } from '@napi-rs/canvas';
import { exhaustMap, filter, from, type OperatorFunction } from 'rxjs';
import type { Frame } from '../pipelines/types.js';

export interface PreviewImage {
  readonly streamId: string;
  readonly seq: number;
  readonly width: number;
  readonly height: number;
  /** Base64 JPEG. */
  readonly jpeg: string;
}

export function rgbToRgba(rgb: Uint8Array, pixels: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(pixels * 4);
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    out[i * 4] = rgb[j]!;
    out[i * 4 + 1] = rgb[j + 1]!;
    out[i * 4 + 2] = rgb[j + 2]!;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** The frame downscaled to at most `maxWidth` px wide, as JPEG bytes. */
export async function encodeJpeg(frame: Frame, maxWidth: number, quality = 70): Promise<Buffer> {
  return (await encodeScaled(frame, maxWidth, quality)).jpeg;
}

export async function encodePreview(frame: Frame, maxWidth: number, quality = 70): Promise<PreviewImage> {
  const { width, height, jpeg } = await encodeScaled(frame, maxWidth, quality);
  return { streamId: frame.streamId, seq: frame.seq, width, height, jpeg: jpeg.toString('base64') };
}

async function encodeScaled(frame: Frame, maxWidth: number, quality: number): Promise<{ width: number; height: number; jpeg: Buffer }> {
  const src = createCanvas(frame.width, frame.height);
  src.getContext('2d').putImageData(new ImageData(rgbToRgba(frame.pixels, frame.width * frame.height), frame.width, frame.height), 0, 0);
  const width = Math.min(maxWidth, frame.width);
  const height = Math.max(1, Math.round((frame.height * width) / frame.width));
  const dst = createCanvas(width, height);
  const ctx = dst.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(src, 0, 0, width, height);
  return { width, height, jpeg: await dst.encode('jpeg', quality) };
}

/** Samples frames at most `fps` per second (by capture time) and encodes them. */
export function previewJpegs(fps: number, maxWidth: number, wanted: () => boolean = () => true): OperatorFunction<Frame, PreviewImage> {
  const minGapMs = 1000 / fps;
  return (frames) => {
    let lastAt = -Infinity;
    return frames.pipe(
      filter((f) => {
        if (f.capturedAt - lastAt < minGapMs || !wanted()) return false;
        lastAt = f.capturedAt;
        return true;
      }),
      exhaustMap((f) => from(encodePreview(f, maxWidth))),
    );
  };
}
