/**
 * `npm run bench -- server`: the server's own costs, with the default-config model (untrained
 * unless assets/model/ holds the default) and the bundled demo stream in real time:
 *  - preview JPEG encoding time per frame;
 *  - for 1, 50 and 200 WebSocket clients subscribed to the demo: predictions delivered per client
 *    per second, server-side capture → emitted latency (p50/p95), emitted → received-by-client
 *    delay (p50/p95), and messages lost to slow clients.
 * Each run is short (BENCH_SERVER_SECONDS, default 15 s per client count); the machine is shared,
 * so read medians and ratios, not single numbers.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import WebSocket from 'ws';
import { now } from '../pipelines/clock.js';
import { InferenceStage, loadLiveSettings, ModelEngine } from '../pipelines/index.js';
import type { Frame } from '../pipelines/types.js';
import { startServer } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { loadServingModel } from '../server/model.js';
import { encodePreview } from '../server/preview.js';
import type { ServerMessage } from '../server/protocol.js';
import { pipelineSources } from '../server/sources.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

async function benchPreview(): Promise<void> {
  const size = 192;
  const pixels = new Uint8Array(size * size * 3).map((_, i) => (i * 31) & 255);
  const frame: Frame = { streamId: 'b', seq: 0, capturedAt: 0, width: size, height: size, pixels };
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await encodePreview(frame, 240);
    times.push(performance.now() - t);
  }
  console.log(`preview JPEG ${size}×${size} → 240 px wide: median ${quantile(times, 0.5).toFixed(2)} ms, p95 ${quantile(times, 0.95).toFixed(2)} ms (200 frames)`);
}

export async function run(): Promise<void> {
  await benchPreview();
  const seconds = Number(process.env.BENCH_SERVER_SECONDS ?? 15);
  const log = pino({ level: 'silent' });
  const { model, info, checkpoint } = await loadServingModel(undefined, log);
  const { settings } = loadLiveSettings(checkpoint); // as the server would run it
  const engine = new ModelEngine(model);
  const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 2 });
  const sources = pipelineSources(engine.input);
  const config = loadConfig(['--port', '0', '--no-demo', '--log-level', 'silent', '--max-clients', '1000', '--no-history'], {});
  const server = await startServer(config, { stage, model: info, sources, log, pipeline: settings });
  const demo = path.join(repoRoot, 'assets/demo/kitchen-session.webm');
  server.streams.add({ id: 'demo', kind: 'demo', name: 'demo', open: (id) => ({ source: sources.file(id, demo, { loop: true }) }) });
  console.log(`model: ${info.name} (${info.trained ? 'trained' : 'untrained'}), backend ${info.backend}, T=${engine.input.frames} ${engine.input.width}×${engine.input.height} @ ${engine.input.fps} fps, stride ${settings.stride}; demo stream in real time`);
  // Let the stream warm up.
  await new Promise((r) => setTimeout(r, 3000));

  const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws`;
  for (const n of [1, 50, 200]) {
    const delays: number[] = [];
    const latencies: number[] = [];
    let predictions = 0;
    let lastDrops = 0;
    const clients = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(wsUrl);
          ws.on('open', () => {
            ws.send(JSON.stringify({ type: 'subscribe', streams: ['demo'], preview: false }));
            resolve(ws);
          });
          ws.on('error', reject);
          ws.on('message', (data) => {
            const m = JSON.parse(data.toString()) as ServerMessage;
            if (m.type === 'prediction') {
              predictions++;
              delays.push(now() - m.stamps.emittedAt);
              if (i === 0) latencies.push(m.stamps.emittedAt - m.stamps.capturedAt);
            } else if (m.type === 'stats') lastDrops = Math.max(lastDrops, m.clientDrops);
          });
        }),
      ),
    );
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - started) / 1000;
    for (const ws of clients) ws.close();
    console.log(
      `${String(n).padStart(3)} clients: ${(predictions / n / elapsed).toFixed(2)} predictions/s per client; ` +
        `capture→emitted p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms; ` +
        `emitted→received p50 ${quantile(delays, 0.5).toFixed(1)} ms, p95 ${quantile(delays, 0.95).toFixed(1)} ms; ` +
        `pipeline drops ${stage.dropsFor('demo')}, most messages one client lost ${lastDrops}`,
    );
    await new Promise((r) => setTimeout(r, 500));
  }
  await offerFlood(wsUrl);
  await server.close();
  engine.dispose();
}

/**
 * 2,000 bogus WebRTC offers from 20 clients as fast as they can send: the server's resident memory
 * before, right after and 20 s later (each offer used to hold a native peer connection and log a
 * stack; now at most two are in negotiation per client and text that is not SDP is refused first).
 */
async function offerFlood(wsUrl: string): Promise<void> {
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  const before = rss();
  let answered = 0;
  const clients = await Promise.all(
    Array.from({ length: 20 }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsUrl);
        ws.on('open', () => resolve(ws));
        ws.on('error', reject);
        ws.on('message', () => answered++);
      }),
    ),
  );
  const started = performance.now();
  clients.forEach((ws, c) => {
    for (let i = 0; i < 100; i++) ws.send(JSON.stringify({ type: 'webrtc-offer', id: `flood-${c}-${i}`, sdp: `v=0 not really an offer ${c} ${i} `.repeat(20) }));
  });
  await new Promise((r) => setTimeout(r, 3000));
  const after = rss();
  for (const ws of clients) ws.close();
  await new Promise((r) => setTimeout(r, 20_000));
  console.log(
    `offer flood: 2,000 bogus offers from 20 clients, all sent at once; ${answered} replies in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
      `RSS ${before.toFixed(0)} MB before, ${after.toFixed(0)} MB 3 s after, ${rss().toFixed(0)} MB 20 s later (server and clients in this one process)`,
  );
}
