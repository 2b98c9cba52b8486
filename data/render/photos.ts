/**
 * Real photographs as the backdrop of procedural scenes (domain randomisation): a folder of JPEG or
 * PNG files (Debian's wallpaper packages ship some, e.g. mate-backgrounds), each loaded once and
 * shrunk, then a random crop of one drawn as the wall and another as the counter top. A model that
 * reads a backbone pretrained on photos then cannot lean on flat cartoon backgrounds alone.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createCanvas, Image, type Canvas } from '@napi-rs/canvas';
import type { Prng } from '../prng.js';

/** At most this many photos are read from a folder, each at most this many bytes. */
export const MAX_PHOTOS = 64;
const MAX_PHOTO_BYTES = 40e6;
/** Longer side a photo is shrunk to once (the frames are far smaller). */
const PHOTO_SIDE = 512;

export interface PhotoSet {
  readonly names: readonly string[];
  readonly images: readonly Canvas[];
}

/** A crop of one photo, in 0…1 of its width and height. */
export interface PhotoCrop {
  readonly photo: number;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export function loadPhotos(dir: string): PhotoSet {
  const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, MAX_PHOTOS);
  if (files.length === 0) throw new Error(`${dir}: no .jpg or .png photographs`);
  const images = files.map((f) => {
    const file = path.join(dir, f);
    if (statSync(file).size > MAX_PHOTO_BYTES) throw new Error(`${file}: larger than ${MAX_PHOTO_BYTES / 1e6} MB`);
    const img = new Image();
    img.src = readFileSync(file);
    if (!img.width || !img.height) throw new Error(`${file}: not a readable image`);
    const k = Math.min(1, PHOTO_SIDE / Math.max(img.width, img.height));
    const c = createCanvas(Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)));
    c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
    return c;
  });
  return { names: files, images };
}

/** A random crop covering between a quarter and all of a random photo's width. */
export function pickCrop(photos: PhotoSet, rng: Prng): PhotoCrop {
  const photo = rng.int(0, photos.images.length - 1);
  const w = rng.range(0.25, 1), h = w * rng.range(0.5, 1);
  return { photo, x: rng.range(0, 1 - w), y: rng.range(0, Math.max(0, 1 - h)), w, h: Math.min(1, h) };
}
