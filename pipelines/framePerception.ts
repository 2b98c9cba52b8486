/**
 * The pretrained detectors in the live path: each frame's hand–object state, computed once per
 * frame (windows overlap) in capture order per stream, from the frame's larger `detail` copy
 * resized to one square size. Per-stream tracker state is reset after a gap in capture time, and
 * results are held only for frames still alive (a WeakMap), so nothing grows with stream length.
 */
import * as tf from '@tensorflow/tfjs';
import { handObjectVectors, type HandObjectFrame } from '../perception/features.js';
import type { PerceptionRunner, StreamPerception, StreamPerceptionOptions } from '../perception/runner.js';
import type { FramePerception } from '../perception/types.js';
import { resizeRgb } from './operators/resizeFrames.js';
import type { Frame } from './types.js';

export interface FramePerceptionOptions extends StreamPerceptionOptions {
  /** Side of the square the detectors read (default 256). */
  readonly size?: number;
  /** A capture-time gap longer than this resets a stream's trackers (default 1000 ms, as the pipeline's). */
  readonly maxGapMs?: number;
}

export class FramePerceptionStage {
  readonly size: number;
  private readonly results = new WeakMap<Frame, FramePerception>();
  private readonly streams = new Map<string, { perception: StreamPerception; lastCapturedAt: number }>();
  /** Frames run through the detectors so far. */
  framesPerceived = 0;

  constructor(private readonly runner: PerceptionRunner, private readonly opts: FramePerceptionOptions = {}) {
    this.size = opts.size ?? 256;
  }

  /** Runs the detectors on every frame of `frames` not seen before (any order in; per-stream capture order inside). */
  async perceive(frames: readonly Frame[]): Promise<void> {
    const fresh = [...new Set(frames)].filter((f) => !this.results.has(f)).sort((a, b) => a.capturedAt - b.capturedAt);
    for (const f of fresh) {
      let s = this.streams.get(f.streamId);
      if (!s) this.streams.set(f.streamId, (s = { perception: this.runner.newStream(this.opts), lastCapturedAt: f.capturedAt }));
      if (f.capturedAt - s.lastCapturedAt > (this.opts.maxGapMs ?? 1000)) s.perception.reset();
      s.lastCapturedAt = f.capturedAt;
      const src = f.detail ?? f;
      const pixels = src.width === this.size && src.height === this.size ? src.pixels : resizeRgb(src.pixels, src.width, src.height, this.size, this.size);
      const frame = tf.tensor3d(pixels, [this.size, this.size, 3], 'int32');
      try {
        this.results.set(f, await s.perception.step(frame));
      } finally {
        frame.dispose();
      }
      this.framesPerceived++;
    }
  }

  /** The hand–object vectors of a window's frames [T × P] (perceive() them first). */
  vectors(frames: readonly Frame[], coordinates: HandObjectFrame): Float32Array {
    return handObjectVectors(
      frames.map((f) => {
        const r = this.results.get(f);
        if (!r) throw new Error(`frame ${f.seq} of stream ${f.streamId} was not run through the detectors`);
        return r;
      }),
      coordinates,
    );
  }

  /** Object labels the detectors saw in these frames, most frequent first (for grounded captions). */
  objectsSeen(frames: readonly Frame[]): string[] {
    const counts = new Map<string, number>();
    for (const f of frames) for (const o of this.results.get(f)?.objects ?? []) counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label]) => label);
  }

  forget(streamId: string): void {
    this.streams.delete(streamId);
  }

  dispose(): void {
    this.streams.clear();
    this.runner.dispose();
  }
}
