/**
 * What the pretrained detectors see in one frame, in image-normalised units (x and y in 0…1 of the
 * frame's width and height, origin top left). The renderer emits the same type from its scene, so
 * that a model trained on procedural clips reads real detections in the same units.
 */

/** A point in normalised image coordinates. */
export interface Point2 {
  readonly x: number;
  readonly y: number;
}

/** An axis-aligned box: centre, width and height, normalised. */
export interface Box2 {
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
}

/** The four hand keypoints the state keeps (of MediaPipe's 21). */
export interface HandKeypoints {
  readonly wrist: Point2;
  readonly palm: Point2;
  readonly thumbTip: Point2;
  readonly indexTip: Point2;
}

export interface HandObservation {
  readonly score: number;
  readonly box: Box2;
  /** Null when only the detector's box is known (the landmark model did not confirm the hand). */
  readonly keypoints: HandKeypoints | null;
}

/** The coarse kinds a COCO class maps to (constants.ts); what the model reads of an object's class. */
export const OBJECT_KINDS = ['container', 'utensil', 'food', 'other'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface ObjectObservation {
  /** The COCO class name ("cup", "knife", …). */
  readonly label: string;
  readonly kind: ObjectKind;
  readonly score: number;
  readonly box: Box2;
}

/** One frame's hand–object state: at most two hands and the best few kitchen objects. */
export interface FramePerception {
  readonly hands: readonly HandObservation[];
  readonly objects: readonly ObjectObservation[];
}
