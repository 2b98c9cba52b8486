/**
 * Replay evaluation metrics: how well the live pipeline's output over a recorded session matches
 * the session's annotated segments. Pure functions over times in seconds of the recording, so each
 * number can be checked by hand (test/server/replay-metrics.test.ts does).
 *
 * - Frame accuracy: every frame time t = i / fps inside an annotated segment is labelled with the
 *   top-1 action of the prediction whose window centre is nearest to t; accuracy = correct / frames.
 *   Labels compare ignoring case, spacing and placeholder brackets (`normaliseLabel`).
 *   Frames between segments (no annotated action) are not scored; a frame with no prediction at all
 *   is wrong.
 * - Event F1: predicted action segments are matched one-to-one to annotated ones of the same label
 *   with temporal IoU ≥ 0.5 (greedy, highest IoU first); precision = matches / predicted,
 *   recall = matches / annotated, F1 their harmonic mean (0 when both are 0).
 * - Captions: for each annotated segment, the candidate is the last caption emitted while the
 *   segment lasted (empty if none); its reference is the annotated caption. Scored with corpus
 *   BLEU-1…4 and CIDEr-D from eval/caption.ts.
 * - Latency: capture → emitted, per prediction; mean and p95 (nearest-rank).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ciderD, corpusBleu, type CaptionPair } from './caption.js';
import { NO_ACTION } from '../data/catalogue/types.js';
import { sameLabel } from './labels.js';

export const annotatedSegmentSchema = z
  .object({
    start: z.number().nonnegative(),
    end: z.number().nonnegative(),
    template: z.string().min(1),
    label: z.string().optional(),
    caption: z.string().optional(),
  })
  .refine((s) => s.end > s.start, { message: 'a segment must end after it starts' });

/** An annotation file is either a bare array of segments or an object holding `segments`. */
export const annotationFileSchema = z.union([
  z.array(annotatedSegmentSchema),
  z.object({ segments: z.array(annotatedSegmentSchema) }).passthrough(),
]);

export type AnnotatedSegment = z.infer<typeof annotatedSegmentSchema>;

export function parseAnnotations(json: unknown, source = 'annotations'): AnnotatedSegment[] {
  const parsed = annotationFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`${source}: not a valid annotation file (${first ? `${first.path.join('.')}: ${first.message}` : 'unknown shape'})`);
  }
  const segments = Array.isArray(parsed.data) ? parsed.data : parsed.data.segments;
  return [...segments].sort((a, b) => a.start - b.start);
}

export function loadAnnotations(file: string): AnnotatedSegment[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read annotations (${(err as Error).message})`);
  }
  return parseAnnotations(json, file);
}

/** A labelled interval in seconds of the recording. */
export interface TimedSegment {
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

/** One window's top-1 action, placed at its centre time. */
export interface TimedPrediction {
  readonly t: number;
  readonly label: string;
}

export interface TimedCaption {
  readonly t: number;
  readonly text: string;
}

// Labels compare ignoring case, spacing and placeholder brackets; the same rule the dashboard colours by.
export { normaliseLabel, sameLabel } from './labels.js';

export function frameAccuracy(truth: readonly TimedSegment[], predictions: readonly TimedPrediction[], fps: number): { accuracy: number; frames: number; correct: number } {
  if (!(fps > 0)) throw new Error('frameAccuracy: fps must be positive');
  const sorted = [...predictions].sort((a, b) => a.t - b.t);
  let frames = 0;
  let correct = 0;
  for (const seg of truth) {
    for (let i = Math.ceil(seg.start * fps - 1e-9); i / fps < seg.end - 1e-9; i++) {
      frames++;
      const p = nearest(sorted, i / fps);
      if (p && sameLabel(p.label, seg.label)) correct++;
    }
  }
  return { accuracy: frames === 0 ? 0 : correct / frames, frames, correct };
}

function nearest(sorted: readonly TimedPrediction[], t: number): TimedPrediction | undefined {
  if (sorted.length === 0) return undefined;
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  const after = sorted[lo]!;
  const before = lo > 0 ? sorted[lo - 1]! : undefined;
  // Ties go to the earlier window: it is the one the viewer saw first.
  return before && t - before.t <= after.t - t ? before : after;
}

export function temporalIoU(a: TimedSegment, b: TimedSegment): number {
  const inter = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  const union = Math.max(a.end, b.end) - Math.min(a.start, b.start);
  return union <= 0 ? 0 : inter / union;
}

export interface EventScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly matched: number;
  readonly predicted: number;
  readonly annotated: number;
}

export function eventF1(truth: readonly TimedSegment[], predicted: readonly TimedSegment[], minIoU = 0.5): EventScores {
  const candidates: { i: number; j: number; iou: number }[] = [];
  predicted.forEach((p, i) =>
    truth.forEach((g, j) => {
      if (!sameLabel(p.label, g.label)) return;
      const iou = temporalIoU(p, g);
      if (iou >= minIoU) candidates.push({ i, j, iou });
    }),
  );
  candidates.sort((a, b) => b.iou - a.iou);
  const usedP = new Set<number>();
  const usedT = new Set<number>();
  for (const c of candidates) {
    if (usedP.has(c.i) || usedT.has(c.j)) continue;
    usedP.add(c.i);
    usedT.add(c.j);
  }
  const matched = usedP.size;
  const precision = predicted.length === 0 ? 0 : matched / predicted.length;
  const recall = truth.length === 0 ? 0 : matched / truth.length;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, matched, predicted: predicted.length, annotated: truth.length };
}

/** Merges runs of equal consecutive top-1 labels into segments (used when no segmenter events exist). */
export function segmentsFromPredictions(predictions: readonly TimedPrediction[]): TimedSegment[] {
  const sorted = [...predictions].sort((a, b) => a.t - b.t);
  const out: TimedSegment[] = [];
  for (let k = 0; k < sorted.length; k++) {
    const p = sorted[k]!;
    const prevT = k > 0 ? sorted[k - 1]!.t : p.t;
    const nextT = k + 1 < sorted.length ? sorted[k + 1]!.t : p.t;
    const from = (prevT + p.t) / 2;
    const to = (p.t + nextT) / 2;
    const last = out[out.length - 1];
    if (last && sameLabel(last.label, p.label)) out[out.length - 1] = { ...last, end: to };
    else out.push({ start: from, end: to, label: p.label });
  }
  return out.filter((s) => s.end > s.start);
}

/** Pairs each annotated caption with the last caption emitted inside its segment. */
export function captionPairs(truth: readonly AnnotatedSegment[], captions: readonly TimedCaption[]): CaptionPair[] {
  const sorted = [...captions].sort((a, b) => a.t - b.t);
  return truth
    .filter((s): s is AnnotatedSegment & { caption: string } => typeof s.caption === 'string' && s.caption.length > 0)
    .map((s) => {
      const inside = sorted.filter((c) => c.t >= s.start && c.t < s.end);
      return { candidate: inside.length > 0 ? inside[inside.length - 1]!.text : '', references: [s.caption] };
    });
}

export function latencySummary(latenciesMs: readonly number[]): { mean: number; p95: number } | null {
  if (latenciesMs.length === 0) return null;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
  return { mean, p95 };
}

export interface ReplayObservations {
  readonly fps: number;
  readonly predictions: readonly TimedPrediction[];
  /** Segments from the pipeline's action events; when empty, runs of top-1 predictions are used. */
  readonly events: readonly TimedSegment[];
  readonly captions: readonly TimedCaption[];
  readonly latenciesMs: readonly number[];
}

export interface ReplayReport {
  readonly frameAccuracy: number;
  readonly scoredFrames: number;
  readonly event: EventScores;
  readonly eventSource: 'segmenter' | 'top-1 runs';
  readonly caption: { readonly bleu: readonly number[]; readonly ciderD: number; readonly items: number } | null;
  readonly latencyMs: { mean: number; p95: number } | null;
  readonly predictions: number;
}

/** All replay metrics for one recording. `labelOf` picks what a prediction is compared against (default: the template). */
export function scoreReplay(
  annotations: readonly AnnotatedSegment[],
  observed: ReplayObservations,
  labelOf: (s: AnnotatedSegment) => string = (s) => s.template,
): ReplayReport {
  const truth = annotations.map((s) => ({ start: s.start, end: s.end, label: labelOf(s) }));
  const frame = frameAccuracy(truth, observed.predictions, observed.fps);
  const eventSource = observed.events.length > 0 ? 'segmenter' : 'top-1 runs';
  // "No action" is scored frame by frame, not as events: the segmenter never starts one.
  const isAction = (s: { label: string }) => !sameLabel(s.label, NO_ACTION);
  const predictedSegments = (observed.events.length > 0 ? observed.events : segmentsFromPredictions(observed.predictions)).filter(isAction);
  const pairs = captionPairs(annotations, observed.captions);
  let caption: ReplayReport['caption'] = null;
  if (pairs.length > 0) {
    caption = { bleu: [...corpusBleu(pairs).bleu], ciderD: ciderD(pairs).score, items: pairs.length };
  }
  return {
    frameAccuracy: frame.accuracy,
    scoredFrames: frame.frames,
    event: eventF1(truth.filter(isAction), predictedSegments),
    eventSource,
    caption,
    latencyMs: latencySummary(observed.latenciesMs),
    predictions: observed.predictions.length,
  };
}
