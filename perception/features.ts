/**
 * The hand–object state as the numbers the model reads: a fixed-length vector per frame, with the
 * relations that make an action (hand–object distances, which object a hand holds, how the hands
 * move between consecutive frames). Built over a window's frames in order, the same way in the
 * loader and live, because velocities need the previous frame.
 */
import { MAX_HANDS, MAX_OBJECTS } from './constants.js';
import { OBJECT_KINDS, type Box2, type FramePerception, type HandObservation, type Point2 } from './types.js';

/** Per hand: present, box (4), wrist/palm/thumb/index (8), has keypoints, pinch, has previous, velocity (2). */
const HAND_VALUES = 18;
/** Per object: present, score, box (4), kind one-hot. */
const OBJECT_VALUES = 6 + OBJECT_KINDS.length;
/** Per hand: distance to the nearest object, holds it, its kind (container, utensil, food). */
const RELATION_VALUES = 5;

/** Length of one frame's vector (the last value: distance between the two hands). */
export const HAND_OBJECT_WIDTH = MAX_HANDS * (HAND_VALUES + RELATION_VALUES) + MAX_OBJECTS * OBJECT_VALUES + 1;

/** A hand "holds" the nearest object when its palm is within this share of the object's size. */
const HOLD_RADIUS = 0.75;

const centre = (b: Box2): Point2 => ({ x: b.cx, y: b.cy });
const palmOf = (h: HandObservation): Point2 => h.keypoints?.palm ?? centre(h.box);
const dist = (a: Point2, b: Point2) => Math.hypot(a.x - b.x, a.y - b.y);

/**
 * Where the vector's coordinates are measured from: 'image' = the frame (centred, −0.5…0.5);
 * 'hand' = the window's mean palm, in units of its typical hand size (a hand 0.15 of the frame
 * wide keeps its numbers), so that the same action reads the same from a close egocentric view and
 * from a distant side view.
 */
export const HAND_OBJECT_FRAMES = ['image', 'hand'] as const;
export type HandObjectFrame = (typeof HAND_OBJECT_FRAMES)[number];

/** Typical drawn hand size: 'hand' coordinates leave a hand of this size as it is. */
const REFERENCE_HAND = 0.15;

/** Frames in time order → [frames × HAND_OBJECT_WIDTH] (see HandObjectFrame for the coordinates). */
export function handObjectVectors(framesIn: readonly FramePerception[], frame: HandObjectFrame = 'image'): Float32Array {
  const frames = frame === 'hand' ? toHandFrame(framesIn) : framesIn;
  const out = new Float32Array(frames.length * HAND_OBJECT_WIDTH);
  frames.forEach((f, t) => {
    const prev = t > 0 ? frames[t - 1]! : null;
    let o = t * HAND_OBJECT_WIDTH;
    const put = (v: number) => (out[o++] = v);
    for (let k = 0; k < MAX_HANDS; k++) {
      const h = f.hands[k];
      if (!h) {
        o += HAND_VALUES + RELATION_VALUES;
        continue;
      }
      put(1);
      put(h.box.cx - 0.5), put(h.box.cy - 0.5), put(h.box.w), put(h.box.h);
      const kp = h.keypoints;
      for (const p of kp ? [kp.wrist, kp.palm, kp.thumbTip, kp.indexTip] : [null, null, null, null]) {
        put(p ? p.x - 0.5 : 0), put(p ? p.y - 0.5 : 0);
      }
      put(kp ? 1 : 0);
      put(kp ? dist(kp.thumbTip, kp.indexTip) / Math.max(0.02, h.box.w + h.box.h) : 0);
      // Velocity against the same slot in the previous frame (hands are kept sorted left to right).
      const before = prev?.hands[k];
      const v = before ? { x: palmOf(h).x - palmOf(before).x, y: palmOf(h).y - palmOf(before).y } : { x: 0, y: 0 };
      put(before ? 1 : 0), put(v.x * 10), put(v.y * 10);
      // Relation to the nearest object.
      let best = -1, bestD = Infinity;
      f.objects.forEach((ob, i) => {
        const d = dist(palmOf(h), centre(ob.box));
        if (d < bestD) (bestD = d), (best = i);
      });
      const near = best >= 0 ? f.objects[best]! : null;
      put(near ? Math.min(1, bestD) : 1);
      put(near && bestD < HOLD_RADIUS * Math.max(near.box.w, near.box.h) ? 1 : 0);
      for (const kind of ['container', 'utensil', 'food'] as const) put(near?.kind === kind ? 1 : 0);
    }
    for (let k = 0; k < MAX_OBJECTS; k++) {
      const ob = f.objects[k];
      if (!ob) {
        o += OBJECT_VALUES;
        continue;
      }
      put(1), put(ob.score), put(ob.box.cx - 0.5), put(ob.box.cy - 0.5), put(ob.box.w), put(ob.box.h);
      for (const kind of OBJECT_KINDS) put(ob.kind === kind ? 1 : 0);
    }
    const [a, b] = f.hands;
    put(a && b ? dist(palmOf(a), palmOf(b)) : 0);
  });
  return out;
}

/** Moves the window's mean palm to the centre and scales by its median hand size. */
function toHandFrame(frames: readonly FramePerception[]): FramePerception[] {
  const palms = frames.flatMap((f) => f.hands.map(palmOf));
  const sizes = frames.flatMap((f) => f.hands.map((h) => Math.max(h.box.w, h.box.h))).sort((a, b) => a - b);
  if (palms.length === 0) return [...frames];
  const o = { x: palms.reduce((n, p) => n + p.x, 0) / palms.length, y: palms.reduce((n, p) => n + p.y, 0) / palms.length };
  const k = REFERENCE_HAND / Math.min(1, Math.max(0.05, sizes[Math.floor(sizes.length / 2)]!));
  const pt = (p: Point2): Point2 => ({ x: 0.5 + (p.x - o.x) * k, y: 0.5 + (p.y - o.y) * k });
  const bx = (b: Box2): Box2 => ({ cx: 0.5 + (b.cx - o.x) * k, cy: 0.5 + (b.cy - o.y) * k, w: b.w * k, h: b.h * k });
  return frames.map((f) => ({
    hands: f.hands.map((h) => ({ ...h, box: bx(h.box), keypoints: h.keypoints && { wrist: pt(h.keypoints.wrist), palm: pt(h.keypoints.palm), thumbTip: pt(h.keypoints.thumbTip), indexTip: pt(h.keypoints.indexTip) } })),
    objects: f.objects.map((ob) => ({ ...ob, box: bx(ob.box) })),
  }));
}

const flipPoint = (p: Point2): Point2 => ({ x: 1 - p.x, y: p.y });
const flipBox = (b: Box2): Box2 => ({ ...b, cx: 1 - b.cx });

/** The state of the mirrored frame (x → 1 − x), hands re-sorted left to right. */
export function mirrorPerception(f: FramePerception): FramePerception {
  return {
    hands: f.hands
      .map((h) => ({
        ...h,
        box: flipBox(h.box),
        keypoints: h.keypoints && { wrist: flipPoint(h.keypoints.wrist), palm: flipPoint(h.keypoints.palm), thumbTip: flipPoint(h.keypoints.thumbTip), indexTip: flipPoint(h.keypoints.indexTip) },
      }))
      .sort((p, q) => p.box.cx - q.box.cx),
    objects: f.objects.map((ob) => ({ ...ob, box: flipBox(ob.box) })),
  };
}
