/**
 * Grounded captions: when the detectors saw objects that can fill the predicted action's slots, the
 * caption names them with the detector's nouns (mapped onto the catalogue's where it has one), so a
 * caption on a real counter says "Cutting bread with a knife", not a cartoon object's attributes.
 * Slots nothing was seen for keep the decoder's words when its caption has the same template; each
 * word says where it came from.
 */
import { templateKey, withArticle } from '../data/captions.js';
import { CATALOGUES } from '../data/catalogue/index.js';
import type { Role, TemplateSpec } from '../data/catalogue/types.js';
import { KITCHEN_CLASSES } from '../perception/constants.js';
import type { ObjectKind } from '../perception/types.js';
import type { CaptionWord } from './types.js';

/** Detector (COCO) noun → the catalogue's noun for the same thing, where they differ. */
const CATALOGUE_NOUN: Readonly<Record<string, string>> = { 'wine glass': 'glass', vase: 'jar', sandwich: 'bread' };

/** Which detected kinds can fill a slot of each role. */
const ROLE_KINDS: Readonly<Partial<Record<Role, readonly ObjectKind[]>>> = {
  container: ['container'], vessel: ['container'], lidded: ['container'], oriented: ['container'], pan: ['container'],
  item: ['container', 'food'], food: ['food'], knife: ['utensil'], stirrer: ['utensil'], scooper: ['utensil'],
};

const templates = new Map<string, TemplateSpec>();
for (const c of Object.values(CATALOGUES)) for (const t of c.templates) templates.set(templateKey(t.template), t);

export interface GroundedCaption {
  readonly text: string;
  readonly words: readonly CaptionWord[];
}

/**
 * The caption for `label` (a head label, the template without brackets) given the decoder's text and
 * the detector labels seen in the window (most frequent first). Null when nothing could be grounded.
 */
export function groundCaption(label: string, decoderText: string, seen: readonly string[]): GroundedCaption | null {
  const spec = templates.get(label);
  if (!spec || spec.slots.length === 0 || seen.length === 0) return null;
  const decoderSlots = slotsOf(spec.template, decoderText);
  const used = new Set<string>();
  let grounded = 0;
  const fills = spec.slots.map((role, i): CaptionWord => {
    const kinds = ROLE_KINDS[role] ?? [];
    const hit = seen.find((l) => !used.has(l) && kinds.includes(KITCHEN_CLASSES[l]!));
    if (hit) {
      used.add(hit);
      grounded++;
      return { text: withArticle(CATALOGUE_NOUN[hit] ?? hit), source: 'detector' };
    }
    return { text: decoderSlots?.[i] ?? 'something', source: decoderSlots ? 'decoder' : 'template' };
  });
  if (grounded === 0) return null;
  const parts = spec.template.split('[something]');
  const words: CaptionWord[] = [];
  parts.forEach((p, i) => {
    if (p.trim()) words.push({ text: p.trim(), source: 'template' });
    if (i < fills.length) words.push(fills[i]!);
  });
  return { text: words.map((w) => w.text).join(' '), words };
}

/** The decoder's phrase for each slot when its caption follows `template`, else null. */
function slotsOf(template: string, text: string): string[] | null {
  const escape = (s: string) => s.replace(/[.*+?^${}()|\\]/g, '\\$&');
  const pattern = new RegExp(`^${template.split('[something]').map((p) => escape(p.trim())).join('\\s*(.+?)\\s*')}$`, 'i');
  const m = pattern.exec(text.trim());
  return m ? m.slice(1) : null;
}
