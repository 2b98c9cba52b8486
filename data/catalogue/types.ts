/**
 * What a generated domain is made of: object kinds (with the roles they can play in an action)
 * and action templates (SSv2 wording, a coarse group, a motion, and the roles of their objects).
 */
import type { MotionName } from '../render/motions.js';

export type Domain = 'something' | 'kitchenware';
export const DOMAINS: readonly Domain[] = ['something', 'kitchenware'];

/** Roles an object can play in a template's slot. */
export type Role =
  | 'item' // small movable thing
  | 'round' // rolls
  | 'tall' // can fall over
  | 'oriented' // its top and bottom look different, so turning it over is visible
  | 'spinnable' // looks different from the side and the front, so spinning it is visible
  | 'container' // open at the top; things go into it
  | 'cover' // cloth-like, drapes over things
  | 'flat' // low and wide; things can stand on it
  | 'liquid' // no body: drawn as a fill level or a stream
  | 'content' // food in a pot or bowl, drawn like a thick liquid
  | 'vessel' // pours
  | 'lidded' // takes a lid
  | 'lid'
  | 'food'
  | 'stirrer'
  | 'knife'
  | 'scooper'
  | 'wiper'
  | 'surface'
  | 'pan';

export type ShapeName =
  | 'box' | 'ball' | 'cup' | 'mug' | 'bowl' | 'bottle' | 'book' | 'phone' | 'can' | 'pen' | 'cube'
  | 'car' | 'pyramid' | 'remote' | 'basket' | 'cloth' | 'board' | 'candle' | 'glass' | 'jar'
  | 'pot' | 'pan' | 'lid' | 'kettle' | 'knife' | 'spoon' | 'whisk' | 'spatula' | 'ladle' | 'plate'
  | 'sponge' | 'tomato' | 'carrot' | 'bread' | 'lemon' | 'cucumber' | 'pancake' | 'none';

export interface ObjectKind {
  readonly noun: string;
  readonly shape: ShapeName;
  /** Width and height as fractions of the frame at size factor 1. */
  readonly size: readonly [number, number];
  readonly roles: readonly Role[];
  /** A natural colour (food, liquids): named colours and textures are not applied. */
  readonly natural?: string;
  /** Takes no article in a caption ("water", not "a water"). */
  readonly mass?: boolean;
}

export interface TemplateSpec {
  /** SSv2 form, with a `[something]` per placeholder. */
  readonly template: string;
  /** Coarse action group. */
  readonly group: string;
  readonly motion: MotionName;
  /** Role of the object filling each `[something]`, in order. */
  readonly slots: readonly Role[];
  /** Objects that act but are not named (the lid in "Putting a lid on [something]"). */
  readonly extras?: readonly Role[];
}

export interface Catalogue {
  readonly domain: Domain;
  readonly objects: readonly ObjectKind[];
  readonly templates: readonly TemplateSpec[];
}

/** A colour an object can have, and the word the full caption uses for it. */
export interface NamedColour {
  readonly name: string;
  readonly rgb: readonly [number, number, number];
}

export const COLOURS: readonly NamedColour[] = [
  { name: 'red', rgb: [214, 40, 40] },
  { name: 'blue', rgb: [40, 90, 220] },
  { name: 'green', rgb: [40, 170, 70] },
  { name: 'yellow', rgb: [240, 210, 40] },
  { name: 'orange', rgb: [245, 130, 30] },
  { name: 'purple', rgb: [140, 60, 190] },
  { name: 'pink', rgb: [240, 110, 180] },
  { name: 'white', rgb: [245, 245, 240] },
  { name: 'black', rgb: [30, 30, 35] },
  { name: 'brown', rgb: [130, 80, 40] },
];

export const TEXTURES = ['plain', 'striped', 'dotted', 'checked'] as const;
export type Texture = (typeof TEXTURES)[number];

/** The template of the "no action" class: a counter where nothing is being done. */
export const NO_ACTION = 'No action';
