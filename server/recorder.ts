/**
 * Records a live stream: its frames to `<base>.webm` (VP8 through ffmpeg) and everything the
 * pipeline said about it to `<base>.events.json`, with times in seconds from the first recorded
 * frame so that a recording can be replayed and scored against annotations later.
 * Frames arrive in real time; when ffmpeg's stdin is full the frame is dropped and counted.
 *
 * The recorder keeps its ffmpeg child: stop() closes ffmpeg's input and waits `stopTimeoutMs` for
 * it to finish the file; an ffmpeg that is stuck (it does not exit) is then killed with SIGKILL,
 * the events file is still written and stop() rejects saying so, so a stream can always be removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { FFMPEG } from '../data/ffmpegPath.js';
import type { Observable, Subscription } from 'rxjs';
import type { Frame, PipelineOutput } from '../pipelines/types.js';

export interface RecordedEntry {
  /** Seconds since the first recorded frame. */
  t: number;
  type: PipelineOutput['type'];
  data: unknown;
}

export interface RecordingResult {
  video: string;
  events: string;
  frames: number;
  droppedFrames: number;
}

export interface RecorderOptions {
  /** Pipeline outputs kept in memory; the rest are counted (default 200,000). */
  readonly maxEntries?: number;
  /** How long stop() waits for ffmpeg to finish the file before killing it (default 10 s). */
  readonly stopTimeoutMs?: number;
  /** Starts the encoder with these arguments (default: $FFMPEG_PATH or `ffmpeg`); tests pass a stuck fake. */
  readonly spawnEncoder?: (args: readonly string[]) => ChildProcess;
}

export class StreamRecorder {
  private readonly input = new PassThrough({ highWaterMark: 8 * 1024 * 1024 });
  private readonly entries: RecordedEntry[] = [];
  private readonly subs: Subscription[] = [];
  private firstAt: number | undefined;
  private size: { width: number; height: number } | undefined;
  /** The ffmpeg child, kept so that stop() can kill a stuck one. */
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> | undefined;
  private stderrTail = '';
  private readonly maxEntries: number;
  private readonly stopTimeoutMs: number;
  private readonly spawnEncoder: (args: readonly string[]) => ChildProcess;
  frames = 0;
  droppedFrames = 0;
  /** Pipeline outputs not kept once `maxEntries` were (the events file says how many). */
  droppedEntries = 0;
  readonly video: string;
  readonly eventsFile: string;

  constructor(
    base: string,
    frames$: Observable<Frame>,
    outputs$: Observable<PipelineOutput>,
    private readonly fps: number,
    options: RecorderOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 200_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.spawnEncoder = options.spawnEncoder ?? ((args) => spawn(FFMPEG, args, { stdio: ['pipe', 'ignore', 'pipe'] }));
    this.video = `${base}.webm`;
    this.eventsFile = `${base}.events.json`;
    this.subs.push(frames$.subscribe((f) => this.onFrame(f)));
    this.subs.push(outputs$.subscribe((o) => this.onOutput(o)));
  }

  private start(width: number, height: number): void {
    this.size = { width, height };
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(this.fps), '-i', 'pipe:0',
      '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1M', '-pix_fmt', 'yuv420p', '-f', 'webm', path.resolve(this.video),
    ];
    const child = this.spawnEncoder(args);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-2000)));
    // A dead ffmpeg's stdin errors (EPIPE); that surfaces from stop(), not as an unhandled error.
    child.stdin?.on('error', () => undefined);
    if (child.stdin) this.input.pipe(child.stdin);
  }

  private onFrame(frame: Frame): void {
    if (this.firstAt === undefined) this.firstAt = frame.capturedAt;
    if (!this.size) this.start(frame.width, frame.height);
    if (frame.width !== this.size!.width || frame.height !== this.size!.height || this.input.writableNeedDrain) {
      this.droppedFrames++;
      return;
    }
    this.input.write(frame.pixels);
    this.frames++;
  }

  private onOutput(o: PipelineOutput): void {
    if (this.firstAt === undefined) return;
    if (this.entries.length >= this.maxEntries) {
      this.droppedEntries++;
      return;
    }
    const data = o.type === 'prediction' ? o.prediction : o.type === 'status' ? o.status : o.type === 'stats' ? o.stats : o.event;
    this.entries.push({ t: (Date.now() - this.firstAt) / 1000, type: o.type, data });
  }

  /**
   * Stops recording, waits for ffmpeg to finish the file (killing it after `stopTimeoutMs`) and
   * writes the events JSON. Rejects when ffmpeg failed or had to be killed.
   */
  async stop(): Promise<RecordingResult> {
    for (const s of this.subs) s.unsubscribe();
    this.input.end();
    let failure: Error | undefined;
    if (this.child && this.exited) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.stopTimeoutMs)));
      const r = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (r === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exited;
        failure = new Error(`ffmpeg did not finish ${path.basename(this.video)} within ${this.stopTimeoutMs / 1000} s and was killed; the video may be incomplete`);
      } else if (r.error) failure = new Error(`cannot run ffmpeg to record ${path.basename(this.video)}: ${r.error.message}`);
      else if (r.code !== 0) failure = new Error(`ffmpeg failed recording ${path.basename(this.video)} (${r.signal ?? `exit ${r.code}`}): ${this.stderrTail.trim().split('\n').pop() ?? ''}`);
    }
    await writeFile(
      this.eventsFile,
      JSON.stringify({ video: path.basename(this.video), fps: this.fps, frames: this.frames, droppedFrames: this.droppedFrames, droppedEntries: this.droppedEntries, entries: this.entries }, null, 1),
    );
    if (failure) throw failure;
    return { video: this.video, events: this.eventsFile, frames: this.frames, droppedFrames: this.droppedFrames };
  }

  /** The ffmpeg child's pid while one runs (for tests and logs). */
  get encoderPid(): number | undefined {
    return this.child?.pid;
  }
}
