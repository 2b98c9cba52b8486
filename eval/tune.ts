/**
 * Choosing the live pipeline's smoothing and segmenter settings from an annotated recording.
 *
 * The model's raw window scores do not depend on those settings, so the recording is scored once
 * (`recordingWindows`) and every candidate setting is then replayed over the stored windows with the
 * pipeline's own operators (`smoothScores`, `segmentActions`) and scored with the replay metrics —
 * the same numbers `npm run replay` gives for that setting, at a fraction of the cost (a test checks
 * that they agree). Tune on one recording and check on another: a setting picked on the check
 * recording itself would flatter it.
 */
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { argmax } from '../pipelines/actionSegmenter.js';
import { InferenceStage, type InferenceEngine, type LiveSettings } from '../pipelines/index.js';
import { segmentActions } from '../pipelines/operators/segmentActions.js';
import { slidingWindow } from '../pipelines/operators/slidingWindow.js';
import { smoothScores } from '../pipelines/operators/smoothScores.js';
import type { SmoothingOptions } from '../pipelines/scoreSmoother.js';
import { decodeFormat, openSource } from '../pipelines/sources/openSource.js';
import type { ScoredWindow } from '../pipelines/types.js';
import { inVideoTime } from './replay-run.js';
import { scoreReplay, type AnnotatedSegment, type ReplayReport, type TimedPrediction, type TimedSegment } from './replay.js';

export interface RecordedWindows {
  readonly fps: number;
  /** The stride the windows were cut at: only settings with this stride can be scored on them. */
  readonly stride: number;
  /** Frames decoded: the recording's duration is frames / fps. */
  readonly frames: number;
  readonly windows: readonly ScoredWindow[];
  /** The classification head the segmenter follows, and its labels. */
  readonly head: string;
  readonly labels: readonly string[];
}

/** Scores every window of a recording once, cut at `settings.stride` (video-time capture stamps, nothing dropped). */
export async function recordingWindows(video: string, engine: InferenceEngine, settings: Pick<LiveSettings, 'stride' | 'segmenter'>): Promise<RecordedWindows> {
  const { fps, frames: T } = engine.input;
  const { stride } = settings;
  const wanted = settings.segmenter.head;
  const head = wanted === undefined ? engine.heads[0] : engine.heads.find((h) => h.name === wanted);
  if (!head) throw new Error(wanted === undefined ? 'the model has no classification head to segment' : `segmenter head "${wanted}" is not a model head`);
  let frames = 0;
  const source = openSource({ kind: 'file', streamId: 'tune', path: video, pace: 'max', loop: false }, decodeFormat(engine.input));
  // The queue must hold the whole recording: at max pace the decoder outruns the model.
  const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 1_000_000 });
  const windows = await lastValueFrom(
    source.frames.pipe(
      tap(() => frames++),
      inVideoTime(fps),
      slidingWindow(T, stride),
      stage.infer('tune'),
      toArray(),
    ),
  );
  if (frames === 0) throw new Error(`${video} produced no frames`);
  return { fps, stride, frames, windows, head: head.name, labels: head.labels };
}

/**
 * Replays stored windows through the pipeline's smoother and segmenter with `settings` (as
 * createLivePipeline would use them), and scores the result.
 */
export async function scoreSettings(recorded: RecordedWindows, annotations: readonly AnnotatedSegment[], settings: LiveSettings): Promise<ReplayReport> {
  const { fps, head, labels } = recorded;
  if (settings.stride !== recorded.stride) throw new Error(`settings with stride ${settings.stride} cannot be scored on windows cut at stride ${recorded.stride}`);
  const maxGapMs = settings.maxFrameGapMs;
  const segmented = await lastValueFrom(
    from(recorded.windows).pipe(
      smoothScores(settings.smoothing, { maxGapMs }),
      segmentActions(labels, { ...settings.segmenter, head, maxGapMs }, () => 0),
      toArray(),
    ),
  );
  const predictions: TimedPrediction[] = [];
  const events: TimedSegment[] = [];
  for (const w of segmented) {
    if (!w.final) predictions.push({ t: (w.firstSeq + w.lastSeq) / 2 / fps, label: labels[argmax(w.probabilities[head]!)]! });
    for (const e of w.events) if (e.kind === 'end') events.push({ start: e.start / 1000, end: (e.end ?? e.start) / 1000, label: e.label });
  }
  events.sort((a, b) => a.start - b.start);
  return scoreReplay(annotations, { fps, predictions, events, captions: [], latenciesMs: [] });
}

/**
 * The candidates searched: EMA or running-mean smoothing × thresholds (end ≤ start) × streak
 * lengths, each on top of `base` (its stride, ignored labels, captions and gap are kept).
 */
export function settingsGrid(base: LiveSettings): LiveSettings[] {
  const smoothings: SmoothingOptions[] = [
    ...[0.2, 0.3, 0.5, 0.7, 1].map((alpha): SmoothingOptions => ({ method: 'ema', alpha })),
    ...[2, 3, 4, 6].map((windows): SmoothingOptions => ({ method: 'mean', windows })),
  ];
  const grid: LiveSettings[] = [];
  for (const smoothing of smoothings)
    for (const startThreshold of [0.2, 0.3, 0.4, 0.5, 0.6])
      for (const endThreshold of [0.1, 0.2, 0.3, 0.4].filter((e) => e <= startThreshold))
        for (const minStartWindows of [1, 2, 3])
          for (const minEndWindows of [1, 2, 3]) grid.push({ ...base, smoothing, segmenter: { ...base.segmenter, startThreshold, endThreshold, minStartWindows, minEndWindows } });
  return grid;
}

/** The figure a setting is ranked by: the mean of event F1 and frame accuracy (both 0–1). */
export function objective(report: ReplayReport): number {
  return (report.event.f1 + report.frameAccuracy) / 2;
}

/** What the grid varies, in one line (describeLiveSettings gives everything). */
export function describeSettings(s: Pick<LiveSettings, 'smoothing' | 'segmenter'>): string {
  const smooth = s.smoothing.method === 'ema' ? `EMA α=${s.smoothing.alpha}` : `mean of ${s.smoothing.windows}`;
  const g = s.segmenter;
  return `${smooth}, start ≥ ${g.startThreshold} for ${g.minStartWindows}, end < ${g.endThreshold} for ${g.minEndWindows}`;
}
