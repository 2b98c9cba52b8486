/**
 * What the pretrained detectors would report for a rendered frame, read off the scene instead of
 * the pixels: hand boxes and keypoints where `drawHand` draws them, object boxes for the objects a
 * COCO detector has a class for. Same units as perception/ (normalised image coordinates), so a
 * model trained on these reads real detections. Detector noise is added by perception/simulate.ts.
 */
import type { Box2, FramePerception, HandObservation, ObjectObservation, Point2 } from '../../perception/types.js';
import { KITCHEN_CLASSES } from '../../perception/constants.js';
import type { ClipPlan, View } from './clip.js';
import { HAND, type Hand, type Pose, type SceneState } from './motions.js';

/**
 * The COCO class a detector would give each catalogue object; objects COCO has no class for
 * (cutting boards, plates, cloths, sponges, lids) are missing, as they are to the real detector. Wrong
 * classes are the noise model's job (perception/simulate.ts).
 */
export const COCO_CLASS_OF: Readonly<Record<string, string>> = {
  cup: 'cup', mug: 'cup', glass: 'wine glass', bowl: 'bowl', pot: 'bowl', saucepan: 'bowl', jar: 'bottle', kettle: 'vase', bottle: 'bottle',
  can: 'cup', knife: 'knife', spoon: 'spoon', whisk: 'spoon', spatula: 'spoon', ladle: 'spoon', tomato: 'apple', carrot: 'carrot',
  cucumber: 'banana', bread: 'sandwich', lemon: 'orange', pancake: 'pizza', orange: 'orange', pen: 'knife',
};

const toImage = (v: View, x: number, y: number): Point2 => ({ x: (x * v.scale + v.offsetX) / v.width, y: (y * v.scale + v.offsetY) / v.height });

/** The hand's points as drawHand draws them (world units). */
export function handPointsWorld(h: Hand): { wrist: Point2; palm: Point2; thumbTip: Point2; indexTip: Point2; fingertips: Point2[] } {
  const ax = Math.cos(h.angle), ay = Math.sin(h.angle);
  const fx = -ax, fy = -ay;
  const nx = -fy, ny = fx;
  const fingertips = [0, 1, 2, 3].map((i) => {
    const off = (i - 1.5) * HAND * 0.38;
    const len = h.point ? (i === 1 ? HAND * 1.5 : HAND * 0.55) : HAND * (1.25 - 0.6 * h.grip);
    return { x: h.x + fx * HAND * 0.6 + nx * off + fx * len, y: h.y + fy * HAND * 0.6 + ny * off + fy * len };
  });
  const tx = h.x + nx * HAND * 0.85, ty = h.y + ny * HAND * 0.85;
  const k = HAND * (1 - 0.4 * h.grip);
  return {
    wrist: { x: h.x + ax * HAND, y: h.y + ay * HAND },
    palm: { x: h.x, y: h.y },
    thumbTip: { x: tx + (fx * 0.8 + nx * 0.4) * k, y: ty + (fy * 0.8 + ny * 0.4) * k },
    indexTip: fingertips[1]!,
    fingertips,
  };
}

function boxOf(points: readonly Point2[]): Box2 {
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const x1 = Math.min(...xs), x2 = Math.max(...xs), y1 = Math.min(...ys), y2 = Math.max(...ys);
  return { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1 };
}

const inFrame = (b: Box2) => b.cx + b.w / 2 > 0 && b.cx - b.w / 2 < 1 && b.cy + b.h / 2 > 0 && b.cy - b.h / 2 < 1;

function clipBox(b: Box2): Box2 {
  const x1 = Math.max(0, b.cx - b.w / 2), x2 = Math.min(1, b.cx + b.w / 2), y1 = Math.max(0, b.cy - b.h / 2), y2 = Math.min(1, b.cy + b.h / 2);
  return { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1 };
}

function handObservation(h: Hand, v: View): HandObservation | null {
  const w = handPointsWorld(h);
  const img = (p: Point2) => toImage(v, p.x, p.y);
  const palmRim = [0, 1, 2, 3].map((i) => ({ x: h.x + HAND * Math.cos((i * Math.PI) / 2), y: h.y + HAND * Math.sin((i * Math.PI) / 2) }));
  const box = boxOf([w.wrist, w.thumbTip, ...w.fingertips, ...palmRim].map(img));
  if (!inFrame(box)) return null;
  const keypoints = { wrist: img(w.wrist), palm: img(w.palm), thumbTip: img(w.thumbTip), indexTip: img(w.indexTip) };
  return { score: 1, box: clipBox(box), keypoints };
}

function objectBox(pose: Pose, size: { w: number; h: number }, v: View): Box2 {
  const c = Math.abs(Math.cos(pose.rot)), s = Math.abs(Math.sin(pose.rot));
  const w = (size.w * c + size.h * s) * pose.scale, h = (size.w * s + size.h * c) * pose.scale;
  const centre = toImage(v, pose.x, pose.y);
  return { cx: centre.x, cy: centre.y, w: (w * v.scale) / v.width, h: (h * v.scale) / v.height };
}

/** The noiseless hand–object state of one rendered frame. */
export function perceiveScene(plan: ClipPlan, scene: SceneState, view: View): FramePerception {
  const hands = scene.hands.map((h) => handObservation(h, view)).filter((h): h is HandObservation => h !== null).sort((a, b) => a.box.cx - b.box.cx);
  const objects: ObjectObservation[] = [];
  const add = (noun: string, pose: Pose, size: { w: number; h: number }) => {
    const label = COCO_CLASS_OF[noun];
    if (!label || !pose.visible || size.w === 0) return;
    const box = objectBox(pose, size, view);
    if (inFrame(box)) objects.push({ label, kind: KITCHEN_CLASSES[label]!, score: 1, box: clipBox(box) });
  };
  scene.actors.forEach((pose, i) => {
    const o = plan.objects[i];
    if (o) add(o.kind.noun, pose, o.style);
  });
  for (const d of plan.distractors) add(d.choice.kind.noun, { x: d.x, y: plan.look.table - d.choice.style.h / 2, rot: 0, scale: 1, visible: true, z: 0 }, d.choice.style);
  return { hands: hands.slice(0, 2), objects };
}
