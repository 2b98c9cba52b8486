/**
 * External programs the integration tests need. Missing locally → the test is skipped with a note;
 * missing under CI=true → the test fails, so CI can never pass by silently skipping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
// Shared with cluster/localProcesses.ts, which the scale bench runs outside the tests.
export { freePort, tempDir } from '../../cluster/localProcesses.js';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const RTSP_SERVER_SCRIPT = fileURLToPath(new URL('../fixtures/rtsp_server.py', import.meta.url));

function works(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

export const hasFfmpeg = works(process.env.FFMPEG_PATH || 'ffmpeg', ['-hide_banner', '-version']);
export const hasRtspServer = works(PYTHON, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"]);

/**
 * True when the test may run; throws under CI when the tool is missing. Given the test context,
 * a local run marks the test skipped (so it is reported as such, not as passed).
 */
export function need(available: boolean, what: string, ctx?: { skip: (note?: string) => void }): boolean {
  if (available) return true;
  if (process.env.CI) throw new Error(`${what} is required in CI but is not installed (see .ci/install)`);
  ctx?.skip(`${what} is not installed`);
  console.warn(`skipping: ${what} is not installed`);
  return false;
}


/** Writes a small test video with ffmpeg's own generator (moving test pattern). */
export function makeVideo(file: string, { seconds = 2, fps = 16, size = '160x120', codec = 'libvpx' } = {}): string {
  const r = spawnSync(process.env.FFMPEG_PATH || 'ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`, '-c:v', codec, '-pix_fmt', 'yuv420p', file]);
  if (r.status !== 0) throw new Error(`ffmpeg could not write ${file}: ${r.stderr?.toString()}`);
  return file;
}


export interface RtspServer {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts test/fixtures/rtsp_server.py and resolves once it prints READY. */
export function startRtspServer(port: number, mount = '/test', source = 'videotestsrc'): Promise<RtspServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [RTSP_SERVER_SCRIPT, '--port', String(port), '--mount', mount, '--source', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child, stop });
    });
    child.once('exit', (code) => reject(new Error(`RTSP server exited (${code}) before it was ready: ${err}`)));
  });
}

/** Whether a process id still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 20 ms until it is true (no timing asserted: the test timeout is the limit). */
export async function until(check: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
