/**
 * Per-stream counters behind the periodic `stats` output: frames in, windows out and the
 * capture → emit latency of each prediction since the last snapshot.
 */
import type { StreamStats } from './types.js';

export class StreamStatsCollector {
  private frames = 0;
  private windows = 0;
  private latencies: number[] = [];
  private since: number;

  constructor(
    private readonly streamId: string,
    private readonly clock: () => number,
    /** Reads the stream's cumulative drop count (kept by the inference stage). */
    private readonly drops: () => number,
    /** Latencies kept per interval, so a stalled snapshot timer cannot grow memory. */
    private readonly maxSamples = 10_000,
  ) {
    this.since = clock();
  }

  frame(): void {
    this.frames++;
  }

  window(latencyMs: number): void {
    this.windows++;
    if (this.latencies.length < this.maxSamples) this.latencies.push(latencyMs);
  }

  /** Returns the figures since the previous snapshot and starts a new interval. */
  snapshot(): StreamStats {
    const at = this.clock();
    const seconds = Math.max((at - this.since) / 1000, 1e-3);
    const sorted = this.latencies.sort((a, b) => a - b);
    const stats: StreamStats = {
      streamId: this.streamId,
      at,
      fps: this.frames / seconds,
      windows: this.windows,
      drops: this.drops(),
      latencyMs: sorted.length ? { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted[sorted.length - 1]! } : undefined,
    };
    this.frames = 0;
    this.windows = 0;
    this.latencies = [];
    this.since = at;
    return stats;
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
