/**
 * Detector noise for the renderer's noiseless hand–object state, so that a model trained on
 * procedural clips meets in training what the real detectors give it live: missed hands and
 * objects (whole clips and single frames), boxes without keypoints, jitter, false positives and
 * wrong classes. The rates are set from the detectors measured on real clips and on rendered frames
 * (`npm run perception:probe`, figures in docs/MODEL.md).
 */
import type { Prng } from '../data/prng.js';
import { KITCHEN_CLASSES, MAX_HANDS, MAX_OBJECTS } from './constants.js';
import type { Box2, FramePerception, HandObservation, ObjectKind, ObjectObservation, Point2 } from './types.js';

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
  /** Chance per frame that a present object is found, by kind, once the clip is not missed. */
  readonly objectFrameHit: Readonly<Record<ObjectKind, number>>;
  /** Chance per frame of a spurious object, and the kinds it gets (weights). */
  readonly falseObject: number;
  readonly falseKinds: Readonly<Record<ObjectKind, number>>;
  /** Chance that a found object gets some other kitchen class. */
  readonly wrongClass: number;
}

/** How the scene is varied before the detector noise: what the renderer does not draw. */
export interface SceneVariation {
  /** Range of a per-clip zoom about a random point (log-uniform): real hands fill 6–35 % of the frame, drawn ones 14 %. */
  readonly zoom: readonly [number, number];
  /** Chance that a second, steadying hand rests near an object for the whole clip (real frames show two hands half the time). */
  readonly secondHand: number;
  /**
   * Largest turn of the whole scene (radians) and range of its vertical squash: the renderer draws
   * a side view, real counters are filmed from above and at an angle as often.
   */
  readonly rotate: number;
  readonly squash: readonly [number, number];
  /**
   * Range of a per-clip factor on how far things travel (about the clip's mean palm; sizes kept).
   * Measured per class on the real dev clips, drawn hands move 2–10× as far per frame, in hand
   * sizes, as real ones (docs/PERCEPTION.md); shrinking travel to 0.1–0.45 made the classes hard
   * to tell apart (procedural test 65 → 29 %) and did not help on real clips, so it is off (1).
   */
  readonly travel: readonly [number, number];
}

/**
 * From `npm run perception:probe` on the 42 real dev clips (runs/real/probe-*.json; docs/MODEL.md):
 * hands are found in most frames (1.32 per frame, 3 of 42 clips with none), keypoints barely jitter
 * (median palm move 0.011 of the frame between frames at 12 fps), utensils are almost never found
 * (9 of 1,292 objects) while "food" is found often, mostly wrongly, on pans and textures.
 */
export const MEASURED_NOISE: DetectorNoise = {
  handClipMiss: 0.07,
  handFrameMiss: 0.1,
  keypointLoss: 0.02,
  jitter: 0.004,
  falseHand: 0.03,
  objectClipMiss: 0.2,
  objectFrameHit: { container: 0.3, food: 0.35, utensil: 0.02, other: 0.1 },
  falseObject: 0.3,
  falseKinds: { food: 0.65, container: 0.33, utensil: 0.01, other: 0.01 },
  wrongClass: 0.3,
};

export const MEASURED_VARIATION: SceneVariation = { zoom: [0.5, 2.2], secondHand: 0.75, rotate: 0.7, squash: [0.6, 1.4], travel: [1, 1] };

const CLASSES = Object.keys(KITCHEN_CLASSES);

/**
 * Noisy detections for a clip's frames; `rng` is the clip's own stream (deterministic). The scene is
 * first varied (zoom, a second hand), then detector misses, jitter, false positives and wrong classes.
 */
export function simulateDetections(truth: readonly FramePerception[], rng: Prng, noise: DetectorNoise = MEASURED_NOISE, variation: SceneVariation = MEASURED_VARIATION): FramePerception[] {
  const varied = varyScene(truth, rng, variation);
  const handsLost = rng.chance(noise.handClipMiss);
  const objectsLost = rng.chance(noise.objectClipMiss);
  // A wrong class sticks to an object for the whole clip, as a detector's confusion does.
  const relabel = new Map<number, string>();
  const gauss = () => (rng.next() + rng.next() + rng.next() - 1.5) * 1.41 * noise.jitter;
  const jit = (p: Point2): Point2 => ({ x: p.x + gauss(), y: p.y + gauss() });
  const jitBox = (b: Box2): Box2 => ({ cx: b.cx + gauss(), cy: b.cy + gauss(), w: Math.max(0.01, b.w * (1 + 2 * gauss())), h: Math.max(0.01, b.h * (1 + 2 * gauss())) });
  return varied.map((f) => {
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
    if (hands.length < MAX_HANDS && rng.chance(noise.falseHand)) hands.push({ score: rng.range(0.4, 0.6), box: randomBox(rng, 0.08, 0.2), keypoints: null });
    const objects: ObjectObservation[] = [];
    if (!objectsLost) {
      f.objects.forEach((o, i) => {
        if (!rng.chance(noise.objectFrameHit[o.kind])) return;
        if (!relabel.has(i)) relabel.set(i, rng.chance(noise.wrongClass) ? rng.pick(CLASSES) : o.label);
        const label = relabel.get(i)!;
        objects.push({ label, kind: KITCHEN_CLASSES[label]!, score: rng.range(0.2, 0.7), box: jitBox(o.box) });
      });
    }
    if (rng.chance(noise.falseObject)) {
      const kind = weighted(noise.falseKinds, rng);
      const label = rng.pick(CLASSES.filter((c) => KITCHEN_CLASSES[c] === kind).concat(kind === 'other' ? CLASSES : []));
      objects.push({ label, kind: KITCHEN_CLASSES[label]!, score: rng.range(0.2, 0.4), box: randomBox(rng, 0.1, 0.5) });
    }
    objects.sort((a, b) => b.score - a.score);
    return { hands: hands.sort((a, b) => a.box.cx - b.box.cx), objects: objects.slice(0, MAX_OBJECTS) };
  });
}

/** Zooms the whole clip about one point and may add a steadying hand near an object. */
function varyScene(truth: readonly FramePerception[], rng: Prng, v: SceneVariation): FramePerception[] {
  const [lo, hi] = v.zoom;
  const k = Math.exp(rng.range(Math.log(lo), Math.log(hi)));
  const at = { x: rng.range(0.3, 0.7), y: rng.range(0.3, 0.7) };
  const travel = rng.range(v.travel[0], v.travel[1]);
  const palms = truth.flatMap((f) => f.hands.map((h) => h.keypoints?.palm ?? { x: h.box.cx, y: h.box.cy }));
  const mean = palms.length ? { x: palms.reduce((n, p) => n + p.x, 0) / palms.length, y: palms.reduce((n, p) => n + p.y, 0) / palms.length } : { x: 0.5, y: 0.5 };
  // Positions move toward the mean palm, each box keeps its size and its keypoints their offsets.
  const near = (p: Point2, anchor: Point2): Point2 => ({ x: mean.x + (anchor.x - mean.x) * travel + (p.x - anchor.x), y: mean.y + (anchor.y - mean.y) * travel + (p.y - anchor.y) });
  const shrunk = truth.map((f) => ({
    hands: f.hands.map((h) => {
      const c = { x: h.box.cx, y: h.box.cy };
      const kp = h.keypoints;
      return { ...h, box: { ...h.box, cx: near(c, c).x, cy: near(c, c).y }, keypoints: kp && { wrist: near(kp.wrist, c), palm: near(kp.palm, c), thumbTip: near(kp.thumbTip, c), indexTip: near(kp.indexTip, c) } };
    }),
    objects: f.objects.map((o) => {
      const c = { x: o.box.cx, y: o.box.cy };
      const m = near(c, c);
      return { ...o, box: { ...o.box, cx: m.x, cy: m.y } };
    }),
  }));
  const th = rng.range(-v.rotate, v.rotate);
  const sq = rng.range(v.squash[0], v.squash[1]);
  const c = Math.cos(th), s = Math.sin(th);
  const zp = (p: Point2): Point2 => {
    const dx = (p.x - at.x) * k, dy = (p.y - at.y) * k * sq;
    return { x: at.x + dx * c - dy * s, y: at.y + dx * s + dy * c };
  };
  // A turned box keeps its centre and grows to hold the turned corners.
  const zb = (b: Box2): Box2 => {
    const centre = zp({ x: b.cx, y: b.cy });
    const w = b.w * k, h = b.h * k * sq;
    return { cx: centre.x, cy: centre.y, w: Math.abs(w * c) + Math.abs(h * s), h: Math.abs(w * s) + Math.abs(h * c) };
  };
  const anchor = shrunk.find((f) => f.objects.length > 0)?.objects[0]?.box;
  const steady = rng.chance(v.secondHand) && anchor ? steadyingHand(anchor, rng) : null;
  return shrunk.map((f, t) => {
    const hands = steady && f.hands.length < MAX_HANDS ? [...f.hands, steady(t)] : f.hands;
    const zoomed = {
      hands: hands.map((h) => ({ ...h, box: zb(h.box), keypoints: h.keypoints && { wrist: zp(h.keypoints.wrist), palm: zp(h.keypoints.palm), thumbTip: zp(h.keypoints.thumbTip), indexTip: zp(h.keypoints.indexTip) } })),
      objects: f.objects.map((o) => ({ ...o, box: zb(o.box) })),
    };
    return { hands: zoomed.hands.filter((h) => inside(h.box)).sort((a, b) => a.box.cx - b.box.cx), objects: zoomed.objects.filter((o) => inside(o.box)) };
  });
}

/** A hand resting against the side of `box`, fingers towards it, drifting a little. */
function steadyingHand(box: Box2, rng: Prng): (t: number) => HandObservation {
  const side = rng.sign();
  const size = rng.range(0.1, 0.16);
  const palm = { x: box.cx + side * (box.w / 2 + size * 0.3), y: box.cy + rng.range(-0.3, 0.3) * box.h };
  const drift = rng.range(0.001, 0.004), phase = rng.range(0, 6.3);
  return (t) => {
    const p = { x: palm.x + drift * Math.sin(0.5 * t + phase), y: palm.y + drift * Math.cos(0.4 * t + phase) };
    const toward = -side;
    return {
      score: 1,
      box: { cx: p.x, cy: p.y, w: size, h: size },
      keypoints: {
        wrist: { x: p.x - toward * size * 0.45, y: p.y + size * 0.2 },
        palm: p,
        thumbTip: { x: p.x + toward * size * 0.3, y: p.y - size * 0.35 },
        indexTip: { x: p.x + toward * size * 0.45, y: p.y - size * 0.1 },
      },
    };
  };
}

const inside = (b: Box2) => b.cx > 0 && b.cx < 1 && b.cy > 0 && b.cy < 1;

function weighted<K extends string>(w: Readonly<Record<K, number>>, rng: Prng): K {
  const entries = Object.entries(w) as [K, number][];
  let r = rng.next() * entries.reduce((n, [, x]) => n + x, 0);
  for (const [k, x] of entries) if ((r -= x) <= 0) return k;
  return entries[entries.length - 1]![0];
}

function randomBox(rng: Prng, lo: number, hi: number): Box2 {
  const w = rng.range(lo, hi), h = rng.range(lo, hi);
  return { cx: rng.range(w / 2, 1 - w / 2), cy: rng.range(h / 2, 1 - h / 2), w, h };
}
