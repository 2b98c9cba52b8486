import { NO_ACTION } from '../../../data/catalogue/types.ts';

/**
 * A stable colour per action label, so the same action looks the same in every timeline. With a
 * palette (the labels on screen, in order) hues step by the golden angle, so neighbours differ
 * clearly; otherwise the hue comes from a hash of the label.
 */
export function labelColour(label: string, palette?: readonly string[]): string {
  const index = palette?.indexOf(label) ?? -1;
  if (index >= 0) return `hsl(${(index * 137.508) % 360} 62% ${index % 2 ? 42 : 55}%)`;
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  return `hsl(${(h >>> 0) % 360} 65% 50%)`;
}

/** "Pouring [something] into [something]" → "Pouring … into …" for compact display. */
export function shortLabel(label: string): string {
  return label.replace(/\[something\]/g, '…');
}

/** The "no action" class: the counter is idle, not doing an action. */
export const isIdle = (label: string): boolean => label === NO_ACTION;

export function percent(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
