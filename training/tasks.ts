/**
 * The four source tasks of the granularity study and what each trains.
 *
 *   groups      → the "group" classification head over the coarse action groups (λ is fixed to 1:
 *                 there is no caption target).
 *   actions     → the "action" classification head over the fine templates (λ fixed to 1).
 *   simplified  → the caption decoder over simplified captions (each object named by its category
 *                 noun alone, "Putting ball into box"), jointly with the "action" head:
 *                 loss = λ·classification + (1−λ)·captioning.
 *   captions    → the caption decoder over full captions (object phrases with size, colour and
 *                 texture: "Putting a small red striped ball into a blue box"), jointly with the
 *                 "action" head, weighted the same way.
 *
 * For the caption tasks λ = 1 would be the actions task again, and λ = 0 is captioning alone (the
 * action head is then still evaluated, but untrained, so its accuracy is reported as chance-level).
 */
import { z } from 'zod';

export const taskSchema = z.enum(['groups', 'actions', 'simplified', 'captions']);
export type TaskName = z.infer<typeof taskSchema>;

export const TASKS: readonly TaskName[] = taskSchema.options;

export type HeadName = 'group' | 'action';

export interface TaskDefinition {
  readonly name: TaskName;
  /** The classification head the task trains (and evaluates). */
  readonly head: HeadName;
  /** Which caption text the decoder learns, if any. */
  readonly captionSource?: 'simplified' | 'captions';
  /** Granularity rank, coarse (0) to fine (3), for ordering tables and charts. */
  readonly granularity: number;
}

export const TASK_DEFINITIONS: Readonly<Record<TaskName, TaskDefinition>> = {
  groups: { name: 'groups', head: 'group', granularity: 0 },
  actions: { name: 'actions', head: 'action', granularity: 1 },
  simplified: { name: 'simplified', head: 'action', captionSource: 'simplified', granularity: 2 },
  captions: { name: 'captions', head: 'action', captionSource: 'captions', granularity: 3 },
};

/** The λ actually used: classification-only tasks force 1; caption tasks accept [0, 1]. */
export function effectiveLambda(task: TaskName, lambda: number | undefined): number {
  const def = TASK_DEFINITIONS[task];
  if (!def.captionSource) {
    if (lambda !== undefined && lambda !== 1) throw new Error(`task ${task} has no caption target, so λ must be 1 (got ${lambda})`);
    return 1;
  }
  const l = lambda ?? 0.5;
  if (!(l >= 0 && l <= 1)) throw new Error(`λ must be in [0, 1], got ${l}`);
  return l;
}
