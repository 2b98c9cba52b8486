/**
 * One WebSocket client's conversation: validates each message, acts on it, replies. Every failure
 * becomes an `error` reply with the request id; the connection stays open.
 */
import type { Logger } from 'pino';
import { SourceConfigError } from '../pipelines/sources/openSource.js';
import type { RawData } from 'ws';
import type { Client, ClientHub } from './hub.js';
import type { ServerMetrics } from './metrics.js';
import { TokenBucket } from './limits.js';
import { rtspCameraKey, MAX_PENDING_OFFERS_PER_CLIENT, PROTOCOL_VERSION, parseClientMessage, type ParsedClientMessage, type ErrorCode, type EvaluationSummary, type ServerMessage, type WebRtcSettings } from './protocol.js';
import type { AnnotatedSegment } from '../eval/replay.js';
import { NotAVideoError } from './probe.js';
import { AnnotationLimitError, RecordingNotFound, type RecordingsFolder } from './recordings.js';
import type { SourceFactory } from './sources.js';
import { StreamLimitError, StreamStateError, UnknownStreamError, type StreamManager } from './streams.js';
import { acceptOffer, WebRtcError } from './webrtc.js';

export interface SessionContext {
  readonly hub: ClientHub;
  readonly streams: StreamManager;
  readonly recordings: RecordingsFolder;
  readonly sources: SourceFactory;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  /** Runs a recording against its annotations; absent when evaluation is not available. */
  readonly evaluate?: (video: string, annotations: readonly AnnotatedSegment[], onProgress: (fraction: number) => void) => Promise<EvaluationSummary>;
  /** Evaluations running now, server-wide: each holds a whole recording in memory, so one at a time. */
  readonly evaluations: { running: number };
  /** ICE servers and policy for the server's WebRTC peers (the same ones the dashboard is sent). */
  readonly webrtc: WebRtcSettings;
  /** Messages per second one client may send (bursts of twice that). */
  readonly messageRate: number;
}

/** An error whose message is safe and useful to show the user. */
class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Not one of the refusals the server makes on purpose: worth a stack in the log. */
    readonly unexpected = false,
  ) {
    super(message);
  }
}

function toRequestError(err: unknown): RequestError {
  if (err instanceof RequestError) return err;
  if (err instanceof StreamLimitError) return new RequestError('limit', err.message);
  if (err instanceof UnknownStreamError) return new RequestError('unknown-stream', err.message);
  if (err instanceof StreamStateError) return new RequestError('failed', err.message);
  if (err instanceof RecordingNotFound) return new RequestError('not-found', err.message);
  if (err instanceof NotAVideoError) return new RequestError('not-found', err.message);
  if (err instanceof AnnotationLimitError) return new RequestError('limit', err.message);
  if (err instanceof WebRtcError) return new RequestError('failed', err.message);
  // The pipelines' source validation writes messages meant for the user.
  if (err instanceof SourceConfigError) return new RequestError('invalid-message', err.message);
  return new RequestError('failed', err instanceof Error ? err.message : String(err), true);
}

export class Session {
  private readonly rate: TokenBucket;
  private rateDropped = 0;
  private lastRateErrorAt = 0;
  private pendingOffers = 0;

  constructor(
    private readonly ctx: SessionContext,
    readonly client: Client,
  ) {
    this.rate = new TokenBucket(ctx.messageRate, 2 * ctx.messageRate);
  }

  private reply(message: ServerMessage): void {
    this.ctx.hub.send(this.client, message);
  }

  async onRaw(data: RawData, isBinary: boolean): Promise<void> {
    if (!this.rate.take()) {
      this.ctx.metrics.invalidMessages.inc({ code: 'rate-limited' });
      this.rateDropped++;
      // One error a second, not one per dropped message: answering every message of a flood would amplify it.
      const now = Date.now();
      if (now - this.lastRateErrorAt >= 1000) {
        this.lastRateErrorAt = now;
        this.reply({ type: 'error', code: 'limit', message: `too many messages: at most ${this.ctx.messageRate} per second (bursts of ${2 * this.ctx.messageRate}); ${this.rateDropped} dropped so far` });
      }
      return;
    }
    if (isBinary) {
      this.ctx.metrics.invalidMessages.inc({ code: 'bad-json' });
      this.reply({ type: 'error', code: 'bad-json', message: 'binary frames are not part of the protocol; send JSON text' });
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.ctx.metrics.invalidMessages.inc({ code: parsed.error.code });
      this.reply(parsed.error);
      return;
    }
    try {
      await this.handle(parsed.message);
    } catch (err) {
      const e = toRequestError(err);
      // A stack only for the unexpected; a refused request (a garbage offer, a bad name) is one short line.
      if (e.unexpected) this.ctx.log.warn({ client: this.client.id, type: parsed.message.type, err }, 'request failed');
      else if (e.code === 'failed') this.ctx.log.warn({ client: this.client.id, type: parsed.message.type, reason: e.message }, 'request failed');
      this.reply({ type: 'error', id: parsed.message.id, code: e.code, message: e.message });
    }
  }

  private async handle(m: ParsedClientMessage): Promise<void> {
    const { streams, recordings, sources } = this.ctx;
    switch (m.type) {
      case 'hello':
        if (m.protocol !== PROTOCOL_VERSION) throw new RequestError('unsupported-protocol', `this server speaks protocol ${PROTOCOL_VERSION}, not ${m.protocol}`);
        this.reply({ type: 'ack', id: m.id, of: m.type });
        return;
      case 'ping':
        this.reply({ type: 'pong', id: m.id, at: Date.now() });
        return;
      case 'subscribe': {
        if (m.streams === '*') {
          this.client.subscriptions = '*';
          if (m.preview) this.client.previews = '*';
        } else {
          const unknown = m.streams.filter((s) => !streams.has(s));
          if (unknown.length > 0) throw new RequestError('unknown-stream', `no stream ${unknown.map((s) => `"${s}"`).join(', ')}`);
          for (const s of m.streams) {
            if (this.client.subscriptions !== '*') this.client.subscriptions.add(s);
            if (m.preview && this.client.previews !== '*') this.client.previews.add(s);
          }
        }
        this.reply({ type: 'ack', id: m.id, of: m.type });
        // A new subscriber learns each stream's state at once rather than at its next change.
        for (const info of streams.list()) {
          if (m.streams === '*' || m.streams.includes(info.id)) {
            const st = streams.lastStatus(info.id);
            if (st) this.reply(st);
          }
        }
        return;
      }
      case 'unsubscribe':
        if (m.streams === '*') {
          this.client.subscriptions = new Set();
          this.client.previews = new Set();
        } else {
          for (const s of m.streams) {
            if (this.client.subscriptions !== '*') this.client.subscriptions.delete(s);
            if (this.client.previews !== '*') this.client.previews.delete(s);
          }
        }
        this.reply({ type: 'ack', id: m.id, of: m.type });
        return;
      case 'add-rtsp': {
        const url = new URL(m.url);
        const info = streams.add({
          kind: 'rtsp',
          name: m.name?.trim() || `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`,
          key: rtspCameraKey(m.url),
          open: (id) => ({ source: sources.rtsp(id, m.url) }),
        });
        this.reply({ type: 'ack', id: m.id, of: m.type, streamId: info.id });
        return;
      }
      case 'add-v4l2': {
        const info = streams.add({ kind: 'v4l2', name: m.name?.trim() || m.device, key: m.device, open: (id) => ({ source: sources.v4l2(id, m.device) }) });
        this.reply({ type: 'ack', id: m.id, of: m.type, streamId: info.id });
        return;
      }
      case 'remove-stream':
        await streams.remove(m.streamId);
        this.client.owned.delete(m.streamId);
        this.reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
        return;
      case 'list-recordings':
        this.reply({ type: 'recordings', id: m.id, items: recordings.list() });
        return;
      case 'start-replay': {
        const { file } = await recordings.resolveVideo(m.recording);
        const info = streams.add({
          kind: 'replay',
          name: m.recording,
          open: (id) => ({ source: sources.file(id, file, { loop: m.loop }) }),
        });
        this.reply({ type: 'ack', id: m.id, of: m.type, streamId: info.id });
        return;
      }
      case 'webrtc-offer': {
        // Each offer in negotiation holds a native peer connection: a client flooding offers must not pile them up.
        if (this.pendingOffers >= MAX_PENDING_OFFERS_PER_CLIENT) throw new RequestError('limit', `at most ${MAX_PENDING_OFFERS_PER_CLIENT} WebRTC offers may be in negotiation at once; wait for the answer`);
        this.pendingOffers++;
        let accepted;
        try {
          accepted = await acceptOffer(m.sdp, this.ctx.webrtc);
        } finally {
          this.pendingOffers--;
        }
        let info;
        try {
          info = streams.add({
            kind: 'webcam',
            name: m.name?.trim() || `Webcam (client ${this.client.id})`,
            open: (id) => ({ source: sources.webrtc(id, accepted.track), dispose: () => accepted.peer.close() }),
          });
        } catch (err) {
          accepted.peer.close();
          throw err;
        }
        this.client.owned.add(info.id);
        this.reply({ type: 'webrtc-answer', id: m.id, streamId: info.id, sdp: accepted.answerSdp });
        return;
      }
      case 'start-recording':
        streams.startRecording(m.streamId, recordings.newRecordingBase(m.streamId));
        this.reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
        return;
      case 'stop-recording': {
        const result = await streams.stopRecording(m.streamId);
        this.reply({ type: 'ack', id: m.id, of: m.type, streamId: m.streamId });
        this.ctx.hub.broadcast({ type: 'recording-saved', streamId: m.streamId, video: basename(result.video), events: basename(result.events) });
        return;
      }
      case 'evaluate': {
        if (!this.ctx.evaluate) throw new RequestError('failed', 'evaluation is not available on this server');
        const { file: video, probe } = await recordings.resolveVideo(m.recording);
        const { segments } = await recordings.readAnnotations(m.recording, probe.duration);
        if (this.ctx.evaluations.running > 0) throw new RequestError('limit', 'another evaluation is running; try again when it has finished');
        this.ctx.evaluations.running++;
        this.reply({ type: 'ack', id: m.id, of: m.type });
        let lastSent = -1;
        try {
          const result = await this.ctx.evaluate(video, segments, (fraction) => {
            if (fraction - lastSent >= 0.05 || fraction === 1) {
              lastSent = fraction;
              this.reply({ type: 'eval-progress', id: m.id, recording: m.recording, fraction });
            }
          });
          this.reply({ type: 'eval-result', id: m.id, result });
        } finally {
          this.ctx.evaluations.running--;
        }
        return;
      }
    }
  }

  /** The client left: stop the streams only it could feed (its webcam). */
  async close(): Promise<void> {
    for (const id of this.client.owned) {
      if (this.ctx.streams.has(id)) await this.ctx.streams.remove(id).catch(() => undefined);
    }
  }
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
