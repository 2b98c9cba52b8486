/**
 * Starts a real countertop server in-process for tests: the real HTTP/WebSocket server, the real
 * pipelines with ffmpeg sources, and a real (small, untrained) CountertopModel, so that what the
 * tests see is what a user's dashboard would see, only faster.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import WebSocket, { type ClientOptions } from 'ws';
import { InferenceStage, ModelEngine, type InferenceEngine } from '../../pipelines/index.js';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { evaluator } from '../../server/evaluation.js';
import { timedEngine } from '../../server/inferenceTiming.js';
import { untrainedKitchenModel } from '../../server/model.js';
import type { ClientMessage, ServerMessage } from '../../server/protocol.js';
import type { SessionContext } from '../../server/session.js';
import { pipelineSources } from '../../server/sources.js';
import { initBackend } from '../../model/index.js';
import { SMALL_TEST_NET } from '../pipelines/smallModel.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The pipeline tests' network at 8 fps (windows of one second), without dropout. */
export const SMALL_MODEL = { ...SMALL_TEST_NET, fps: 8, dropout: 0 };

let enginePromise: Promise<InferenceEngine> | undefined;

/** One small model per test file (tfjs state is per process). */
export function smallEngine(): Promise<InferenceEngine> {
  enginePromise ??= (async () => {
    await initBackend();
    return new ModelEngine(untrainedKitchenModel(SMALL_MODEL, 7));
  })();
  return enginePromise;
}

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

/** Flags as a user would pass them; port 0 picks a free port. */
export async function startTestServer(flags: string[] = [], opts: { demoFile?: string; statsIntervalMs?: number; log?: Logger; evaluate?: SessionContext['evaluate']; env?: NodeJS.ProcessEnv } = {}): Promise<TestServer> {
  // No event history unless the test names a file: tests must not write into the checkout's runs/.
  const history = flags.includes('--history-file') ? [] : ['--no-history'];
  const config = loadConfig(['--port', '0', '--log-level', 'silent', '--no-demo', ...history, ...flags], opts.env ?? {});
  const engine = await smallEngine();
  const timed = timedEngine(engine);
  const stage = new InferenceStage(timed.engine, { maxBatch: 8, queueCapacity: 2 });
  const sources = pipelineSources(engine.input);
  const pipeline = { captions: { intervalMs: 1500 }, statsIntervalMs: opts.statsIntervalMs ?? 500 };
  const server = await startServer(config, {
    stage,
    sources,
    log: opts.log ?? pino({ level: 'silent' }),
    model: { name: 'small untrained (test)', trained: false, backend: 'test', labels: engine.heads[0]!.labels.length, note: 'test model' },
    pipeline,
    evaluate: opts.evaluate ?? evaluator(engine, pipeline),
    inferenceTimings: timed.timings$,
  });
  if (opts.demoFile) {
    const file = opts.demoFile;
    server.streams.add({ id: 'demo', kind: 'demo', name: 'Demo (test)', open: (id) => ({ source: sources.file(id, file, { loop: true }) }) });
  }
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws`;
  return { server, url: server.url, wsUrl, close: () => server.close() };
}

/** A protocol client that records every message and can wait for one. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as ServerMessage;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    ws.on('close', () => (this.closed = true));
  }

  static connect(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, ...options });
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs = 60_000, what = 'message'): Promise<T> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen as T);
    return this.next(pred, timeoutMs, what);
  }

  /** Resolves with the next future message matching `pred`. */
  next<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs = 60_000, what = 'message'): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last types: ${this.messages.slice(-8).map((m) => m.type).join(',')}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
  }

  /** Sends a request with an id and resolves with its reply (ack, answer, error…). */
  request<T extends ServerMessage = ServerMessage>(message: ClientMessage, id: string, timeoutMs = 60_000): Promise<T> {
    const reply = this.next<T>((m) => 'id' in m && m.id === id, timeoutMs, `reply to ${message.type}`);
    this.send({ ...message, id });
    return reply;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export function demoFixtureExists(): boolean {
  return existsSync(path.join(repoRoot, 'assets', 'demo'));
}
