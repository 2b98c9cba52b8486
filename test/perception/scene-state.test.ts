/**
 * The renderer's hand–object state is what it draws: the palm and fingertip keypoints land on
 * skin-coloured pixels and object boxes hold the object's colour; the state vector has its stated
 * width, mirrors consistently, and simulated detector noise is deterministic and drops things.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUES, templateIndex } from '../../data/catalogue/index.js';
import { NO_ACTION } from '../../data/catalogue/types.js';
import { Prng } from '../../data/prng.js';
import { ClipPainter, DIFFICULTY, perceiveFrames, planClip, progressAt } from '../../data/render/clip.js';
import { perceiveScene } from '../../data/render/perceive.js';
import { HAND_OBJECT_WIDTH, handObjectVectors, mirrorPerception } from '../../perception/features.js';
import { simulateDetections } from '../../perception/simulate.js';

const K = CATALOGUES.kitchenware;
const SIZE = { width: 128, height: 128 };
const easy = { ...DIFFICULTY.easy, lighting: 0 };
/** data/render/draw.ts paints blades and whisk wires this grey. */
const STEEL = [190, 195, 200] as const;

const rgbAt = (px: Uint8Array, x: number, y: number) => {
  const i = (Math.min(SIZE.height - 1, Math.max(0, Math.round(y * SIZE.height - 0.5))) * SIZE.width + Math.min(SIZE.width - 1, Math.max(0, Math.round(x * SIZE.width - 0.5)))) * 3;
  return [px[i]!, px[i + 1]!, px[i + 2]!];
};
const near = (a: number[], b: readonly number[], tol: number) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!) <= tol;

describe('scene hand–object state', () => {
  it('puts the palm and fingertips on the drawn hand, and object boxes on the drawn object', () => {
    let handsChecked = 0, objectsChecked = 0;
    for (const template of ['Stirring [something] with [something]', 'Cutting [something] with [something]', 'Putting [something] into [something]']) {
      const plan = planClip(K, templateIndex(K, template), new Prng('state').fork(template), easy);
      const painter = new ClipPainter(plan, SIZE);
      for (const i of [Math.floor(plan.frames * 0.45), Math.floor(plan.frames * 0.55)]) {
        const p = progressAt(plan, i), t = i / plan.fps;
        const px = painter.paint(p, t);
        const { scene, view } = painter.sceneAt(p, t);
        const state = perceiveScene(plan, scene, view);
        const skin = plan.look.hand.skin;
        for (const h of state.hands) {
          const kp = h.keypoints!;
          expect(near(rgbAt(px, kp.palm.x, kp.palm.y), skin, 40)).toBe(true);
          // The box holds the palm.
          expect(Math.abs(kp.palm.x - h.box.cx)).toBeLessThanOrEqual(h.box.w / 2);
          expect(Math.abs(kp.palm.y - h.box.cy)).toBeLessThanOrEqual(h.box.h / 2);
          handsChecked++;
        }
        for (const o of state.objects) {
          // Some pixel of a grid over the box has an object's colour (or a utensil's steel blade).
          const colours = [...plan.objects.map((c) => c.colour), STEEL];
          const grid = [-0.4, -0.2, 0, 0.2, 0.4];
          const samples = grid.flatMap((dx) => grid.map((dy) => rgbAt(px, o.box.cx + dx * o.box.w, o.box.cy + dy * o.box.h)));
          expect(samples.some((s) => colours.some((c) => near(s, c, 60)))).toBe(true);
          objectsChecked++;
        }
      }
    }
    expect(handsChecked).toBeGreaterThanOrEqual(4);
    expect(objectsChecked).toBeGreaterThanOrEqual(3);
  });

  it('has no hand on an empty "No action" counter and stays put over the clip', () => {
    // Over several seeds, idle clips have either no hand or a hand that barely moves (except passing by).
    const idle = templateIndex(K, NO_ACTION);
    let still = 0;
    for (let s = 0; s < 12; s++) {
      const plan = planClip(K, idle, new Prng('idle').fork(s), easy);
      const frames = perceiveFrames(plan, SIZE);
      const palms = frames.flatMap((f) => f.hands.map((h) => h.keypoints!.palm));
      if (palms.length === 0) continue;
      const spread = Math.max(...palms.map((p) => p.x)) - Math.min(...palms.map((p) => p.x));
      if (spread < 0.05) still++;
    }
    expect(still).toBeGreaterThan(0);
  });

  it('vectorises to the stated width, mirrors x, and adds deterministic detector noise', () => {
    const plan = planClip(K, templateIndex(K, 'Pouring [something] into [something]'), new Prng('vec'), DIFFICULTY.moderate);
    const frames = perceiveFrames(plan, SIZE);
    const v = handObjectVectors(frames);
    expect(v.length).toBe(frames.length * HAND_OBJECT_WIDTH);
    expect(v.every(Number.isFinite)).toBe(true);
    const f = frames.find((x) => x.hands.length > 0)!;
    const m = mirrorPerception(f);
    expect(m.hands[0]!.box.cx).toBeCloseTo(1 - f.hands[f.hands.length - 1]!.box.cx, 6);
    const twice = handObjectVectors([mirrorPerception(m)]), once = handObjectVectors([f]);
    twice.forEach((x, i) => expect(x).toBeCloseTo(once[i]!, 6));
    const a = simulateDetections(frames, new Prng('noise')), b = simulateDetections(frames, new Prng('noise'));
    expect(a).toEqual(b);
    const count = (fs: typeof frames) => fs.reduce((n, x) => n + x.hands.length + x.objects.length, 0);
    // Over many draws the noisy state has fewer detections than the truth (misses dominate false positives).
    const noisy = Array.from({ length: 20 }, (_, k) => count(simulateDetections(frames, new Prng('n').fork(k))));
    expect(noisy.reduce((x, y) => x + y, 0) / 20).toBeLessThan(count(frames));
  });
});
