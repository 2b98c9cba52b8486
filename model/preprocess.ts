/**
 * Pixel normalisation shared by the data loader and the live pipelines, so that training and
 * inference see identical inputs: RGB bytes 0…255 → float32 in [-1, 1].
 */
export const PIXEL_SCALE = 127.5;

export function normalisePixels(rgb: Uint8Array, out: Float32Array = new Float32Array(rgb.length), offset = 0): Float32Array {
  for (let i = 0; i < rgb.length; i++) out[offset + i] = rgb[i]! / PIXEL_SCALE - 1;
  return out;
}
