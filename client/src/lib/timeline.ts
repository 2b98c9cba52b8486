/** Pure layout helpers for the timelines (no imports, so tests can run them without a browser). */

export interface Tick {
  /** Position along the timeline, 0 (left) … 1 (right). */
  readonly x: number;
  readonly text: string;
}

/**
 * Ticks every `step` over `from`..`to`, anchored at the right end (`to`), in the timeline's unit.
 * `format` gets the tick's offset before `to` (0 at the right end) and its absolute time.
 */
export function timeTicks(from: number, to: number, step: number, format: (beforeEnd: number, at: number) => string): Tick[] {
  const span = to - from;
  if (!(span > 0) || !(step > 0)) return [];
  const ticks: Tick[] = [];
  for (let before = 0; before <= span + 1e-9; before += step) ticks.push({ x: 1 - before / span, text: format(before, to - before) });
  return ticks.reverse();
}

/** Live window ticks: "−50 s" … "now" (times in ms). */
export const liveTickText = (beforeEndMs: number): string => (beforeEndMs < 1 ? 'now' : `−${Math.round(beforeEndMs / 1000)} s`);

/** Ticks from 0 (times in s): "0 s", "10 s", … */
export function elapsedTicks(duration: number, targetCount = 6): Tick[] {
  if (!(duration > 0)) return [];
  const raw = duration / targetCount;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: Tick[] = [];
  for (let t = 0; t <= duration + 1e-9; t += step) ticks.push({ x: t / duration, text: `${+t.toFixed(3)} s` });
  return ticks;
}

/**
 * The text that fits on a segment `widthPx` wide: the whole label, or its start with an ellipsis
 * if at least a few characters fit, else nothing (the segment is too narrow; its tooltip names it).
 */
export function fitLabel(text: string, widthPx: number, charPx = 6.5, minChars = 4): string {
  const room = Math.floor((widthPx - 6) / charPx);
  if (room >= text.length) return text;
  if (room < minChars) return '';
  return `${text.slice(0, room - 1).trimEnd()}…`;
}

/**
 * Why the stream card's three action texts can differ, said under each: the caption describes the
 * window when it was written (at an action's start, or every few seconds), the top action is the
 * latest window, and the segment line names the last segment the segmenter finished (a segment
 * needs the action to stay on top with enough confidence, so it lags and skips flickers).
 */
export function captionNote(reason: string | null, ageMs: number): string {
  const age = ageMs >= 1000 ? ` · ${Math.round(ageMs / 1000)} s ago` : '';
  if (reason === 'action-changed') return `Caption written when the last action started${age}`;
  if (reason === 'interval') return `Caption of a recent window (every few seconds)${age}`;
  return 'Caption';
}

export const NOW_NOTE = 'Now: top action of the latest window';

/** "Last finished segment: A · now in segment: B", from the card's segments (oldest first). */
export function segmentSummary(events: readonly { label: string; end?: number }[], short: (label: string) => string = (l) => l): string | null {
  if (events.length === 0) return null;
  const open = events.findLast((e) => e.end === undefined);
  const done = events.findLast((e) => e.end !== undefined);
  const parts: string[] = [];
  if (done) parts.push(`Last finished segment: ${short(done.label)}`);
  if (open) parts.push(`${done ? 'now in' : 'In'} segment: ${short(open.label)}`);
  return parts.join(' · ');
}
