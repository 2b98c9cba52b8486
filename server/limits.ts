/** Small limits shared by the server's per-client and server-wide resources. */

/** A token bucket: `ratePerSecond` sustained, up to `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when none is left (the caller refuses the action). */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A counting semaphore that never queues: `tryAcquire` gives a release function, or undefined when
 * all `max` permits are taken (the caller refuses the work rather than making it wait).
 */
export class Semaphore {
  private taken = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a semaphore needs at least one permit, not ${max}`);
  }

  get inUse(): number {
    return this.taken;
  }

  tryAcquire(): (() => void) | undefined {
    if (this.taken >= this.max) return undefined;
    this.taken++;
    let released = false;
    // Idempotent: a release called twice (a finally after a catch) must not free someone else's permit.
    return () => {
      if (released) return;
      released = true;
      this.taken--;
    };
  }
}
