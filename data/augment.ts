/**
 * Turns a decoded clip into a model input: T frames sampled in time, an H × W crop, an optional
 * label-safe mirror, normalised to [-1, 1] with model/preprocess.ts (the same function the live
 * pipelines use).
 */
import { normalisePixels } from '../model/preprocess.js';
import type { DecodedVideo } from './decode.js';
import type { Prng } from './prng.js';

/**
 * `uniform` / `random`: T frames spread over the whole clip (the 'spread' sampling of older models);
 * `window` / `window-random`: T consecutive frames `step` apart (the model config's 'window'
 * sampling, what the live pipeline feeds), from the middle of the clip or from a random start.
 */
export type TemporalSampling = 'uniform' | 'random' | 'window' | 'window-random';

/**
 * Indices of a window of T frames `step` apart in a clip of `total` frames: at `at` of the room
 * the clip leaves (0.5 = the middle), or from a random start when `rng` is given. A clip shorter
 * than the window repeats its last frame.
 */
export function sampleWindow(total: number, T: number, step: number, rng?: Prng, at = 0.5): number[] {
  if (total < 1) throw new Error('a clip needs at least one frame');
  const span = (T - 1) * step + 1;
  const room = Math.max(0, total - span);
  // The start is snapped to the step grid: a live stream resampled from the clip's first frame
  // sees exactly these frames (random training starts take any phase, as live streams do).
  const start = rng ? rng.int(0, room) : step * Math.floor((room * at) / step);
  return Array.from({ length: T }, (_, k) => Math.min(total - 1, start + k * step));
}

/**
 * T frame indices of a clip of `total` frames: `uniform` spreads them evenly from the first to the
 * last frame; `random` keeps the same stride but starts at a random offset within the first stride
 * (and wraps to the end), so each epoch sees other frames. Short clips repeat frames.
 */
export function sampleFrameIndices(total: number, T: number, mode: TemporalSampling, rng?: Prng, step = 1, at = 0.5): number[] {
  if (mode === 'window' || mode === 'window-random') return sampleWindow(total, T, step, mode === 'window-random' ? rng : undefined, at);
  if (total < 1) throw new Error('a clip needs at least one frame');
  if (T === 1) return [mode === 'random' && rng ? rng.int(0, total - 1) : Math.floor((total - 1) / 2)];
  if (mode === 'uniform' || !rng) return Array.from({ length: T }, (_, k) => Math.round((k * (total - 1)) / (T - 1)));
  const stride = total / T;
  const offset = rng.range(0, stride);
  return Array.from({ length: T }, (_, k) => Math.min(total - 1, Math.floor(offset + k * stride)));
}

export interface CropSpec {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly mirror: boolean;
}

/** Writes the chosen frames, cropped (and mirrored), normalised, into `out` at `offset`. */
export function clipToTensorData(clip: DecodedVideo, indices: readonly number[], crop: CropSpec, out: Float32Array, offset: number, scratch?: Uint8Array): void {
  const { width: W, height: H } = crop;
  const frameOut = W * H * 3;
  const bytes = scratch && scratch.length >= frameOut * indices.length ? scratch : new Uint8Array(frameOut * indices.length);
  const srcRow = clip.width * 3;
  const srcFrame = clip.height * srcRow;
  if (crop.x < 0 || crop.y < 0 || crop.x + W > clip.width || crop.y + H > clip.height) throw new Error(`crop ${W}x${H}+${crop.x}+${crop.y} does not fit a ${clip.width}x${clip.height} clip`);
  indices.forEach((fi, t) => {
    const base = fi * srcFrame;
    for (let y = 0; y < H; y++) {
      const row = base + (crop.y + y) * srcRow;
      const dst = t * frameOut + y * W * 3;
      if (!crop.mirror) {
        bytes.set(clip.data.subarray(row + crop.x * 3, row + (crop.x + W) * 3), dst);
      } else {
        for (let x = 0; x < W; x++) {
          const s = row + (crop.x + W - 1 - x) * 3;
          bytes[dst + x * 3] = clip.data[s]!;
          bytes[dst + x * 3 + 1] = clip.data[s + 1]!;
          bytes[dst + x * 3 + 2] = clip.data[s + 2]!;
        }
      }
    }
  });
  normalisePixels(bytes.subarray(0, frameOut * indices.length), out, offset);
}
