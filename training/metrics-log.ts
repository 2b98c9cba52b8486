/**
 * Append-only JSONL metrics log, one record per line. A resumed run first drops records written
 * after its checkpoint (they belong to the part of the run that is being redone), so the log of a
 * killed-and-resumed run equals that of an uninterrupted one.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export type MetricsRecord =
  | { kind: 'train'; step: number; epoch: number; lr: number; loss: number; classification: number; caption: number; accuracy?: number; clipsPerSecond: number }
  | { kind: 'validation'; step: number; epoch: number; loss: number; top1?: number; top5?: number; bleu4?: number; ciderD?: number; exactMatch?: number; actionCorrect?: number }
  | { kind: 'test'; step: number; [metric: string]: number | string };

export class MetricsLog {
  constructor(readonly path: string) {}

  append(record: MetricsRecord): void {
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  read(): MetricsRecord[] {
    return readMetrics(this.path);
  }

  /** Keeps only records up to and including `step` (train) or completed before it (validation). */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = this.read().filter((r) => r.step <= step);
    writeFileSync(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as MetricsRecord);
}
