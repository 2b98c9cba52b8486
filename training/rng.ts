/**
 * A small seedable PRNG (sfc32) whose whole state is four 32-bit words, so a checkpoint can store
 * it and a resumed run draws exactly the numbers the uninterrupted run would have drawn.
 *
 * tfjs seeds every unseeded random op (dropout masks, some initialisers) from Math.random(), so
 * `withSeededMathRandom` routes Math.random through one of these for the span of one synchronous
 * training step: dropout is then reproducible from the run's seed and the state it saved.
 */
export type RngState = readonly [number, number, number, number];

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | RngState) {
    if (typeof seed === 'number') {
      // splitmix32 to spread a small integer seed over the state, then a short warm-up.
      let s = seed >>> 0;
      const next = () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
      };
      [this.a, this.b, this.c, this.d] = [next(), next(), next(), next()];
      for (let i = 0; i < 12; i++) this.nextUint32();
    } else {
      [this.a, this.b, this.c, this.d] = seed.map((x) => x >>> 0) as [number, number, number, number];
    }
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/**
 * Runs the synchronous `fn` with Math.random drawing from `rng`, then restores it. Synchronous on
 * purpose: while it runs no other code (a prefetching loader, a cache writing a temp file name)
 * can draw from the stream, so the numbers a training step gets never depend on timing.
 */
export function withSeededMathRandom<T>(rng: SeededRandom, fn: () => T): T {
  const original = Math.random;
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}
