/** Small helpers of the Teach view. */

/** The object slots of an action's name: "Putting [something] into [something]" has 2. */
export function slotCount(action: string): number {
  return (action.match(/\[something\]/g) ?? []).length;
}

/** A polyline's points for values in [0, max] over `width` × `height` (SVG y grows downwards). */
export function polyline(values: readonly (number | null)[], width: number, height: number, max: number): string {
  const n = values.length;
  return values
    .map((v, i) => (v === null ? null : `${n > 1 ? ((i / (n - 1)) * width).toFixed(1) : 0},${(height - (Math.min(v, max) / max) * height).toFixed(1)}`))
    .filter((p) => p !== null)
    .join(' ');
}
