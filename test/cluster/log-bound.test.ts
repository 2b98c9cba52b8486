/** A role process's log stays bounded however much the process logs: the newest lines are kept, the rest counted. */
import { describe, expect, it } from 'vitest';
import { trimToNewest } from '../../cluster/localProcesses.js';

describe('role log bound', () => {
  it('keeps the newest lines, at most 1.1 × the limit, and counts every line it drops', () => {
    const lines: number[] = [];
    let dropped = 0;
    let longest = 0;
    for (let i = 0; i < 25_000; i++) {
      lines.push(i);
      dropped += trimToNewest(lines, 1_000);
      longest = Math.max(longest, lines.length);
    }
    expect(longest).toBeLessThanOrEqual(1_100);
    expect(lines.at(-1)).toBe(24_999);
    expect(lines.length + dropped).toBe(25_000);
    // The kept lines are the newest ones, in order.
    expect(lines).toEqual(Array.from({ length: lines.length }, (_, k) => 25_000 - lines.length + k));
    expect(trimToNewest([1, 2, 3], 1_000)).toBe(0);
  });
});
