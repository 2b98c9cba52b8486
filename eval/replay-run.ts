/**
 * Runs a recorded session through the live pipeline and scores it with eval/replay.ts.
 *
 * Frame capture times are rewritten to the recording's own clock (seq / fps), so windows, the
 * segmenter, caption intervals and event times all live in video time whatever the pace; latency is
 * measured separately in wall-clock time, from the real arrival of a window's last frame to the
 * prediction's emission. At `max` pace the file decodes faster than the model runs, so the run uses
 * its own inference stage whose queue holds the whole recording (nothing is dropped; memory grows
 * with the recording's length: a 5-minute 64×64 session is about 45 MB of frames).
 */
import { lastValueFrom, map, tap, toArray, type OperatorFunction } from 'rxjs';
import { now } from '../pipelines/clock.js';
import { InferenceStage, createLivePipeline, resolveLiveSettings, type InferenceEngine, type LivePipelineOptions } from '../pipelines/index.js';
import { decodeFormat, openSource } from '../pipelines/sources/openSource.js';
import type { Frame, PipelineOutput } from '../pipelines/types.js';
import { scoreReplay, segmentsFromPredictions, type AnnotatedSegment, type ReplayObservations, type ReplayReport, type TimedSegment } from './replay.js';

export interface ReplayRunOptions {
  readonly video: string;
  readonly annotations: readonly AnnotatedSegment[];
  readonly engine: InferenceEngine;
  readonly pace: 'realtime' | 'max';
  readonly streamId?: string;
  /** The live settings (usually loadLiveSettings(checkpoint).settings) and any other pipeline options; absent parts are the defaults. */
  readonly pipeline?: Omit<LivePipelineOptions, 'clock'>;
  /** Called with the fraction of the annotated duration processed so far. */
  readonly onProgress?: (fraction: number) => void;
  /** Which annotation field predictions are compared with (default: the template). */
  readonly labelOf?: (s: AnnotatedSegment) => string;
}

export interface ReplayRun {
  readonly report: ReplayReport;
  readonly observations: ReplayObservations;
  /** The predicted segments that were scored (segmenter events, or runs of top-1 labels). */
  readonly predictedSegments: TimedSegment[];
  readonly duration: number;
  readonly frames: number;
  readonly windowsDropped: number;
}

/** Restamps frames with the recording's own clock (seq / fps), whatever pace they were decoded at. */
export function inVideoTime(fps: number): OperatorFunction<Frame, Frame> {
  return map((f) => ({ ...f, capturedAt: (f.seq * 1000) / fps }));
}

let runCounter = 0;

export async function runReplay(opts: ReplayRunOptions): Promise<ReplayRun> {
  const { engine } = opts;
  const fps = engine.input.fps;
  const streamId = opts.streamId ?? `eval-${++runCounter}`;
  const annotatedEnd = opts.annotations.reduce((m, s) => Math.max(m, s.end), 0);
  const arrivals: number[] = []; // wall-clock arrival per frame seq
  let frames = 0;

  const source = openSource({ kind: 'file', streamId, path: opts.video, pace: opts.pace, loop: false }, decodeFormat(engine.input));
  const videoClock = {
    ...source,
    frames: source.frames.pipe(
      tap((f) => {
        arrivals[f.seq] = now();
        frames++;
        if (annotatedEnd > 0 && f.seq % fps === 0) opts.onProgress?.(Math.min(1, f.seq / fps / annotatedEnd));
      }),
      inVideoTime(fps),
    ),
  };
  const { stride } = resolveLiveSettings({ stride: opts.pipeline?.stride });
  const windowsInRecording = Math.ceil(((annotatedEnd + 60) * fps) / stride) + 16;
  const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: opts.pace === 'max' ? Math.max(2, windowsInRecording) : 2 });

  const outputs = await lastValueFrom(createLivePipeline(videoClock, stage, { ...opts.pipeline, statsIntervalMs: 0 }).pipe(toArray()));
  const failed = outputs.find((o): o is Extract<PipelineOutput, { type: 'status' }> => o.type === 'status' && o.status.state === 'failed');
  if (failed) throw new Error(`replay of ${opts.video} failed: ${failed.status.detail ?? 'unknown error'}`);
  if (frames === 0) throw new Error(`replay of ${opts.video} produced no frames`);
  opts.onProgress?.(1);

  const predictions: { t: number; label: string }[] = [];
  const latenciesMs: number[] = [];
  const events: TimedSegment[] = [];
  const captions: { t: number; text: string }[] = [];
  const open = new Map<string, number>();
  const segHead = opts.pipeline?.segmenter?.head ?? engine.heads[0]?.name ?? 'action';
  for (const o of outputs) {
    if (o.type === 'prediction') {
      const top = o.prediction.heads[segHead]?.[0];
      if (top) predictions.push({ t: (o.prediction.firstSeq + o.prediction.lastSeq) / 2 / fps, label: top.label });
      const arrived = arrivals[o.prediction.lastSeq];
      if (arrived !== undefined) latenciesMs.push(o.prediction.stamps.emittedAt - arrived);
    } else if (o.type === 'action') {
      if (o.event.kind === 'start') open.set(o.event.label, o.event.start / 1000);
      else {
        events.push({ start: o.event.start / 1000, end: (o.event.end ?? o.event.start) / 1000, label: o.event.label });
        open.delete(o.event.label);
      }
    } else if (o.type === 'caption') {
      captions.push({ t: o.event.stamps.capturedAt / 1000, text: o.event.text });
    }
  }
  const duration = frames / fps;
  // An action still running when the recording ended lasts to the end.
  for (const [label, start] of open) events.push({ start, end: duration, label });
  events.sort((a, b) => a.start - b.start);

  const observations: ReplayObservations = { fps, predictions, events, captions, latenciesMs };
  const report = scoreReplay(opts.annotations, observations, opts.labelOf);
  return {
    report,
    observations,
    predictedSegments: events.length > 0 ? events : segmentsFromPredictions(predictions),
    duration: Math.max(duration, annotatedEnd),
    frames,
    windowsDropped: stage.dropsFor(streamId),
  };
}
