import { bilinearTaps } from '../bilinear.js';

/**
 * Converts an I420 (YUV 4:2:0, BT.601 limited range, as WebRTC delivers) frame straight to RGB24 at
 * the target size, sampling luma bilinearly and chroma at the nearest site, so a 640×480 camera frame
 * costs only the 64×64 output pixels rather than a full-size conversion first.
 */
export function i420ToRgb(data: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const cw = (sw + 1) >> 1;
  const ch = (sh + 1) >> 1;
  if (data.length < sw * sh + 2 * cw * ch) throw new RangeError(`I420 frame has ${data.length} bytes, expected ${sw * sh + 2 * cw * ch} for ${sw}×${sh}`);
  const uOff = sw * sh;
  const vOff = uOff + cw * ch;
  const out = new Uint8Array(dw * dh * 3);
  const sx = sw / dw;
  const sy = sh / dh;
  const rows = bilinearTaps(sh, dh);
  const cols = bilinearTaps(sw, dw);
  for (let y = 0; y < dh; y++) {
    const y0 = rows.lo[y]!;
    const y1 = rows.hi[y]!;
    const wy = rows.weight[y]!;
    const cy = Math.min(ch - 1, Math.floor(((y + 0.5) * sy) / 2));
    for (let x = 0; x < dw; x++) {
      const x0 = cols.lo[x]!;
      const x1 = cols.hi[x]!;
      const wx = cols.weight[x]!;
      const top = data[y0 * sw + x0]! + (data[y0 * sw + x1]! - data[y0 * sw + x0]!) * wx;
      const bottom = data[y1 * sw + x0]! + (data[y1 * sw + x1]! - data[y1 * sw + x0]!) * wx;
      const luma = 1.164 * (top + (bottom - top) * wy - 16);
      const cx = Math.min(cw - 1, Math.floor(((x + 0.5) * sx) / 2));
      const u = data[uOff + cy * cw + cx]! - 128;
      const v = data[vOff + cy * cw + cx]! - 128;
      const o = (y * dw + x) * 3;
      out[o] = clamp(luma + 1.596 * v);
      out[o + 1] = clamp(luma - 0.813 * v - 0.391 * u);
      out[o + 2] = clamp(luma + 2.018 * u);
    }
  }
  return out;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
