/**
 * Action labels compared the way the evaluation scores them, shared by the server (eval/replay.ts)
 * and the dashboard (client/src/lib/labels.ts), so both call the same two spellings one action:
 * a model whose classes are SSv2 templates ("Pouring [something] into [something]") and annotations
 * or labels files that spell them plainly ("Pouring something into something"). No runtime imports
 * beyond a constant, so the browser bundle can take it as it is.
 */
import { NO_ACTION } from '../data/catalogue/types.js';

/** Ignores case, spacing and placeholder brackets: "Pouring [something] into [something]" → "pouring something into something". */
export function normaliseLabel(label: string): string {
  return label.replace(/\[([^\]]*)\]/g, '$1').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function sameLabel(a: string, b: string): boolean {
  return normaliseLabel(a) === normaliseLabel(b);
}

/** The "No action" class: the counter is idle, not an action (however it is spelled). */
export function isIdleLabel(label: string): boolean {
  return sameLabel(label, NO_ACTION);
}

/**
 * One entry per action, in order of first appearance, spelled as it first appeared; the idle
 * class is left out (it is shown as idle, not as an action).
 */
export function actionLegend(labels: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const label of labels) {
    const key = normaliseLabel(label);
    if (seen.has(key) || isIdleLabel(label)) continue;
    seen.add(key);
    out.push(label);
  }
  return out;
}
