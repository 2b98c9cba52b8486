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
  /**
   * The same picture before it was shrunk to the model's size, kept when the engine runs the
   * pretrained detectors (they need 200+ px; the model reads 48): decoded once, resized twice.
   */
  readonly detail?: FrameDetail;
}

/** A larger copy of a frame's picture, RGB24. */
export interface FrameDetail {
  readonly width: number;
  readonly height: number;
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

/** One word (or phrase) of a caption and where it came from. */
export interface CaptionWord {
  readonly text: string;
  /** The caption decoder, the detectors' object nouns (grounded), or the action's template. */
  readonly source: 'decoder' | 'detector' | 'template';
}

export interface CaptionEvent {
  readonly streamId: string;
  readonly text: string;
  /** Set when the caption was grounded in what the detectors saw (pipelines/groundCaption.ts); else all of `text` is the decoder's. */
  readonly words?: readonly CaptionWord[];
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

/** A stream's model-facing shape: every source decodes (or resizes) to this. */
export interface FrameFormat {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** One window after inference: full probability vectors (for smoothing) and the pooled encoding (for captions). */
export interface ScoredWindow {
  readonly streamId: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Capture times of the window's first and last frame. */
  readonly firstCapturedAt: number;
  readonly lastCapturedAt: number;
  /** Per head name: probabilities indexed by class id (labels come from the engine's heads). */
  readonly probabilities: Readonly<Record<string, Float32Array>>;
  /** [U] pooled clip encoding, the caption decoder's input. */
  readonly encoding: Float32Array;
  /** Detector object labels seen in the window, most frequent first (models that run the detectors). */
  readonly objects?: readonly string[];
  readonly stamps: Omit<LatencyStamps, 'emittedAt'>;
}

/** A scored window with the action events its arrival caused (usually none). */
export interface SegmentedWindow extends ScoredWindow {
  readonly events: readonly ActionEvent[];
  /** True on the record sent when the stream ends: it repeats the last window only to carry closing events. */
  readonly final?: boolean;
}

/** Periodic per-stream health figures. */
export interface StreamStats {
  readonly streamId: string;
  readonly at: number;
  /** Frames per second entering the pipeline over the last interval. */
  readonly fps: number;
  /** Windows inferred over the last interval. */
  readonly windows: number;
  /** Windows dropped by the inference stage (oldest first under overload), since the stream started. */
  readonly drops: number;
  /** Capture → emitted latency of predictions over the last interval, ms (undefined when none). */
  readonly latencyMs?: { readonly p50: number; readonly p95: number; readonly max: number };
}

/** Everything a live pipeline emits, tagged by `type`. */
export type PipelineOutput =
  | { readonly type: 'prediction'; readonly prediction: WindowPrediction }
  | { readonly type: 'action'; readonly event: ActionEvent }
  | { readonly type: 'caption'; readonly event: CaptionEvent }
  | { readonly type: 'status'; readonly status: StreamStatus }
  | { readonly type: 'stats'; readonly stats: StreamStats };

/**
 * A live source as the pipelines consume it: frames (cold — subscribing starts the decoder or
 * attaches to the peer, unsubscribing releases it) and, optionally, the source's own connection
 * status (connecting / live / reconnecting / failed / ended) for the frames subscription in force.
 */
export interface LiveSource {
  readonly streamId: string;
  readonly frames: import('rxjs').Observable<Frame>;
  readonly status?: import('rxjs').Observable<StreamStatus>;
  /**
   * Set when the decoder already resampled frames to this rate in media time (ffmpeg's fps filter):
   * the pipeline then passes them all on, even when they arrive faster than real time (a file read
   * at full speed). Unset for live-timed sources (WebRTC), which the pipeline thins by capture time.
   */
  readonly frameRate?: number;
}
