/**
 * The experiment's results file: one JSON line per finished run, keyed by the run's plan key.
 * It is small and meant to be committed, so a study that outlasts a session resumes by skipping
 * every key already present.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export const runResultSchema = z.strictObject({
  key: z.string(),
  kind: z.enum(['source', 'transfer', 'scratch']),
  task: z.string(),
  lambda: z.number(),
  seed: z.number(),
  finishedAt: z.string(),
  seconds: z.number(),
  steps: z.number(),
  /** Test-split metrics of the run's evaluated head (source task, target task or scratch). */
  top1: z.number(),
  top5: z.number(),
  classes: z.number(),
  testClips: z.number(),
  bleu4: z.number().optional(),
  ciderD: z.number().optional(),
  exactMatch: z.number().optional(),
  actionCorrect: z.number().optional(),
});
export type RunResult = z.infer<typeof runResultSchema>;

export function readResults(file: string): RunResult[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const r = runResultSchema.safeParse(JSON.parse(l));
      if (!r.success) throw new Error(`${file}:${i + 1}: ${z.prettifyError(r.error)}`);
      return r.data;
    });
}

export function appendResult(file: string, result: RunResult): void {
  appendFileSync(file, JSON.stringify(runResultSchema.parse(result)) + '\n');
}
