/**
 * The detectors together, per stream: hands every frame (tracked; the hand detector only when a
 * hand is lost or every few frames), objects every `objectEvery` frames with the last result held
 * in between. One PerceptionRunner holds the loaded models; each stream gets its own state.
 */
import * as tf from '@tensorflow/tfjs';
import { HandModels, HandTracker, type HandTrackerOptions } from './hands.js';
import { ObjectDetector } from './objects.js';
import type { FramePerception, ObjectObservation } from './types.js';

export interface StreamPerceptionOptions extends HandTrackerOptions {
  /** Run the object detector every this many frames (1 = every frame). */
  readonly objectEvery?: number;
}

export class PerceptionRunner {
  /** Bump when what a measurement contains changes: cached measurements are then redone. */
  static readonly VERSION = 2;

  private constructor(readonly hands: HandModels | null, readonly objects: ObjectDetector) {}

  /** `hands: false` for a model that reads only the backbone feature: the two hand models are not loaded. */
  static async load(opts: { dir?: string; hands?: boolean } = {}): Promise<PerceptionRunner> {
    const dir = opts.dir ? { dir: opts.dir } : {};
    const [hands, objects] = await Promise.all([opts.hands === false ? null : HandModels.load(dir), ObjectDetector.load(dir)]);
    return new PerceptionRunner(hands, objects);
  }

  newStream(opts: StreamPerceptionOptions = {}): StreamPerception {
    if (!this.hands) throw new Error('these perception models were loaded without the hand models (hands: false)');
    return new StreamPerception(this.hands, this.objects, opts);
  }

  dispose(): void {
    this.hands?.dispose();
    this.objects.dispose();
  }
}

export class StreamPerception {
  private readonly tracker: HandTracker;
  private readonly objectEvery: number;
  private sinceObjects = Number.POSITIVE_INFINITY;
  private lastObjects: ObjectObservation[] = [];

  constructor(hands: HandModels, private readonly objects: ObjectDetector, opts: StreamPerceptionOptions) {
    this.tracker = new HandTracker(hands, opts);
    this.objectEvery = opts.objectEvery ?? 3;
  }

  /** Hand detector runs so far. */
  get handDetections(): number {
    return this.tracker.detections;
  }

  /** After a gap in the stream: nothing carries over. */
  reset(): void {
    this.tracker.reset();
    this.sinceObjects = Number.POSITIVE_INFINITY;
    this.lastObjects = [];
  }

  /** One frame [H, W, 3] of 0…255 values (any numeric dtype; the caller keeps ownership). */
  async step(frame: tf.Tensor3D): Promise<FramePerception> {
    const pixels = frame.dtype === 'float32' ? frame : (tf.cast(frame, 'float32') as tf.Tensor3D);
    try {
      if (++this.sinceObjects >= this.objectEvery) {
        this.sinceObjects = 0;
        this.lastObjects = this.objects.run(pixels).objects;
      }
      const hands = await this.tracker.step(pixels);
      return { hands, objects: this.lastObjects };
    } finally {
      if (pixels !== frame) pixels.dispose();
    }
  }
}
