/**
 * The running streams: each is a LiveSource fed through createLivePipeline into the shared
 * inference stage. The manager turns pipeline outputs into protocol messages for the hub, keeps
 * per-stream metrics, makes preview JPEGs only while someone watches, and records on request.
 */
import { Observable, share, Subject, Subscription, takeUntil, tap } from 'rxjs';
import type { Logger } from 'pino';
import { adaptFrameRate, createLivePipeline, type InferenceStage, type LivePipelineOptions } from '../pipelines/index.js';
import type { Frame, LiveSource, PipelineOutput } from '../pipelines/types.js';
import type { StreamEventSink } from './history.js';
import type { ClientHub } from './hub.js';
import type { ServerMetrics } from './metrics.js';
import { previewJpegs } from './preview.js';
import type { ServerMessage, StreamInfo, StreamKind, StreamState } from './protocol.js';
import { StreamRecorder, type RecordingResult } from './recorder.js';
import { clipRun, FrameRing, nextFrames } from './clipCapture.js';

/** What the manager needs to start a stream: a source, already validated and opened, and how to stop it. */
export interface OpenedSource {
  readonly source: LiveSource;
  /** Releases what the source holds beyond its subscription (e.g. a peer connection). */
  readonly dispose?: () => void;
}

/** What a source reports to the manager beyond its frames and states. */
export interface SourceEvents {
  /** The stall watchdog dropped a live connection that delivered no frame in time. */
  stalled(): void;
}

export interface StreamRequest {
  readonly kind: StreamKind;
  readonly name: string;
  /** Opens the source for the given stream id (again on a retry); throws a user-facing error for bad input. */
  readonly open: (streamId: string, events: SourceEvents) => OpenedSource;
  /** Fixed id (the demo stream); otherwise `<kind>-<n>`. */
  readonly id?: string;
  /** What the stream reads (a camera URL without credentials, a device): two live streams may not read the same. */
  readonly key?: string;
  /** Outputs computed elsewhere (a stream run by a worker on the bus, cluster/hubIntake.ts): shown instead of running the pipeline here. */
  readonly outputs?: Observable<PipelineOutput>;
}

export interface StreamManagerOptions {
  readonly maxStreams: number;
  readonly previewFps: number;
  readonly previewWidth: number;
  /** Frame rate the recorder writes at (the model's fps, which sources decode to). */
  readonly recordFps: number;
  readonly pipeline?: LivePipelineOptions;
  /** Where action events and captions are kept (the event history). */
  readonly events?: StreamEventSink;
  /** Seconds of recent frames each stream keeps for "keep the last N seconds" (0: none). */
  readonly clipBufferSeconds?: number;
  /** The model's name, shown on each stream's card. */
  readonly model?: string;
}

/** Frames cut from a live stream for the clip library. */
export interface CapturedClip {
  readonly frames: readonly Frame[];
  readonly fps: number;
  readonly streamId: string;
  readonly streamName: string;
  readonly capturedAt: number;
}

export class StreamLimitError extends Error {}
export class UnknownStreamError extends Error {}
/** The stream is not in a state that allows the request (e.g. recording a stream that is not live). */
export class StreamStateError extends Error {}

/** A failed or ended stream keeps its card, so the user can see why, but no longer holds a slot or its camera. */
function isOver(state: StreamState): boolean {
  return state === 'failed' || state === 'ended';
}

interface RunningStream {
  info: StreamInfo;
  /** Kept so that a failed stream can be started again under its id (retry). */
  readonly request: StreamRequest;
  readonly key?: string;
  readonly frames$: Observable<Frame>;
  readonly outputs$: Subject<PipelineOutput>;
  readonly subscription: Subscription;
  readonly dispose?: () => void;
  recorder?: StreamRecorder;
  lastStatus?: Extract<ServerMessage, { type: 'status' }>;
  /** The newest frame, for the history's snapshot of an event (one reference, not a copy). */
  lastFrame?: Frame;
  /** The last clipBufferSeconds of frames at the record rate, for "keep the last N seconds". */
  readonly recent: FrameRing;
  /** The pipeline reports a running total of drops; the counter is advanced by the difference. */
  dropsCounted: number;
  /** The pipeline the stream's frames go through now (a model switch starts a new one). */
  pipeline?: PipelineRun;
}

/** One run of the live pipeline over a stream's source, on one model's stage. */
interface PipelineRun {
  /** Stops the run taking frames; it then finishes the windows it has and completes. */
  readonly end$: Subject<void>;
  readonly finished: Promise<void>;
  readonly source: LiveSource;
  readonly subscription: Subscription;
}

export class StreamManager {
  private readonly streams = new Map<string, RunningStream>();
  private readonly counters = new Map<StreamKind, number>();
  /** Fires whenever the list or a stream's state changes. */
  readonly changed$ = new Subject<StreamInfo[]>();

  /** The model every stream runs (shown on its card). */
  private model: string | undefined;

  constructor(
    private stage: InferenceStage,
    private readonly hub: ClientHub,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
    private opts: StreamManagerOptions,
  ) {
    this.model = opts.model;
  }

  list(): StreamInfo[] {
    return [...this.streams.values()].map((s) => ({ ...s.info }));
  }

  has(id: string): boolean {
    return this.streams.has(id);
  }

  lastStatus(id: string): Extract<ServerMessage, { type: 'status' }> | undefined {
    return this.streams.get(id)?.lastStatus;
  }

  add(request: StreamRequest): StreamInfo {
    if (request.key) {
      const same = [...this.streams.values()].find((s) => s.key === request.key);
      if (same && !(isOver(same.info.state) && !same.recorder)) throw new StreamLimitError(`that camera is already stream "${same.info.id}" (${same.info.name})`);
      if (same) this.evict(same); // re-adding a failed camera replaces its old card
    }
    if (this.streams.size >= this.opts.maxStreams) {
      // The oldest failed or ended stream gives up its slot (the map is in insertion order).
      const over = [...this.streams.values()].find((s) => isOver(s.info.state) && !s.recorder);
      if (over) this.evict(over);
    }
    if (this.streams.size >= this.opts.maxStreams) throw new StreamLimitError(`at most ${this.opts.maxStreams} streams may run at once; remove one first`);
    const id = request.id ?? this.nextId(request.kind);
    if (this.streams.has(id)) throw new StreamLimitError(`stream "${id}" is already running`);
    const stream = this.start(request, id, { reconnects: 0, stalls: 0 });
    this.log.info({ stream: id, kind: request.kind, name: request.name }, 'stream added');
    this.emitChanged();
    return { ...stream.info };
  }

  /**
   * Starts a failed or ended stream again under the same id, keeping its reconnect and stall counts
   * (the dashboard's Retry). A webcam cannot be: its peer connection is gone with the stream.
   */
  retry(id: string): StreamInfo {
    const old = this.streams.get(id);
    if (!old) throw new UnknownStreamError(`no stream "${id}"`);
    if (!isOver(old.info.state)) throw new StreamStateError(`stream "${id}" is ${old.info.state}: only a failed or ended stream can be retried`);
    if (old.info.kind === 'webcam') throw new StreamStateError('a webcam stream cannot be restarted from the server: use "Use my webcam" again');
    if (old.recorder) throw new StreamStateError(`stream "${id}" is still saving a recording; stop it first`);
    old.subscription.unsubscribe();
    old.outputs$.complete();
    old.dispose?.();
    this.stage.engine.forgetStream?.(id); // a fresh start: no window may join frames from before the failure
    // If the source cannot be opened again (a file gone), the failed card stays as it was.
    const stream = this.start(old.request, id, { reconnects: old.info.reconnects, stalls: old.info.stalls });
    this.log.info({ stream: id }, 'stream retried');
    this.emitChanged();
    return { ...stream.info };
  }

  /** Opens the request's source and runs it through the pipeline as stream `id` (new, or replacing a failed one). */
  private start(request: StreamRequest, id: string, counts: { reconnects: number; stalls: number }): RunningStream {
    let stream: RunningStream | undefined;
    const opened = request.open(id, {
      stalled: () => {
        if (!stream || this.streams.get(id) !== stream) return;
        stream.info = { ...stream.info, stalls: stream.info.stalls + 1 };
        this.metrics.stalls.inc({ stream: id });
        this.log.warn({ stream: id, stalls: stream.info.stalls }, 'stream stalled: no frame in time, reconnecting');
      },
    });

    const frames$ = opened.source.frames.pipe(
      tap((f) => {
        this.metrics.framesIn.inc({ stream: id });
        if (stream) stream.lastFrame = f;
      }),
      share(),
    );
    const source: LiveSource = { ...opened.source, frames: frames$ };
    // Skipped frames: the pipeline thins the source to the model's fps with adaptFrameRate (when the
    // source is not at that rate already). The same operator, fed the same frames here, says which
    // ones it skips, synchronously, frame by frame — read from the pipelines, not kept by them.
    const modelFps = this.stage.engine.input.fps;
    const countSkips = source.frameRate !== modelFps;
    const outputs$ = new Subject<PipelineOutput>();
    const info: StreamInfo = { id, kind: request.kind, name: request.name, state: 'connecting', recording: false, startedAt: Date.now(), ...counts, ...(this.model ? { model: this.model } : {}) };
    const subscription = new Subscription();
    const recent = new FrameRing(Math.round((this.opts.clipBufferSeconds ?? 0) * this.opts.recordFps));
    const running: RunningStream = { info, request, key: request.key, frames$, outputs$, subscription, dispose: opened.dispose, dropsCounted: 0, recent };
    stream = running;
    this.metrics.streamUp.set({ stream: id }, 0);
    // Counters start at 0 (not absent) so that rate() and alerts see every camera from its start.
    this.metrics.reconnects.inc({ stream: id }, 0);
    this.metrics.stalls.inc({ stream: id }, 0);
    this.metrics.skippedFrames.inc({ stream: id }, 0);
    this.streams.set(id, running);
    this.metrics.streams.set(this.streams.size);

    if (countSkips) {
      const gate = new Subject<Frame>();
      let passed = false;
      subscription.add(gate.pipe(adaptFrameRate(modelFps)).subscribe(() => (passed = true)));
      subscription.add(
        frames$.subscribe({
          next: (f) => {
            passed = false;
            gate.next(f);
            if (!passed) this.metrics.skippedFrames.inc({ stream: id });
          },
          error: () => {}, // the pipeline reports the source's failure
        }),
      );
    }
    if (recent.capacity > 0) {
      subscription.add(frames$.pipe(adaptFrameRate(this.opts.recordFps)).subscribe({ next: (f) => recent.push(f), error: () => {} }));
    }
    if (this.opts.previewFps > 0) {
      subscription.add(
        frames$.pipe(previewJpegs(this.opts.previewFps, this.opts.previewWidth, () => this.hub.wantsPreview(id))).subscribe({
          next: (p) => {
            this.metrics.previewFrames.inc({ stream: id });
            this.hub.publish(id, { type: 'preview', ...p });
          },
          error: (err: unknown) => this.log.warn({ stream: id, err }, 'preview encoding stopped'),
        }),
      );
    }
    this.runPipeline(running, source, false);
    return running;
  }

  /**
   * Runs the stream's frames through the live pipeline on the current stage. `superseding`: a model
   * switch, while the old pipeline still finishes its windows; the new one's own "connecting" is not
   * shown (the stream never stopped) and only the newest pipeline's end or failure changes the card.
   * The run becomes the stream's current one.
   */
  private runPipeline(running: RunningStream, source: LiveSource, superseding: boolean): PipelineRun {
    const id = running.info.id;
    const end$ = new Subject<void>();
    const input: LiveSource = { ...source, frames: source.frames.pipe(takeUntil(end$)), ...(source.status ? { status: source.status.pipe(takeUntil(end$)) } : {}) };
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const run: PipelineRun = { end$, finished, source, subscription: new Subscription() };
    const current = () => running.pipeline === run;
    let quiet = superseding;
    // Current before it subscribes: a source that fails at once reports through this run.
    running.pipeline = run;
    run.subscription.add(
      (running.request.outputs?.pipe(takeUntil(end$)) ?? createLivePipeline(input, this.stage, this.opts.pipeline)).subscribe({
        next: (out) => {
          if (out.type === 'status') {
            if (quiet && out.status.state === 'connecting') return;
            quiet = false;
            if (!current()) return;
          }
          running.outputs$.next(out);
          this.onOutput(running, out);
        },
        error: (err: unknown) => {
          finish();
          if (!current()) return;
          this.log.error({ stream: id, err }, 'pipeline failed');
          this.setState(running, 'failed', err instanceof Error ? err.message : String(err));
        },
        complete: () => {
          finish();
          if (current() && running.info.state !== 'failed') this.setState(running, 'ended');
        },
      }),
    );
    running.subscription.add(run.subscription);
    return run;
  }

  /**
   * A model switch: every running stream goes on through `stage` (the new model) from its next
   * frames, with the new model's live settings; each old pipeline stops taking frames and finishes
   * the windows it has in flight on the old model (its open action ends). Resolves when they all have
   * (or after `drainMs`), so the caller can then free the old model.
   */
  async useStage(stage: InferenceStage, pipeline: LivePipelineOptions | undefined, model: string, drainMs = 15_000): Promise<void> {
    this.stage = stage;
    this.opts = { ...this.opts, pipeline };
    this.model = model;
    const old: PipelineRun[] = [];
    for (const running of this.streams.values()) {
      running.info = { ...running.info, model };
      if (isOver(running.info.state) || !running.pipeline) continue;
      const previous = running.pipeline;
      this.runPipeline(running, previous.source, true);
      previous.end$.next();
      old.push(previous);
    }
    this.emitChanged();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(old.map((r) => r.finished)), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
    clearTimeout(timer);
    for (const r of old) r.subscription.unsubscribe();
  }

  async remove(id: string): Promise<void> {
    const stream = this.streams.get(id);
    if (!stream) throw new UnknownStreamError(`no stream "${id}"`);
    if (stream.recorder) await this.stopRecording(id).catch((err: unknown) => this.log.warn({ stream: id, err }, 'recording did not finish cleanly'));
    this.evict(stream);
  }

  /** Stops a stream that is not recording and forgets it, at once (no await, so add() can make room synchronously). */
  private evict(stream: RunningStream): void {
    const id = stream.info.id;
    if (this.streams.get(id) !== stream) return;
    stream.subscription.unsubscribe();
    stream.outputs$.complete();
    stream.dispose?.();
    this.streams.delete(id);
    this.metrics.streams.set(this.streams.size);
    this.metrics.forgetStream(id);
    this.stage.engine.forgetStream?.(id);
    this.log.info({ stream: id }, 'stream removed');
    this.emitChanged();
  }

  startRecording(id: string, base: string): void {
    const stream = this.streams.get(id);
    if (!stream) throw new UnknownStreamError(`no stream "${id}"`);
    if (stream.recorder) throw new StreamLimitError(`stream "${id}" is already recording`);
    // A stream with no frames coming would only write an empty file.
    if (stream.info.state !== 'live') throw new StreamStateError(`stream "${id}" is ${stream.info.state}, not live: it can be recorded once its frames arrive`);
    // Sources like WebRTC deliver at the camera's own rate: resample so the file plays in real time.
    const frames$ = stream.frames$.pipe(adaptFrameRate(this.opts.recordFps));
    stream.recorder = new StreamRecorder(base, frames$, stream.outputs$, this.opts.recordFps);
    stream.info = { ...stream.info, recording: true };
    this.log.info({ stream: id, file: stream.recorder.video }, 'recording started');
    this.emitChanged();
  }

  async stopRecording(id: string): Promise<RecordingResult> {
    const stream = this.streams.get(id);
    if (!stream?.recorder) throw new UnknownStreamError(`stream "${id}" is not recording`);
    const recorder = stream.recorder;
    stream.recorder = undefined;
    stream.info = { ...stream.info, recording: false };
    this.emitChanged();
    const result = await recorder.stop();
    this.log.info({ stream: id, ...result }, 'recording saved');
    return result;
  }

  /**
   * Frames for a library clip: the next `seconds` of the stream (`next`), or the last `seconds` it
   * kept (`last`), at the record rate. At least `minFrames` (the model's window), else ClipTooShortError.
   */
  async captureClip(id: string, seconds: number, when: 'next' | 'last', minFrames: number): Promise<CapturedClip> {
    const stream = this.streams.get(id);
    if (!stream) throw new UnknownStreamError(`no stream "${id}"`);
    if (stream.info.state !== 'live') throw new StreamStateError(`stream "${id}" is ${stream.info.state}, not live: a clip can be taken once its frames arrive`);
    const fps = this.opts.recordFps;
    const wanted = Math.round(seconds * fps);
    let frames: Frame[];
    if (when === 'last') {
      if (stream.recent.capacity === 0) throw new StreamStateError('this server keeps no recent frames (clipBufferSeconds is 0): record the next seconds instead');
      if (wanted > stream.recent.capacity) throw new StreamStateError(`this server keeps the last ${stream.recent.capacity / fps} s of each stream; ask for at most that`);
      frames = stream.recent.last(wanted);
    } else {
      // A stream that stops sending for 5 s mid-clip is not going to finish it.
      frames = await nextFrames(stream.frames$.pipe(adaptFrameRate(fps)), wanted, 5000).catch((err: unknown) => {
        throw new StreamStateError(`stream "${id}" stopped sending frames while the clip was recorded (${err instanceof Error ? err.message : String(err)})`);
      });
    }
    const run = clipRun(frames, minFrames, fps);
    return { frames: run, fps, streamId: id, streamName: stream.info.name, capturedAt: run[0]!.capturedAt };
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.streams.keys()].map((id) => this.remove(id)));
  }

  private nextId(kind: StreamKind): string {
    let n = this.counters.get(kind) ?? 0;
    do n++;
    while (this.streams.has(`${kind}-${n}`));
    this.counters.set(kind, n);
    return `${kind}-${n}`;
  }

  private onOutput(stream: RunningStream, out: PipelineOutput): void {
    const id = stream.info.id;
    switch (out.type) {
      case 'prediction': {
        const p = out.prediction;
        this.metrics.windowsInferred.inc({ stream: id });
        this.metrics.latency.observe({ stream: id }, (p.stamps.emittedAt - p.stamps.capturedAt) / 1000);
        this.hub.publish(id, {
          type: 'prediction',
          streamId: id,
          firstSeq: p.firstSeq,
          lastSeq: p.lastSeq,
          heads: Object.fromEntries(Object.entries(p.heads).map(([h, labels]) => [h, labels.map((l) => ({ label: l.label, score: l.score }))])),
          stamps: { ...p.stamps },
        });
        break;
      }
      case 'action': {
        const e = out.event;
        this.hub.publish(id, { type: 'action', streamId: id, kind: e.kind, label: e.label, confidence: e.confidence, start: e.start, end: e.end, stamps: { ...e.stamps } });
        this.opts.events?.action(stream.info, e, stream.lastFrame);
        break;
      }
      case 'caption':
        this.hub.publish(id, { type: 'caption', streamId: id, text: out.event.text, reason: out.event.reason, stamps: { ...out.event.stamps } });
        this.opts.events?.caption(stream.info, { text: out.event.text, reason: out.event.reason, at: out.event.stamps.emittedAt }, stream.lastFrame);
        break;
      case 'status':
        this.setState(stream, out.status.state, out.status.detail);
        break;
      case 'stats': {
        const s = out.stats;
        if (s.drops > stream.dropsCounted) this.metrics.drops.inc({ stream: id }, s.drops - stream.dropsCounted);
        stream.dropsCounted = Math.max(stream.dropsCounted, s.drops);
        this.metrics.streamFps.set({ stream: id }, s.fps);
        this.hub.publish(id, {
          type: 'stats',
          streamId: id,
          fps: s.fps,
          windowsPerSecond: s.windows / ((this.opts.pipeline?.statsIntervalMs ?? 1000) / 1000),
          latencyMs: s.latencyMs ? { p50: s.latencyMs.p50, p95: s.latencyMs.p95 } : null,
          drops: s.drops,
          clientDrops: 0,
        });
        break;
      }
    }
  }

  private setState(stream: RunningStream, state: StreamState, detail?: string): void {
    const changed = stream.info.state !== state || stream.info.detail !== detail;
    let { reconnects } = stream.info;
    if (state === 'reconnecting' && stream.info.state !== 'reconnecting') {
      reconnects++;
      this.metrics.reconnects.inc({ stream: stream.info.id });
    }
    this.metrics.streamUp.set({ stream: stream.info.id }, state === 'live' ? 1 : 0);
    stream.info = { ...stream.info, state, detail, reconnects };
    const msg: Extract<ServerMessage, { type: 'status' }> = {
      type: 'status',
      streamId: stream.info.id,
      state,
      at: Date.now(),
      ...(detail ? { detail } : {}),
      reconnects,
      stalls: stream.info.stalls,
    };
    stream.lastStatus = msg;
    this.hub.publish(stream.info.id, msg);
    if (changed) {
      this.log.info({ stream: stream.info.id, state, detail }, 'stream state');
      this.emitChanged();
    }
  }

  private emitChanged(): void {
    this.changed$.next(this.list());
  }
}
