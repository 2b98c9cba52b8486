/**
 * A real TURN server for WebRTC tests: Debian's coturn (`turnserver`) on loopback with one
 * long-term-credential user. Loopback peers must be allowed explicitly: coturn refuses to relay
 * to them by default.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../pipelines/tools.js';

export const TURNSERVER = '/usr/bin/turnserver';
export const hasTurnServer = existsSync(TURNSERVER);

export interface TurnServer {
  readonly url: string;
  readonly username: string;
  readonly credential: string;
  stop(): Promise<void>;
}

export async function startTurnServer(): Promise<TurnServer> {
  const port = await freePort();
  const username = 'countertop';
  const credential = 'turn-test-secret';
  // A relay port range of its own, away from the listening port, sized for a few allocations.
  const minPort = 40000 + (port % 20000);
  const child = spawn(
    TURNSERVER,
    [
      '-n', '--no-cli', '--no-tls', '--no-dtls', '--simple-log', '--log-file=stdout',
      '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
      `--min-port=${minPort}`, `--max-port=${minPort + 200}`,
      '--lt-cred-mech', `--user=${username}:${credential}`, '--realm=countertop.test', '--allow-loopback-peers',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGKILL');
    });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Total General servers/.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`turnserver exited (${code}) before it was ready: ${out.slice(-500)}`)));
  });
  return { url: `turn:127.0.0.1:${port}?transport=udp`, username, credential, stop };
}
