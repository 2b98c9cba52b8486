/**
 * Hands: a detector (handtrack, SSD on EgoHands) finds hand boxes, MediaPipe's landmark model puts
 * 21 keypoints in each, and the keypoints give the next frame's crop, so the dear detector runs only
 * when a hand is lost or every `detectEvery` frames (MediaPipe's detect-then-track scheme).
 */
import * as tf from '@tensorflow/tfjs';
import { DETECT_BOX_EXPAND, HAND_LANDMARK, LANDMARK_INPUT, MAX_HANDS, TRACK_BOX_EXPAND, TRACK_BOX_MIN } from './constants.js';
import { loadPerceptionModel, PERCEPTION_MODELS } from './modelFiles.js';
import type { Box2, HandKeypoints, HandObservation, Point2 } from './types.js';

const DETECTOR_OUTPUTS = ['StatefulPartitionedCall/Postprocessor/Slice', 'StatefulPartitionedCall/Postprocessor/ExpandDims_1'];
/** handtrack's classes; "face" (index 4) is not a hand. */
const FACE_CLASS = 4;

export interface HandModelOptions {
  readonly dir?: string;
}

export class HandModels {
  private constructor(readonly detector: tf.GraphModel, readonly landmarks: tf.GraphModel) {}

  static async load(opts: HandModelOptions = {}): Promise<HandModels> {
    const [detector, landmarks] = await Promise.all([
      loadPerceptionModel(PERCEPTION_MODELS.handDetector, { dir: opts.dir }),
      loadPerceptionModel(PERCEPTION_MODELS.handLandmarks, { dir: opts.dir }),
    ]);
    return new HandModels(detector, landmarks);
  }

  /** Hand boxes in one frame [H, W, 3] (0…255), best first, at most MAX_HANDS, after NMS. */
  async detect(frame: tf.Tensor3D, minScore: number): Promise<{ box: Box2; score: number }[]> {
    const input = tf.tidy(() => {
      // The detector takes any size; multiples of 8 and at most 512 px high, as it was used upstream.
      const [H, W] = frame.shape;
      const h = Math.max(64, Math.min(512, Math.round(H / 8) * 8));
      const w = Math.max(64, Math.round((h * W) / H / 8) * 8);
      return tf.image.resizeBilinear(frame.expandDims(0) as tf.Tensor4D, [h, w]).toInt();
    });
    const outs = (await this.detector.executeAsync(input, DETECTOR_OUTPUTS)) as tf.Tensor[];
    const [scores, boxes] = tf.tidy(() => {
      const perClass = outs[0]!.squeeze([0]) as tf.Tensor2D;
      const classes = perClass.shape[1]!;
      const handMask = tf.tensor1d(Array.from({ length: classes }, (_, i) => (i === FACE_CLASS ? 0 : 1)));
      return [tf.max(perClass.mul(handMask), 1), outs[1]!.reshape([-1, 4])];
    });
    const s = scores.dataSync();
    const b = boxes.dataSync();
    tf.dispose([input, ...outs, scores, boxes]);
    const found: { box: Box2; score: number; yx: number[] }[] = [];
    const order = Array.from({ length: s.length }, (_, i) => i).filter((i) => s[i]! >= minScore).sort((i, j) => s[j]! - s[i]!);
    for (const i of order) {
      const yx = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
      if (found.some((f) => iouYx(f.yx, yx) > 0.3)) continue;
      found.push({ yx, score: s[i]!, box: { cx: (yx[1]! + yx[3]!) / 2, cy: (yx[0]! + yx[2]!) / 2, w: yx[3]! - yx[1]!, h: yx[2]! - yx[0]! } });
      if (found.length === MAX_HANDS) break;
    }
    return found.map(({ box, score }) => ({ box, score }));
  }

  /** 21 keypoints (normalised to the frame) inside `box`, and the model's hand score (0…1). */
  landmarksIn(frame: tf.Tensor3D, box: Box2): { score: number; points: Point2[] } {
    const x1 = box.cx - box.w / 2, y1 = box.cy - box.h / 2;
    const [score, kp] = tf.tidy(() => {
      const crop = tf.image.cropAndResize(frame.expandDims(0) as tf.Tensor4D, [[y1, x1, y1 + box.h, x1 + box.w]], [0], [LANDMARK_INPUT, LANDMARK_INPUT]).div(255);
      const [logit, keypoints] = this.landmarks.execute(crop, ['Identity_1', 'Identity']) as tf.Tensor[];
      return [tf.sigmoid(logit!), keypoints!];
    });
    const p = score.dataSync()[0]!;
    const k = kp.dataSync();
    tf.dispose([score, kp]);
    const points: Point2[] = [];
    for (let i = 0; i < 21; i++) points.push({ x: x1 + (k[3 * i]! / LANDMARK_INPUT) * box.w, y: y1 + (k[3 * i + 1]! / LANDMARK_INPUT) * box.h });
    return { score: p, points };
  }

  dispose(): void {
    this.detector.dispose();
    this.landmarks.dispose();
  }
}

export interface HandTrackerOptions {
  /** Run the detector at least every this many frames even while hands are tracked (1 = every frame). */
  readonly detectEvery?: number;
  readonly minDetectScore?: number;
  readonly minLandmarkScore?: number;
}

/** One stream's hand tracker: the boxes it follows between frames. Not shared between streams. */
export class HandTracker {
  private tracked: Box2[] = [];
  private sinceDetect = Number.POSITIVE_INFINITY;
  /** How many times the detector ran (for the benchmark and tests). */
  detections = 0;
  private readonly detectEvery: number;
  private readonly minDetectScore: number;
  private readonly minLandmarkScore: number;

  constructor(private readonly models: HandModels, opts: HandTrackerOptions = {}) {
    this.detectEvery = opts.detectEvery ?? 3;
    this.minDetectScore = opts.minDetectScore ?? 0.4;
    this.minLandmarkScore = opts.minLandmarkScore ?? 0.5;
  }

  /** Forgets the hands it followed (after a gap in the stream). */
  reset(): void {
    this.tracked = [];
    this.sinceDetect = Number.POSITIVE_INFINITY;
  }

  async step(frame: tf.Tensor3D): Promise<HandObservation[]> {
    const candidates: { box: Box2; score: number; fromDetector: boolean }[] = this.tracked.map((box) => ({ box, score: 1, fromDetector: false }));
    this.sinceDetect++;
    if (this.tracked.length < MAX_HANDS && this.sinceDetect >= this.detectEvery) {
      this.sinceDetect = 0;
      this.detections++;
      for (const d of await this.models.detect(frame, this.minDetectScore)) {
        if (candidates.length >= MAX_HANDS) break;
        if (candidates.some((c) => overlap(c.box, d.box) > 0.3)) continue;
        candidates.push({ box: scaleBox(d.box, DETECT_BOX_EXPAND), score: d.score, fromDetector: true });
      }
    }
    const hands: HandObservation[] = [];
    const next: Box2[] = [];
    for (const c of candidates) {
      const lm = this.models.landmarksIn(frame, c.box);
      if (lm.score >= this.minLandmarkScore) {
        const keypoints = pickKeypoints(lm.points);
        const tight = boundsOf(lm.points);
        hands.push({ score: lm.score, box: tight, keypoints });
        const crop = scaleBox(squareOf(tight, frame.shape[1] / frame.shape[0]), TRACK_BOX_EXPAND);
        next.push({ ...crop, w: Math.max(crop.w, TRACK_BOX_MIN), h: Math.max(crop.h, TRACK_BOX_MIN) });
      } else if (c.fromDetector) {
        hands.push({ score: c.score, box: scaleBox(c.box, 1 / DETECT_BOX_EXPAND), keypoints: null });
      }
    }
    // A lost track makes the detector run on the next frame.
    if (next.length < this.tracked.length) this.sinceDetect = this.detectEvery;
    this.tracked = next;
    return hands.sort((a, b) => a.box.cx - b.box.cx);
  }
}

function pickKeypoints(p: readonly Point2[]): HandKeypoints {
  const palmIdx = [HAND_LANDMARK.wrist, HAND_LANDMARK.indexBase, HAND_LANDMARK.middleBase, HAND_LANDMARK.pinkyBase];
  const palm = { x: mean(palmIdx.map((i) => p[i]!.x)), y: mean(palmIdx.map((i) => p[i]!.y)) };
  return { wrist: p[HAND_LANDMARK.wrist]!, palm, thumbTip: p[HAND_LANDMARK.thumbTip]!, indexTip: p[HAND_LANDMARK.indexTip]! };
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function boundsOf(points: readonly Point2[]): Box2 {
  const xs = points.map((q) => q.x), ys = points.map((q) => q.y);
  const x1 = Math.max(0, Math.min(...xs)), x2 = Math.min(1, Math.max(...xs));
  const y1 = Math.max(0, Math.min(...ys)), y2 = Math.min(1, Math.max(...ys));
  return { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: Math.max(0, x2 - x1), h: Math.max(0, y2 - y1) };
}

/** The square (in pixels) around a box; `aspect` is the frame's width / height. */
function squareOf(b: Box2, aspect: number): Box2 {
  const side = Math.max(b.w * aspect, b.h);
  return { cx: b.cx, cy: b.cy, w: side / aspect, h: side };
}

export function scaleBox(b: Box2, k: number): Box2 {
  return { cx: b.cx, cy: b.cy, w: b.w * k, h: b.h * k };
}

/** Intersection over the smaller box's area. */
function overlap(a: Box2, b: Box2): number {
  const w = Math.max(0, Math.min(a.cx + a.w / 2, b.cx + b.w / 2) - Math.max(a.cx - a.w / 2, b.cx - b.w / 2));
  const h = Math.max(0, Math.min(a.cy + a.h / 2, b.cy + b.h / 2) - Math.max(a.cy - a.h / 2, b.cy - b.h / 2));
  return (w * h) / Math.max(1e-9, Math.min(a.w * a.h, b.w * b.h));
}

function iouYx(a: readonly number[], b: readonly number[]): number {
  const h = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const w = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const area = (r: readonly number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  return (w * h) / Math.max(1e-9, area(a) + area(b) - w * h);
}
