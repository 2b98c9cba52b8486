/** Runs `close` once on the first SIGINT or SIGTERM, then exits: 0 when it finished, 1 when it failed. */
import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** Exit with 1 if `close` has not finished after this long (a role whose bus is gone can only time out). */
  readonly forceExitAfterMs?: number;
  /** The warning logged then. */
  readonly forceExitMessage?: string;
}

export function closeOnSignals(log: Logger, close: () => Promise<void>, opts: ShutdownOptions = {}): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    if (opts.forceExitAfterMs !== undefined) {
      setTimeout(() => {
        log.warn(opts.forceExitMessage ?? `shutdown took over ${opts.forceExitAfterMs} ms; exiting`);
        process.exit(1);
      }, opts.forceExitAfterMs).unref();
    }
    close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
