/**
 * The dashboard ↔ server WebSocket protocol, version 1: every message is one JSON text frame with a
 * `type`. Client messages are validated with these schemas before anything acts on them; server
 * messages are typed by the same file so that the client and the server cannot drift apart.
 * docs/SERVER.md documents each message with an example.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Largest client message accepted; WebRTC offers are the biggest legitimate ones (a few kB). */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/**
 * Messages a client may send per second, sustained (bursts of twice that), by default
 * (--client-message-rate): the dashboard sends a few a minute, so this only stops a flood (each
 * message costs a JSON parse and a validation).
 */
export const MAX_CLIENT_MESSAGES_PER_SECOND = 50;
/** WebRTC offers one client may have in negotiation at once (each holds a native peer connection). */
export const MAX_PENDING_OFFERS_PER_CLIENT = 2;

const streamId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'stream ids are lowercase letters, digits and dashes');
/** A file name inside the recordings folder: no directory part, no leading dot. */
export const recordingName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a recording name is letters, digits, "_", "-" and "."; no folders')
  .refine((s) => !s.includes('..'), 'a recording name may not contain ".."');

/** Only rtsp:// and rtsps:// URLs with a host; nothing that ffmpeg could read as an option. */
export const rtspUrl = z
  .string()
  .max(2048)
  .refine((s) => !/[\s\x00-\x1f\x7f]/.test(s), 'the URL contains spaces or control characters')
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'expected rtsp://host[:port]/path or rtsps://…')
  // "RTSP://" passes the URL parser but ffmpeg knows only the lower-case protocol name.
  .transform((s) => s.replace(/^rtsps?:/i, (scheme) => scheme.toLowerCase()));

/**
 * What identifies a camera across spellings of its URL: scheme, host (any case), port (554/322 by
 * default), path and query; not the credentials, so the key can be logged and compared.
 */
export function rtspCameraKey(url: string): string {
  const u = new URL(url);
  const scheme = u.protocol.toLowerCase();
  const port = u.port || (scheme === 'rtsps:' ? '322' : '554');
  return `${scheme}//${u.hostname.toLowerCase()}:${port}${u.pathname}${u.search}`;
}

const requestId = z.string().max(64).optional();

/** Largest page of a history query. */
export const MAX_HISTORY_PAGE = 200;

/** A filter over the event history: the `history-query` message and the export's query string. */
export const historyFilterSchema = z.strictObject({
  streams: z.array(streamId).max(64).optional(),
  /** An action label, exactly (captions carry the label of the action open when they were made). */
  label: z.string().min(1).max(200).optional(),
  type: z.enum(['action', 'caption']).optional(),
  /** Epoch ms, inclusive. */
  from: z.number().int().min(0).max(8.64e15).optional(),
  /** Epoch ms, exclusive. */
  to: z.number().int().min(0).max(8.64e15).optional(),
  /** Only rows older than this id (the previous page's last id): stable paging while events arrive. */
  before: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(MAX_HISTORY_PAGE).default(50),
});
export type HistoryFilter = z.input<typeof historyFilterSchema>;

/** One stored event, as the dashboard and the export get it. */
export interface HistoryItem {
  id: number;
  streamId: string;
  streamName: string;
  type: 'action' | 'caption';
  /** The action's label; a caption's: the action open when it was made, if any. */
  label: string | null;
  /** The caption's text. */
  text: string | null;
  reason: string | null;
  /** Epoch ms: the action's start, a caption's emission. */
  start: number;
  /** Epoch ms: the action's end; null while it is open, and for captions. */
  end: number | null;
  confidence: number | null;
  model: string;
  /** A JPEG is at /history/snapshot/<id>. */
  snapshot: boolean;
}

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), id: requestId, protocol: z.number().int() }),
  z.object({
    type: z.literal('subscribe'),
    id: requestId,
    /** Stream ids, or "*" for every stream, present and future. */
    streams: z.union([z.literal('*'), z.array(streamId).max(64)]),
    /** Also send preview JPEGs for these streams. */
    preview: z.boolean().default(true),
  }),
  z.object({ type: z.literal('unsubscribe'), id: requestId, streams: z.union([z.literal('*'), z.array(streamId).max(64)]) }),
  z.object({ type: z.literal('add-rtsp'), id: requestId, url: rtspUrl, name: z.string().max(80).optional() }),
  z.object({
    type: z.literal('add-v4l2'),
    id: requestId,
    /** A camera attached to the server machine. */
    device: z.string().regex(/^\/dev\/video\d{1,3}$/, 'expected a V4L2 device such as /dev/video0'),
    name: z.string().max(80).optional(),
  }),
  z.object({ type: z.literal('remove-stream'), id: requestId, streamId }),
  /** Start a failed or ended stream again (its Retry button). */
  z.object({ type: z.literal('retry-stream'), id: requestId, streamId }),
  z.object({ type: z.literal('list-recordings'), id: requestId }),
  z.object({ type: z.literal('start-replay'), id: requestId, recording: recordingName, loop: z.boolean().default(false) }),
  z.object({ type: z.literal('webrtc-offer'), id: requestId, sdp: z.string().min(10).max(60_000), name: z.string().max(80).optional() }),
  z.object({ type: z.literal('start-recording'), id: requestId, streamId }),
  z.object({ type: z.literal('stop-recording'), id: requestId, streamId }),
  z.object({ type: z.literal('evaluate'), id: requestId, recording: recordingName }),
  z.object({ type: z.literal('ping'), id: requestId }),
  /** A page of the event history, newest first; `facets` also asks for the streams and labels in it. */
  z.object({ type: z.literal('history-query'), id: requestId, filter: historyFilterSchema.default({ limit: 50 }), facets: z.boolean().default(false) }),
]);

/** A message as a client sends it (fields with defaults may be left out). */
export type ClientMessage = z.input<typeof clientMessageSchema>;
/** A message after validation, defaults filled in: what the server acts on. */
export type ParsedClientMessage = z.output<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];

export type StreamKind = 'demo' | 'rtsp' | 'webcam' | 'replay' | 'v4l2';
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'failed' | 'ended';

export interface ScoredLabel {
  label: string;
  score: number;
}

export interface LatencyStamps {
  capturedAt: number;
  windowReadyAt: number;
  inferredAt: number;
  emittedAt: number;
}

export interface StreamInfo {
  id: string;
  kind: StreamKind;
  /** What a person would call it: the file name, the camera host, "Demo kitchen". */
  name: string;
  state: StreamState;
  detail?: string;
  recording: boolean;
  startedAt: number;
  /** Times the stream lost its source and started reconnecting (since it was added; kept across a retry). */
  reconnects: number;
  /** Times the stall watchdog dropped a live connection that sent no frame in time. */
  stalls: number;
}

export interface StreamStatsPayload {
  streamId: string;
  /** Frames per second arriving from the source over the last few seconds. */
  fps: number;
  windowsPerSecond: number;
  /** Capture → emitted latency of the last interval's predictions (null when none). */
  latencyMs: { p50: number; p95: number } | null;
  /** Frames or windows the pipeline dropped (never silently). */
  drops: number;
  /** Messages this client did not receive because it was too slow (coalesced or dropped). */
  clientDrops: number;
}

export interface ModelInfo {
  name: string;
  /** False while the server runs an untrained default-config model. */
  trained: boolean;
  backend: string;
  labels: number;
  note: string;
}

export interface RecordingInfo {
  name: string;
  bytes: number;
  /** A `<name>.annotations.json` (or `<stem>.json`) with ground-truth segments sits beside it. */
  annotations: string | null;
}

export interface SegmentView {
  start: number;
  end: number;
  label: string;
  caption?: string;
}

export interface EvaluationSummary {
  recording: string;
  frameAccuracy: number;
  eventF1: number;
  eventPrecision: number;
  eventRecall: number;
  captionBleu: number[] | null;
  captionCider: number | null;
  latencyMs: { mean: number; p95: number } | null;
  truth: SegmentView[];
  predicted: SegmentView[];
  duration: number;
}

/** What the browser's RTCPeerConnection needs to reach the server's peer (empty list: host candidates only). */
export interface WebRtcSettings {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  iceTransportPolicy: 'all' | 'relay';
}

export type ServerMessage =
  | { type: 'welcome'; protocol: number; server: string; model: ModelInfo; streams: StreamInfo[]; webrtc: WebRtcSettings }
  | { type: 'ack'; id?: string; of: ClientMessageType; streamId?: string }
  | { type: 'error'; id?: string; code: ErrorCode; message: string }
  | { type: 'pong'; id?: string; at: number }
  | { type: 'streams'; streams: StreamInfo[] }
  | { type: 'status'; streamId: string; state: StreamState; at: number; detail?: string; reconnects: number; stalls: number }
  | { type: 'prediction'; streamId: string; firstSeq: number; lastSeq: number; heads: Record<string, ScoredLabel[]>; stamps: LatencyStamps }
  | { type: 'action'; streamId: string; kind: 'start' | 'end'; label: string; confidence: number; start: number; end?: number; stamps: LatencyStamps }
  | { type: 'caption'; streamId: string; text: string; reason: string; stamps: LatencyStamps }
  | ({ type: 'stats' } & StreamStatsPayload)
  | { type: 'preview'; streamId: string; seq: number; width: number; height: number; jpeg: string }
  | { type: 'recordings'; id?: string; items: RecordingInfo[] }
  | { type: 'webrtc-answer'; id?: string; streamId: string; sdp: string }
  | { type: 'recording-saved'; streamId: string; video: string; events: string }
  | { type: 'eval-progress'; id?: string; recording: string; fraction: number }
  | { type: 'eval-result'; id?: string; result: EvaluationSummary }
  | { type: 'history'; id?: string; items: HistoryItem[]; more: boolean; facets?: { streams: { id: string; name: string }[]; labels: string[] } };

export type ErrorCode =
  | 'bad-json'
  | 'invalid-message'
  | 'too-large'
  | 'unsupported-protocol'
  | 'unknown-stream'
  | 'not-found'
  | 'limit'
  | 'failed';

export type ServerMessageType = ServerMessage['type'];

/** Parses one raw client frame; returns either the typed message or an error reply to send back. */
/** The request id of a message that failed validation, when it has a readable one (so the client can match the error). */
function requestIdOf(json: unknown): string | undefined {
  return typeof json === 'object' && json !== null && typeof (json as { id?: unknown }).id === 'string' ? (json as { id: string }).id.slice(0, 64) : undefined;
}

const utf8 = new TextEncoder();

/** UTF-8 size of a string (TextEncoder: this file is shared with the browser, which has no Buffer). */
function utf8Length(s: string): number {
  return utf8.encode(s).length;
}

export function parseClientMessage(raw: string): { ok: true; message: ParsedClientMessage } | { ok: false; error: Extract<ServerMessage, { type: 'error' }> } {
  // Bytes as they came over the wire, not UTF-16 units: "€" is one unit and three bytes.
  const bytes = utf8Length(raw);
  if (bytes > MAX_CLIENT_MESSAGE_BYTES) {
    // The socket's maxPayload bounds what reaches here (16× the limit), so parsing it for the id is bounded too.
    let id: string | undefined;
    try {
      id = requestIdOf(JSON.parse(raw));
    } catch {
      id = undefined;
    }
    return { ok: false, error: { type: 'error', id, code: 'too-large', message: `messages are limited to ${MAX_CLIENT_MESSAGE_BYTES} bytes; this one has ${bytes}` } };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: { type: 'error', code: 'bad-json', message: 'the message is not valid JSON' } };
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) {
    const id = requestIdOf(json);
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
    return { ok: false, error: { type: 'error', id, code: 'invalid-message', message: issues.join('; ') } };
  }
  return { ok: true, message: parsed.data };
}
