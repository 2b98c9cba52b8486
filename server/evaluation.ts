/** The dashboard's "Replay evaluation": one annotated recording through the model, summarised for the page. */
import path from 'node:path';
import type { InferenceEngine, LivePipelineOptions } from '../pipelines/index.js';
import type { AnnotatedSegment } from '../eval/replay.js';
import { runReplay } from '../eval/replay-run.js';
import type { EvaluationSummary } from './protocol.js';

export function evaluator(engine: InferenceEngine, pipeline?: Omit<LivePipelineOptions, 'clock'>) {
  // The annotations come already read and bounded by RecordingsFolder.readAnnotations.
  return async (video: string, annotations: readonly AnnotatedSegment[], onProgress: (fraction: number) => void): Promise<EvaluationSummary> => {
    const run = await runReplay({ video, annotations, engine, pace: 'max', pipeline, onProgress });
    const r = run.report;
    return {
      recording: path.basename(video),
      frameAccuracy: r.frameAccuracy,
      eventF1: r.event.f1,
      eventPrecision: r.event.precision,
      eventRecall: r.event.recall,
      captionBleu: r.caption ? [...r.caption.bleu] : null,
      captionCider: r.caption ? r.caption.ciderD : null,
      latencyMs: r.latencyMs,
      truth: annotations.map((s) => ({ start: s.start, end: s.end, label: s.template, caption: s.caption })),
      predicted: run.predictedSegments.map((s) => ({ start: s.start, end: s.end, label: s.label })),
      duration: run.duration,
    };
  };
}
