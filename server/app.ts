/**
 * The countertop server: one HTTP server that serves the built dashboard, /healthz and /metrics,
 * and upgrades /ws to the WebSocket protocol. Everything stream-related is delegated to the
 * StreamManager; each WebSocket connection gets a Session.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Observable } from 'rxjs';
import type { InferenceStage } from '../pipelines/index.js';
import type { BatchTiming } from './inferenceTiming.js';
import { TOKEN_COOKIE, authorize, hostAllowed } from './auth.js';
import { startConfiguredCameras } from './cameras.js';
import type { ServerConfig } from './config.js';
import { HistoryHandle, historySink } from './history.js';
import { serveHistory } from './historyHttp.js';
import { serveRecording } from './recordingsHttp.js';
import { ClientHub } from './hub.js';
import { ServerMetrics } from './metrics.js';
import { MAX_CLIENT_MESSAGE_BYTES, PROTOCOL_VERSION, type ModelInfo, type WebRtcSettings } from './protocol.js';
import { RecordingsFolder } from './recordings.js';
import { Semaphore } from './limits.js';
import { Session, type SessionContext } from './session.js';
import { reconnectPolicy, type SourceFactory } from './sources.js';
import { serveStatic } from './static.js';
import { StreamManager } from './streams.js';
import type { LivePipelineOptions } from '../pipelines/index.js';
import type { ClipLibrary } from './clipLibrary.js';
import type { LiveModel, ModelControl } from './liveModel.js';
import type { TrainingJobs } from './trainingJobs.js';

export const SERVER_NAME = 'countertop/0.1.0';

export interface AppDeps {
  readonly stage: InferenceStage;
  readonly model: ModelInfo;
  readonly sources: SourceFactory;
  readonly log: Logger;
  readonly pipeline?: LivePipelineOptions;
  readonly evaluate?: SessionContext['evaluate'];
  /** The stage's engine calls, timed (server/inferenceTiming.ts timedEngine): /metrics' inference histograms. */
  readonly inferenceTimings?: Observable<BatchTiming>;
  /** The running model, switchable from the dashboard; when given, it is the model (stage, info, evaluation) the server serves. */
  readonly live?: LiveModel;
  /** A model control other than `live` (a hub's: its workers' model on the bus). */
  readonly modelControl?: ModelControl;
  readonly library?: ClipLibrary;
  readonly training?: TrainingJobs;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly streams: StreamManager;
  readonly hub: ClientHub;
  readonly metrics: ServerMetrics;
  readonly recordings: RecordingsFolder;
  close(): Promise<void>;
}

/** A browser page may only open the socket from the server's own origin (blocks cross-site WebSocket hijacking on loopback). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // non-browser clients send none
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } catch (err) {
    throw new Error(`cannot read the TLS certificate or key: ${(err as Error).message}`);
  }
}

export async function startServer(config: ServerConfig, deps: AppDeps): Promise<RunningServer> {
  const { log } = deps;
  const metrics = new ServerMetrics();
  const hub = new ClientHub(metrics);
  const timings = deps.inferenceTimings?.subscribe(({ seconds, streams }) => metrics.observeBatch(seconds, streams));
  const recordings = new RecordingsFolder(config.recordingsDir);
  const history = HistoryHandle.open(
    config.history ? { file: config.historyFile, maxAgeDays: config.historyMaxAgeDays, maxBytes: config.historyMaxMb * 1e6, model: deps.model.name } : undefined,
    log,
  );
  const modelInfo = () => deps.live?.current.info ?? deps.model;
  const streams = new StreamManager(deps.stage, hub, metrics, log, {
    model: deps.model.name,
    clipBufferSeconds: config.clipBufferSeconds,
    ...(history.store ? { events: historySink(history.store) } : {}),
    maxStreams: config.maxStreams,
    previewFps: config.previewFps,
    previewWidth: config.previewWidth,
    recordFps: deps.stage.engine.input.fps,
    pipeline: deps.pipeline,
  });
  streams.changed$.subscribe((list) => hub.broadcast({ type: 'streams', streams: list }));
  deps.live?.attach(streams);
  const control = deps.live ?? deps.modelControl;
  const modelChanges = control?.changed$.subscribe((models) => hub.broadcast({ type: 'models', models }));
  const trainingChanges = deps.training?.changed$.subscribe((jobs) => hub.broadcast({ type: 'training', jobs }));
  // A finished job may have added a model: every dashboard's model list shows it at once.
  if (control && trainingChanges) trainingChanges.add(deps.training!.finished$.subscribe(() => hub.broadcast({ type: 'models', models: control.view() })));
  // Replay evaluation runs on whichever model is live when it starts.
  const evaluate: SessionContext['evaluate'] = deps.live ? (...args) => deps.live!.current.evaluate(...args) : deps.evaluate;
  const webrtc: WebRtcSettings = { iceServers: config.iceServers, iceTransportPolicy: config.iceTransportPolicy };
  const ctx: SessionContext = {
    hub, streams, recordings, sources: deps.sources, metrics, log, evaluate, evaluations: new Semaphore(1), webrtc, messageRate: config.clientMessageRate, rtspReconnect: reconnectPolicy(config.rtspReconnect), history,
    library: deps.library, live: control, training: deps.training,
    window: () => {
      const input = (deps.live?.current.stage ?? deps.stage).engine.input;
      return { frames: input.frames, fps: input.fps };
    },
  };

  const tls = config.tlsCert && config.tlsKey ? readTls(config.tlsCert, config.tlsKey) : undefined;

  // With a token, the token is the guard (a rebinding page does not have it); without one, the Host header is.
  const hostRefused = (req: IncomingMessage): boolean => !config.token && !hostAllowed(req.headers.host, config.host);
  const HOST_REFUSED_TEXT = `This server answers only requests addressed to localhost, 127.0.0.1, [::1] or ${config.host}; set --token to reach it under another name.\n`;

  const handleHttp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (hostRefused(req)) {
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' }).end(HOST_REFUSED_TEXT);
      return;
    }
    const auth = authorize(config.token, req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!auth.ok) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' }).end('A token is required: open the dashboard with ?token=…\n');
      return;
    }
    if (auth.via === 'query' && config.token) {
      // Remember the token for the page's own requests (assets, WebSocket) without keeping it in URLs.
      res.setHeader('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(config.token)}; HttpOnly; SameSite=Strict; Path=/${tls ? '; Secure' : ''}`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    // Liveness: the process answers (restart it if not). Readiness: it can take work (the model is
    // loaded before the server listens; not while shutting down). Health: what an operator looks at.
    if (url.pathname === '/livez') return void json(200, { ok: true });
    if (url.pathname === '/readyz') return void json(closing ? 503 : 200, { ready: !closing, ...(closing ? { reason: 'shutting down' } : {}) });
    if (url.pathname === '/healthz') return void json(200, health());
    if (url.pathname.startsWith('/history/')) return void serveHistory(history, url, res);
    if (url.pathname.startsWith('/recordings/')) return void serveRecording(recordings, url.pathname.slice('/recordings/'.length), req, res);
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
      return;
    }
    await serveStatic(config.staticDir, req, res);
  };

  let closing = false;
  /** `degraded` while any stream has failed or is reconnecting: the server runs, but a camera is not being watched. */
  const health = () => {
    const list = streams.list();
    const failed = list.filter((s) => s.state === 'failed').map((s) => s.id);
    const reconnecting = list.filter((s) => s.state === 'reconnecting').map((s) => s.id);
    const status = closing ? 'shutting-down' : failed.length > 0 || reconnecting.length > 0 ? 'degraded' : 'ok';
    return {
      ok: status === 'ok',
      status,
      protocol: PROTOCOL_VERSION,
      streams: list.map((s) => ({ id: s.id, state: s.state, ...(s.detail ? { detail: s.detail } : {}) })),
      failedStreams: failed,
      reconnectingStreams: reconnecting,
      clients: hub.size,
      // Loaded before the server listens; an untrained model serves, but its outputs are random.
      model: { ...modelInfo(), state: modelInfo().trained ? 'ready' : 'untrained' },
      history: history.usable ? { enabled: true } : { enabled: false, reason: history.unavailable },
    };
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handleHttp(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500).end('internal error');
      else res.destroy();
    });
  };
  const http: Server = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);

  // Frames up to 1 MB are read and answered with a `too-large` error (the connection stays); larger
  // ones close the connection (code 1009) so a client cannot make the server buffer without limit.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * MAX_CLIENT_MESSAGE_BYTES });
  const refuseUpgrade = (socket: Duplex, status: string, text = ''): void => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  };
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (hostRefused(req)) return refuseUpgrade(socket, '421 Misdirected Request', HOST_REFUSED_TEXT);
    if (url.pathname !== '/ws') return refuseUpgrade(socket, '404 Not Found');
    if (!authorize(config.token, req).ok) return refuseUpgrade(socket, '401 Unauthorized');
    if (!sameOrigin(req)) return refuseUpgrade(socket, '403 Forbidden');
    if (hub.size >= config.maxClients) return refuseUpgrade(socket, '503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // Heartbeat as the ws README does it: ping every interval, count the pings left unanswered, and
  // terminate a peer at two (a TCP connection to a vanished peer can otherwise stay open for hours).
  const missedPongs = new WeakMap<WebSocket, number>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const missed = missedPongs.get(ws) ?? 0;
      if (missed >= 2) {
        metrics.deadPeers.inc();
        log.info({ missedPings: missed }, 'client did not answer pings; dropping it');
        ws.terminate(); // emits 'close', which removes the client from the hub
        continue;
      }
      missedPongs.set(ws, missed + 1);
      ws.ping();
    }
  }, config.heartbeatMs);
  heartbeat.unref();

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    missedPongs.set(ws, 0);
    ws.on('pong', () => missedPongs.set(ws, 0));
    const client = hub.add(ws);
    const session = new Session(ctx, client);
    log.debug({ client: client.id, addr: req.socket.remoteAddress }, 'client connected');
    hub.send(client, { type: 'welcome', protocol: PROTOCOL_VERSION, server: SERVER_NAME, model: modelInfo(), streams: streams.list(), webrtc });
    ws.on('message', (data, isBinary) => void session.onRaw(data, isBinary));
    ws.on('error', (err) => log.debug({ client: client.id, err }, 'client socket error'));
    ws.on('close', () => {
      hub.remove(client);
      void session.close();
      log.debug({ client: client.id }, 'client disconnected');
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${tls ? 'https' : 'http'}://${hostForUrl}:${port}`;
  log.info({ url, auth: config.token ? 'token' : 'none (loopback)' }, 'countertop listening');
  startConfiguredCameras(config.cameras, config.rtspReconnect, streams, deps.sources, log);

  return {
    url,
    port,
    streams,
    hub,
    metrics,
    recordings,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      hub.closeAll(1001, 'server shutting down');
      wss.close();
      timings?.unsubscribe();
      modelChanges?.unsubscribe();
      trainingChanges?.unsubscribe();
      await deps.training?.close();
      await streams.closeAll();
      history.store?.close();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}
