/**
 * createLivePipeline: one stream's frames in, a tagged stream of outputs out.
 *
 *   source frames
 *     → adaptFrameRate(model fps)
 *     → resizeFrames(model size)           (no-op when the source already decoded at that size; keeps
 *                                           the larger copy when the engine runs the detectors)
 *     → slidingWindow(T, stride)           (starts over after a gap in capture time: a reconnection)
 *     → stage.infer(streamId)              (shared across streams: batched, bounded, drop-oldest)
 *     → smoothScores(…)                    (EMA / running mean of probabilities; restarts after a gap)
 *     → segmentActions(…)                  (start/end events with hysteresis; a gap ends the action)
 *     ├→ prediction + action outputs
 *     └→ selectCaptionWindows → decodeCaptions → caption outputs
 *   + status (from the source, or derived: connecting → live → ended/failed)
 *   + stats every statsIntervalMs ({fps, windows, drops, latency p50/p95/max})
 *
 * A failing source does not error the output: it emits a `failed` status with the reason and
 * completes. An engine failure (a model error) does error it. Unsubscribing releases the source (ffmpeg process / peer) and the stage slot.
 */
import { catchError, concat, connect, defer, EMPTY, from, identity, interval, map, merge, mergeMap, Observable, of, Subject, takeUntil, tap } from 'rxjs';
import { now } from './clock.js';
import { groundCaption } from './groundCaption.js';
import type { InferenceStage } from './inferenceStage.js';
import { adaptFrameRate } from './operators/adaptFrameRate.js';
import { decodeCaptions } from './operators/decodeCaptions.js';
import { resizeFrames } from './operators/resizeFrames.js';
import { segmentActions } from './operators/segmentActions.js';
import { selectCaptionWindows } from './operators/selectCaptionWindows.js';
import { slidingWindow } from './operators/slidingWindow.js';
import { smoothScores } from './operators/smoothScores.js';
import { argmax } from './actionSegmenter.js';
import { resolveLiveSettings, type LiveSettingsInput } from './liveSettings.js';
import { StreamStatsCollector } from './streamStats.js';
import type { LatencyStamps, LiveSource, PipelineOutput, SegmentedWindow, StreamState, StreamStatus, WindowPrediction } from './types.js';

/**
 * The tunable settings (stride, smoothing, segmenter, captions' interval, maxFrameGapMs) are a
 * LiveSettings object, usually `loadLiveSettings(checkpoint).settings`; any part left out is taken
 * from defaultLiveSettings (pipelines/liveSettings.ts), the one place their defaults are written.
 */
export interface LivePipelineOptions extends Omit<LiveSettingsInput, 'captions'> {
  /** `false` turns captions off (they are off anyway when the engine has no caption decoder). */
  readonly captions?: LiveSettingsInput['captions'] | false;
  /** Labels per head in each prediction (default 5). */
  readonly topK?: number;
  /** Period of the stats output (default 1000 ms); 0 turns stats off. */
  readonly statsIntervalMs?: number;
  readonly clock?: () => number;
}

export function createLivePipeline(source: LiveSource, stage: InferenceStage, options: LivePipelineOptions = {}): Observable<PipelineOutput> {
  const { engine } = stage;
  const { frames: T, width, height, fps } = engine.input;
  const clock = options.clock ?? now;
  const { captions, topK = 5, statsIntervalMs = 1000 } = options;
  const settings = resolveLiveSettings({ ...options, captions: captions === false ? undefined : captions });
  const { stride, maxFrameGapMs: maxGapMs } = settings;
  // A gap (maxFrameGapMs) ends an open action as it restarts windows and smoothing.
  const segmenter = { ...settings.segmenter, head: settings.segmenter.head ?? engine.heads[0]?.name ?? 'action', maxGapMs };
  const headLabels = Object.fromEntries(engine.heads.map((h) => [h.name, h.labels]));
  const segmentLabels = headLabels[segmenter.head];
  if (!segmentLabels) throw new Error(`segmenter head "${segmenter.head}" is not a model head (${Object.keys(headLabels).join(', ')})`);
  const caption = engine.caption?.bind(engine);
  // The decoder's words, grounded in the detectors' objects when the engine reports any.
  const describe = (encoding: Float32Array, window: SegmentedWindow) =>
    from(caption!(encoding)).pipe(
      map((text) => {
        const scores = window.probabilities[segmenter.head];
        const top = scores ? segmentLabels[argmax(scores)] : undefined;
        return (top && window.objects?.length ? groundCaption(top, text, window.objects) : null) ?? text;
      }),
    );
  const captionInterval = captions === false || !caption ? undefined : settings.captions.intervalMs;
  const { streamId } = source;

  return defer(() => {
    const stats = new StreamStatsCollector(streamId, clock, () => stage.dropsFor(streamId));
    const derivedStatus = new Subject<StreamStatus>();
    const done = new Subject<void>();
    const status = (state: StreamState, detail?: string): StreamStatus => ({ streamId, state, at: clock(), ...(detail ? { detail } : {}) });
    const emit = <R extends { stamps: Omit<LatencyStamps, 'emittedAt'> }>(x: R): R & { stamps: LatencyStamps } => ({ ...x, stamps: { ...x.stamps, emittedAt: clock() } });

    let seenFrame = false;
    const frames$ = source.frames.pipe(
      tap({
        next: () => {
          if (!seenFrame && !source.status) derivedStatus.next(status('live'));
          seenFrame = true;
          stats.frame();
        },
        complete: () => source.status || derivedStatus.next(status('ended')),
      }),
      // Thin to the model's rate first, so that frames dropped here are never resized.
      source.frameRate === fps ? identity : adaptFrameRate(fps),
      resizeFrames(width, height, { keepDetail: engine.input.detailSize !== undefined }),
      catchError((err: unknown) => {
        if (!source.status) derivedStatus.next(status('failed', err instanceof Error ? err.message : String(err)));
        return EMPTY;
      }),
    );

    const windowOutputs = (w: SegmentedWindow): PipelineOutput[] => {
      const actions = w.events.map((e): PipelineOutput => ({ type: 'action', event: emit(e) }));
      if (w.final) return actions;
      const prediction: WindowPrediction = emit({
        streamId,
        firstSeq: w.firstSeq,
        lastSeq: w.lastSeq,
        heads: Object.fromEntries(Object.entries(w.probabilities).map(([head, p]) => [head, topLabels(p, headLabels[head] ?? [], topK)])),
        stamps: w.stamps,
      });
      if (statsIntervalMs > 0) stats.window(prediction.stamps.emittedAt - prediction.stamps.capturedAt);
      return [{ type: 'prediction', prediction }, ...actions];
    };

    const main$ = frames$.pipe(
      slidingWindow(T, stride, { clock, maxGapMs }),
      stage.infer(streamId),
      smoothScores(settings.smoothing, { maxGapMs }),
      segmentActions(segmentLabels, segmenter, clock),
      connect((segmented$) =>
        merge(
          segmented$.pipe(mergeMap((w) => from(windowOutputs(w)))),
          captionInterval === undefined || !caption
            ? EMPTY
            : segmented$.pipe(
                selectCaptionWindows(captionInterval),
                decodeCaptions((encoding, window) => describe(encoding, window), clock),
                map((event): PipelineOutput => ({ type: 'caption', event })),
              ),
        ),
      ),
      tap({ complete: () => done.next(), error: () => done.next() }),
    );

    const status$ = source.status
      ? source.status.pipe(map((s): PipelineOutput => ({ type: 'status', status: s })))
      : concat(of(status('connecting')), derivedStatus).pipe(map((s): PipelineOutput => ({ type: 'status', status: s })));
    const stats$ = statsIntervalMs > 0 ? interval(statsIntervalMs).pipe(map((): PipelineOutput => ({ type: 'stats', stats: stats.snapshot() }))) : EMPTY;

    // One last stats record at the end, so short runs still report their figures.
    const finalStats$ = statsIntervalMs > 0 ? defer(() => of<PipelineOutput>({ type: 'stats', stats: stats.snapshot() })) : EMPTY;
    return concat(merge(status$.pipe(takeUntil(done)), stats$.pipe(takeUntil(done)), main$), finalStats$);
  });
}

function topLabels(probs: Float32Array, labels: readonly string[], k: number): { label: string; score: number }[] {
  const idx = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!).slice(0, k);
  return idx.map((i) => ({ label: labels[i] ?? `class ${i}`, score: probs[i]! }));
}
