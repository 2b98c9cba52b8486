/**
 * A run's logged predictions (one JSON line per evaluated clip) and the metrics computed from
 * them. Every reported number is recomputable from this file alone, which is what the end-to-end
 * test checks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { type CaptionReport, TemplateMatcher, captionReport } from '../eval/caption.js';
import { type ClassificationReport, classificationReport } from '../eval/classification.js';

export const clipPredictionSchema = z.strictObject({
  id: z.string(),
  /** True class of the evaluated head. */
  label: z.number().int().min(0),
  /** Top classes, best first. */
  ranked: z.array(z.number().int().min(0)).min(1),
  /** Softmax probability of ranked[0]. */
  confidence: z.number(),
  /** Greedy caption and its reference, for caption tasks. */
  caption: z.string().optional(),
  reference: z.string().optional(),
});
export type ClipPrediction = z.infer<typeof clipPredictionSchema>;

export function writePredictions(path: string, preds: readonly ClipPrediction[]): void {
  writeFileSync(path, preds.map((p) => JSON.stringify(p) + '\n').join(''));
}

/** One schema-checked value per non-blank line of a JSON-lines file; an error names the file and line. */
export function readJsonlFile<T>(path: string, schema: z.ZodType<T>): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const parsed = schema.safeParse(JSON.parse(l));
      if (!parsed.success) throw new Error(`${path}:${i + 1}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}

export function readPredictions(path: string): ClipPrediction[] {
  return readJsonlFile(path, clipPredictionSchema);
}

export interface EvaluationReport {
  readonly head: string;
  readonly classification: ClassificationReport;
  readonly caption?: CaptionReport;
}

/**
 * Metrics of one split from its predictions. `templates` are the action templates (for
 * "action correct"); captions are scored only when the predictions carry them.
 */
export function evaluatePredictions(head: string, preds: readonly ClipPrediction[], classes: number, templates: readonly string[]): EvaluationReport {
  const classification = classificationReport(preds, classes);
  const pairs = preds.filter((p) => p.caption !== undefined && p.reference !== undefined).map((p) => ({ candidate: p.caption!, references: [p.reference!] }));
  return {
    head,
    classification,
    ...(pairs.length ? { caption: captionReport(pairs, new TemplateMatcher(templates)) } : {}),
  };
}
