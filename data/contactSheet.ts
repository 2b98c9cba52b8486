/**
 * A contact sheet of a domain: one row per action, a few frames of one generated clip each,
 * with the template and the clip's full caption written beside them. Rendered by the same code
 * that makes the data set, so the picture shows exactly what the model is trained on.
 */
import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts, ImageData } from '@napi-rs/canvas';
import type { Catalogue } from './catalogue/types.js';
import { Prng } from './prng.js';
import { ClipPainter, planClip, progressAt, type Difficulty } from './render/clip.js';

const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf'];

export interface ContactSheetOptions {
  readonly seed: string;
  readonly difficulty: Difficulty;
  readonly framesPerRow?: number;
  readonly frameSize?: number;
}

/** PNG bytes of the sheet. */
export async function contactSheet(catalogue: Catalogue, opts: ContactSheetOptions): Promise<Buffer> {
  const font = FONT_FILES.find((f) => existsSync(f));
  if (font) GlobalFonts.registerFromPath(font, 'SheetSans');
  const per = opts.framesPerRow ?? 6;
  const size = opts.frameSize ?? 80;
  const textW = 330;
  const pad = 4;
  const rows = catalogue.templates.length;
  const canvas = createCanvas(textW + per * (size + pad), rows * (size + pad) + pad);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const rng = new Prng(opts.seed);
  for (let r = 0; r < rows; r++) {
    const plan = planClip(catalogue, r, rng.fork(`sheet:${r}`), opts.difficulty);
    const painter = new ClipPainter(plan, { width: size, height: size });
    const y = pad + r * (size + pad);
    ctx.fillStyle = '#111111';
    ctx.font = `bold 12px ${font ? 'SheetSans' : 'sans-serif'}`;
    wrap(ctx, `${r}. ${plan.template.template}`, 6, y + 14, textW - 10, 14, 3);
    ctx.fillStyle = '#555555';
    ctx.font = `11px ${font ? 'SheetSans' : 'sans-serif'}`;
    wrap(ctx, plan.caption, 6, y + 62, textW - 10, 13, 2);
    for (let k = 0; k < per; k++) {
      const i = Math.round((k * (plan.frames - 1)) / (per - 1));
      const rgb = painter.paint(progressAt(plan, i), i / plan.fps);
      const rgba = new Uint8ClampedArray(size * size * 4);
      for (let a = 0, b = 0; a < rgb.length; a += 3, b += 4) {
        rgba[b] = rgb[a]!;
        rgba[b + 1] = rgb[a + 1]!;
        rgba[b + 2] = rgb[a + 2]!;
        rgba[b + 3] = 255;
      }
      ctx.putImageData(new ImageData(rgba, size, size), textW + k * (size + pad), y);
    }
  }
  return canvas.encode('png');
}

function wrap(ctx: { measureText(t: string): { width: number }; fillText(t: string, x: number, y: number): void }, text: string, x: number, y: number, width: number, lineHeight: number, maxLines: number) {
  const words = text.split(' ');
  let line = '';
  let lines = 0;
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (ctx.measureText(next).width > width && line) {
      ctx.fillText(line, x, y + lines * lineHeight);
      lines++;
      if (lines >= maxLines) return;
      line = w;
    } else line = next;
  }
  if (line) ctx.fillText(line, x, y + lines * lineHeight);
}
