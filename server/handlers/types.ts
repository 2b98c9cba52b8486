/**
 * What a message handler gets: the server's shared parts, this client, a way to reply, and the
 * per-client limits. Each file in this folder handles one concern's messages; session.ts joins
 * them into one table keyed by message type, which the compiler checks for completeness.
 */
import type { Logger } from 'pino';
import type { AnnotatedSegment } from '../../eval/replay.js';
import type { ReconnectPolicy } from '../../pipelines/sources/reconnect.js';
import type { HistoryHandle } from '../history.js';
import type { Client, ClientHub } from '../hub.js';
import type { Semaphore } from '../limits.js';
import type { ServerMetrics } from '../metrics.js';
import type { ErrorCode, EvaluationSummary, ParsedClientMessage, ServerMessage, WebRtcSettings } from '../protocol.js';
import type { RecordingsFolder } from '../recordings.js';
import type { SourceFactory } from '../sources.js';
import type { StreamManager } from '../streams.js';
import type { ClipLibrary } from '../clipLibrary.js';
import type { ModelControl } from '../liveModel.js';
import type { TrainingJobs } from '../trainingJobs.js';

export interface SessionContext {
  readonly hub: ClientHub;
  readonly streams: StreamManager;
  readonly recordings: RecordingsFolder;
  readonly sources: SourceFactory;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  /** Runs a recording against its annotations; absent when evaluation is not available. */
  readonly evaluate?: (video: string, annotations: readonly AnnotatedSegment[], onProgress: (fraction: number) => void) => Promise<EvaluationSummary>;
  /** Evaluations running now, server-wide: each holds a whole recording in memory, so one permit. */
  readonly evaluations: Semaphore;
  /** ICE servers and policy for the server's WebRTC peers (the same ones the dashboard is sent). */
  readonly webrtc: WebRtcSettings;
  /** How RTSP cameras added from the dashboard reconnect (the server-wide rtspReconnect). */
  readonly rtspReconnect: Partial<ReconnectPolicy>;
  /** The event history (or why it is off). */
  readonly history: HistoryHandle;
  /** Messages per second one client may send (bursts of twice that). */
  readonly messageRate: number;
  /** The clip library (absent: the server was started without one). */
  readonly library?: ClipLibrary;
  /** The running model and switching it (absent: a fixed model). */
  readonly live?: ModelControl;
  /** Frames and rate of the model's window (clips must hold one); absent: 16 at 12 fps. */
  readonly window?: () => { frames: number; fps: number };
  /** Training jobs (absent: this server does not train). */
  readonly training?: TrainingJobs;
}

/** One client's view while a message is handled. */
export interface HandlerScope {
  readonly ctx: SessionContext;
  readonly client: Client;
  reply(message: ServerMessage): void;
  /** WebRTC offers this client may have in negotiation at once. */
  readonly offers: Semaphore;
}

export type MessageType = ParsedClientMessage['type'];
export type MessageOf<T extends MessageType> = Extract<ParsedClientMessage, { type: T }>;
export type Handler<T extends MessageType> = (m: MessageOf<T>, scope: HandlerScope) => void | Promise<void>;
/** A handler for some of the message types. */
export type Handlers<T extends MessageType> = { readonly [K in T]: Handler<K> };

/** An error whose message is safe and useful to show the user. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Not one of the refusals the server makes on purpose: worth a stack in the log. */
    readonly unexpected = false,
  ) {
    super(message);
  }
}
