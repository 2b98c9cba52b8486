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
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    const cy = Math.min(ch - 1, Math.floor(((y + 0.5) * sy) / 2));
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
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
