/**
 * Keeps a live camera stream going: each attempt opens a fresh decoder; if it fails, stalls (no
 * frame within the timeouts) or the camera ends the stream, the next attempt waits a capped
 * exponential backoff (initial · 2^(n−1), at most maxDelayMs). The retry count resets once frames
 * flow again; after maxRetries failures in a row the stream fails for good. Every transition is
 * reported (connecting → live → reconnecting → live … or → failed).
 */
import { catchError, concat, defer, Observable, retry, tap, throwError, timeout, timer } from 'rxjs';
import type { StreamState } from '../types.js';

export interface ReconnectPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Consecutive failed attempts before giving up (Infinity: never). */
  readonly maxRetries: number;
  /** How long a new connection may take to deliver its first frame. */
  readonly connectTimeoutMs: number;
  /** Longest gap between frames before the connection counts as dead. */
  readonly stallTimeoutMs: number;
}

export const defaultReconnectPolicy: ReconnectPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetries: 10,
  connectTimeoutMs: 10_000,
  stallTimeoutMs: 5_000,
};

/** Delay before retry `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: Pick<ReconnectPolicy, 'initialDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.initialDelayMs * 2 ** Math.max(0, attempt - 1), policy.maxDelayMs);
}

export function withReconnect<T>(
  open: () => Observable<T>,
  policy: ReconnectPolicy,
  report: (state: StreamState, detail?: string) => void,
  describe: (err: unknown) => string = (err) => (err instanceof Error ? err.message : String(err)),
): Observable<T> {
  return defer(() => {
    let retrying = false; // per subscription: the first attempt is 'connecting', later ones 'reconnecting'
    const attempt = defer(() => {
      let live = false;
      report(retrying ? 'reconnecting' : 'connecting');
      return concat(open(), throwError(() => new Error('the camera ended the stream'))).pipe(
        timeout({
          first: policy.connectTimeoutMs,
          each: policy.stallTimeoutMs,
          with: () => throwError(() => new Error(live ? `no frame for ${policy.stallTimeoutMs} ms` : `no frame within ${policy.connectTimeoutMs} ms of connecting`)),
        }),
        tap(() => {
          if (live) return;
          live = true;
          report('live');
        }),
      );
    });
    return attempt.pipe(
      retry({
        count: policy.maxRetries,
        resetOnSuccess: true,
        delay: (err, n) => {
          const wait = backoffDelay(n, policy);
          retrying = true;
          report('reconnecting', `${describe(err)}; retry ${n}${Number.isFinite(policy.maxRetries) ? `/${policy.maxRetries}` : ''} in ${wait} ms`);
          return timer(wait);
        },
      }),
      catchError((err: unknown) => {
        report('failed', describe(err));
        return throwError(() => err);
      }),
    );
  });
}
