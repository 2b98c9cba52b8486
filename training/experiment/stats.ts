/**
 * Paired tests for the study's contrasts, over the same test clips.
 *
 *   mcnemar(a, b)                         – one run against one run: exact two-sided p on the discordant clips
 *   pairedBootstrap([{ a, b }], { seed }) – arms of several training seeds: difference of mean top-1
 *                                           with a 95% interval and a two-sided p
 *
 * In the bootstrap each stratum is one data seed (its own test clips); within it the clips are
 * resampled once per iteration and shared by both arms (the pairing), and each arm's training
 * seeds are resampled on their own (the arms' runs are independent). The estimate is the mean over
 * strata of the per-stratum difference, so every data seed weighs the same.
 */
import { SeededRandom } from '../rng.js';

/** Per-clip correctness of the runs of one arm on one data seed: rows = training seeds, columns = test clips. */
export type CorrectMatrix = readonly (readonly boolean[])[];

export interface McNemar {
  /** Clips A gets right and B wrong, and the reverse. */
  readonly aOnly: number;
  readonly bOnly: number;
  readonly p: number;
}

/** log C(n, k). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Exact McNemar test: under H0 the discordant clips split Binomial(n, ½); two-sided p = 2·P(X ≤ min). */
export function mcnemar(a: readonly boolean[], b: readonly boolean[]): McNemar {
  if (a.length !== b.length) throw new Error(`McNemar needs the same clips: ${a.length} vs ${b.length}`);
  let aOnly = 0;
  let bOnly = 0;
  a.forEach((x, i) => {
    if (x && !b[i]) aOnly++;
    else if (!x && b[i]) bOnly++;
  });
  const n = aOnly + bOnly;
  const k = Math.min(aOnly, bOnly);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return { aOnly, bOnly, p: n === 0 ? 1 : Math.min(1, 2 * tail) };
}

export interface Contrast {
  /** Mean top-1 of A minus that of B (a fraction; ×100 for points). */
  readonly diff: number;
  readonly lo: number;
  readonly hi: number;
  /** Two-sided bootstrap p: twice the share of resamples on the far side of 0 (at least 1/iterations). */
  readonly p: number;
  readonly runsA: number;
  readonly runsB: number;
  readonly clips: number;
}

const meanOf = (m: CorrectMatrix, seeds: readonly number[], clips: readonly number[]): number => {
  let hits = 0;
  for (const s of seeds) for (const c of clips) if (m[s]![c]) hits++;
  return hits / (seeds.length * clips.length);
};

const indices = (n: number) => Array.from({ length: n }, (_, i) => i);

export function pairedBootstrap(strata: readonly { a: CorrectMatrix; b: CorrectMatrix }[], opts: { iterations?: number; seed?: number } = {}): Contrast {
  const iterations = opts.iterations ?? 2000;
  const usable = strata.filter((s) => s.a.length > 0 && s.b.length > 0);
  if (usable.length === 0) throw new Error('a contrast needs runs of both arms on at least one data seed');
  for (const s of usable) {
    const clips = s.a[0]!.length;
    if ([...s.a, ...s.b].some((row) => row.length !== clips)) throw new Error('every run of a stratum must be scored on the same test clips');
  }
  const estimate = (pick: (s: { a: CorrectMatrix; b: CorrectMatrix }, i: number) => { sa: number[]; sb: number[]; clips: number[] }) =>
    usable.reduce((sum, s, i) => {
      const { sa, sb, clips } = pick(s, i);
      return sum + meanOf(s.a, sa, clips) - meanOf(s.b, sb, clips);
    }, 0) / usable.length;
  const diff = estimate((s) => ({ sa: indices(s.a.length), sb: indices(s.b.length), clips: indices(s.a[0]!.length) }));
  const rng = new SeededRandom(opts.seed ?? 1);
  const draw = (n: number) => Array.from({ length: n }, () => Math.min(n - 1, Math.floor(rng.next() * n)));
  const samples: number[] = [];
  for (let it = 0; it < iterations; it++) {
    samples.push(estimate((s) => ({ sa: draw(s.a.length), sb: draw(s.b.length), clips: draw(s.a[0]!.length) })));
  }
  samples.sort((x, y) => x - y);
  const q = (f: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.round(f * (samples.length - 1))))]!;
  const below = samples.filter((v) => v <= 0).length / iterations;
  const above = samples.filter((v) => v >= 0).length / iterations;
  const p = Math.min(1, Math.max(1 / iterations, 2 * Math.min(below, above)));
  return {
    diff,
    lo: q(0.025),
    hi: q(0.975),
    p,
    runsA: usable.reduce((n, s) => n + s.a.length, 0),
    runsB: usable.reduce((n, s) => n + s.b.length, 0),
    clips: usable.reduce((n, s) => n + s.a[0]!.length, 0),
  };
}

/**
 * Training seeds per arm for a two-sided test at α = 0.05 to find a difference `delta` with 80%
 * power when runs of an arm spread with standard deviation `sd` (normal approximation).
 */
export function seedsForPower(sd: number, delta: number): number {
  const z = 1.959964 + 0.841621;
  return Math.ceil((2 * z * z * sd * sd) / (delta * delta));
}
