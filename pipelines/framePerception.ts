/**
 * The pretrained perception in the live path: each frame's hand–object state and/or frozen backbone
 * feature, computed once per frame (windows overlap) in capture order per stream, from the frame's
 * larger `detail` copy resized to the square size each model reads. Per-stream tracker state is
 * reset after a gap in capture time, and results are held only for frames still alive (a WeakMap),
 * so nothing grows with stream length.
 */
import * as tf from '@tensorflow/tfjs';
import { frameFeatures, standardise } from '../perception/backbone.js';
import { BACKBONE_INPUT, BACKBONE_WIDTH } from '../perception/constants.js';
import { HAND_OBJECT_WIDTH, handObjectVectors, type HandObjectFrame } from '../perception/features.js';
import type { PerceptionRunner, StreamPerception, StreamPerceptionOptions } from '../perception/runner.js';
import type { FramePerception } from '../perception/types.js';
import { resizeRgb } from './operators/resizeFrames.js';
import type { Frame } from './types.js';

/** Which per-frame inputs the model reads (its config's perception parts). */
export interface PerceptionParts {
  readonly handObject: boolean;
  readonly backbone: boolean;
}

interface FrameResult {
  readonly state?: FramePerception;
  readonly feature?: Float32Array;
}

export interface FramePerceptionOptions extends StreamPerceptionOptions {
  /** Side of the square the detectors read (default 256). */
  readonly size?: number;
  /** A capture-time gap longer than this resets a stream's trackers (default 1000 ms, as the pipeline's). */
  readonly maxGapMs?: number;
}

export class FramePerceptionStage {
  readonly size: number;
  private readonly results = new WeakMap<Frame, FrameResult>();
  private readonly streams = new Map<string, { perception: StreamPerception; lastCapturedAt: number }>();
  /** Frames run through the detectors so far. */
  framesPerceived = 0;

  constructor(
    private readonly runner: PerceptionRunner,
    private readonly opts: FramePerceptionOptions = {},
    readonly parts: PerceptionParts = { handObject: true, backbone: false },
  ) {
    this.size = opts.size ?? 256;
  }

  /**
   * Runs the detectors on every frame of `frames` not seen before (any order in; per-stream capture
   * order inside). The backbone runs on all of them together, across streams, in batches; the hand
   * trackers frame by frame, since each carries its stream's state to the next frame.
   */
  async perceive(frames: readonly Frame[]): Promise<void> {
    const fresh = [...new Set(frames)].filter((f) => !this.results.has(f)).sort((a, b) => a.capturedAt - b.capturedAt);
    const square = (f: Frame, size: number) => {
      const src = f.detail ?? f;
      return src.width === size && src.height === size ? src.pixels : resizeRgb(src.pixels, src.width, src.height, size, size);
    };
    let features: Float32Array | undefined;
    if (this.parts.backbone && fresh.length > 0) {
      const bytes = BACKBONE_INPUT * BACKBONE_INPUT * 3;
      const rgb = new Uint8Array(fresh.length * bytes);
      fresh.forEach((f, i) => rgb.set(square(f, BACKBONE_INPUT), i * bytes));
      features = standardise(frameFeatures(this.runner.objects, rgb, fresh.length, BACKBONE_INPUT));
    }
    for (const [i, f] of fresh.entries()) {
      let state: FramePerception | undefined;
      if (this.parts.handObject) {
        // Per-stream tracker state only where there are hands to track (the backbone is per frame).
        let s = this.streams.get(f.streamId);
        if (!s) this.streams.set(f.streamId, (s = { perception: this.runner.newStream(this.opts), lastCapturedAt: f.capturedAt }));
        if (f.capturedAt - s.lastCapturedAt > (this.opts.maxGapMs ?? 1000)) s.perception.reset();
        s.lastCapturedAt = f.capturedAt;
        const frame = tf.tensor3d(square(f, this.size), [this.size, this.size, 3], 'int32');
        try {
          state = await s.perception.step(frame);
        } finally {
          frame.dispose();
        }
      }
      const feature = features?.slice(i * BACKBONE_WIDTH, (i + 1) * BACKBONE_WIDTH);
      this.results.set(f, { ...(state ? { state } : {}), ...(feature ? { feature } : {}) });
      this.framesPerceived++;
    }
  }

  /** A window's per-frame inputs [T × P]: hand–object vector, then backbone feature, as the loader gives them (perceive() the frames first). */
  inputs(frames: readonly Frame[], coordinates: HandObjectFrame): Float32Array {
    const results = frames.map((f) => {
      const r = this.results.get(f);
      if (!r) throw new Error(`frame ${f.seq} of stream ${f.streamId} was not run through the detectors`);
      return r;
    });
    const hand = this.parts.handObject ? handObjectVectors(results.map((r) => r.state!), coordinates) : undefined;
    if (!this.parts.backbone) return hand!;
    const P = (hand ? HAND_OBJECT_WIDTH : 0) + BACKBONE_WIDTH;
    const out = new Float32Array(frames.length * P);
    results.forEach((r, t) => {
      if (hand) out.set(hand.subarray(t * HAND_OBJECT_WIDTH, (t + 1) * HAND_OBJECT_WIDTH), t * P);
      out.set(r.feature!, t * P + (hand ? HAND_OBJECT_WIDTH : 0));
    });
    return out;
  }

  /** Object labels the detectors saw in these frames, most frequent first (for grounded captions). */
  objectsSeen(frames: readonly Frame[]): string[] {
    const counts = new Map<string, number>();
    for (const f of frames) for (const o of this.results.get(f)?.state?.objects ?? []) counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
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
