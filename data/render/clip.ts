/**
 * Plans and renders one procedural clip: picks the objects for a template (with the attributes
 * the full caption names), the scene's look and its nuisances (background, lighting, camera
 * shake and zoom, distractors, occlusion, speed, sizes), then draws frames as RGB24.
 *
 *   const plan = planClip(SOMETHING, 3, new Prng('7').fork('clip:1'), DIFFICULTY.moderate);
 *   for (const rgb of renderFrames(plan, { width: 128, height: 128 })) …
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { z } from 'zod';
import { fillTemplate, withArticle } from '../captions.js';
import { COLOURS, TEXTURES, type Catalogue, type NamedColour, type ObjectKind, type Role, type TemplateSpec, type Texture } from '../catalogue/types.js';
import type { Prng } from '../prng.js';
import { drawActor, drawHand, drawParticle, drawStream, css, shade, type ActorStyle, type HandLook, type Rgb } from './draw.js';
import type { FramePerception } from '../../perception/types.js';
import { pickCrop, type PhotoCrop, type PhotoSet } from './photos.js';
import { MOTIONS, type ActorBox, type SceneState } from './motions.js';
import { perceiveScene } from './perceive.js';

/** Nuisance strengths, each 0…1 unless stated; see docs/DATA.md. */
export const DifficultySchema = z.object({
  shake: z.number().min(0).max(1),
  zoom: z.number().min(0).max(1),
  lighting: z.number().min(0).max(1),
  /** Largest number of distractor objects (0…4). */
  distractors: z.number().int().min(0).max(4),
  /** Chance that a foreground object hides part of the frame edge. */
  occlusion: z.number().min(0).max(1),
  /** Patterned backgrounds and object textures. */
  textures: z.boolean(),
  speed: z.number().min(0).max(1),
  size: z.number().min(0).max(1),
  /** Per-pixel sensor noise. */
  noise: z.number().min(0).max(1),
});
export type Difficulty = z.infer<typeof DifficultySchema>;

export const DIFFICULTY = {
  easy: { shake: 0, zoom: 0, lighting: 0.1, distractors: 0, occlusion: 0, textures: false, speed: 0.1, size: 0.1, noise: 0 },
  moderate: { shake: 0.3, zoom: 0.3, lighting: 0.3, distractors: 1, occlusion: 0.1, textures: true, speed: 0.3, size: 0.3, noise: 0.05 },
  hard: { shake: 0.8, zoom: 0.7, lighting: 0.7, distractors: 3, occlusion: 0.4, textures: true, speed: 0.8, size: 0.6, noise: 0.25 },
} as const satisfies Record<string, Difficulty>;
export type DifficultyPreset = keyof typeof DIFFICULTY;

export interface ObjectChoice {
  readonly kind: ObjectKind;
  readonly colour: Rgb;
  /** The words the full caption uses: "a small red striped ball". */
  readonly phrase: string;
  readonly style: ActorStyle;
}

/** The look of the place, kept for a whole session. */
export interface SceneLook {
  readonly wall: Rgb;
  readonly tableColour: Rgb;
  readonly table: number;
  readonly wallPattern: 'plain' | 'tiles' | 'stripes';
  readonly grain: readonly { y: number; w: number }[];
  readonly hand: HandLook;
  readonly light: { level: number; swing: number; phase: number; side: number };
  readonly shake: { amp: number; f1: number; f2: number; p1: number; p2: number };
  readonly zoom: { base: number; drift: number; phase: number };
  readonly occluder?: { x: number; w: number; top: number; colour: Rgb };
  readonly noise: number;
  /** Photograph crops drawn as the wall and the counter top (only when photos were given). */
  readonly photo?: { readonly wall: PhotoCrop; readonly table: PhotoCrop; readonly alpha: number };
}

export interface ClipPlan {
  readonly template: TemplateSpec;
  readonly objects: readonly ObjectChoice[];
  /** Full phrases of the named objects, in placeholder order (SSv2 `placeholders`). */
  readonly placeholders: readonly string[];
  readonly nouns: readonly string[];
  readonly caption: string;
  readonly simplified: string;
  readonly frames: number;
  readonly fps: number;
  readonly look: SceneLook;
  readonly distractors: readonly { choice: ObjectChoice; x: number }[];
  /** Action progress at frame i: the action's share of the clip and a speed warp. */
  readonly timing: { start: number; share: number; warp: number };
  readonly boxes: readonly ActorBox[];
  readonly rng: Prng;
  /** The photographs the look's crops refer to. */
  readonly photos?: PhotoSet;
}

const WALLS: readonly Rgb[] = [[205, 200, 190], [180, 195, 210], [210, 200, 170], [170, 180, 165], [150, 150, 155], [220, 215, 210], [120, 130, 140]];
const TABLES: readonly Rgb[] = [[150, 110, 70], [190, 170, 140], [110, 110, 115], [225, 222, 215], [95, 75, 60], [170, 175, 160]];
const SKINS: readonly Rgb[] = [[235, 190, 160], [200, 150, 115], [160, 110, 80], [110, 75, 55], [245, 205, 180]];
const SLEEVES: readonly Rgb[] = [[30, 40, 90], [120, 30, 30], [60, 60, 60], [200, 200, 200], [40, 100, 60], [220, 150, 40]];

const jitter = (c: Rgb, rng: Prng, k: number): Rgb => [c[0] + rng.range(-k, k), c[1] + rng.range(-k, k), c[2] + rng.range(-k, k)];
const distance = (a: Rgb, b: Rgb) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

export function planLook(rng: Prng, d: Difficulty): SceneLook {
  const wall = jitter(rng.pick(WALLS), rng, 12);
  let tableColour = jitter(rng.pick(TABLES), rng, 10);
  if (distance(wall, tableColour) < 50) tableColour = shade(tableColour, 0.7);
  const grain = d.textures ? Array.from({ length: rng.int(3, 7) }, () => ({ y: rng.range(0, 0.4), w: rng.range(0.002, 0.006) })) : [];
  return {
    wall,
    tableColour,
    table: rng.range(0.7, 0.78),
    wallPattern: d.textures ? rng.pick(['plain', 'tiles', 'stripes'] as const) : 'plain',
    grain,
    hand: { skin: rng.pick(SKINS), sleeve: rng.pick(SLEEVES) },
    light: { level: 1 + d.lighting * rng.range(-0.35, 0.25), swing: d.lighting * rng.range(0, 0.2), phase: rng.range(0, 6.3), side: rng.sign() * d.lighting * rng.range(0, 0.35) },
    shake: { amp: d.shake * 0.018, f1: rng.range(1.5, 3), f2: rng.range(5, 9), p1: rng.range(0, 6.3), p2: rng.range(0, 6.3) },
    zoom: { base: 1 + d.zoom * rng.range(-0.1, 0.2), drift: d.zoom * rng.range(0, 0.06), phase: rng.range(0, 6.3) },
    occluder: rng.chance(d.occlusion) ? { x: rng.chance(0.5) ? rng.range(-0.05, 0.05) : rng.range(0.85, 0.95), w: rng.range(0.1, 0.18), top: rng.range(0.35, 0.6), colour: jitter([70, 60, 55], rng, 30) } : undefined,
    noise: d.noise * 22,
  };
}

/** Picks an object of the role, not yet used, coloured to stand out from the scene. */
function chooseObject(catalogue: Catalogue, role: Role, used: Set<string>, rng: Prng, look: SceneLook, d: Difficulty, globalScale: number): ObjectChoice {
  const candidates = catalogue.objects.filter((o) => o.roles.includes(role) && !used.has(o.noun));
  if (candidates.length === 0) throw new Error(`domain ${catalogue.domain} has no unused object with role ${role}`);
  const kind = rng.pick(candidates);
  used.add(kind.noun);
  const natural = kind.natural ? COLOURS.find((c) => c.name === kind.natural) : undefined;
  let named: NamedColour = natural ?? rng.pick(COLOURS);
  for (let i = 0; i < 10 && !natural && (distance(named.rgb, look.tableColour) < 90 || distance(named.rgb, look.wall) < 90); i++) named = rng.pick(COLOURS);
  const texture: Texture = d.textures && !kind.natural ? rng.pick(TEXTURES) : 'plain';
  const sizeFactor = 1 + d.size * rng.range(-0.3, 0.3);
  const sizeWord = kind.mass || sizeFactor > 0.92 && sizeFactor < 1.08 ? '' : sizeFactor < 1 ? 'small ' : 'large ';
  const textureWord = texture === 'plain' ? '' : `${texture} `;
  const colourWord = natural ? '' : `${named.name} `;
  const words = `${sizeWord}${colourWord}${textureWord}${kind.noun}`;
  const phrase = kind.mass ? `${natural ? '' : ''}${kind.noun}` : withArticle(words);
  let accent = rng.pick(COLOURS).rgb;
  if (distance(accent, named.rgb) < 80) accent = shade(named.rgb, 0.55);
  const colour = jitter(named.rgb, rng, 10);
  const [w, h] = kind.size;
  return { kind, colour, phrase, style: { shape: kind.shape, w: w * sizeFactor * globalScale, h: h * sizeFactor * globalScale, colour, texture, accent } };
}

export function planClip(
  catalogue: Catalogue,
  templateIndex: number,
  rng: Prng,
  d: Difficulty,
  opts: { fps?: number; look?: SceneLook; seconds?: readonly [number, number]; photos?: PhotoSet } = {},
): ClipPlan {
  const template = catalogue.templates[templateIndex];
  if (!template) throw new Error(`domain ${catalogue.domain} has no template ${templateIndex}`);
  const fps = opts.fps ?? 12;
  let look = opts.look ?? planLook(rng.fork('look'), d);
  // Its own stream: without photos every other draw is as before, so existing sets are unchanged.
  if (opts.photos && !look.photo) {
    const p = rng.fork('photo');
    look = { ...look, photo: { wall: pickCrop(opts.photos, p), table: pickCrop(opts.photos, p), alpha: p.range(0.6, 1) } };
  }
  const pick = rng.fork('objects');
  const used = new Set<string>();
  // Large enough that the key object stays several pixels across at the model's 64 × 64.
  const globalScale = 1.2;
  const objects = [...template.slots, ...(template.extras ?? [])].map((role) => chooseObject(catalogue, role, used, pick, look, d, globalScale));
  const named = objects.slice(0, template.slots.length);
  const placeholders = named.map((o) => o.phrase);
  const nouns = named.map((o) => o.kind.noun);
  const caption = fillTemplate(template.template, placeholders);
  const simplified = fillTemplate(template.template, nouns);
  const [lo, hi] = opts.seconds ?? [2, 4];
  const frames = Math.round(fps * rng.range(lo, hi));
  const share = 1 - d.speed * rng.range(0, 0.3);
  const timing = { start: rng.range(0, 1 - share), share, warp: Math.exp(d.speed * rng.range(-0.4, 0.4)) };
  const distractorRng = rng.fork('distractors');
  const nDistractors = distractorRng.int(0, d.distractors);
  const distractors = Array.from({ length: nDistractors }, (_, i) => {
    const role: Role = catalogue.objects.some((o) => o.roles.includes('item') && !used.has(o.noun)) ? 'item' : 'food';
    const choice = chooseObject(catalogue, role, used, distractorRng, look, d, 0.75);
    const x = i % 2 === 0 ? distractorRng.range(0.02, 0.1) : distractorRng.range(0.9, 0.98);
    return { choice, x };
  });
  const boxes = objects.map((o) => (o.kind.shape === 'none' ? { w: 0, h: 0 } : { w: o.style.w, h: o.style.h }));
  return { template, objects, placeholders, nouns, caption, simplified, frames, fps, look, distractors, timing, boxes, rng: rng.fork('motion'), ...(opts.photos ? { photos: opts.photos } : {}) };
}

/** Action progress of frame i of n. */
export function progressAt(plan: ClipPlan, i: number, n = plan.frames): number {
  const t = n <= 1 ? 0 : i / (n - 1);
  const q = Math.min(1, Math.max(0, (t - plan.timing.start) / plan.timing.share));
  return Math.pow(q, plan.timing.warp);
}

export interface FrameSize {
  readonly width: number;
  readonly height: number;
}

/** How world coordinates map to the frame's pixels. */
export interface View {
  readonly scale: number;
  readonly offsetX: number;
  readonly offsetY: number;
  readonly width: number;
  readonly height: number;
}

/** A reusable canvas that draws scene states of one plan. */
export class ClipPainter {
  private readonly canvas;
  private readonly ctx: SKRSContext2D;
  private readonly state: (p: number) => SceneState;
  private readonly noiseRng: Prng;
  private noise?: Int8Array;

  constructor(readonly plan: ClipPlan, readonly size: FrameSize) {
    this.canvas = createCanvas(size.width, size.height);
    this.ctx = this.canvas.getContext('2d');
    const motion = MOTIONS[plan.template.motion];
    this.state = motion({ rng: plan.rng.fork('layout'), boxes: plan.boxes, table: plan.look.table, amp: 1 });
    this.noiseRng = plan.rng.fork('noise');
    // Sensor noise: one table per clip, read at a random offset each frame (cheaper than a draw per pixel).
    if (plan.look.noise > 0) {
      const n = size.width * size.height + NOISE_SLACK;
      this.noise = new Int8Array(n);
      for (let i = 0; i < n; i++) this.noise[i] = Math.round((this.noiseRng.next() - 0.5) * 2 * plan.look.noise);
    }
  }

  /** RGB24 pixels of the scene at action progress p, at clip time t seconds (for the nuisances). */
  paint(p: number, t: number, out = new Uint8Array(this.size.width * this.size.height * 3)): Uint8Array {
    const { ctx, plan, size } = this;
    const look = plan.look;
    const s = this.state(p);
    const v = this.view(s, t);
    ctx.setTransform(v.scale, 0, 0, v.scale, v.offsetX, v.offsetY);
    this.background();
    for (const d of plan.distractors) {
      drawActor(ctx, d.choice.style, { x: d.x, y: look.table - d.choice.style.h / 2, rot: 0, scale: 1, visible: true, z: 0 }, { fill: 0, split: 0, dirt: 0, drape: 0, drapeHeight: 0 });
    }
    const order = s.actors.map((pose, i) => ({ pose, i })).sort((a, b) => a.pose.z - b.pose.z || a.i - b.i);
    for (const { pose, i } of order) {
      const o = plan.objects[i]!;
      const liquid = pose.fillFrom !== undefined ? plan.objects[pose.fillFrom]?.colour : undefined;
      drawActor(ctx, o.style, pose, { fill: pose.fill ?? 0, liquid, split: pose.split ?? 0, dirt: pose.dirt ?? 0, drape: pose.drape ?? 0, drapeHeight: pose.drapeHeight ?? 0 });
    }
    for (const st of s.streams) drawStream(ctx, st, plan.objects[st.colourOf]!.colour);
    for (const pt of s.particles) drawParticle(ctx, pt, plan.objects[pt.colourOf]!.colour);
    for (const h of s.hands) drawHand(ctx, h, look.hand);
    if (look.occluder) {
      ctx.fillStyle = css(look.occluder.colour);
      ctx.fillRect(look.occluder.x, look.occluder.top, look.occluder.w, 2);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.lighting(t);
    return this.readRgb(out);
  }

  /** The scene at action progress p and time t, and the world → pixel transform it is drawn with. */
  sceneAt(p: number, t: number): { scene: SceneState; view: View } {
    const scene = this.state(p);
    return { scene, view: this.view(scene, t) };
  }

  /** World → pixel: pixel = world × scale + offset (camera zoom, pan and shake included). */
  private view(s: SceneState, t: number): View {
    const { plan, size } = this;
    const look = plan.look;
    const S = Math.max(size.width, size.height);
    const zoom = s.camera.zoom * (look.zoom.base + look.zoom.drift * Math.sin(0.7 * t + look.zoom.phase));
    const shakeX = look.shake.amp * (Math.sin(look.shake.f1 * t + look.shake.p1) + 0.5 * Math.sin(look.shake.f2 * t + look.shake.p2));
    const shakeY = look.shake.amp * (Math.sin(look.shake.f1 * 1.3 * t + look.shake.p2) + 0.5 * Math.sin(look.shake.f2 * 0.8 * t + look.shake.p1));
    const cx = 0.5 + s.camera.dx + shakeX, cy = 0.5 + s.camera.dy + shakeY;
    return { scale: S * zoom, offsetX: size.width / 2 - S * zoom * cx, offsetY: size.height / 2 - S * zoom * cy, width: size.width, height: size.height };
  }

  private background() {
    const { ctx, plan } = this;
    const look = plan.look;
    ctx.fillStyle = css(look.wall);
    ctx.fillRect(-2, -2, 5, 5);
    if (look.wallPattern === 'tiles') {
      ctx.strokeStyle = css(shade(look.wall, 0.85));
      ctx.lineWidth = 0.006;
      for (let x = -1; x < 2; x += 0.12) {
        ctx.beginPath();
        ctx.moveTo(x, -2);
        ctx.lineTo(x, look.table);
        ctx.stroke();
      }
      for (let y = look.table; y > -2; y -= 0.12) {
        ctx.beginPath();
        ctx.moveTo(-2, y);
        ctx.lineTo(3, y);
        ctx.stroke();
      }
    } else if (look.wallPattern === 'stripes') {
      ctx.fillStyle = css(shade(look.wall, 0.9));
      for (let x = -1; x < 2; x += 0.16) ctx.fillRect(x, -2, 0.07, 2 + look.table);
    }
    if (look.photo && plan.photos) this.photoBackdrop(look.photo.wall, -0.5, -0.5, 2, look.table + 0.5, look.photo.alpha);
    ctx.fillStyle = css(look.tableColour);
    ctx.fillRect(-2, look.table, 5, 3);
    if (look.photo && plan.photos) this.photoBackdrop(look.photo.table, -0.5, look.table, 2, 1.5 - look.table, look.photo.alpha);
    ctx.fillStyle = css(shade(look.tableColour, 0.8));
    ctx.fillRect(-2, look.table, 5, 0.012);
    for (const g of look.grain) ctx.fillRect(-2, look.table + 0.03 + g.y, 5, g.w);
  }

  /** A photograph crop over a world rectangle, over the flat colour below it. */
  private photoBackdrop(c: PhotoCrop, x: number, y: number, w: number, h: number, alpha: number) {
    const img = this.plan.photos!.images[c.photo]!;
    this.ctx.globalAlpha = alpha;
    this.ctx.drawImage(img, c.x * img.width, c.y * img.height, c.w * img.width, c.h * img.height, x, y, w, h);
    this.ctx.globalAlpha = 1;
  }

  private lighting(t: number) {
    const { ctx, plan, size } = this;
    const l = plan.look.light;
    const level = l.level + l.swing * Math.sin(1.3 * t + l.phase);
    if (level < 1) {
      ctx.fillStyle = `rgba(0,0,0,${Math.min(0.6, 1 - level)})`;
      ctx.fillRect(0, 0, size.width, size.height);
    } else if (level > 1) {
      ctx.fillStyle = `rgba(255,255,245,${Math.min(0.4, level - 1)})`;
      ctx.fillRect(0, 0, size.width, size.height);
    }
    if (l.side !== 0) {
      const g = ctx.createLinearGradient(0, 0, size.width, 0);
      const dark = `rgba(0,0,0,${Math.abs(l.side)})`;
      g.addColorStop(0, l.side > 0 ? dark : 'rgba(0,0,0,0)');
      g.addColorStop(1, l.side > 0 ? 'rgba(0,0,0,0)' : dark);
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, size.width, size.height);
    }
  }

  private readRgb(out: Uint8Array): Uint8Array {
    const rgba = this.ctx.getImageData(0, 0, this.size.width, this.size.height).data;
    const noise = this.noise;
    const offset = noise ? this.noiseRng.int(0, NOISE_SLACK - 1) : 0;
    for (let i = 0, j = 0, px = offset; i < rgba.length; i += 4, j += 3, px++) {
      if (noise) {
        const n = noise[px]!;
        out[j] = clampByte(rgba[i]! + n);
        out[j + 1] = clampByte(rgba[i + 1]! + n);
        out[j + 2] = clampByte(rgba[i + 2]! + n);
      } else {
        out[j] = rgba[i]!;
        out[j + 1] = rgba[i + 1]!;
        out[j + 2] = rgba[i + 2]!;
      }
    }
    return out;
  }
}

const NOISE_SLACK = 4096;
const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v | 0);

/** The noiseless hand–object state of every frame of a planned clip (data/render/perceive.ts). */
export function perceiveFrames(plan: ClipPlan, size: FrameSize): FramePerception[] {
  const painter = new ClipPainter(plan, size);
  return Array.from({ length: plan.frames }, (_, i) => {
    const { scene, view } = painter.sceneAt(progressAt(plan, i), i / plan.fps);
    return perceiveScene(plan, scene, view);
  });
}

/** All frames of a planned clip, RGB24, one fresh buffer each. */
export function* renderFrames(plan: ClipPlan, size: FrameSize): Generator<Uint8Array> {
  const painter = new ClipPainter(plan, size);
  for (let i = 0; i < plan.frames; i++) yield painter.paint(progressAt(plan, i), i / plan.fps);
}
