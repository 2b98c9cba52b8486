/** A stable colour per action label, so the same action looks the same in every timeline. */
export function labelColour(label: string): string {
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  return `hsl(${(h >>> 0) % 360} 65% 50%)`;
}

/** "Pouring [something] into [something]" → "Pouring … into …" for compact display. */
export function shortLabel(label: string): string {
  return label.replace(/\[something\]/g, '…');
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
