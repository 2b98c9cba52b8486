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

/** A clip's label as the dashboard sends it; server/clipLibrary.ts checkLabel says what is allowed. */
const clipLabelSchema = z.object({ action: z.string().max(200), objects: z.array(z.string().max(80)).max(4).default([]) });
const clipId = z.string().regex(/^clip-[a-z0-9-]{6,40}$/, 'not a clip id');
/** Models are named by their folder (bundled, --model, or one taught into modelsDir). */
const modelId = z.string().min(1).max(120).regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, 'not a model id');
const jobId = z.string().regex(/^job-[a-z0-9-]{6,40}$/, 'not a training job id');
/** A segment a person marked on a recording's timeline: seconds from its start, and its label. */
const markedSegmentSchema = z.object({ start: z.number().min(0).max(86_400), end: z.number().min(0).max(86_400), label: clipLabelSchema }).refine((s) => s.end > s.start, 'a segment must end after it starts');
export const MAX_MARKED_SEGMENTS = 5000;
/** Shortest and longest clip a user may take from a stream (the model's window is ~1.3 s). */
export const CLIP_SECONDS = { min: 1, max: 30 } as const;

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
  z.object({ type: z.literal('list-clips'), id: requestId }),
  /** `next`: record the coming seconds of the stream; `last`: keep the seconds it just showed. */
  z.object({ type: z.literal('record-clip'), id: requestId, streamId, seconds: z.number().min(CLIP_SECONDS.min).max(CLIP_SECONDS.max), when: z.enum(['next', 'last']).default('next'), label: clipLabelSchema }),
  z.object({ type: z.literal('relabel-clip'), id: requestId, clipId, label: clipLabelSchema }),
  z.object({ type: z.literal('delete-clip'), id: requestId, clipId }),
  z.object({ type: z.literal('list-models'), id: requestId }),
  z.object({ type: z.literal('switch-model'), id: requestId, model: modelId }),
  z.object({ type: z.literal('rollback-model'), id: requestId }),
  z.object({
    type: z.literal('start-training'),
    id: requestId,
    /** Class names from the library; at least two. */
    classes: z.array(z.string().min(1).max(120)).min(1).max(64),
    base: modelId,
    /** transfer: frozen encoder, new head; finetune: every weight, at a lower learning rate. */
    mode: z.enum(['transfer', 'finetune']).default('transfer'),
    name: z.string().max(60).regex(/^[A-Za-z0-9][A-Za-z0-9 _-]*$/, 'a model name is letters, digits, spaces, "_" and "-"').optional(),
  }),
  z.object({ type: z.literal('cancel-training'), id: requestId, jobId }),
  z.object({ type: z.literal('list-training'), id: requestId }),
  /** The segments marked on a recording (its annotation file), to edit them. */
  z.object({ type: z.literal('read-annotations'), id: requestId, recording: recordingName }),
  /** Writes the recording's annotation file (what replay evaluation reads) from segments marked on its timeline. */
  z.object({ type: z.literal('save-annotations'), id: requestId, recording: recordingName, segments: z.array(markedSegmentSchema).max(MAX_MARKED_SEGMENTS) }),
  /** Cuts each segment out of the recording into the clip library, labelled. */
  z.object({ type: z.literal('clips-from-recording'), id: requestId, recording: recordingName, segments: z.array(markedSegmentSchema).min(1).max(200) }),
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
  /** The model the stream runs. */
  model?: string;
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

/** A label as a person gives it: a template with `[something]` slots and their words, or a new action's name. */
export interface ClipLabel {
  readonly action: string;
  readonly objects: readonly string[];
}

/** One clip of the clip library (server/clipLibrary.ts). */
export interface LibraryClip extends ClipLabel {
  readonly id: string;
  /** The class it teaches: the action with its slots unfilled ("Putting something into something"). */
  readonly className: string;
  readonly streamId: string;
  readonly streamName: string;
  /** Epoch ms of the clip's first frame. */
  readonly capturedAt: number;
  readonly frames: number;
  readonly fps: number;
  readonly bytes: number;
  readonly createdAt: number;
}

export interface LibraryView {
  readonly clips: readonly LibraryClip[];
  /** Per class: how many clips teach it. */
  readonly classes: readonly { name: string; clips: number }[];
  readonly bytes: number;
  readonly maxBytes: number;
  readonly maxClips: number;
}

/** A model the server can run: the bundled ones, --model, and those taught from the dashboard. */
export interface ModelVersion {
  id: string;
  name: string;
  /** Where it came from: bundled, --model, taught (transfer/finetune). */
  origin: 'bundled' | 'configured' | 'taught';
  createdAt: string | null;
  /** The model it was taught from, for a taught one. */
  base: string | null;
  mode: 'transfer' | 'finetune' | null;
  classes: string[];
  /** Held-out top-1 measured when it was made, when known. */
  top1: number | null;
  /** Its encoder reads the COCO backbone's feature, learned from real photographs (the others learned only from drawn clips). */
  photoFeatures: boolean;
  /** Why it cannot be loaded (a folder that is not a whole model); switching to it is refused. */
  problem?: string;
}

export interface ModelsView {
  items: ModelVersion[];
  /** What the running model is (as the welcome message says). */
  info: ModelInfo;
  /** The model every stream runs now. */
  active: string;
  /** What rollback-model goes back to. */
  previous: string | null;
  /** A switch in progress (loading the new model). */
  switching: string | null;
}

export interface TrainingProgress {
  phase: string;
  fraction: number;
  epoch?: number;
  epochs?: number;
  fold?: number;
  folds?: number;
  loss?: number;
  trainAccuracy?: number;
  heldOutAccuracy?: number;
}

export interface TrainingReportView {
  labels: string[];
  perClass: { label: string; clips: number; correct: number; accuracy: number }[];
  confusion: number[][];
  top1: number;
  heldOut: string;
  seconds: number;
}

export interface TrainingJobView {
  id: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  mode: 'transfer' | 'finetune';
  base: string;
  classes: string[];
  name: string;
  startedAt: number;
  progress: TrainingProgress | null;
  /** Loss and accuracy per epoch so far (bounded). */
  curve: { epoch: number; fold: number | null; loss: number | null; trainAccuracy: number | null; heldOutAccuracy: number | null }[];
  report: TrainingReportView | null;
  /** The model it made, once done (a models-list id). */
  model: string | null;
  error: string | null;
  /** Times it was started again after a server restart. */
  resumes: number;
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
  | { type: 'history'; id?: string; items: HistoryItem[]; more: boolean; facets?: { streams: { id: string; name: string }[]; labels: string[] } }
  | { type: 'clips'; id?: string; library: LibraryView }
  | { type: 'clip-saved'; id?: string; clip: LibraryClip }
  | { type: 'models'; id?: string; models: ModelsView }
  | { type: 'training'; id?: string; jobs: TrainingJobView[] }
  | { type: 'annotations'; id?: string; recording: string; segments: { start: number; end: number; label: ClipLabel }[]; duration: number | null }
  | { type: 'clips-added'; id?: string; recording: string; clips: number };

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
