/**
 * One WebSocket client's conversation: rate-limits and validates each message, hands it to the
 * handler for its type (server/handlers/, one file per concern), replies. Every failure becomes
 * an `error` reply with the request id; the connection stays open.
 */
import type { RawData } from 'ws';
import { SourceConfigError } from '../pipelines/sources/openSource.js';
import { evaluationHandlers } from './handlers/evaluation.js';
import { historyHandlers } from './handlers/history.js';
import { recordingHandlers } from './handlers/recordings.js';
import { streamHandlers } from './handlers/streams.js';
import { clipHandlers } from './handlers/clips.js';
import { modelHandlers } from './handlers/models.js';
import { trainingHandlers } from './handlers/training.js';
import { labellingHandlers } from './handlers/labelling.js';
import { RequestError, type Handler, type HandlerScope, type Handlers, type MessageType, type SessionContext } from './handlers/types.js';
import type { Client } from './hub.js';
import { Semaphore, TokenBucket } from './limits.js';
import { NotAVideoError } from './probe.js';
import { MAX_PENDING_OFFERS_PER_CLIENT, PROTOCOL_VERSION, parseClientMessage, type ParsedClientMessage, type ServerMessage } from './protocol.js';
import { AnnotationLimitError, RecordingNotFound } from './recordings.js';
import { StreamLimitError, StreamStateError, UnknownStreamError } from './streams.js';
import { ClipNotFoundError, ClipLabelError, LibraryFullError } from './clipLibrary.js';
import { ClipTooShortError } from './clipCapture.js';
import { ModelSwitchError } from './liveModel.js';
import { UnknownModelError } from './modelRegistry.js';
import { TrainingRequestError } from './trainingJobs.js';
import { WebRtcError } from './webrtc.js';

export type { SessionContext } from './handlers/types.js';

const protocolHandlers: Handlers<'hello' | 'ping'> = {
  hello(m, { reply }) {
    if (m.protocol !== PROTOCOL_VERSION) throw new RequestError('unsupported-protocol', `this server speaks protocol ${PROTOCOL_VERSION}, not ${m.protocol}`);
    reply({ type: 'ack', id: m.id, of: m.type });
  },
  ping(m, { reply }) {
    reply({ type: 'pong', id: m.id, at: Date.now() });
  },
};

/** Every client message type and its handler; the type makes a missing one a compile error. */
export const messageHandlers: Handlers<MessageType> = { ...protocolHandlers, ...streamHandlers, ...recordingHandlers, ...evaluationHandlers, ...historyHandlers, ...clipHandlers, ...modelHandlers, ...trainingHandlers, ...labellingHandlers };

/** The user-facing code and message for anything a handler throws. */
function toRequestError(err: unknown): RequestError {
  if (err instanceof RequestError) return err;
  if (err instanceof StreamLimitError) return new RequestError('limit', err.message);
  if (err instanceof UnknownStreamError) return new RequestError('unknown-stream', err.message);
  if (err instanceof StreamStateError) return new RequestError('failed', err.message);
  if (err instanceof RecordingNotFound) return new RequestError('not-found', err.message);
  if (err instanceof NotAVideoError) return new RequestError('not-found', err.message);
  if (err instanceof AnnotationLimitError) return new RequestError('limit', err.message);
  if (err instanceof WebRtcError) return new RequestError('failed', err.message);
  if (err instanceof ClipNotFoundError || err instanceof UnknownModelError) return new RequestError('not-found', err.message);
  if (err instanceof LibraryFullError) return new RequestError('limit', err.message);
  if (err instanceof ClipLabelError) return new RequestError('invalid-message', err.message);
  if (err instanceof ClipTooShortError || err instanceof ModelSwitchError || err instanceof TrainingRequestError) return new RequestError('failed', err.message);
  // The pipelines' source validation writes messages meant for the user.
  if (err instanceof SourceConfigError) return new RequestError('invalid-message', err.message);
  return new RequestError('failed', err instanceof Error ? err.message : String(err), true);
}

export class Session {
  private readonly rate: TokenBucket;
  private rateDropped = 0;
  private lastRateErrorAt = 0;
  private readonly scope: HandlerScope;

  constructor(
    private readonly ctx: SessionContext,
    readonly client: Client,
  ) {
    this.rate = new TokenBucket(ctx.messageRate, 2 * ctx.messageRate);
    this.scope = { ctx, client, reply: (message) => this.reply(message), offers: new Semaphore(MAX_PENDING_OFFERS_PER_CLIENT) };
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
    const m = parsed.message;
    try {
      // The table holds a handler for m's own type; TypeScript cannot follow that through the index.
      await (messageHandlers[m.type] as Handler<ParsedClientMessage['type']>)(m as never, this.scope);
    } catch (err) {
      const e = toRequestError(err);
      // A stack only for the unexpected; a refused request (a garbage offer, a bad name) is one short line.
      if (e.unexpected) this.ctx.log.warn({ client: this.client.id, type: m.type, err }, 'request failed');
      else if (e.code === 'failed') this.ctx.log.warn({ client: this.client.id, type: m.type, reason: e.message }, 'request failed');
      this.reply({ type: 'error', id: m.id, code: e.code, message: e.message });
    }
  }

  /** The client left: stop the streams only it could feed (its webcam). */
  async close(): Promise<void> {
    for (const id of this.client.owned) {
      if (this.ctx.streams.has(id)) await this.ctx.streams.remove(id).catch(() => undefined);
    }
  }
}
