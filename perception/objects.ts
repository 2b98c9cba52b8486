/**
 * COCO objects and the backbone feature from one CenterNet (MobileNetV3) graph: a single `execute`
 * returns both the detections and the backbone activation, so the per-frame feature costs nothing
 * extra when objects are detected anyway.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKBONE_INPUT, BACKBONE_NODE, COCO_LABELS, DETECT_INPUT, DETECTIONS_NODE, KITCHEN_CLASSES, MAX_OBJECTS } from './constants.js';
import { loadPerceptionModel, PERCEPTION_MODELS } from './modelFiles.js';
import type { ObjectObservation } from './types.js';

export interface ObjectDetectorOptions {
  /** Side the frame is resized to for the backbone feature alone (the detection head needs 512). */
  readonly featureSize?: number;
  /** Lowest score kept. */
  readonly minScore?: number;
  readonly dir?: string;
}

export interface ObjectsAndFeature {
  readonly objects: ObjectObservation[];
  /** The mean-pooled backbone activation (480 values). */
  readonly feature: Float32Array;
}

export class ObjectDetector {
  private constructor(private readonly graph: tf.GraphModel, readonly featureSize: number, readonly minScore: number) {}

  static async load(opts: ObjectDetectorOptions = {}): Promise<ObjectDetector> {
    const graph = await loadPerceptionModel(PERCEPTION_MODELS.objects, { dir: opts.dir, freeInput: true });
    return new ObjectDetector(graph, opts.featureSize ?? BACKBONE_INPUT, opts.minScore ?? 0.2);
  }

  /** One frame [H, W, 3] of 0…255 values → its kitchen objects (best first) and the backbone feature at 512 px. */
  run(frame: tf.Tensor3D): ObjectsAndFeature {
    const [feat, dets] = tf.tidy(() => {
      const x = tf.image.resizeBilinear(frame.expandDims(0) as tf.Tensor4D, [DETECT_INPUT, DETECT_INPUT]);
      const [act, det] = this.graph.execute(x, [BACKBONE_NODE, DETECTIONS_NODE]) as tf.Tensor[];
      return [tf.mean(act!, [1, 2]).squeeze([0]), det!.squeeze([0])];
    });
    const feature = feat.dataSync() as Float32Array;
    const rows = dets.arraySync() as number[][];
    tf.dispose([feat, dets]);
    return { objects: this.decode(rows), feature };
  }

  /** Backbone features of frames [N, H, W, 3] (0…255) at `featureSize`, without the detection head → [N, 480]. */
  features(frames: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const x = tf.image.resizeBilinear(frames, [this.featureSize, this.featureSize]);
      return tf.mean(this.graph.execute(x, BACKBONE_NODE) as tf.Tensor4D, [1, 2]) as tf.Tensor2D;
    });
  }

  /** Detection rows [x1, y1, x2, y2, score, class] in input pixels → kitchen objects after NMS. */
  private decode(rows: number[][]): ObjectObservation[] {
    const s = DETECT_INPUT;
    const candidates = rows
      .filter((r) => r[4]! >= this.minScore && KITCHEN_CLASSES[COCO_LABELS[r[5]!] ?? ''] !== undefined)
      .sort((a, b) => b[4]! - a[4]!);
    const kept: number[][] = [];
    for (const r of candidates) {
      if (kept.some((k) => iou(k, r) > 0.5)) continue;
      kept.push(r);
      if (kept.length === MAX_OBJECTS) break;
    }
    return kept.map((r) => {
      const label = COCO_LABELS[r[5]!]!;
      const x1 = clamp01(r[0]! / s), y1 = clamp01(r[1]! / s), x2 = clamp01(r[2]! / s), y2 = clamp01(r[3]! / s);
      return { label, kind: KITCHEN_CLASSES[label]!, score: r[4]!, box: { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1 } };
    });
  }

  dispose(): void {
    this.graph.dispose();
  }
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  const area = (r: readonly number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  return inter / Math.max(1e-9, area(a) + area(b) - inter);
}
