/**
 * Records a live stream: its frames to `<base>.webm` (VP8 through ffmpeg) and everything the
 * pipeline said about it to `<base>.events.json`, with times in seconds from the first recorded
 * frame so that a recording can be replayed and scored against annotations later.
 * Frames arrive in real time; when ffmpeg's stdin is full the frame is dropped and counted.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
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

export class StreamRecorder {
  private readonly input = new PassThrough({ highWaterMark: 8 * 1024 * 1024 });
  private readonly entries: RecordedEntry[] = [];
  private readonly subs: Subscription[] = [];
  private firstAt: number | undefined;
  private size: { width: number; height: number } | undefined;
  private command: ffmpeg.FfmpegCommand | undefined;
  private finished: Promise<void> | undefined;
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
    private readonly maxEntries = 200_000,
  ) {
    this.video = `${base}.webm`;
    this.eventsFile = `${base}.events.json`;
    this.subs.push(frames$.subscribe((f) => this.onFrame(f)));
    this.subs.push(outputs$.subscribe((o) => this.onOutput(o)));
  }

  private start(width: number, height: number): void {
    this.size = { width, height };
    this.finished = new Promise<void>((resolve, reject) => {
      this.command = ffmpeg(this.input)
        .inputFormat('rawvideo')
        .inputOptions(['-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(this.fps)])
        .videoCodec('libvpx')
        .outputOptions(['-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1M', '-pix_fmt', 'yuv420p'])
        .format('webm')
        .on('end', () => resolve())
        .on('error', (err: Error) => reject(err))
        .save(this.video);
    });
    // An ffmpeg failure surfaces from stop(); until then it must not crash the process as unhandled.
    this.finished.catch(() => undefined);
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

  /** Stops recording, waits for ffmpeg to finish the file and writes the events JSON. */
  async stop(): Promise<RecordingResult> {
    for (const s of this.subs) s.unsubscribe();
    this.input.end();
    if (this.finished) await this.finished;
    await writeFile(
      this.eventsFile,
      JSON.stringify({ video: path.basename(this.video), fps: this.fps, frames: this.frames, droppedFrames: this.droppedFrames, droppedEntries: this.droppedEntries, entries: this.entries }, null, 1),
    );
    return { video: this.video, events: this.eventsFile, frames: this.frames, droppedFrames: this.droppedFrames };
  }
}
