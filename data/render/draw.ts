/**
 * Draws objects, hands and effects onto a 2D canvas context in world units (the caller sets the
 * camera transform). Each shape is drawn centred on (0, 0) in a box of w × h; silhouettes are
 * kept simple and high-contrast so that the key object stays recognisable at 64 × 64.
 */
import { createCanvas, type CanvasPattern, type SKRSContext2D } from '@napi-rs/canvas';
import type { ShapeName, Texture } from '../catalogue/types.js';
import { HAND, type Hand, type Particle, type Pose, type Stream } from './motions.js';

export type Rgb = readonly [number, number, number];

export interface ActorStyle {
  readonly shape: ShapeName;
  readonly w: number;
  readonly h: number;
  readonly colour: Rgb;
  readonly texture: Texture;
  /** A second colour for patterns and parts (caps, handles). */
  readonly accent: Rgb;
}

export const css = (c: Rgb, alpha = 1) => `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${alpha})`;
export const shade = (c: Rgb, k: number): Rgb => [Math.min(255, c[0] * k), Math.min(255, c[1] * k), Math.min(255, c[2] * k)];

const OUTLINE = 0.006;

function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, r: number) {
  const rr = Math.max(0, Math.min(r, w / 2, h / 2));
  ctx.beginPath();
  ctx.moveTo(x + rr, y);
  ctx.arcTo(x + w, y, x + w, y + h, rr);
  ctx.arcTo(x + w, y + h, x, y + h, rr);
  ctx.arcTo(x, y + h, x, y, rr);
  ctx.arcTo(x, y, x + w, y, rr);
  ctx.closePath();
}

/** One tile of a texture in the accent colour, as a pattern sized to the object (cached per style). */
const patterns = new WeakMap<ActorStyle, CanvasPattern>();
const TILE = 16;

function texturePattern(ctx: SKRSContext2D, s: ActorStyle): CanvasPattern | undefined {
  const cached = patterns.get(s);
  if (cached) return cached;
  const tile = createCanvas(TILE, TILE);
  const t = tile.getContext('2d');
  t.fillStyle = css(s.accent);
  if (s.texture === 'striped') t.fillRect(0, 0, TILE * 0.45, TILE);
  else if (s.texture === 'dotted') {
    t.beginPath();
    t.arc(TILE / 2, TILE / 2, TILE * 0.22, 0, Math.PI * 2);
    t.fill();
  } else {
    t.fillRect(0, 0, TILE / 2, TILE / 2);
    t.fillRect(TILE / 2, TILE / 2, TILE / 2, TILE / 2);
  }
  const pattern = ctx.createPattern(tile, 'repeat');
  if (!pattern) return undefined;
  // A stripe, dot or check every fifth of the object's larger side (a check pair spans two).
  const k = (Math.max(s.w, s.h) / 5 / TILE) * (s.texture === 'checked' ? 2 : 1);
  pattern.setTransform({ a: k, b: 0, c: 0, d: k, e: 0, f: 0 });
  patterns.set(s, pattern);
  return pattern;
}

/** Fills the current path with the style's colour and texture and outlines it. */
function paint(ctx: SKRSContext2D, s: ActorStyle, colour: Rgb = s.colour, textured = true) {
  ctx.fillStyle = css(colour);
  ctx.fill();
  if (textured && s.texture !== 'plain') {
    const pattern = texturePattern(ctx, s);
    if (pattern) {
      ctx.fillStyle = pattern;
      ctx.fill();
    }
  }
  ctx.lineWidth = OUTLINE;
  ctx.strokeStyle = css(shade(colour, 0.45));
  ctx.stroke();
}

function ellipse(ctx: SKRSContext2D, x: number, y: number, rx: number, ry: number) {
  ctx.beginPath();
  ctx.ellipse(x, y, Math.max(1e-4, rx), Math.max(1e-4, ry), 0, 0, Math.PI * 2);
}

const DARK: Rgb = [40, 36, 34];
const METAL: Rgb = [190, 195, 200];
const WOOD: Rgb = [176, 128, 80];

/** The open top of a container, showing its liquid if it has some. */
function opening(ctx: SKRSContext2D, x: number, y: number, rx: number, ry: number, liquid?: Rgb) {
  ellipse(ctx, x, y, rx, ry);
  ctx.fillStyle = css(liquid ?? DARK);
  ctx.fill();
}

/** A liquid level seen through a container's side: a band from the bottom up. */
function level(ctx: SKRSContext2D, w: number, h: number, fill: number, liquid: Rgb, bottom: number) {
  if (fill <= 0) return;
  const lh = (h * 0.85) * Math.min(1, fill);
  ctx.fillStyle = css(liquid, 0.85);
  ctx.fillRect(-w / 2 + w * 0.12, bottom - lh, w * 0.76, lh);
}

export interface Extras {
  fill: number;
  liquid?: Rgb;
  split: number;
  dirt: number;
  drape: number;
  drapeHeight: number;
}

/** Draws one shape centred at the origin. */
function drawShape(ctx: SKRSContext2D, s: ActorStyle, e: Extras) {
  const { w, h } = s;
  const hw = w / 2, hh = h / 2;
  switch (s.shape) {
    case 'box': {
      ctx.beginPath();
      ctx.rect(-hw, -hh, w, h);
      paint(ctx, s);
      opening(ctx, 0, -hh, hw * 0.92, h * 0.1, e.fill > 0 ? e.liquid : undefined);
      ctx.fillStyle = css(shade(s.colour, 0.7));
      ctx.fillRect(-w * 0.04, -hh, w * 0.08, h);
      break;
    }
    case 'ball':
    case 'tomato':
    case 'lemon': {
      const rx = s.shape === 'lemon' ? hw : Math.min(hw, hh), ry = s.shape === 'lemon' ? hh : rx;
      ellipse(ctx, 0, 0, rx, ry);
      paint(ctx, s);
      // A band across it shows it turning as it rolls.
      ctx.strokeStyle = css(s.shape === 'ball' ? shade(s.accent, 0.9) : shade(s.colour, 0.7));
      ctx.lineWidth = rx * 0.25;
      ctx.beginPath();
      ctx.moveTo(-rx * 0.95, 0);
      ctx.lineTo(rx * 0.95, 0);
      ctx.stroke();
      if (s.shape === 'tomato') {
        ctx.fillStyle = css([40, 140, 40]);
        ctx.fillRect(-rx * 0.35, -ry - 0.008, rx * 0.7, 0.016);
      }
      break;
    }
    case 'cup':
    case 'glass':
    case 'jar':
    case 'mug':
    case 'can':
    case 'candle': {
      const top = s.shape === 'cup' ? hw : hw * 0.9, bottom = s.shape === 'cup' ? hw * 0.72 : hw * 0.9;
      ctx.beginPath();
      ctx.moveTo(-top, -hh);
      ctx.lineTo(top, -hh);
      ctx.lineTo(bottom, hh);
      ctx.lineTo(-bottom, hh);
      ctx.closePath();
      if (s.shape === 'glass') {
        ctx.fillStyle = css([210, 230, 240], 0.35);
        ctx.fill();
        ctx.lineWidth = OUTLINE;
        ctx.strokeStyle = css(s.colour);
        ctx.stroke();
      } else paint(ctx, s);
      if (e.liquid) level(ctx, w, h, e.fill, e.liquid, hh - h * 0.05);
      if (s.shape === 'mug') {
        ctx.lineWidth = w * 0.14;
        ctx.strokeStyle = css(s.colour);
        ctx.beginPath();
        ctx.arc(hw * 1.05, 0, hh * 0.45, -Math.PI / 2, Math.PI / 2);
        ctx.stroke();
      }
      if (s.shape === 'jar') {
        ctx.fillStyle = css(METAL);
        ctx.fillRect(-hw * 0.85, -hh - h * 0.06, w * 0.85, h * 0.14);
      } else if (s.shape === 'can') {
        ctx.fillStyle = css(METAL);
        ctx.fillRect(-hw * 0.9, -hh, w * 0.9, h * 0.1);
        ctx.fillStyle = css(s.accent);
        ctx.fillRect(-hw * 0.9, -h * 0.1, w * 0.9, h * 0.2);
      } else if (s.shape === 'candle') {
        ctx.fillStyle = css([255, 200, 40]);
        ellipse(ctx, 0, -hh - h * 0.08, w * 0.22, h * 0.09);
        ctx.fill();
      } else opening(ctx, 0, -hh, top * 0.95, h * 0.09, e.fill > 0 ? e.liquid : undefined);
      break;
    }
    case 'bowl':
    case 'basket':
    case 'pot': {
      ctx.beginPath();
      if (s.shape === 'bowl') {
        ctx.moveTo(-hw, -hh);
        ctx.bezierCurveTo(-hw, hh * 1.2, hw, hh * 1.2, hw, -hh);
      } else {
        ctx.moveTo(-hw, -hh);
        ctx.lineTo(hw, -hh);
        ctx.lineTo(hw * (s.shape === 'basket' ? 0.8 : 0.95), hh);
        ctx.lineTo(-hw * (s.shape === 'basket' ? 0.8 : 0.95), hh);
      }
      ctx.closePath();
      paint(ctx, s);
      if (e.liquid) level(ctx, w, h, e.fill, e.liquid, hh - h * 0.08);
      opening(ctx, 0, -hh, hw * 0.95, h * 0.12, e.fill > 0 ? e.liquid : undefined);
      if (s.shape === 'pot') {
        ctx.fillStyle = css(DARK);
        ctx.fillRect(-hw - w * 0.08, -hh + h * 0.12, w * 0.08, h * 0.12);
        ctx.fillRect(hw, -hh + h * 0.12, w * 0.08, h * 0.12);
      }
      break;
    }
    case 'bottle':
    case 'kettle': {
      if (s.shape === 'bottle') {
        roundRect(ctx, -hw, -hh + h * 0.3, w, h * 0.7, w * 0.25);
        paint(ctx, s);
        ctx.beginPath();
        ctx.rect(-hw * 0.4, -hh + h * 0.08, w * 0.4, h * 0.24);
        paint(ctx, s, s.colour, false);
        ctx.fillStyle = css(s.accent);
        ctx.fillRect(-hw * 0.45, -hh, w * 0.45, h * 0.1);
      } else {
        ellipse(ctx, 0, hh * 0.15, hw * 0.8, hh * 0.85);
        paint(ctx, s);
        ctx.lineWidth = w * 0.09;
        ctx.strokeStyle = css(s.colour);
        ctx.beginPath();
        ctx.moveTo(0, -hh * 0.6);
        ctx.lineTo(0, -hh);
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(-hw * 0.3, -hh * 0.5);
        ctx.lineTo(0, -hh * 1.02);
        ctx.stroke();
      }
      break;
    }
    case 'book':
    case 'phone':
    case 'remote':
    case 'board':
    case 'plate':
    case 'sponge':
    case 'pancake': {
      if (s.shape === 'plate' || s.shape === 'pancake') ellipse(ctx, 0, 0, hw, hh);
      else roundRect(ctx, -hw, -hh, w, h, s.shape === 'book' ? 0.004 : h * 0.35);
      paint(ctx, s, s.shape === 'board' ? WOOD : s.colour, s.shape !== 'board');
      if (s.shape === 'book') {
        ctx.fillStyle = css([240, 236, 220]);
        ctx.fillRect(-hw + w * 0.06, -hh + h * 0.2, w * 0.9, h * 0.25);
      } else if (s.shape === 'phone') {
        ctx.fillStyle = css(DARK);
        ctx.fillRect(-hw * 0.8, -hh * 0.5, w * 0.8, h * 0.5);
      } else if (s.shape === 'remote') {
        ctx.fillStyle = css(s.accent);
        for (let i = 0; i < 4; i++) ctx.fillRect(-hw * 0.6 + i * w * 0.15, -hh * 0.5, w * 0.06, h * 0.4);
      } else if (s.shape === 'sponge') {
        ctx.fillStyle = css([50, 150, 60]);
        ctx.fillRect(-hw, -hh, w, h * 0.35);
      }
      if (e.dirt > 0) {
        ctx.fillStyle = css([92, 60, 30], e.dirt);
        for (let i = 0; i < 5; i++) {
          ellipse(ctx, -hw * 0.7 + (i * w * 0.35) % (w * 0.8), -hh - 0.004, w * 0.05, 0.008);
          ctx.fill();
        }
      }
      break;
    }
    case 'pen':
    case 'carrot':
    case 'cucumber':
    case 'bread': {
      if (s.shape === 'carrot') {
        ctx.beginPath();
        ctx.moveTo(-hw, -hh);
        ctx.lineTo(hw, 0);
        ctx.lineTo(-hw, hh);
        ctx.closePath();
        paint(ctx, s, s.colour, false);
        ctx.fillStyle = css([40, 150, 40]);
        ctx.fillRect(-hw - w * 0.1, -hh * 0.6, w * 0.12, h * 0.6);
      } else {
        roundRect(ctx, -hw, -hh, w, h, s.shape === 'bread' ? h * 0.45 : h * 0.5);
        paint(ctx, s, s.colour, s.shape === 'pen');
        if (s.shape === 'pen') {
          ctx.fillStyle = css(DARK);
          ctx.fillRect(hw - w * 0.12, -hh, w * 0.12, h);
        }
      }
      break;
    }
    case 'cube': {
      ctx.beginPath();
      ctx.rect(-hw, -hh, w, h);
      paint(ctx, s);
      ctx.strokeStyle = css(shade(s.colour, 0.6));
      ctx.strokeRect(-hw * 0.6, -hh * 0.6, w * 0.6, h * 0.6);
      break;
    }
    case 'car': {
      roundRect(ctx, -hw, -hh * 0.2, w, h * 0.6, h * 0.15);
      paint(ctx, s);
      ctx.beginPath();
      ctx.rect(-hw * 0.5, -hh, w * 0.5, h * 0.45);
      paint(ctx, s, shade(s.colour, 0.8), false);
      ctx.fillStyle = css(DARK);
      for (const wx of [-hw * 0.55, hw * 0.55]) {
        ellipse(ctx, wx, hh * 0.6, h * 0.2, h * 0.2);
        ctx.fill();
      }
      break;
    }
    case 'pyramid': {
      ctx.beginPath();
      ctx.moveTo(0, -hh);
      ctx.lineTo(hw, hh);
      ctx.lineTo(-hw, hh);
      ctx.closePath();
      paint(ctx, s);
      break;
    }
    case 'cloth': {
      // Flat when lying or carried; a hump when draped over something.
      const hump = e.drape * Math.max(0, e.drapeHeight - h);
      const total = h + hump;
      ctx.beginPath();
      ctx.moveTo(-hw, total / 2);
      ctx.bezierCurveTo(-hw * 0.8, -total / 2 - hump * 0.2, hw * 0.8, -total / 2 - hump * 0.2, hw, total / 2);
      ctx.closePath();
      if (hump < 0.01) roundRect(ctx, -hw, -hh, w, h, h * 0.3);
      paint(ctx, s);
      break;
    }
    case 'pan': {
      roundRect(ctx, -hw, -hh, w, h, h * 0.3);
      paint(ctx, s, DARK, false);
      ctx.fillStyle = css(s.colour);
      ctx.fillRect(hw, -hh * 0.6, w * 0.45, h * 0.4);
      break;
    }
    case 'lid': {
      ctx.beginPath();
      ctx.moveTo(-hw, hh);
      ctx.quadraticCurveTo(0, -hh * 1.6, hw, hh);
      ctx.closePath();
      paint(ctx, s, s.colour, false);
      ctx.fillStyle = css(DARK);
      ctx.fillRect(-w * 0.07, -hh * 1.6, w * 0.14, h * 0.7);
      break;
    }
    case 'knife': {
      ctx.fillStyle = css(s.colour);
      roundRect(ctx, hw - w * 0.35, -hh, w * 0.35, h, h * 0.4);
      ctx.fill();
      ctx.beginPath();
      ctx.moveTo(hw - w * 0.35, -hh);
      ctx.lineTo(-hw, -hh * 0.2);
      ctx.lineTo(-hw + w * 0.05, hh);
      ctx.lineTo(hw - w * 0.35, hh);
      ctx.closePath();
      paint(ctx, s, METAL, false);
      break;
    }
    case 'spoon':
    case 'whisk':
    case 'spatula':
    case 'ladle': {
      ctx.fillStyle = css(s.colour);
      ctx.fillRect(-w * 0.12, -hh, w * 0.24, h * 0.7);
      ctx.strokeStyle = css(s.shape === 'whisk' ? METAL : s.colour);
      ctx.lineWidth = OUTLINE;
      if (s.shape === 'whisk') {
        for (const k of [0.3, 0.65, 1]) {
          ellipse(ctx, 0, hh - h * 0.15, hw * k, h * 0.17);
          ctx.stroke();
        }
      } else if (s.shape === 'spatula') {
        ctx.beginPath();
        ctx.rect(-hw, hh - h * 0.28, w, h * 0.28);
        paint(ctx, s, s.colour, false);
      } else {
        ellipse(ctx, 0, hh - h * 0.1, hw * (s.shape === 'ladle' ? 1 : 0.8), h * 0.1);
        paint(ctx, s, s.colour, false);
      }
      break;
    }
    case 'none':
      break;
  }
}

/** Draws an actor at its pose; food being cut is drawn as two halves. */
export function drawActor(ctx: SKRSContext2D, style: ActorStyle, pose: Pose, extras: Extras) {
  if (!pose.visible || style.shape === 'none') return;
  ctx.save();
  ctx.translate(pose.x, pose.y);
  ctx.rotate(pose.rot);
  const sx = pose.scale * (pose.spin === undefined ? 1 : Math.max(0.22, Math.abs(Math.cos(pose.spin))) * Math.sign(Math.cos(pose.spin) || 1));
  ctx.scale(sx * (pose.mirror ? -1 : 1), pose.scale);
  if (extras.split > 0) {
    const gap = extras.split * 0.03 / pose.scale;
    for (const side of [-1, 1]) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(side < 0 ? -style.w : 0, -style.h, style.w, style.h * 2);
      ctx.clip();
      ctx.translate(side * gap, 0);
      drawShape(ctx, style, extras);
      ctx.restore();
    }
  } else drawShape(ctx, style, extras);
  ctx.restore();
}

export interface HandLook {
  readonly skin: Rgb;
  readonly sleeve: Rgb;
}

/** A forearm from off-frame, a palm and fingers pointing away from the arm. */
export function drawHand(ctx: SKRSContext2D, hand: Hand, look: HandLook) {
  const ax = Math.cos(hand.angle), ay = Math.sin(hand.angle);
  ctx.lineCap = 'round';
  ctx.strokeStyle = css(look.skin);
  ctx.lineWidth = HAND * 1.1;
  ctx.beginPath();
  ctx.moveTo(hand.x + ax * HAND * 0.5, hand.y + ay * HAND * 0.5);
  ctx.lineTo(hand.x + ax * HAND * 3, hand.y + ay * HAND * 3);
  ctx.stroke();
  ctx.strokeStyle = css(look.sleeve);
  ctx.lineWidth = HAND * 1.5;
  ctx.beginPath();
  ctx.moveTo(hand.x + ax * HAND * 2.6, hand.y + ay * HAND * 2.6);
  ctx.lineTo(hand.x + ax * 2, hand.y + ay * 2);
  ctx.stroke();
  // Fingers fan out opposite the arm; a closed grip curls them short.
  const fx = -ax, fy = -ay;
  const nx = -fy, ny = fx;
  ctx.strokeStyle = css(shade(look.skin, 0.92));
  ctx.lineWidth = HAND * 0.32;
  for (let i = 0; i < 4; i++) {
    const off = (i - 1.5) * HAND * 0.38;
    const len = hand.point ? (i === 1 ? HAND * 1.5 : HAND * 0.55) : HAND * (1.25 - 0.6 * hand.grip);
    const bx = hand.x + fx * HAND * 0.6 + nx * off, by = hand.y + fy * HAND * 0.6 + ny * off;
    ctx.beginPath();
    ctx.moveTo(bx, by);
    ctx.lineTo(bx + fx * len, by + fy * len);
    ctx.stroke();
  }
  ctx.beginPath();
  const tx = hand.x + nx * HAND * 0.85, ty = hand.y + ny * HAND * 0.85;
  ctx.moveTo(tx, ty);
  ctx.lineTo(tx + (fx * 0.8 + nx * 0.4) * HAND * (1 - 0.4 * hand.grip), ty + (fy * 0.8 + ny * 0.4) * HAND * (1 - 0.4 * hand.grip));
  ctx.stroke();
  ellipse(ctx, hand.x, hand.y, HAND, HAND * 0.9);
  ctx.fillStyle = css(look.skin);
  ctx.fill();
  ctx.lineCap = 'butt';
}

export function drawStream(ctx: SKRSContext2D, s: Stream, colour: Rgb) {
  ctx.strokeStyle = css(colour, 0.9);
  ctx.lineWidth = s.width;
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(s.x0, s.y0);
  ctx.quadraticCurveTo(s.x1, s.y0, s.x1, s.y1);
  ctx.stroke();
  ctx.lineCap = 'butt';
}

export function drawParticle(ctx: SKRSContext2D, p: Particle, colour: Rgb) {
  ellipse(ctx, p.x, p.y, p.r, p.r * 0.8);
  ctx.fillStyle = css(colour);
  ctx.fill();
}
