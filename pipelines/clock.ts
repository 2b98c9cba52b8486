/** Wall-clock time in ms since the Unix epoch with sub-millisecond precision, for latency stamps. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
