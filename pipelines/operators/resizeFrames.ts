import { map, type OperatorFunction } from 'rxjs';
import type { Frame } from '../types.js';
import { bilinearTaps } from '../bilinear.js';

/**
 * Resizes RGB24 frames to `width`×`height` by bilinear sampling; frames already that size pass
 * through untouched. For sources that cannot scale in ffmpeg (WebRTC, the procedural renderer).
 *
 * ```ts
 * frames$.pipe(resizeFrames(64, 64))
 * ```
 */
export function resizeFrames(width: number, height: number, opts: { keepDetail?: boolean } = {}): OperatorFunction<Frame, Frame> {
  return map((frame) =>
    frame.width === width && frame.height === height
      ? frame
      : {
          ...frame,
          width,
          height,
          pixels: resizeRgb(frame.pixels, frame.width, frame.height, width, height),
          ...(opts.keepDetail ? { detail: { width: frame.width, height: frame.height, pixels: frame.pixels } } : {}),
        },
  );
}

/** Bilinear resize of an RGB24 image (pixel centres aligned, as ffmpeg's scale does). */
export function resizeRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  if (src.length !== sw * sh * 3) throw new RangeError(`frame has ${src.length} bytes, expected ${sw}×${sh}×3`);
  const out = new Uint8Array(dw * dh * 3);
  const rows = bilinearTaps(sh, dh);
  const cols = bilinearTaps(sw, dw);
  for (let y = 0; y < dh; y++) {
    const y0 = rows.lo[y]!;
    const y1 = rows.hi[y]!;
    const wy = rows.weight[y]!;
    for (let x = 0; x < dw; x++) {
      const x0 = cols.lo[x]!;
      const x1 = cols.hi[x]!;
      const wx = cols.weight[x]!;
      const a = (y0 * sw + x0) * 3;
      const b = (y0 * sw + x1) * 3;
      const c = (y1 * sw + x0) * 3;
      const d = (y1 * sw + x1) * 3;
      const o = (y * dw + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = src[a + ch]! + (src[b + ch]! - src[a + ch]!) * wx;
        const bottom = src[c + ch]! + (src[d + ch]! - src[c + ch]!) * wx;
        out[o + ch] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return out;
}
