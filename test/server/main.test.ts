/**
 * `npm start` as a user runs it: the real entry point in its own process, with the bundled demo
 * session and the bundled default model (assets/model/default). It must come up with the trained model,
 * report healthy with the demo stream live, deliver predictions and captions scored on its worker
 * thread, serve the dashboard, and shut down cleanly on SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import type { ServerMessage } from '../../server/protocol.js';
import { repoRoot, TestClient } from './harness.js';
import { startServerProcess } from './serverProcess.js';

const run = need(hasFfmpeg, 'ffmpeg') && need(existsSync(path.join(repoRoot, 'assets/demo')), 'the bundled demo session (assets/demo)');
const d = run ? describe : describe.skip;

d('npm start', () => {
  it('serves the dashboard with the demo stream live and stops on SIGTERM', async () => {
    const tmp = tempDir('main');
    const server = await startServerProcess(['--port', '0', '--recordings-dir', path.join(tmp.dir, 'recordings'), '--history-file', path.join(tmp.dir, 'history.sqlite')]);
    const { child, url, exited } = server;
    try {
      // The demo stream reaches "live" once ffmpeg delivers its first frame.
      let health: { ok: boolean; streams: { id: string; state: string }[]; model: { trained: boolean; note: string } } | undefined;
      for (let i = 0; i < 240 && health?.streams[0]?.state !== 'live'; i++) {
        health = (await (await fetch(`${url}/healthz`)).json()) as typeof health;
        if (health?.streams[0]?.state !== 'live') await new Promise((r) => setTimeout(r, 250));
      }
      expect(health?.streams).toEqual([{ id: 'demo', state: 'live' }]);
      expect(health?.model.note.length).toBeGreaterThan(0);
      expect(health?.model.trained).toBe(true);
      // The model runs on a worker thread (the default) and its predictions and captions reach a client.
      expect(server.out()).toMatch(/"engine":"worker".*model runs on a worker thread/);
      const client = await TestClient.connect(`${url.replace(/^http/, 'ws')}/ws`);
      client.send({ type: 'subscribe', streams: ['demo'], preview: false });
      const prediction = await client.waitFor<Extract<ServerMessage, { type: 'prediction' }>>((m) => m.type === 'prediction', 60_000, 'a prediction');
      expect(prediction.heads.action!.length).toBeGreaterThan(0);
      await client.waitFor((m) => m.type === 'caption', 60_000, 'a caption');
      await client.close();
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<title>countertop/);
      // The empty recordings folder received the annotated demo session.
      expect(existsSync(path.join(tmp.dir, 'recordings', 'kitchen-session.json'))).toBe(true);
      // Structured logs: every stdout line is a JSON object.
      for (const line of server.out().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
      // The tensor backend line too: one JSON line on stdout, nothing plain on stderr.
      expect(server.out()).toMatch(/"msg":"tensor backend: \w/);
      expect(server.err()).not.toMatch(/tensor backend/);
      // The stage's engine calls are timed for /metrics.
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^countertop_stream_inference_seconds_count\{stream="demo"\} [1-9]/m);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      tmp.remove();
    }
  });

  it('a missing checkpoint or demo file stops it with a one-line reason', () => {
    const start = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server/main.ts'), '--port', '0', '--no-history', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    const model = start(['--model', '/nonexistent-checkpoint', '--no-demo']);
    expect(model.status).not.toBe(0);
    expect(model.stderr).toMatch(/checkpoint \/nonexistent-checkpoint: manifest\.json is missing/);
    expect(model.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const demo = start(['--demo-file', '/nonexistent.webm']);
    expect(demo.status).toBe(2);
    expect(demo.stderr).toMatch(/cannot start the demo stream: .*does not exist/);
  });
});
