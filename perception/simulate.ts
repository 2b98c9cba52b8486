/**
 * Detector noise for the renderer's noiseless hand–object state, so that a model trained on
 * procedural clips meets in training what the real detectors give it live: missed hands and
 * objects (whole clips and single frames), boxes without keypoints, jitter, false positives and
 * wrong classes. The rates are set from the detectors measured on real clips and on rendered frames
 * (`npm run perception:probe`, figures in docs/MODEL.md).
 */
import type { Prng } from '../data/prng.js';
import { KITCHEN_CLASSES, MAX_OBJECTS } from './constants.js';
import type { Box2, FramePerception, HandObservation, ObjectObservation, Point2 } from './types.js';

export interface DetectorNoise {
  /** Chance that a clip's hands are never found (poor light, gloves, a tiny view). */
  readonly handClipMiss: number;
  readonly handFrameMiss: number;
  /** Chance that a found hand has a box but no keypoints. */
  readonly keypointLoss: number;
  /** Standard deviation of keypoint and box-centre jitter, in frame widths. */
  readonly jitter: number;
  readonly falseHand: number;
  readonly objectClipMiss: number;
  /** Chance per frame that a present object is found, once the clip is not missed. */
  readonly objectFrameHit: number;
  readonly falseObject: number;
  /** Chance that a found object gets some other kitchen class. */
  readonly wrongClass: number;
}

/** Rates from `npm run perception:probe` on the real dev clips (rounded; see docs/MODEL.md). */
export const MEASURED_NOISE: DetectorNoise = {
  handClipMiss: 0.15,
  handFrameMiss: 0.25,
  keypointLoss: 0.05,
  jitter: 0.015,
  falseHand: 0.03,
  objectClipMiss: 0.4,
  objectFrameHit: 0.45,
  falseObject: 0.1,
  wrongClass: 0.3,
};

const CLASSES = Object.keys(KITCHEN_CLASSES);

/** Noisy detections for a clip's frames; `rng` is the clip's own stream (deterministic). */
export function simulateDetections(truth: readonly FramePerception[], rng: Prng, noise: DetectorNoise = MEASURED_NOISE): FramePerception[] {
  const handsLost = rng.chance(noise.handClipMiss);
  const objectsLost = rng.chance(noise.objectClipMiss);
  // A wrong class sticks to an object for the whole clip, as a detector's confusion does.
  const relabel = new Map<number, string>();
  const gauss = () => (rng.next() + rng.next() + rng.next() - 1.5) * 1.41 * noise.jitter;
  const jit = (p: Point2): Point2 => ({ x: p.x + gauss(), y: p.y + gauss() });
  const jitBox = (b: Box2): Box2 => ({ cx: b.cx + gauss(), cy: b.cy + gauss(), w: Math.max(0.01, b.w * (1 + 2 * gauss())), h: Math.max(0.01, b.h * (1 + 2 * gauss())) });
  return truth.map((f) => {
    const hands: HandObservation[] = [];
    if (!handsLost) {
      for (const h of f.hands) {
        if (rng.chance(noise.handFrameMiss)) continue;
        const kp = h.keypoints && !rng.chance(noise.keypointLoss) ? h.keypoints : null;
        hands.push({
          score: rng.range(0.5, 1),
          box: jitBox(h.box),
          keypoints: kp && { wrist: jit(kp.wrist), palm: jit(kp.palm), thumbTip: jit(kp.thumbTip), indexTip: jit(kp.indexTip) },
        });
      }
    }
    if (hands.length < 2 && rng.chance(noise.falseHand)) hands.push({ score: rng.range(0.4, 0.6), box: randomBox(rng, 0.08, 0.2), keypoints: null });
    const objects: ObjectObservation[] = [];
    if (!objectsLost) {
      f.objects.forEach((o, i) => {
        if (!rng.chance(noise.objectFrameHit)) return;
        if (!relabel.has(i)) relabel.set(i, rng.chance(noise.wrongClass) ? rng.pick(CLASSES) : o.label);
        const label = relabel.get(i)!;
        objects.push({ label, kind: KITCHEN_CLASSES[label]!, score: rng.range(0.2, 0.7), box: jitBox(o.box) });
      });
    }
    if (rng.chance(noise.falseObject)) {
      const label = rng.pick(CLASSES);
      objects.push({ label, kind: KITCHEN_CLASSES[label]!, score: rng.range(0.2, 0.35), box: randomBox(rng, 0.05, 0.3) });
    }
    objects.sort((a, b) => b.score - a.score);
    return { hands: hands.sort((a, b) => a.box.cx - b.box.cx), objects: objects.slice(0, MAX_OBJECTS) };
  });
}

function randomBox(rng: Prng, lo: number, hi: number): Box2 {
  const w = rng.range(lo, hi), h = rng.range(lo, hi);
  return { cx: rng.range(w / 2, 1 - w / 2), cy: rng.range(h / 2, 1 - h / 2), w, h };
}
