/** Starts `server/main.ts` as its own process (as `npm start` does) and waits for the URL it logs. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** stdout and stderr so far. */
  out(): string;
  err(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

export async function startServerProcess(args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, COUNTERTOP_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*countertop listening/.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${err}`)));
    });
    return { child, url, out: () => out, err: () => err, exited };
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw e;
  }
}
