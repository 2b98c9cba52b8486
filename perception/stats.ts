/**
 * Summary figures of hand–object states over many clips: how often hands and objects are found,
 * hand sizes, how fast hands move. Used to set the simulated detector noise from real clips
 * (`npm run perception:probe`) and to see where rendered and real states differ.
 */
import type { FramePerception } from './types.js';

export interface StateStats {
  readonly clips: number;
  readonly frames: number;
  readonly handsPerFrame: number;
  readonly keypointsPerFrame: number;
  readonly twoHandFrames: number;
  readonly clipsWithoutHands: number;
  readonly objectsPerFrame: number;
  readonly clipsWithObjects: number;
  /** Quantiles 10/50/90 of a hand box's longer side, in frame sizes. */
  readonly handSize: readonly [number, number, number];
  /** Quantiles 10/50/90 of the palm's move between frames `lag` apart, in frame widths. */
  readonly palmMove: readonly [number, number, number];
  /** Detections per object kind. */
  readonly kinds: Readonly<Record<string, number>>;
}

const quantiles = (v: number[]): [number, number, number] => {
  if (v.length === 0) return [0, 0, 0];
  const s = [...v].sort((a, b) => a - b);
  const at = (p: number) => +s[Math.floor(p * (s.length - 1))]!.toFixed(4);
  return [at(0.1), at(0.5), at(0.9)];
};

export function stateStats(clips: readonly (readonly FramePerception[])[], lag = 1): StateStats {
  let frames = 0, hands = 0, kp = 0, two = 0, objects = 0, noHands = 0, withObjects = 0;
  const sizes: number[] = [], moves: number[] = [];
  const kinds: Record<string, number> = {};
  const palm = (f: FramePerception) => f.hands[0] && (f.hands[0].keypoints?.palm ?? { x: f.hands[0].box.cx, y: f.hands[0].box.cy });
  for (const c of clips) {
    if (c.every((f) => f.hands.length === 0)) noHands++;
    if (c.some((f) => f.objects.length > 0)) withObjects++;
    c.forEach((f, t) => {
      frames++;
      hands += f.hands.length;
      kp += f.hands.filter((h) => h.keypoints).length;
      if (f.hands.length === 2) two++;
      objects += f.objects.length;
      for (const o of f.objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
      for (const h of f.hands) sizes.push(Math.max(h.box.w, h.box.h));
      const a = palm(f), b = t >= lag ? palm(c[t - lag]!) : undefined;
      if (a && b) moves.push(Math.hypot(a.x - b.x, a.y - b.y));
    });
  }
  const per = (n: number) => +(n / Math.max(1, frames)).toFixed(3);
  return {
    clips: clips.length,
    frames,
    handsPerFrame: per(hands),
    keypointsPerFrame: per(kp),
    twoHandFrames: per(two),
    clipsWithoutHands: noHands,
    objectsPerFrame: per(objects),
    clipsWithObjects: withObjects,
    handSize: quantiles(sizes),
    palmMove: quantiles(moves),
    kinds,
  };
}
