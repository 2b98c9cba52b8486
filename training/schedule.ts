/**
 * Learning-rate schedules as pure functions of the global step, so a resumed run recomputes the
 * rate instead of storing it.
 */
import { z } from 'zod';

export const scheduleSchema = z.enum(['constant', 'cosine', 'step']);
export type ScheduleKind = z.infer<typeof scheduleSchema>;

export interface ScheduleSpec {
  readonly kind: ScheduleKind;
  readonly baseLr: number;
  readonly totalSteps: number;
  /** Linear warm-up from baseLr/10 over this many steps (all kinds). */
  readonly warmupSteps: number;
}

export function learningRateAt(spec: ScheduleSpec, step: number): number {
  const { baseLr, totalSteps, warmupSteps } = spec;
  if (step < warmupSteps) return baseLr * (0.1 + (0.9 * step) / warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  switch (spec.kind) {
    case 'constant':
      return baseLr;
    case 'cosine':
      // Down to 5% of the base rate rather than 0, so the last epochs still learn.
      return baseLr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    case 'step':
      // ×0.1 at 2/3 of training.
      return progress < 2 / 3 ? baseLr : baseLr * 0.1;
  }
}
