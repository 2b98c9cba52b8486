/**
 * The bytes on the bus. A frame is binary — a 4-byte header length, a small JSON header (stream,
 * seq, capture time, size) and the RGB24 pixels — so that a 48×48 frame costs 6,912 bytes of
 * pixels plus about 80. Results are JSON of the pipelines' own types (pipelines/types.ts), read back
 * through checks so that a malformed message is dropped with a reason, never half-used.
 */
import type { Frame, PipelineOutput, StreamState, StreamStatus } from '../pipelines/types.js';
import type { StreamKind } from '../server/protocol.js';

const MAX_SIDE = 4096;

export function encodeFrame(frame: Frame): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ s: frame.streamId, q: frame.seq, t: frame.capturedAt, w: frame.width, h: frame.height }));
  const out = new Uint8Array(4 + header.length + frame.pixels.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(frame.pixels, 4 + header.length);
  return out;
}

export function decodeFrame(data: Uint8Array): Frame {
  if (data.length < 4) throw new Error('frame message too short');
  const len = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  if (len > 1024 || 4 + len > data.length) throw new Error('frame header length out of range');
  const h = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + len))) as Record<string, unknown>;
  const { s, q, t, w, h: height } = h;
  if (typeof s !== 'string' || !Number.isInteger(q) || typeof t !== 'number' || !Number.isInteger(w) || !Number.isInteger(height)) throw new Error('frame header fields missing');
  const width = w as number;
  const rows = height as number;
  if (width < 1 || rows < 1 || width > MAX_SIDE || rows > MAX_SIDE) throw new Error(`frame size ${width}x${rows} out of range`);
  const pixels = data.subarray(4 + len);
  if (pixels.length !== width * rows * 3) throw new Error(`frame has ${pixels.length} bytes of pixels, expected ${width * rows * 3}`);
  return { streamId: s, seq: q as number, capturedAt: t, width, height: rows, pixels };
}

/** A worker's result, with who made it (the dashboard does not need it; operators and tests do). */
export interface ResultMessage {
  readonly worker: string;
  readonly out: PipelineOutput;
}

export function encodeResult(worker: string, out: PipelineOutput): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ worker, out }));
}

const OUTPUT_TYPES = new Set(['prediction', 'action', 'caption', 'stats', 'status']);

export function decodeResult(data: Uint8Array): ResultMessage {
  const m = JSON.parse(new TextDecoder().decode(data)) as { worker?: unknown; out?: { type?: unknown } & Record<string, unknown> };
  if (typeof m.worker !== 'string' || !m.out || typeof m.out.type !== 'string' || !OUTPUT_TYPES.has(m.out.type)) throw new Error('not a result message');
  const body = m.out.type === 'prediction' ? m.out.prediction : m.out.type === 'stats' ? m.out.stats : m.out.type === 'status' ? m.out.status : m.out.event;
  if (typeof body !== 'object' || body === null || typeof (body as { streamId?: unknown }).streamId !== 'string') throw new Error(`result ${m.out.type} has no body`);
  return m as ResultMessage;
}

/** What an edge says of one of its streams, on change and every second. */
export interface EdgeStatusMessage {
  readonly edge: string;
  readonly kind: StreamKind;
  readonly name: string;
  readonly status: StreamStatus;
  readonly reconnects: number;
  readonly stalls: number;
  /** Frames published since the stream started (for operators and the scale bench). */
  readonly framesSent: number;
}

const STATES = new Set<StreamState>(['connecting', 'live', 'reconnecting', 'failed', 'ended']);
const KINDS = new Set<StreamKind>(['demo', 'rtsp', 'webcam', 'replay', 'v4l2']);

export function encodeEdgeStatus(m: EdgeStatusMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

export function decodeEdgeStatus(data: Uint8Array): EdgeStatusMessage {
  const m = JSON.parse(new TextDecoder().decode(data)) as Partial<EdgeStatusMessage>;
  if (typeof m.edge !== 'string' || typeof m.name !== 'string' || !KINDS.has(m.kind as StreamKind) || !m.status || !STATES.has(m.status.state) || typeof m.status.streamId !== 'string') {
    throw new Error('not an edge status message');
  }
  return { edge: m.edge, kind: m.kind!, name: m.name.slice(0, 80), status: m.status, reconnects: Number(m.reconnects) || 0, stalls: Number(m.stalls) || 0, framesSent: Number(m.framesSent) || 0 };
}

/** What the workers announce of their model: the edges decode to its input, the hubs show its name. */
export interface ModelAnnouncement {
  readonly name: string;
  readonly trained: boolean;
  readonly backend: string;
  readonly labels: number;
  readonly note: string;
  /** The checkpoint folder (as the workers name it), for a model switch to compare against. */
  readonly checkpoint?: string;
  readonly input: { readonly width: number; readonly height: number; readonly fps: number; readonly frames: number };
}

export function decodeModelAnnouncement(data: Uint8Array): ModelAnnouncement {
  const m = JSON.parse(new TextDecoder().decode(data)) as Partial<ModelAnnouncement>;
  const i = m.input;
  if (typeof m.name !== 'string' || !i || ![i.width, i.height, i.fps, i.frames].every((v) => typeof v === 'number' && v > 0 && v <= MAX_SIDE)) throw new Error('not a model announcement');
  return m as ModelAnnouncement;
}

/** A preview JPEG (base64), as the dashboard's `preview` message carries it. */
export interface PreviewMessage {
  readonly streamId: string;
  readonly seq: number;
  readonly width: number;
  readonly height: number;
  readonly jpeg: string;
}

const MAX_PREVIEW_CHARS = 512 * 1024;

export function decodePreview(data: Uint8Array): PreviewMessage {
  const m = JSON.parse(new TextDecoder().decode(data)) as Partial<PreviewMessage>;
  if (typeof m.streamId !== 'string' || !Number.isInteger(m.seq) || !Number.isInteger(m.width) || !Number.isInteger(m.height) || typeof m.jpeg !== 'string') throw new Error('not a preview message');
  if (m.jpeg.length > MAX_PREVIEW_CHARS || !/^[A-Za-z0-9+/=]*$/.test(m.jpeg)) throw new Error('preview JPEG too large or not base64');
  return { streamId: m.streamId, seq: m.seq!, width: m.width!, height: m.height!, jpeg: m.jpeg };
}

/** The streams a hub's dashboards want previews of. */
export function decodePreviewWants(data: Uint8Array): string[] {
  const m = JSON.parse(new TextDecoder().decode(data)) as { streams?: unknown };
  if (!Array.isArray(m.streams)) throw new Error('not a preview request');
  return m.streams.filter((s): s is string => typeof s === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(s)).slice(0, 10_000);
}
