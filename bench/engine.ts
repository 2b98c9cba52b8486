/**
 * `npm run bench -- engine`: where the server should run the model. The bundled default model
 * scores K copies of the demo stream (real time, looping) once inline on the main thread and once
 * on a worker thread (WorkerEngine), with one WebSocket client subscribed to every stream. Per
 * placement and K: predictions/s, server-side capture → emitted latency (p50/p95), emitted →
 * received by the client (p95), the main thread's event-loop delay (p99, max) and windows the
 * inference stage dropped. BENCH_ENGINE_STREAMS (default "1,4,8") and BENCH_ENGINE_SECONDS
 * (default 15) set the sizes; the machine is shared, so compare the two placements run by run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import WebSocket from 'ws';
import { now } from '../pipelines/clock.js';
import { InferenceStage, loadLiveSettings } from '../pipelines/index.js';
import { startServer } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { BUNDLED_MODEL_DIR, loadServingModel, servingEngine } from '../server/model.js';
import type { ServerMessage } from '../server/protocol.js';
import { pipelineSources } from '../server/sources.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = path.join(repoRoot, 'assets/demo/kitchen-session.webm');

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

async function measure(where: 'inline' | 'worker', streams: number, seconds: number): Promise<string> {
  const log = pino({ level: 'silent' });
  const served = await loadServingModel(undefined, log);
  if (!served.checkpoint) throw new Error('bench engine needs the bundled model (assets/model/default)');
  const engine = await servingEngine(where, served, log);
  const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 2 });
  const sources = pipelineSources(engine.input);
  const config = loadConfig(['--port', '0', '--no-demo', '--log-level', 'silent', '--max-streams', String(Math.max(8, streams)), '--preview-fps', '0', '--no-history'], {});
  const server = await startServer(config, { stage, model: served.info, sources, log, pipeline: loadLiveSettings(served.checkpoint).settings });
  const ids = Array.from({ length: streams }, (_, i) => `demo${i}`);
  for (const id of ids) server.streams.add({ id, kind: 'demo', name: id, open: (sid) => ({ source: sources.file(sid, DEMO, { loop: true }) }) });

  const latencies: number[] = [];
  const delays: number[] = [];
  let predictions = 0;
  let measuring = false;
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  ws.send(JSON.stringify({ type: 'subscribe', streams: '*', preview: false }));
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as ServerMessage;
    if (m.type !== 'prediction' || !measuring) return;
    predictions++;
    latencies.push(m.stamps.emittedAt - m.stamps.capturedAt);
    delays.push(now() - m.stamps.emittedAt);
  });
  // Warm up: every stream decoding and the caches filled.
  await new Promise((r) => setTimeout(r, 4000));
  const dropsBefore = ids.reduce((s, id) => s + stage.dropsFor(id), 0);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  loop.disable();
  const elapsed = (performance.now() - started) / 1000;
  const drops = ids.reduce((s, id) => s + stage.dropsFor(id), 0) - dropsBefore;
  ws.close();
  await server.close();
  await engine.close();
  return (
    `${where.padEnd(6)} ${String(streams).padStart(2)} streams: ${(predictions / elapsed).toFixed(1)} predictions/s; ` +
    `capture→emitted p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms; ` +
    `emitted→received p95 ${quantile(delays, 0.95).toFixed(1)} ms; ` +
    `event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms; drops ${drops}`
  );
}

export async function run(): Promise<void> {
  const counts = (process.env.BENCH_ENGINE_STREAMS ?? '1,4,8').split(',').map(Number);
  const seconds = Number(process.env.BENCH_ENGINE_SECONDS ?? 15);
  console.log(`bundled default model, demo stream(s) in real time, stride ${loadLiveSettings(BUNDLED_MODEL_DIR).settings.stride}, ${seconds} s per run`);
  for (const streams of counts) {
    for (const where of ['inline', 'worker'] as const) console.log(await measure(where, streams, seconds));
  }
}
