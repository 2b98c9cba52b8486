/**
 * The motion of every action: given the sizes of its objects and a seeded random stream, a motion
 * fixes the layout once and returns a function from action progress p ∈ [0, 1] to the scene state
 * (object poses, hands, camera, liquid streams and particles). World coordinates are fractions of
 * the frame, y pointing down; objects stand on the table line `table`.
 *
 * The actors of a motion are the template's slots followed by its extras, in that order.
 * Classes that must be told apart by motion alone share one builder with a single switch (push /
 * pretend / slight; closer / away; into / pretend-into), so they differ only where they should.
 */
import type { Prng } from '../prng.js';

export interface Pose {
  x: number;
  y: number;
  rot: number;
  scale: number;
  visible: boolean;
  /** Drawing order: higher is nearer the camera. */
  z: number;
  /** Turn about the vertical axis (spinning): drawn as a horizontal squeeze, mirrored past 90°. */
  spin?: number;
  /** Containers: liquid level 0…1 and the actor whose colour the liquid has. */
  fill?: number;
  fillFrom?: number;
  /** Food being cut: 0 whole, 1 two halves apart. */
  split?: number;
  /** Surface dirt still visible, 0…1. */
  dirt?: number;
  /** Cloth draped over something: 0 flat, 1 a hump as tall as `drapeHeight`. */
  drape?: number;
  drapeHeight?: number;
  mirror?: boolean;
}

export interface Hand {
  x: number;
  y: number;
  /** Direction from the palm to the shoulder (the arm leaves the frame this way), radians. */
  angle: number;
  /** 0 open, 1 closed around something. */
  grip: number;
  point?: boolean;
}

export interface Camera {
  /** Offset of the camera's centre in world units, and its zoom (1 = the whole frame). */
  dx: number;
  dy: number;
  zoom: number;
}

export interface Stream {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  width: number;
  colourOf: number;
}

export interface Particle {
  x: number;
  y: number;
  r: number;
  colourOf: number;
}

export interface SceneState {
  actors: Pose[];
  hands: Hand[];
  camera: Camera;
  streams: Stream[];
  particles: Particle[];
}

export interface ActorBox {
  readonly w: number;
  readonly h: number;
}

export interface MotionSetup {
  readonly rng: Prng;
  readonly boxes: readonly ActorBox[];
  readonly table: number;
  /** Scales travel distances (1 = default). */
  readonly amp: number;
}

export type Motion = (setup: MotionSetup) => (p: number) => SceneState;

/** Palm radius in world units. */
export const HAND = 0.06;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const smooth = (v: number) => v * v * (3 - 2 * v);
/** Eased progress of the phase [a, b] at p. */
const ph = (p: number, a: number, b: number) => smooth(clamp01((p - a) / (b - a)));
const mix = (a: number, b: number, t: number) => a + (b - a) * t;

interface Pt {
  x: number;
  y: number;
}

const rest = (x: number, box: ActorBox, table: number, z = 1): Pose => ({ x, y: table - box.h / 2, rot: 0, scale: 1, visible: true, z });

/** Arm coming from one side (+1 right, -1 left), slightly from above. */
const sideArm = (side: number, rng: Prng) => (side > 0 ? -0.45 : Math.PI + 0.45) + rng.range(-0.2, 0.2);
const topArm = (rng: Prng) => -Math.PI / 2 + rng.range(-0.5, 0.5);

/**
 * The hand at contact point `at`, arriving from off-frame along its arm during [tIn0, tIn] and
 * leaving during [tOut, tOut1]; tIn = 0 means it is there from the start, tOut ≥ 1 that it stays.
 */
function reach(p: number, at: Pt, angle: number, tIn: number, tOut: number, grip: number, point = false): Hand {
  const inn = tIn <= 0 ? 1 : ph(p, Math.max(0, tIn - 0.25), tIn);
  const out = tOut >= 1 ? 0 : ph(p, tOut, Math.min(1, tOut + 0.22));
  const k = inn * (1 - out);
  const far = 0.85;
  return {
    x: at.x + Math.cos(angle) * far * (1 - k),
    y: at.y + Math.sin(angle) * far * (1 - k),
    angle,
    grip: k > 0.97 ? grip : 0,
    point,
  };
}

const topOf = (pose: Pose, box: ActorBox): Pt => ({ x: pose.x, y: pose.y - (box.h * pose.scale) / 2 - HAND * 0.55 });
const sideOf = (pose: Pose, box: ActorBox, side: number, table: number): Pt => ({
  x: pose.x + side * ((box.w * pose.scale) / 2 + HAND * 0.8),
  y: Math.min(pose.y, table - HAND * 0.9),
});

const scene = (actors: Pose[], hands: Hand[], extra: Partial<SceneState> = {}): SceneState => ({
  actors,
  hands,
  camera: extra.camera ?? { dx: 0, dy: 0, zoom: 1 },
  streams: extra.streams ?? [],
  particles: extra.particles ?? [],
});

/** Rotate (x, y) by θ (y down, so positive θ turns clockwise on screen). */
const rotate = (x: number, y: number, th: number): Pt => ({ x: x * Math.cos(th) - y * Math.sin(th), y: x * Math.sin(th) + y * Math.cos(th) });

// ---------------------------------------------------------------------------------------------
// Sideways: push, pull, slide, pretend to push, push slightly.

type SideMode = 'push' | 'pull' | 'slide' | 'pretend' | 'slight';

function sideways(dirArg: 1 | -1 | 0, mode: SideMode): Motion {
  return ({ rng, boxes, table, amp }) => {
    const b = boxes[0]!;
    const dir = dirArg === 0 ? rng.sign() : dirArg;
    const dist = mode === 'slight' ? rng.range(0.04, 0.06) : mode === 'pretend' ? 0 : rng.range(0.28, 0.38) * amp;
    const x0 = 0.5 - (dir * dist) / 2 + rng.range(-0.05, 0.05);
    const handSide = mode === 'pull' ? dir : -dir;
    const arm = mode === 'slide' ? topArm(rng) : sideArm(handSide, rng);
    return (p) => {
      const m = ph(p, 0.32, 0.72);
      const a = rest(x0 + dir * dist * m, b, table);
      let at = mode === 'slide' ? topOf(a, b) : sideOf(a, b, handSide, table);
      if (mode === 'pretend') {
        // The hand makes the push but stops short: it never touches the object.
        const gesture = Math.sin(Math.PI * clamp01((p - 0.32) / 0.4));
        at = { x: at.x + handSide * (0.07 - 0.035 * gesture), y: at.y };
      }
      return scene([a], [reach(p, at, arm, 0.3, 0.74, mode === 'pull' || mode === 'slide' ? 1 : 0.3)]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Vertical: moving up / down in the air, lifting off the table, putting on the table.

function vertical(kind: 'up' | 'down' | 'lift' | 'put'): Motion {
  return ({ rng, boxes, table, amp }) => {
    const b = boxes[0]!;
    const x = 0.5 + rng.range(-0.08, 0.08);
    const restY = table - b.h / 2;
    const rise = rng.range(0.2, 0.26) * amp;
    const air = restY - rng.range(0.1, 0.14);
    const [y0, y1] = kind === 'up' ? [air, air - rise] : kind === 'down' ? [air - rise, air] : kind === 'lift' ? [restY, restY - rise] : [restY - rise, restY];
    const arm = topArm(rng);
    const [m0, m1, tIn, tOut] = kind === 'lift' ? [0.35, 0.8, 0.3, 1] : kind === 'put' ? [0.1, 0.5, 0, 0.62] : [0.2, 0.8, 0, 1];
    return (p) => {
      const a: Pose = { ...rest(x, b, table), y: mix(y0, y1, ph(p, m0, m1)) };
      return scene([a], [reach(p, topOf(a, b), arm, tIn, tOut, 1)]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Two objects: closer / away (one hand), both closer / both away (two hands).

function relative(kind: 'closer' | 'away'): Motion {
  return ({ rng, boxes, table, amp }) => {
    const [a, b] = [boxes[0]!, boxes[1]!];
    const side = rng.sign();
    const near = (a.w + b.w) / 2 + 0.03;
    const far = near + rng.range(0.25, 0.32) * amp;
    const xb = 0.5 - side * (far / 2) + rng.range(-0.04, 0.04);
    const [d0, d1] = kind === 'closer' ? [far, near] : [near, far];
    const arm = topArm(rng);
    return (p) => {
      const pa = rest(xb + side * mix(d0, d1, ph(p, 0.3, 0.72)), a, table, 2);
      const pb = rest(xb, b, table);
      return scene([pa, pb], [reach(p, topOf(pa, a), arm, 0.28, 0.76, 1)]);
    };
  };
}

function bothRelative(kind: 'closer' | 'away'): Motion {
  return ({ rng, boxes, table, amp }) => {
    const [a, b] = [boxes[0]!, boxes[1]!];
    const near = (a.w + b.w) / 2 + 0.03;
    const far = near + rng.range(0.25, 0.32) * amp;
    const [d0, d1] = kind === 'closer' ? [far, near] : [near, far];
    const c = 0.5 + rng.range(-0.04, 0.04);
    const armL = sideArm(-1, rng) - 0.5;
    const armR = sideArm(1, rng) + 0.5;
    return (p) => {
      const d = mix(d0, d1, ph(p, 0.3, 0.72));
      const pa = rest(c - d / 2, a, table);
      const pb = rest(c + d / 2, b, table);
      return scene([pa, pb], [reach(p, topOf(pa, a), armL, 0.28, 0.76, 1), reach(p, topOf(pb, b), armR, 0.28, 0.76, 1)]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Carrying A to B: into, pretend into, on top, next to, behind; and taking out.

type Place = 'into' | 'pretendInto' | 'onTop' | 'nextTo' | 'behind';

/** A smaller than B so that it fits inside or on top. */
const fitScale = (a: ActorBox, b: ActorBox, share: number) => Math.min(1, (share * b.w) / a.w);

function carry(place: Place): Motion {
  return ({ rng, boxes, table }) => {
    const [a, b] = [boxes[0]!, boxes[1]!];
    const side = rng.sign();
    const sa = place === 'into' || place === 'pretendInto' ? fitScale(a, b, 0.62) : place === 'onTop' ? fitScale(a, b, 0.8) : place === 'behind' ? Math.min(1, fitScale(a, b, 0.85), (1.1 * b.h) / a.h) : 1;
    const ah = a.h * sa;
    const xb = 0.5 - side * 0.1 + rng.range(-0.04, 0.04);
    const xa0 = xb + side * ((a.w * sa + b.w) / 2 + rng.range(0.14, 0.2));
    const y0 = table - ah / 2;
    const rim = table - b.h;
    const above = Math.min(rim, table - ah) - ah / 2 - 0.06;
    const end: Pt =
      place === 'into' ? { x: xb, y: table - b.h * 0.12 - ah / 2 }
      : place === 'onTop' ? { x: xb, y: rim - ah / 2 }
      : place === 'nextTo' ? { x: xb + side * ((a.w * sa + b.w) / 2 + 0.02), y: y0 }
      : place === 'behind' ? { x: xb + rng.range(-0.02, 0.02), y: table - 0.03 - ah / 2 }
      : { x: xa0, y: y0 };
    const arm = topArm(rng);
    return (p) => {
      let x: number, y: number;
      let zA = 2;
      if (place === 'pretendInto') {
        // Up, over B, a dip that stays above the rim, then back to where it was.
        const lift = ph(p, 0.24, 0.34), over = ph(p, 0.34, 0.48), dip = Math.sin(Math.PI * clamp01((p - 0.48) / 0.14)), back = ph(p, 0.62, 0.76), down = ph(p, 0.76, 0.84);
        x = mix(mix(xa0, xb, over), xa0, back);
        y = mix(mix(y0, above, lift) + dip * 0.035, y0, down);
      } else {
        const lift = ph(p, 0.26, 0.38), over = ph(p, 0.38, 0.55), lower = ph(p, 0.55, 0.7);
        x = mix(xa0, end.x, over);
        const yHigh = place === 'nextTo' ? y0 - 0.12 : above;
        y = mix(mix(y0, yHigh, lift), end.y, lower);
        if ((place === 'into' || place === 'behind') && p > 0.56) zA = 0;
      }
      const pa: Pose = { x, y, rot: 0, scale: sa, visible: true, z: zA };
      const pb = rest(xb, b, table, 1);
      return scene([pa, pb], [reach(p, topOf(pa, a), arm, 0.26, 0.74, 1)]);
    };
  };
}

function takeOut(pretend: boolean): Motion {
  return ({ rng, boxes, table }) => {
    const [a, b] = [boxes[0]!, boxes[1]!];
    const side = rng.sign();
    const sa = fitScale(a, b, 0.62);
    const ah = a.h * sa;
    const xb = 0.5 - side * 0.1 + rng.range(-0.04, 0.04);
    const inY = table - b.h * 0.12 - ah / 2;
    const above = Math.min(table - b.h, table - ah) - ah / 2 - 0.06;
    const x1 = xb + side * ((a.w * sa + b.w) / 2 + rng.range(0.14, 0.2));
    const arm = topArm(rng);
    return (p) => {
      const pb = rest(xb, b, table, 1);
      if (pretend) {
        // The hand goes in, closes, and comes out empty along the same path.
        const pa: Pose = { x: xb, y: inY, rot: 0, scale: sa, visible: true, z: 0 };
        const at = topOf(pa, a);
        const up = ph(p, 0.4, 0.55), aside = ph(p, 0.55, 0.7);
        const hand = reach(p, { x: mix(at.x, x1, aside), y: mix(at.y, above - ah / 2, up) }, arm, 0.3, 0.78, 1);
        return scene([pa, pb], [hand]);
      }
      const up = ph(p, 0.32, 0.46), aside = ph(p, 0.46, 0.62), down = ph(p, 0.62, 0.72);
      const pa: Pose = { x: mix(xb, x1, aside), y: mix(mix(inY, above, up), table - ah / 2, down), rot: 0, scale: sa, visible: true, z: p > 0.42 ? 2 : 0 };
      return scene([pa, pb], [reach(p, topOf(pa, a), arm, 0.3, 0.74, 1)]);
    };
  };
}

/** A (a container, in front) is moved aside and B behind it comes into view. */
const removeReveal: Motion = ({ rng, boxes, table }) => {
  const [a, b] = [boxes[0]!, boxes[1]!];
  const side = rng.sign();
  const sb = Math.min(1, (0.85 * a.h) / b.h, (0.8 * a.w) / b.w);
  const x = 0.5 + rng.range(-0.06, 0.06);
  const x1 = x + side * (a.w / 2 + (b.w * sb) / 2 + 0.1);
  const arm = sideArm(side, rng);
  return (p) => {
    const m = ph(p, 0.32, 0.7);
    const pa: Pose = { ...rest(mix(x, x1, m), a, table, 2), y: table - a.h / 2 - 0.06 * Math.sin(Math.PI * m) };
    const pb: Pose = { ...rest(x, b, table - 0.03, 1), scale: sb, y: table - 0.03 - (b.h * sb) / 2 };
    return scene([pa, pb], [reach(p, sideOf(pa, a, side, table), arm, 0.28, 0.76, 1)]);
  };
};

// ---------------------------------------------------------------------------------------------
// Dropping: held still above, released, falls with gravity, small bounce.

function drop(target: 'onto' | 'nextTo' | 'into'): Motion {
  return ({ rng, boxes, table }) => {
    const [a, b] = [boxes[0]!, boxes[1]!];
    const sa = target === 'into' ? fitScale(a, b, 0.62) : target === 'onto' ? fitScale(a, b, 0.8) : 1;
    const ah = a.h * sa;
    const side = rng.sign();
    const xb = 0.5 + side * 0.08 + rng.range(-0.04, 0.04);
    const xa = target === 'nextTo' ? xb - side * ((a.w * sa + b.w) / 2 + 0.03) : xb;
    const land = target === 'into' ? table - b.h * 0.12 - ah / 2 : target === 'onto' ? table - b.h - ah / 2 : table - ah / 2;
    const y0 = Math.min(table - b.h, table - ah) - ah / 2 - rng.range(0.2, 0.26);
    const release = rng.range(0.3, 0.38);
    const arm = topArm(rng);
    const g = 9; // world units / progress²: a 0.3 fall lasts ~0.26 of the action
    const tFall = Math.sqrt((2 * (land - y0)) / g);
    return (p) => {
      const t = p - release;
      let y = y0;
      if (t > 0) {
        if (t < tFall) y = y0 + 0.5 * g * t * t;
        else y = land - 0.03 * Math.abs(Math.sin((Math.PI * (t - tFall)) / 0.08)) * Math.exp(-(t - tFall) * 25);
      }
      const inside = target === 'into' && t > tFall * 0.7;
      const pa: Pose = { x: xa, y, rot: 0, scale: sa, visible: true, z: inside ? 0 : 2 };
      const pb = rest(xb, b, table, 1);
      const held = { x: xa, y: y0 - ah / 2 - HAND * 0.55 };
      const hand = reach(p, held, arm, 0, release + 0.22, 1);
      return scene([pa, pb], [{ ...hand, grip: p < release ? 1 : 0 }]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Turning and spinning.

function upsideDown(pretend: boolean): Motion {
  return ({ rng, boxes, table }) => {
    const a = boxes[0]!;
    const side = rng.sign();
    const x = 0.5 + rng.range(-0.08, 0.08);
    const arm = sideArm(side, rng);
    const turnTo = pretend ? rng.range(0.25, 0.35) * Math.PI : Math.PI;
    return (p) => {
      const up = ph(p, 0.3, 0.4) * (1 - ph(p, 0.66, 0.76));
      const turn = pretend ? ph(p, 0.42, 0.53) * (1 - ph(p, 0.55, 0.66)) : ph(p, 0.42, 0.64);
      const pa: Pose = { ...rest(x, a, table), y: table - a.h / 2 - up * 0.12, rot: -side * turn * turnTo };
      const at = { x: x + side * (a.w / 2 + HAND * 0.6), y: pa.y };
      return scene([pa], [reach(p, at, arm, 0.28, 0.78, 1)]);
    };
  };
}

function spin(keepsGoing: boolean): Motion {
  return ({ rng, boxes, table }) => {
    const a = boxes[0]!;
    const side = rng.sign();
    const x = 0.5 + rng.range(-0.08, 0.08);
    const arm = sideArm(side, rng);
    const flick = rng.range(0.28, 0.34);
    const w0 = rng.range(38, 46); // radians per unit progress
    const tau = keepsGoing ? 3 : 0.07;
    return (p) => {
      const t = Math.max(0, p - flick);
      const angle = w0 * tau * (1 - Math.exp(-t / tau));
      const pa: Pose = { ...rest(x, a, table), spin: side * angle };
      const at = sideOf(pa, a, side, table);
      const swipe = { x: at.x - side * 0.05 * Math.sin(Math.PI * clamp01((p - flick + 0.04) / 0.08)), y: at.y };
      return scene([pa], [reach(p, swipe, arm, flick - 0.02, flick + 0.08, 0.3)]);
    };
  };
}

function roll(pushedAllAlong: boolean): Motion {
  return ({ rng, boxes, table, amp }) => {
    const a = boxes[0]!;
    const dir = rng.sign();
    const dist = rng.range(0.34, 0.42) * amp;
    const x0 = 0.5 - (dir * dist) / 2;
    const arm = sideArm(-dir, rng);
    return (p) => {
      const m = pushedAllAlong ? ph(p, 0.3, 0.78) : 1 - Math.exp(-Math.max(0, p - 0.3) / 0.15);
      const pa: Pose = { ...rest(x0 + dir * dist * m, a, table), rot: (dir * dist * m) / (a.w / 2) };
      const at = sideOf(pa, a, -dir, table);
      // Letting it roll: one short shove, then the hand leaves while the object rolls on.
      const hand = reach(p, at, arm, 0.28, pushedAllAlong ? 0.8 : 0.36, 0.3);
      return scene([pa], [hand]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Covering with cloth, uncovering.

function cover(un: boolean): Motion {
  return ({ rng, boxes, table }) => {
    // Actor 0 is covered, actor 1 is the cloth.
    const [a, c] = [boxes[0]!, boxes[1]!];
    const side = rng.sign();
    const x = 0.5 - side * 0.1 + rng.range(-0.04, 0.04);
    const xc = x + side * (Math.max(a.w, c.w) / 2 + c.w / 2 + 0.06);
    const arm = topArm(rng);
    const drapeW = Math.max(c.w, a.w + 0.08) / c.w;
    return (p) => {
      // k: 0 cloth flat at its own place, 1 cloth over A.
      let k: number;
      let liftY: number;
      if (!un) {
        const lift = ph(p, 0.28, 0.38), over = ph(p, 0.38, 0.56), lower = ph(p, 0.56, 0.68);
        k = over;
        liftY = lift * (1 - lower);
      } else {
        const lift = ph(p, 0.3, 0.42), away = ph(p, 0.42, 0.6), lower = ph(p, 0.6, 0.7);
        k = 1 - away;
        liftY = lift * (1 - lower);
      }
      const drape = liftY > 0.05 ? 0 : k;
      const cx = mix(xc, x, k);
      const high = table - a.h - 0.12;
      const restCy = table - (c.h + drape * a.h) / 2;
      const cy = mix(restCy, high, liftY);
      const pc: Pose = { x: cx, y: cy, rot: 0, scale: 1, visible: true, z: 3, drape, drapeHeight: a.h + c.h, mirror: false };
      if (drape > 0) pc.scale = mix(1, drapeW, drape);
      const pa = rest(x, a, table, 1);
      const top = { x: cx, y: cy - (c.h + drape * a.h) / 2 - HAND * 0.5 };
      return scene([pa, pc], [reach(p, top, arm, 0.27, 0.76, 1)]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Pretending to pick up, showing, holding, poking.

const pretendPick: Motion = ({ rng, boxes, table }) => {
  const a = boxes[0]!;
  const x = 0.5 + rng.range(-0.08, 0.08);
  const arm = topArm(rng);
  return (p) => {
    const pa = rest(x, a, table);
    const at = topOf(pa, a);
    // The hand closes on it and rises, but the object stays down.
    const up = Math.sin(Math.PI * clamp01((p - 0.38) / 0.3));
    return scene([pa], [reach(p, { x: at.x, y: at.y - up * 0.12 }, arm, 0.3, 0.74, 1)]);
  };
};

const showToCamera: Motion = ({ rng, boxes, table }) => {
  const a = boxes[0]!;
  const x0 = 0.5 + rng.sign() * rng.range(0.1, 0.16);
  const arm = topArm(rng) * 0 + Math.PI / 2 + rng.range(-0.4, 0.4); // from below: held out to the lens
  const grow = rng.range(1.6, 1.9);
  return (p) => {
    const m = ph(p, 0.3, 0.65);
    const pa: Pose = { ...rest(mix(x0, 0.5, m), a, table, 3), scale: mix(1, grow, m) };
    pa.y = mix(table - a.h / 2, 0.45, m);
    const at = { x: pa.x, y: pa.y + (a.h * pa.scale) / 2 + HAND * 0.4 };
    return scene([pa], [reach(p, at, arm, 0.28, 1, 1)]);
  };
};

const hold: Motion = ({ rng, boxes, table }) => {
  const a = boxes[0]!;
  const x = 0.5 + rng.range(-0.1, 0.1);
  const y = table - a.h / 2 - rng.range(0.12, 0.2);
  const arm = topArm(rng);
  const ph1 = rng.range(0, 6), ph2 = rng.range(0, 6);
  return (p) => {
    const pa: Pose = { ...rest(x + 0.006 * Math.sin(9 * p + ph1), a, table), y: y + 0.006 * Math.sin(13 * p + ph2) };
    return scene([pa], [reach(p, topOf(pa, a), arm, 0, 1, 1)]);
  };
};

function poke(falls: boolean): Motion {
  return ({ rng, boxes, table }) => {
    const a = boxes[0]!;
    const side = rng.sign();
    const x = 0.5 + side * 0.05 + rng.range(-0.05, 0.05);
    const arm = sideArm(side, rng);
    const touch = rng.range(0.38, 0.44);
    return (p) => {
      let pa = rest(x, a, table);
      const jab = Math.sin(Math.PI * clamp01((p - touch + 0.06) / 0.12));
      let at: Pt;
      if (falls) {
        // Tips over its far bottom corner, away from the finger.
        const fall = clamp01((p - touch) / 0.16);
        const th = -side * (Math.PI / 2) * fall * fall;
        const pivot = { x: x - side * (a.w / 2), y: table };
        const c = rotate(side * (a.w / 2), -a.h / 2, th);
        pa = { ...pa, x: pivot.x + c.x, y: pivot.y + c.y, rot: th };
        at = { x: x + side * (a.w / 2 + HAND * 0.9 - 0.035 * jab), y: table - a.h * 0.85 };
      } else {
        pa = { ...pa, rot: 0.02 * side * jab * -1 };
        at = { x: x + side * (a.w / 2 + HAND * 0.9 - 0.025 * jab), y: Math.min(pa.y, table - HAND) };
      }
      return scene([pa], [reach(p, at, arm, touch - 0.08, touch + 0.12, 0, true)]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Camera motion: nothing in the scene moves, the view does.

function cameraMove(kind: 'left' | 'right' | 'approach' | 'away'): Motion {
  return ({ rng, boxes, table, amp }) => {
    const a = boxes[0]!;
    const x = 0.5 + rng.range(-0.06, 0.06);
    const pan = rng.range(0.2, 0.26) * amp;
    const zoomTo = rng.range(1.6, 1.8);
    return (p) => {
      const m = ph(p, 0.15, 0.85);
      let camera: Camera;
      // Turning the camera left brings what was on the left into view: the scene slides right.
      if (kind === 'left') camera = { dx: mix(pan / 2, -pan / 2, m), dy: 0, zoom: 1 };
      else if (kind === 'right') camera = { dx: mix(-pan / 2, pan / 2, m), dy: 0, zoom: 1 };
      else {
        const z = kind === 'approach' ? mix(1, zoomTo, m) : mix(zoomTo, 1, m);
        const k = (z - 1) / (zoomTo - 1);
        camera = { dx: (x - 0.5) * k, dy: (table - a.h / 2 - 0.5) * k, zoom: z };
      }
      return scene([rest(x, a, table)], [], { camera });
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Tilting a flat thing with something on it.

function tilt(fallsOff: boolean): Motion {
  return ({ rng, boxes, table }) => {
    const [b, a] = [boxes[0]!, boxes[1]!]; // actor 0 is tilted, actor 1 stands on it
    const side = rng.sign(); // the lifted end
    const sa = fitScale(a, b, 0.4);
    const ah = a.h * sa;
    const cx = 0.5 + rng.range(-0.05, 0.05);
    const pivot = { x: cx - side * (b.w / 2), y: table };
    const u0 = b.w * 0.62; // A's distance from the pivot along the top
    const maxAngle = fallsOff ? rng.range(0.5, 0.6) : rng.range(0.14, 0.2);
    const arm = sideArm(side, rng);
    const landX = pivot.x - side * ((a.w * sa) / 2 + 0.02);
    return (p) => {
      const raise = ph(p, 0.28, 0.5) * (1 - ph(p, fallsOff ? 0.72 : 0.6, fallsOff ? 0.84 : 0.76));
      const th = -side * maxAngle * raise;
      const bc = rotate((side * b.w) / 2, -b.h / 2, th);
      const pb: Pose = { x: pivot.x + bc.x, y: pivot.y + bc.y, rot: th, scale: 1, visible: true, z: 1 };
      let pa: Pose;
      const slide = fallsOff ? ph(p, 0.44, 0.58) : 0;
      const fall = fallsOff ? ph(p, 0.58, 0.66) : 0;
      const onTop = (u: number) => {
        const c = rotate(side * u, -b.h - ah / 2, th);
        return { x: pivot.x + c.x, y: pivot.y + c.y };
      };
      if (fall > 0) {
        const from = onTop(0);
        pa = { x: mix(from.x, landX, fall), y: mix(from.y, table - ah / 2, fall) - 0.03 * Math.sin(Math.PI * fall), rot: th * (1 - fall), scale: sa, visible: true, z: 2 };
      } else {
        const c = onTop(u0 * (1 - slide));
        pa = { x: c.x, y: c.y, rot: th, scale: sa, visible: true, z: 2 };
      }
      const end = rotate(side * b.w, -b.h / 2, th);
      const at = { x: pivot.x + end.x + side * HAND * 0.7, y: pivot.y + end.y };
      return scene([pb, pa], [reach(p, at, arm, 0.26, 0.86, 1)]);
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Kitchen: pouring, emptying, stirring, scooping, lids, wiping, cutting, shaking, flipping, tapping.
// A tool (spoon, knife, vessel) is in the hand for the whole clip, so it never floats on its own.

/** The top centre of a rotated box (a spout or a rim). */
const topPoint = (pose: Pose, box: ActorBox): Pt => {
  const v = rotate(0, (-box.h * pose.scale) / 2, pose.rot);
  return { x: pose.x + v.x, y: pose.y + v.y };
};

function pour(kind: 'pour' | 'pretend'): Motion {
  return ({ rng, boxes, table }) => {
    // 0 liquid, 1 container, 2 vessel.
    const [c, v] = [boxes[1]!, boxes[2]!];
    const side = rng.sign();
    const xc = 0.5 - side * 0.08 + rng.range(-0.04, 0.04);
    const tiltTo = kind === 'pour' ? rng.range(1.8, 2.0) : rng.range(1.5, 1.7);
    const arm = sideArm(side, rng);
    const f0 = rng.range(0.05, 0.15);
    // Held just beside and above the container's rim, so spout, stream and rim share the view.
    const hv = { x: xc + side * (c.w / 2 + v.w * 0.3), y: table - c.h - v.h * 0.4 - 0.03 };
    return (p) => {
      const t = ph(p, 0.18, 0.38) * (1 - ph(p, 0.76, 0.9));
      const pv: Pose = { x: hv.x, y: hv.y - 0.04 * t, rot: -side * tiltTo * t, scale: 1, visible: true, z: 2 };
      const flowing = kind === 'pour' && p > 0.36 && p < 0.8;
      const pc: Pose = { ...rest(xc, c, table), fill: kind === 'pour' ? mix(f0, 0.8, ph(p, 0.38, 0.78)) : f0, fillFrom: 0 };
      const spout = topPoint(pv, v);
      const streams: Stream[] = flowing ? [{ x0: spout.x, y0: spout.y, x1: xc + side * 0.01, y1: table - c.h * (0.1 + 0.75 * (pc.fill ?? 0)), width: 0.035, colourOf: 0 }] : [];
      const hand = reach(p, { x: pv.x + side * HAND * 0.2, y: pv.y }, arm, 0, 1, 1);
      return scene([{ ...rest(0, { w: 0, h: 0 }, table), visible: false }, pc, pv], [hand], { streams });
    };
  };
}

const pourOut: Motion = ({ rng, boxes, table }) => {
  const c = boxes[1]!;
  const side = rng.sign();
  const x = 0.5 + side * 0.05 + rng.range(-0.04, 0.04);
  const y = table - c.h / 2 - rng.range(0.16, 0.22);
  const arm = sideArm(-side, rng);
  return (p) => {
    const t = ph(p, 0.2, 0.4) * (1 - ph(p, 0.78, 0.92));
    const pc: Pose = { x, y, rot: side * 2.0 * t, scale: 1, visible: true, z: 2, fill: mix(0.75, 0.05, ph(p, 0.38, 0.78)), fillFrom: 0 };
    const lip = topPoint(pc, c);
    const streams: Stream[] = p > 0.36 && p < 0.8 ? [{ x0: lip.x, y0: lip.y, x1: lip.x + side * 0.04, y1: 1.2, width: 0.032, colourOf: 0 }] : [];
    const at = { x: x - side * (c.w / 2 + HAND * 0.5), y };
    return scene([{ ...rest(0, { w: 0, h: 0 }, table), visible: false }, pc], [reach(p, at, arm, 0, 1, 1)], { streams });
  };
};

const emptyInto: Motion = ({ rng, boxes, table }) => {
  // 0 source bowl held over 1 target, 2 the content.
  const [s, d] = [boxes[0]!, boxes[1]!];
  const side = rng.sign();
  const xd = 0.5 + rng.range(-0.05, 0.05);
  const ss = Math.min(1, (0.8 * d.w) / s.w);
  const hy = table - d.h - (s.h * ss) / 2 - rng.range(0.14, 0.18);
  const arm = sideArm(side, rng);
  return (p) => {
    const turn = ph(p, 0.3, 0.46);
    const ps: Pose = { x: xd, y: hy, rot: side * Math.PI * 0.85 * turn * (1 - ph(p, 0.8, 0.92)), scale: ss, visible: true, z: 2, fill: mix(0.6, 0, ph(p, 0.44, 0.62)), fillFrom: 2 };
    const pd: Pose = { ...rest(xd, d, table), fill: mix(0.1, 0.45, ph(p, 0.5, 0.72)), fillFrom: 2 };
    const particles: Particle[] = [];
    if (p > 0.42 && p < 0.72) {
      for (let i = 0; i < 6; i++) {
        const f = ((p - 0.42) * 5 + i / 6) % 1;
        particles.push({ x: xd + (i % 3 - 1) * 0.03, y: mix(hy, table - d.h * 0.5, f), r: 0.018, colourOf: 2 });
      }
    }
    const at = { x: xd + side * ((s.w * ss) / 2 + HAND * 0.5), y: hy };
    return scene([ps, pd, { ...rest(0, { w: 0, h: 0 }, table), visible: false }], [reach(p, at, arm, 0, 0.9, 1)], { particles });
  };
};

function stir(fast: boolean): Motion {
  return ({ rng, boxes, table }) => {
    // 0 content, 1 tool, 2 container.
    const [tool, pot] = [boxes[1]!, boxes[2]!];
    const x = 0.5 + rng.range(-0.06, 0.06);
    const arm = topArm(rng);
    const cycles = fast ? rng.range(6, 8) : rng.range(1.8, 2.4);
    const ampX = fast ? pot.w * 0.08 : pot.w * 0.28;
    const phase = rng.range(0, Math.PI * 2);
    const tipY = table - pot.h * 0.35;
    return (p) => {
      const inn = ph(p, 0.05, 0.22) * (1 - ph(p, 0.84, 0.96));
      const w = Math.sin(2 * Math.PI * cycles * p + phase);
      const bob = fast ? 0.015 * Math.sin(4 * Math.PI * cycles * p) : 0;
      const tip = { x: x + ampX * w * inn, y: mix(tipY - 0.25, tipY, inn) + bob };
      const rot = (fast ? 0.1 : 0.35) * w * inn;
      const c = rotate(0, -tool.h / 2, rot);
      const pt: Pose = { x: tip.x + c.x, y: tip.y + c.y, rot, scale: 1, visible: true, z: 0 };
      const pp: Pose = { ...rest(x, pot, table), fill: 0.6, fillFrom: 0 };
      const grip = rotate(0, -tool.h * 0.42, rot);
      return scene([{ ...rest(0, { w: 0, h: 0 }, table), visible: false }, pt, pp], [reach(p, { x: pt.x + grip.x, y: pt.y + grip.y }, arm, 0, 1, 1)]);
    };
  };
}

const scoop: Motion = ({ rng, boxes, table }) => {
  // 0 content, 1 container, 2 scooper.
  const [pot, tool] = [boxes[1]!, boxes[2]!];
  const side = rng.sign();
  const x = 0.5 - side * 0.06 + rng.range(-0.04, 0.04);
  const arm = topArm(rng);
  const tipIn = { x, y: table - pot.h * 0.35 };
  const tipOut = { x: x + side * (pot.w / 2 + 0.12), y: table - pot.h - 0.1 };
  return (p) => {
    const down = ph(p, 0.15, 0.35), out = ph(p, 0.5, 0.72);
    const tip = { x: mix(mix(x, x, down), tipOut.x, out), y: mix(mix(tipIn.y - 0.25, tipIn.y, down), tipOut.y, out) };
    const rot = side * 0.3 * Math.sin(Math.PI * clamp01((p - 0.35) / 0.2));
    const c = rotate(0, -tool.h / 2, rot);
    const pt: Pose = { x: tip.x + c.x, y: tip.y + c.y, rot, scale: 1, visible: true, z: out > 0.3 ? 3 : 0 };
    const pp: Pose = { ...rest(x, pot, table), fill: p > 0.45 ? 0.5 : 0.6, fillFrom: 0 };
    const particles: Particle[] = p > 0.45 ? [{ x: tip.x, y: tip.y - 0.012, r: 0.026, colourOf: 0 }] : [];
    const grip = rotate(0, -tool.h * 0.42, rot);
    return scene([{ ...rest(0, { w: 0, h: 0 }, table), visible: false }, pp, pt], [reach(p, { x: pt.x + grip.x, y: pt.y + grip.y }, arm, 0, 1, 1)], { particles });
  };
};

function lid(kind: 'on' | 'off' | 'pretend'): Motion {
  return ({ rng, boxes, table }) => {
    // 0 the pot, 1 the lid.
    const [pot, lidBox] = [boxes[0]!, boxes[1]!];
    const side = rng.sign();
    const x = 0.5 - side * 0.08 + rng.range(-0.04, 0.04);
    const ls = (pot.w * 1.04) / lidBox.w;
    const onY = table - pot.h - (lidBox.h * ls) / 2 + 0.005;
    const aside = { x: x + side * (pot.w / 2 + 0.16), y: onY - 0.18 };
    const arm = topArm(rng);
    return (p) => {
      let lx: number, ly: number;
      if (kind === 'on') {
        const over = ph(p, 0.2, 0.48), lower = ph(p, 0.48, 0.62);
        lx = mix(aside.x, x, over);
        ly = mix(mix(aside.y, onY - 0.1, over), onY, lower);
      } else if (kind === 'off') {
        const up = ph(p, 0.34, 0.48), away = ph(p, 0.48, 0.74);
        lx = mix(x, aside.x, away);
        ly = mix(mix(onY, onY - 0.1, up), aside.y, away);
      } else {
        const over = ph(p, 0.2, 0.46), hover = Math.sin(Math.PI * clamp01((p - 0.46) / 0.16)), back = ph(p, 0.62, 0.82);
        lx = mix(mix(aside.x, x, over), aside.x, back);
        ly = mix(mix(aside.y, onY - 0.1, over) + hover * 0.045, aside.y, back);
      }
      const pl: Pose = { x: lx, y: ly, rot: 0, scale: ls, visible: true, z: 2 };
      const pp = rest(x, pot, table);
      const at = { x: lx, y: ly - (lidBox.h * ls) / 2 - HAND * 0.55 };
      const [tIn, tOut] = kind === 'off' ? [0.32, 0.8] : [0, 0.7];
      return scene([pp, pl], [reach(p, at, arm, tIn, kind === 'pretend' ? 0.86 : tOut, 1)]);
    };
  };
}

const wipe: Motion = ({ rng, boxes, table }) => {
  // 0 surface, 1 wiper.
  const [s, w] = [boxes[0]!, boxes[1]!];
  const x = 0.5 + rng.range(-0.04, 0.04);
  const strokes = rng.range(2.5, 3.5);
  const arm = topArm(rng);
  const reachX = (s.w - w.w) * 0.45;
  return (p) => {
    const m = clamp01((p - 0.25) / 0.55);
    const wx = x + reachX * Math.sin(2 * Math.PI * strokes * m) * (m > 0 && m < 1 ? 1 : 0);
    const ps: Pose = { ...rest(x, s, table), dirt: 1 - ph(p, 0.28, 0.78) };
    const pw: Pose = { ...rest(wx, w, table - s.h, 2) };
    return scene([ps, pw], [reach(p, topOf(pw, w), arm, 0.24, 0.82, 1)]);
  };
};

function cut(pretend: boolean): Motion {
  return ({ rng, boxes, table }) => {
    // 0 food, 1 knife, 2 board.
    const [f, k, b] = [boxes[0]!, boxes[1]!, boxes[2]!];
    const side = rng.sign();
    const x = 0.5 + rng.range(-0.05, 0.05);
    const top = table - b.h;
    const arm = sideArm(side, rng);
    const bladeLow = pretend ? top - f.h - 0.03 : top - 0.005;
    return (p) => {
      const down = ph(p, 0.3, 0.62) * (1 - ph(p, 0.68, 0.8));
      const saw = 0.035 * Math.sin(2 * Math.PI * 3 * clamp01((p - 0.3) / 0.38));
      const blade = mix(top - f.h - 0.12, bladeLow, down);
      const pk: Pose = { x: x + side * (k.w * 0.2) + saw, y: blade - k.h / 2, rot: 0, scale: 1, visible: true, z: 3, mirror: side < 0 };
      const pf: Pose = { ...rest(x, f, top, 2), split: pretend ? 0 : ph(p, 0.58, 0.72) };
      const pb = rest(x, b, table, 1);
      const at = { x: pk.x + side * (k.w / 2 - 0.02), y: pk.y - 0.01 };
      return scene([pf, pk, pb], [reach(p, at, arm, 0, 1, 1)]);
    };
  };
}

const shake: Motion = ({ rng, boxes, table }) => {
  const a = boxes[0]!;
  const x = 0.5 + rng.range(-0.06, 0.06);
  const y = table - a.h / 2 - rng.range(0.1, 0.14);
  const cycles = rng.range(4.5, 6);
  const arm = topArm(rng);
  return (p) => {
    const m = clamp01((p - 0.2) / 0.6);
    const w = Math.sin(2 * Math.PI * cycles * m) * (m > 0 && m < 1 ? 1 : 0);
    const pa: Pose = { ...rest(x + 0.05 * w, a, table), y, rot: 0.25 * w };
    const c = rotate(0, (-a.h / 2) * 0.3, pa.rot);
    return scene([pa], [reach(p, { x: pa.x + c.x, y: pa.y + c.y }, arm, 0, 1, 1)]);
  };
};

const flip: Motion = ({ rng, boxes, table }) => {
  // 0 food, 1 pan.
  const [f, pan] = [boxes[0]!, boxes[1]!];
  const side = rng.sign();
  const x = 0.5 - side * 0.05 + rng.range(-0.04, 0.04);
  const py = table - pan.h / 2 - 0.08;
  const sf = Math.min(1, (0.6 * pan.w) / f.w);
  const arm = sideArm(side, rng);
  return (p) => {
    const jerk = Math.sin(Math.PI * clamp01((p - 0.34) / 0.1));
    const air = clamp01((p - 0.38) / 0.26);
    const pp: Pose = { x, y: py - 0.05 * jerk, rot: side * 0.15 * jerk, scale: 1, visible: true, z: 1, mirror: side < 0 };
    const pf: Pose = { x, y: pp.y - pan.h / 2 - (f.h * sf) / 2 - 0.25 * Math.sin(Math.PI * air), rot: side * Math.PI * air, scale: sf, visible: true, z: 2 };
    const at = { x: x + side * (pan.w / 2 + 0.08), y: pp.y };
    return scene([pf, pp], [reach(p, at, arm, 0, 1, 1)]);
  };
};

const tap: Motion = ({ rng, boxes, table }) => {
  // 0 tool, 1 container.
  const [tool, pot] = [boxes[0]!, boxes[1]!];
  const side = rng.sign();
  const x = 0.5 + rng.range(-0.05, 0.05);
  const rim = { x: x + side * pot.w * 0.4, y: table - pot.h };
  const rot = side * 0.6;
  const arm = sideArm(side, rng);
  return (p) => {
    const m = clamp01((p - 0.3) / 0.42);
    const taps = Math.abs(Math.sin(Math.PI * 3 * m)) * (m > 0 && m < 1 ? 1 : 0);
    const tip = { x: rim.x, y: rim.y - 0.01 - 0.07 * (m <= 0 || m >= 1 ? 1 : taps) };
    const c = rotate(0, -tool.h / 2, rot);
    const pt: Pose = { x: tip.x + c.x, y: tip.y + c.y, rot, scale: 1, visible: true, z: 2 };
    const grip = rotate(0, -tool.h * 0.42, rot);
    return scene([pt, rest(x, pot, table, 1)], [reach(p, { x: pt.x + grip.x, y: pt.y + grip.y }, arm, 0, 1, 1)]);
  };
};

// ---------------------------------------------------------------------------------------------
// No action: what a counter shows most of the time. The objects stay where they are; one of an
// empty counter, a hand resting or hovering, a hand passing through, or the camera nudged.

export const IDLE_KINDS = ['empty', 'rest', 'hover', 'pass', 'nudge'] as const;

const idle: Motion = ({ rng, boxes, table }) => {
  const kind = rng.pick(IDLE_KINDS);
  const xs = boxes.map((_, i) => 0.5 + (i - (boxes.length - 1) / 2) * 0.3 + rng.range(-0.05, 0.05));
  const actors = () => boxes.map((b, i) => rest(xs[i]!, b, table));
  const side = rng.sign();
  const spot = { x: 0.5 + rng.range(-0.3, 0.3), y: table - HAND * rng.range(0.6, 0.9) };
  const hoverY = table - rng.range(0.2, 0.35);
  const arm = sideArm(side, rng);
  const above = topArm(rng);
  const nudge = { dx: rng.range(0.03, 0.06) * rng.sign(), dy: rng.range(-0.02, 0.02), at: rng.range(0.3, 0.7) };
  const wobble = rng.range(0.004, 0.01), freq = rng.range(1, 3);
  return (p) => {
    const still = { x: spot.x + wobble * Math.sin(freq * 6.3 * p), y: spot.y };
    switch (kind) {
      case 'empty':
        return scene(actors(), []);
      case 'rest':
        return scene(actors(), [{ x: still.x, y: still.y, angle: arm, grip: 0.2 }]);
      case 'hover':
        return scene(actors(), [{ x: still.x, y: hoverY + wobble * Math.cos(freq * 6.3 * p), angle: above, grip: 0.1 }]);
      case 'pass': {
        // Across the frame above the objects, touching nothing.
        const x = mix(0.5 - side * 0.75, 0.5 + side * 0.75, p);
        return scene(actors(), [{ x, y: hoverY, angle: side > 0 ? Math.PI - 0.3 : 0.3, grip: 0 }]);
      }
      case 'nudge': {
        const k = ph(p, nudge.at, nudge.at + 0.1);
        return scene(actors(), [], { camera: { dx: nudge.dx * k, dy: nudge.dy * k, zoom: 1 } });
      }
    }
  };
};

export const MOTIONS = {
  idle,
  pushRight: sideways(1, 'push'),
  pushLeft: sideways(-1, 'push'),
  pushSlightly: sideways(0, 'slight'),
  pretendPush: sideways(0, 'pretend'),
  pullRight: sideways(1, 'pull'),
  pullLeft: sideways(-1, 'pull'),
  slideRight: sideways(1, 'slide'),
  slideLeft: sideways(-1, 'slide'),
  moveUp: vertical('up'),
  moveDown: vertical('down'),
  liftUp: vertical('lift'),
  putOnSurface: vertical('put'),
  moveCloser: relative('closer'),
  moveAway: relative('away'),
  bothCloser: bothRelative('closer'),
  bothAway: bothRelative('away'),
  putInto: carry('into'),
  pretendPutInto: carry('pretendInto'),
  putOnTop: carry('onTop'),
  putNextTo: carry('nextTo'),
  putBehind: carry('behind'),
  takeOut: takeOut(false),
  pretendTakeOut: takeOut(true),
  removeReveal,
  dropOnto: drop('onto'),
  dropNextTo: drop('nextTo'),
  dropInto: drop('into'),
  upsideDown: upsideDown(false),
  pretendUpsideDown: upsideDown(true),
  spinStop: spin(false),
  spinContinue: spin(true),
  roll: roll(true),
  letRoll: roll(false),
  cover: cover(false),
  uncover: cover(true),
  pretendPick,
  showToCamera,
  hold,
  pokeLightly: poke(false),
  pokeFall: poke(true),
  cameraLeft: cameraMove('left'),
  cameraRight: cameraMove('right'),
  cameraApproach: cameraMove('approach'),
  cameraAway: cameraMove('away'),
  tiltFall: tilt(true),
  tiltSlight: tilt(false),
  pour: pour('pour'),
  pretendPour: pour('pretend'),
  pourOut,
  emptyInto,
  stir: stir(false),
  whisk: stir(true),
  scoop,
  lidOn: lid('on'),
  lidOff: lid('off'),
  pretendLidOn: lid('pretend'),
  wipe,
  cut: cut(false),
  pretendCut: cut(true),
  shake,
  flip,
  tap,
} satisfies Record<string, Motion>;

export type MotionName = keyof typeof MOTIONS;
