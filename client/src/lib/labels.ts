// '.js' (not '.ts') so that vitest and the root tsc can import this module too; Vite resolves it to eval/labels.ts.
import { actionLegend, isIdleLabel, normaliseLabel } from '../../../eval/labels.js';

/** The idle class's colour: a neutral grey, not an action hue. */
export const IDLE_COLOUR = '#b8b2a7';

/**
 * A stable colour per action, so the same action looks the same in every timeline, whichever way
 * its label is spelled ("Pouring [something] into [something]" and "Pouring something into
 * something" are one action: labels are compared as eval/labels.ts normalises them). With a palette
 * (the actions on screen, in order) hues step by the golden angle, so neighbours differ clearly;
 * otherwise the hue comes from a hash of the normalised label. The idle class is grey.
 */
export function labelColour(label: string, palette?: readonly string[]): string {
  if (isIdleLabel(label)) return IDLE_COLOUR;
  const key = normaliseLabel(label);
  const index = palette ? palette.findIndex((p) => normaliseLabel(p) === key) : -1;
  if (index >= 0) return `hsl(${(index * 137.508) % 360} 62% ${index % 2 ? 42 : 55}%)`;
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return `hsl(${(h >>> 0) % 360} 65% 50%)`;
}

/** One legend entry per action (spellings merged), the idle class left out. */
export const legendLabels = (labels: Iterable<string>): string[] => actionLegend(labels);

/** "Pouring [something] into [something]" → "Pouring … into …" for compact display. */
export function shortLabel(label: string): string {
  return label.replace(/\[something\]/g, '…');
}

/** The "no action" class: the counter is idle, not doing an action. */
export const isIdle = (label: string): boolean => isIdleLabel(label);

export function percent(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
