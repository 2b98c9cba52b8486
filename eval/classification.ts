/**
 * Classification metrics computed from logged predictions, so a report can always be recomputed
 * from a run's predictions file.
 *
 * top-k accuracy: fraction of items whose true class is among the k highest-ranked predictions.
 * per-class accuracy (recall): correct / support for each true class; classes with no support are NaN.
 * mean class accuracy: mean of the per-class accuracies over classes with support.
 * confusion matrix: counts[true][predicted] of the top-1 prediction.
 */

/** One classified item as logged by the trainer: its true class and classes ranked best first. */
export interface ClassPrediction {
  readonly label: number;
  /** Class ids ranked by score, best first (at least the top 5, or all classes if fewer). */
  readonly ranked: readonly number[];
}

export interface ClassificationReport {
  readonly items: number;
  readonly classes: number;
  readonly top1: number;
  readonly top5: number;
  readonly meanClassAccuracy: number;
  readonly perClassAccuracy: readonly number[];
  readonly support: readonly number[];
  /** confusion[true][predicted], top-1. */
  readonly confusion: readonly (readonly number[])[];
}

export function topKAccuracy(preds: readonly ClassPrediction[], k: number): number {
  if (preds.length === 0) return 0;
  let hits = 0;
  for (const p of preds) if (p.ranked.slice(0, k).includes(p.label)) hits++;
  return hits / preds.length;
}

export function confusionMatrix(preds: readonly ClassPrediction[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const p of preds) {
    if (p.label < 0 || p.label >= classes) throw new Error(`confusionMatrix: label ${p.label} outside 0…${classes - 1}`);
    m[p.label][p.ranked[0]]++;
  }
  return m;
}

export function classificationReport(preds: readonly ClassPrediction[], classes: number): ClassificationReport {
  const confusion = confusionMatrix(preds, classes);
  const support = confusion.map((row) => row.reduce((s, x) => s + x, 0));
  const perClassAccuracy = confusion.map((row, c) => (support[c] > 0 ? row[c] / support[c] : Number.NaN));
  const withSupport = perClassAccuracy.filter((a) => !Number.isNaN(a));
  return {
    items: preds.length,
    classes,
    top1: topKAccuracy(preds, 1),
    top5: topKAccuracy(preds, 5),
    meanClassAccuracy: withSupport.length ? withSupport.reduce((s, a) => s + a, 0) / withSupport.length : 0,
    perClassAccuracy,
    support,
    confusion,
  };
}

/** Class ids ordered by descending score (stable: ties keep the lower id first). */
export function rankScores(scores: ArrayLike<number>, keep = scores.length): number[] {
  const ids = Array.from({ length: scores.length }, (_, i) => i);
  ids.sort((a, b) => scores[b] - scores[a] || a - b);
  return ids.slice(0, keep);
}
