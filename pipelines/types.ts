/**
 * The data that flows through countertop's live pipelines, defined once.
 * Times are milliseconds since the Unix epoch (Date.now()-compatible, sub-ms precision allowed).
 */

/** One decoded video frame from any source. */
export interface Frame {
  readonly streamId: string;
  /** 0, 1, 2, … per stream, in capture order; a gap means frames were dropped upstream. */
  readonly seq: number;
  readonly capturedAt: number;
  readonly width: number;
  readonly height: number;
  /** RGB24, row-major, width * height * 3 bytes. */
  readonly pixels: Uint8Array;
}

/** T consecutive frames of one stream, ready for the model. */
export interface FrameWindow {
  readonly streamId: string;
  readonly frames: readonly Frame[];
  /** When the last frame arrived and the window was cut. */
  readonly readyAt: number;
}

/** When a result passed each stage: capture → window ready → inference done → emitted. */
export interface LatencyStamps {
  readonly capturedAt: number;
  readonly windowReadyAt: number;
  readonly inferredAt: number;
  readonly emittedAt: number;
}

export interface ScoredLabel {
  readonly label: string;
  readonly score: number;
}

/** The model's answer for one window: top-k labels per classification head. */
export interface WindowPrediction {
  readonly streamId: string;
  /** seq of the window's first and last frame. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Per head (e.g. "action", "group"): labels sorted by score, highest first. */
  readonly heads: Readonly<Record<string, readonly ScoredLabel[]>>;
  readonly stamps: LatencyStamps;
}

/** A segment of one action, from the segmenter; `end` is undefined while it is still going on. */
export interface ActionEvent {
  readonly streamId: string;
  readonly kind: 'start' | 'end';
  readonly label: string;
  readonly confidence: number;
  readonly start: number;
  readonly end?: number;
  readonly stamps: LatencyStamps;
}

export interface CaptionEvent {
  readonly streamId: string;
  readonly text: string;
  /** Why it was decoded now. */
  readonly reason: 'action-changed' | 'interval';
  readonly stamps: LatencyStamps;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'failed' | 'ended';

export interface StreamStatus {
  readonly streamId: string;
  readonly state: StreamState;
  readonly at: number;
  /** Human-readable reason, e.g. the ffmpeg error or the next retry delay. */
  readonly detail?: string;
}

/** Counters a stage keeps so that nothing is dropped silently. */
export interface DropCounts {
  readonly [streamId: string]: number;
}
