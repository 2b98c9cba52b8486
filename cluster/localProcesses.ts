/**
 * Local processes for the cluster tests and `npm run bench -- scale`: a nats-server with JetStream
 * on a free loopback port and a temporary store (restartable on the same port and store), and
 * countertop roles, each its own `server/main.ts` process, whose JSON log lines can be waited for.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');

/** A TCP port free on loopback now (the tests' and benches' servers take it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary folder and a way to remove it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `countertop-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const hasNatsServer = spawnSync('nats-server', ['--version'], { stdio: 'ignore', timeout: 20_000 }).status === 0;

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops it (SIGTERM) and starts it again on the same port with the same store. */
  restart(): Promise<void>;
  remove(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

export async function startNats(extraArgs: readonly string[] = []): Promise<NatsServer> {
  const port = await freePort();
  const store = tempDir('nats');
  let child: ChildProcess | undefined;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn('nats-server', ['-js', '-sd', store.dir, '-a', '127.0.0.1', '-p', String(port), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let log = '';
      const onData = (b: Buffer) => {
        log += b.toString();
        if (/Server is ready/.test(log)) resolve();
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code) => reject(new Error(`nats-server exited (${code}) before it was ready: ${log.slice(-2000)}`)));
    });
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGTERM');
    await waitExit(c);
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    remove: async () => {
      await stop();
      store.remove();
    },
  };
}

export interface LogLine {
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The newest log lines, at most 1.1 × MAX_KEPT_LINES (a long bench run logs more than a test needs to keep). */
  readonly lines: LogLine[];
  /** Log lines dropped from the front of `lines` to keep it bounded. */
  droppedLines(): number;
  stderr(): string;
  /** Resolves with the first log line (already logged or future) matching `pred`. */
  waitFor(pred: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Log lines a RoleProcess keeps (the newest); older ones are dropped and counted. */
export const MAX_KEPT_LINES = 20_000;

/**
 * Trims `lines` to its newest `max` once it holds more than 1.1 × max, in chunks (a splice per
 * line would copy the whole array every time); returns how many it dropped.
 */
export function trimToNewest<T>(lines: T[], max: number): number {
  if (lines.length <= max * 1.1) return 0;
  const n = lines.length - max;
  lines.splice(0, n);
  return n;
}

/** `server/main.ts` with these flags, as its own OS process (as `npm start -- …` runs it). */
export function startRole(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, COUNTERTOP_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let dropped = 0;
  let waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let partial = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => {
    partial += b.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const text of parts) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      lines.push(line);
      dropped += trimToNewest(lines, MAX_KEPT_LINES);
      waiters = waiters.filter((w) => {
        if (!w.pred(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  });
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    lines,
    droppedLines: () => dropped,
    stderr: () => err,
    exited,
    waitFor: (pred, what, timeoutMs = 90_000) => {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: timed out waiting for ${what}; stderr: ${err.slice(-1500)}; last log: ${lines.slice(-3).map((l) => l.msg).join(' | ')}`)), timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code}) while waiting for ${what}: ${err.slice(-1500)}`));
        });
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
