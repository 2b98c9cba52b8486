/**
 * The source rows (or columns) and weight of each output row (or column) of a bilinear resize, with
 * pixel centres aligned as ffmpeg's scale does. Computed once per axis, so the per-pixel loops of
 * resizeRgb and i420ToRgb only read tables.
 */
export interface BilinearTaps {
  /** The nearer-to-origin source index of each output index. */
  readonly lo: Int32Array;
  /** The next source index (clamped at the edge). */
  readonly hi: Int32Array;
  /** How far between lo and hi the output sample lies, 0–1. */
  readonly weight: Float64Array;
}

export function bilinearTaps(sourceSize: number, outputSize: number): BilinearTaps {
  const lo = new Int32Array(outputSize);
  const hi = new Int32Array(outputSize);
  const weight = new Float64Array(outputSize);
  const scale = sourceSize / outputSize;
  for (let i = 0; i < outputSize; i++) {
    const f = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), sourceSize - 1);
    lo[i] = Math.floor(f);
    hi[i] = Math.min(lo[i]! + 1, sourceSize - 1);
    weight[i] = f - lo[i]!;
  }
  return { lo, hi, weight };
}
