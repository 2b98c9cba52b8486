/**
 * Validated options of a training run. The CLI (scripts/train.ts) and the experiment runner both
 * build one of these; a resumed run must match the options its checkpoint was written with.
 */
import { z } from 'zod';
import { scheduleSchema } from './schedule.js';
import { taskSchema } from './tasks.js';

export const trainOptionsSchema = z.strictObject({
  data: z.string().min(1),
  task: taskSchema,
  /** Classification weight λ; classification-only tasks force 1. */
  lambda: z.number().min(0).max(1).optional(),
  epochs: z.number().int().min(1).max(10_000),
  out: z.string().min(1),
  batchSize: z.number().int().min(1).max(512).default(8),
  lr: z.number().positive().max(1).default(1e-3),
  schedule: scheduleSchema.default('cosine'),
  warmupSteps: z.number().int().min(0).default(0),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  /** Model config overrides (merged over model/config.ts defaults; frames/height/width follow the data). */
  config: z.record(z.string(), z.unknown()).default({}),
  /** Also checkpoint every N steps (0 = only at epoch ends). */
  checkpointEvery: z.number().int().min(0).default(0),
  /** Use at most this many training clips (0 = all): for quick runs. */
  maxTrainClips: z.number().int().min(0).default(0),
  resume: z.boolean().default(false),
  progress: z.boolean().default(true),
  /** Minimum word count for the caption vocabulary. */
  minWordCount: z.number().int().min(1).default(1),
});
export type TrainOptions = z.infer<typeof trainOptionsSchema>;
export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;

export function parseTrainOptions(input: TrainOptionsInput): TrainOptions {
  const r = trainOptionsSchema.safeParse(input);
  if (!r.success) throw new Error(`invalid training options:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** Options that must not change across a resume (everything that shapes the computation). */
export function resumeKey(o: TrainOptions): string {
  const { data, task, lambda, epochs, batchSize, lr, schedule, warmupSteps, seed, config, maxTrainClips, minWordCount } = o;
  return JSON.stringify({ data, task, lambda, epochs, batchSize, lr, schedule, warmupSteps, seed, config, maxTrainClips, minWordCount });
}
