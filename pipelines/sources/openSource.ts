/**
 * The one source builder: a small per-kind config in, a validated LiveSource out.
 *
 *   file        any video ffmpeg reads; paced at real time or as fast as possible; optionally looping
 *   rtsp        rtsp:// or rtsps:// over TCP, reconnecting with capped exponential backoff (forever
 *               unless reconnect.maxRetries says otherwise) and a stall watchdog
 *   v4l2        a /dev/videoN camera
 *   webrtc      a video track arriving at a @roamhq/wrtc peer (signaling is the server's job)
 *   procedural  frames from a frame generator (e.g. data/'s renderer), for demos and tests
 *
 * The ffmpeg kinds decode to RGB24 at the model's size and fps inside ffmpeg; the others deliver
 * their own size and rate, which the pipeline resizes and resamples. Validation happens here,
 * synchronously: a bad config throws SourceConfigError before anything is spawned.
 */
import type { ChildProcess } from 'node:child_process';
import { asyncScheduler, defer, map, Observable, ReplaySubject, Subscription, tap, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { z } from 'zod';
import { now } from '../clock.js';
import type { Frame, FrameFormat, LiveSource, StreamState, StreamStatus } from '../types.js';
import { ffmpegFrames } from './ffmpegFrames.js';
import { defaultReconnectPolicy, withReconnect, type ReconnectPolicy } from './reconnect.js';
import { redactUrl, SourceConfigError, validateRtspUrl, validateStreamId, validateV4l2Device, validateVideoFile } from './validate.js';
import { webrtcFrames } from './webrtcFrames.js';

export { SourceConfigError } from './validate.js';

/**
 * Input options for local files: the `file` protocol only and real video demuxers only, so that an
 * HLS or concat playlist renamed `.webm` cannot make ffmpeg open the other files or URLs it names.
 */
export const FILE_INPUT_ARGS = ['-protocol_whitelist', 'file', '-format_whitelist', 'matroska,webm,mov,mp4,m4a,3gp,3g2,mj2,avi'];

/** A frame generator for the procedural kind: yields RGB24 images of any size, in order. */
export type FrameGenerator = () => Iterable<{ readonly width: number; readonly height: number; readonly pixels: Uint8Array }>;

const streamId = z.string().superRefine((id, ctx) => {
  try {
    validateStreamId(id);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const reconnectSchema = z.strictObject({
  initialDelayMs: z.number().int().min(10).max(60_000),
  maxDelayMs: z.number().int().min(10).max(600_000),
  maxRetries: z.number().int().min(0).or(z.literal(Infinity)),
  connectTimeoutMs: z.number().int().min(100).max(120_000),
  stallTimeoutMs: z.number().int().min(100).max(120_000),
});

export const sourceConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('file'),
    streamId,
    path: z.string(),
    /** 'realtime' plays at the file's own speed (ffmpeg -re), 'max' decodes as fast as possible. */
    pace: z.enum(['realtime', 'max']).default('realtime'),
    loop: z.boolean().default(false),
  }),
  z.strictObject({ kind: z.literal('rtsp'), streamId, url: z.string(), reconnect: reconnectSchema.partial().optional() }),
  z.strictObject({ kind: z.literal('v4l2'), streamId, device: z.string() }),
  z.strictObject({
    kind: z.literal('webrtc'),
    streamId,
    track: z.custom<MediaStreamTrack>((t) => typeof t === 'object' && t !== null && 'kind' in t && 'readyState' in t, 'track must be a MediaStreamTrack'),
    /** Closed when the source is unsubscribed or the track ends. */
    peer: z.custom<RTCPeerConnection>((p) => typeof p === 'object' && p !== null && 'close' in p, 'peer must be an RTCPeerConnection').optional(),
  }),
  z.strictObject({
    kind: z.literal('procedural'),
    streamId,
    generate: z.custom<FrameGenerator>((g) => typeof g === 'function', 'generate must be a function returning an iterable of frames'),
    /** Frames per second to emit at; omit to emit as fast as possible (each frame then counts as one model-rate frame). */
    fps: z.number().positive().max(240).optional(),
  }),
]);

export type SourceConfig = z.input<typeof sourceConfigSchema>;

const formatSchema = z.object({
  width: z.number().int().min(8).max(4096),
  height: z.number().int().min(8).max(4096),
  fps: z.number().positive().max(120),
});

export interface OpenSourceHooks {
  /** Called with every ffmpeg process the source spawns (one per connection attempt). */
  readonly onSpawn?: (child: ChildProcess) => void;
  readonly clock?: () => number;
  /** RTSP: called each time the watchdog finds a live connection stalled (no frame for stallTimeoutMs) and drops it to reconnect. */
  readonly onStall?: () => void;
}

/** A live connection delivered no frame for the stall timeout: the watchdog drops it and reconnects. */
export class StallError extends Error {
  override readonly name = 'StallError';
}

/**
 * The stall watchdog: after the first frame, a gap of `ms` without one errors with StallError (so
 * the reconnect loop opens a fresh decoder) and calls `onStall`. Before the first frame the
 * reconnect loop's connect timeout applies instead.
 */
export function stallWatchdog<T>(ms: number, onStall?: () => void, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<T> {
  return (frames) =>
    new Observable<T>((subscriber) => {
      let timer: Subscription | undefined;
      const inner = frames.subscribe({
        next: (value) => {
          // Re-armed at every frame, first armed by the first one (the connect timeout covers the wait before it).
          timer?.unsubscribe();
          timer = scheduler.schedule(() => {
            onStall?.();
            subscriber.error(new StallError(`stalled: no frame for ${ms} ms`));
          }, ms);
          subscriber.next(value);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        timer?.unsubscribe();
        inner.unsubscribe();
      };
    });
}

/**
 * RTSP cameras retry forever by default (an NVR's cameras come back after a reboot or an outage);
 * reconnect.maxRetries limits that.
 */
export const RTSP_MAX_RETRIES_DEFAULT = Infinity;

/**
 * The size a source should decode at for an engine: `minScale` × the model's frame (previews and
 * recordings want it sharper), and at least the detectors' `detailSize` when the engine runs them;
 * the pipeline then resizes to the model's size, keeping the larger copy for the detectors.
 */
export function decodeFormat(input: FrameFormat & { readonly detailSize?: number }, minScale = 1): FrameFormat {
  const scale = Math.max(minScale, (input.detailSize ?? 0) / Math.min(input.width, input.height));
  const even = (v: number) => 2 * Math.round(v / 2);
  return scale === 1 ? { width: input.width, height: input.height, fps: input.fps } : { width: even(input.width * scale), height: even(input.height * scale), fps: input.fps };
}

/** Validates `config` and returns a cold LiveSource delivering frames for a model of `format`. */
export function openSource(config: SourceConfig, format: FrameFormat, hooks: OpenSourceHooks = {}): LiveSource {
  const parsed = sourceConfigSchema.safeParse(config);
  if (!parsed.success) throw new SourceConfigError(`invalid ${describeKind(config)} source: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`);
  const fmt = formatSchema.safeParse(format);
  if (!fmt.success) throw new SourceConfigError(`invalid frame format: ${z.prettifyError(fmt.error).replaceAll('\n', ' ')}`);
  const c = parsed.data;
  const clock = hooks.clock ?? now;
  const statusSubject = new ReplaySubject<StreamStatus>(1);
  const report = (state: StreamState, detail?: string) =>
    statusSubject.next({ streamId: c.streamId, state, at: clock(), ...(detail ? { detail: redactUrl(detail).replace(/(rtsps?:\/\/)[^@/\s]*@/gi, '$1***@') } : {}) });
  const decode = (inputArgs: string[], stamp: 'arrival' | 'nominal' = 'arrival', constantRate = false) =>
    ffmpegFrames({ streamId: c.streamId, inputArgs, format: fmt.data, onSpawn: hooks.onSpawn, clock, stamp, constantRate });

  switch (c.kind) {
    case 'file': {
      const input = validateVideoFile(c.path);
      const args = [...(c.pace === 'realtime' ? ['-re'] : []), ...(c.loop ? ['-stream_loop', '-1'] : []), ...FILE_INPUT_ARGS, '-i', input];
      const frames = decode(args, c.pace === 'realtime' ? 'nominal' : 'arrival', true);
      return { streamId: c.streamId, frames: withLifecycle(frames, report), status: statusSubject, frameRate: fmt.data.fps };
    }
    case 'rtsp': {
      const url = validateRtspUrl(c.url);
      const policy: ReconnectPolicy = { ...defaultReconnectPolicy, maxRetries: RTSP_MAX_RETRIES_DEFAULT, ...c.reconnect };
      // -timeout: ffmpeg's socket I/O timeout in µs, a backstop for a hung socket. Twice the stall
      // timeout, so that a silent camera is caught (and counted) by the watchdog, not by ffmpeg's
      // own exit with a misleading "Invalid data found".
      const args = ['-rtsp_transport', 'tcp', '-timeout', String(policy.stallTimeoutMs * 2000), '-fflags', 'nobuffer', '-flags', 'low_delay', '-i', url];
      // withReconnect's own gap timeout stays as a backstop, a little later than the watchdog's.
      const loopPolicy: ReconnectPolicy = { ...policy, stallTimeoutMs: policy.stallTimeoutMs + 1000 };
      const frames = defer(() => {
        let seq = 0; // one numbering across reconnections
        return withReconnect(() => decode(args).pipe(stallWatchdog(policy.stallTimeoutMs, hooks.onStall)), loopPolicy, report).pipe(map((f): Frame => ({ ...f, seq: seq++ })));
      });
      return { streamId: c.streamId, frames, status: statusSubject, frameRate: fmt.data.fps };
    }
    case 'v4l2': {
      const device = validateV4l2Device(c.device);
      return { streamId: c.streamId, frames: withLifecycle(decode(['-f', 'v4l2', '-i', device]), report), status: statusSubject, frameRate: fmt.data.fps };
    }
    case 'webrtc': {
      const frames = webrtcFrames({ streamId: c.streamId, track: c.track, peer: c.peer, width: fmt.data.width, height: fmt.data.height, clock });
      return { streamId: c.streamId, frames: withLifecycle(frames, report), status: statusSubject };
    }
    case 'procedural': {
      const frames = generatedFrames(c.streamId, c.generate, c.fps, clock);
      // Unpaced generated frames are taken as model-rate frames (a replay at full speed), not thinned.
      const frameRate = c.fps === undefined || c.fps === fmt.data.fps ? fmt.data.fps : undefined;
      return { streamId: c.streamId, frames: withLifecycle(frames, report), status: statusSubject, ...(frameRate ? { frameRate } : {}) };
    }
  }
}

function describeKind(config: unknown): string {
  const kind = (config as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' && /^[a-z0-9]{1,16}$/.test(kind) ? kind : 'video';
}

/** Reports connecting on subscribe, live at the first frame, then ended or failed. */
function withLifecycle(frames: Observable<Frame>, report: (state: StreamState, detail?: string) => void): Observable<Frame> {
  return defer(() => {
    let live = false;
    report('connecting');
    return frames.pipe(
      tap({
        next: () => {
          if (!live) report('live');
          live = true;
        },
        complete: () => report('ended'),
        error: (err: unknown) => report('failed', err instanceof Error ? err.message : String(err)),
      }),
    );
  });
}

/**
 * Frames from a generator: paced at `fps` with a timer that never bursts to catch up, or, without
 * fps, one frame per event-loop turn (setImmediate) so a fast generator cannot starve the event loop.
 */
function generatedFrames(streamId: string, generate: FrameGenerator, fps: number | undefined, clock: () => number): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    const it = generate()[Symbol.iterator]();
    let seq = 0;
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let start = clock();
    const step = () => {
      let r: IteratorResult<{ width: number; height: number; pixels: Uint8Array }>;
      try {
        r = it.next();
      } catch (err) {
        subscriber.error(err);
        return;
      }
      if (r.done) {
        subscriber.complete();
        return;
      }
      const { width, height, pixels } = r.value;
      if (pixels.length !== width * height * 3) {
        subscriber.error(new Error(`generated frame ${seq} has ${pixels.length} bytes, expected ${width}×${height}×3`));
        return;
      }
      subscriber.next({ streamId, seq: seq++, capturedAt: clock(), width, height, pixels });
      if (subscriber.closed) return;
      if (fps === undefined) immediate = setImmediate(step);
      else {
        const due = start + (seq * 1000) / fps;
        const wait = due - clock();
        if (wait < -1000 / fps) start = clock() - (seq * 1000) / fps; // fell behind: re-anchor, do not burst
        timer = setTimeout(step, Math.max(0, wait));
      }
    };
    start = clock();
    timer = setTimeout(step, 0);
    return () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      it.return?.();
    };
  });
}
