/**
 * The granularity study in miniature: which runs make it, at which scale.
 *
 * Source runs: groups (λ=1), actions (λ=1), simplified and captions each captioning-only (λ=0)
 * and joint (λ=0.5) — λ=1 on a caption task would be the actions task again. Every source run is
 * transferred to kitchenware with a frozen encoder and a linear head. "scratch" runs train the same
 * network on kitchenware's own training split (RQ4). Every configuration runs with each seed.
 */
import { z } from 'zod';
import type { TaskName } from '../tasks.js';

export const scaleSchema = z.enum(['tiny', 'small', 'full']);
export type ScaleName = z.infer<typeof scaleSchema>;

export interface Scale {
  readonly name: ScaleName;
  /** Clips generated per domain (split into train / validation / test by the data maker). */
  readonly sourceClips: number;
  readonly targetClips: number;
  readonly sourceEpochs: number;
  readonly scratchEpochs: number;
  readonly transferEpochs: number;
  readonly batchSize: number;
  readonly seeds: readonly number[];
  /** Model config overrides (model/config.ts). */
  readonly config: Record<string, unknown>;
  /** Extra arguments for the data maker per domain (frame size, a template subset), passed as given. */
  readonly sourceDataArgs: readonly string[];
  readonly targetDataArgs: readonly string[];
  /** Intermediate λ for the joint runs. */
  readonly jointLambda: number;
}

/** Tiny scale: a few templates per domain so that 3+ clips per class reach validation and test. */
export const TINY_SOURCE_TEMPLATES = [
  'Pushing something from left to right',
  'Pushing something from right to left',
  'Moving something up',
  'Moving something down',
  'Putting something into something',
  'Putting something next to something',
  'Turning something upside down',
  'Spinning something so it continues spinning',
];
export const TINY_TARGET_TEMPLATES = [
  'Pouring [something] into [something]',
  'Stirring [something] with [something]',
  'Putting a lid on [something]',
  'Taking a lid off [something]',
  'Sliding [something] from left to right',
  'Sliding [something] from right to left',
];

/** The network of the tiny scale and of the tests: seconds per epoch on a few dozen clips. */
export const TINY_NET = {
  frames: 8,
  height: 32,
  width: 32,
  spatial: { filters: [4, 8], features: 16 },
  spatiotemporal: { filters: [4, 8], temporalKernel: 3, features: 8 },
  encoder: { units: 16, bidirectional: false },
  caption: { length: 14, embedding: 8, units: 16 },
  dropout: 0.1,
};

export const SMALL_NET = {
  spatial: { filters: [8, 16, 24], features: 48 },
  spatiotemporal: { filters: [8, 16, 16], temporalKernel: 3, features: 24 },
  encoder: { units: 64, bidirectional: false },
  caption: { length: 14, embedding: 32, units: 64 },
  dropout: 0.1,
};

export const SCALES: Readonly<Record<ScaleName, Scale>> = {
  // Minutes: checks the machinery, numbers mean little.
  tiny: {
    name: 'tiny',
    sourceClips: 48,
    targetClips: 36,
    sourceEpochs: 2,
    scratchEpochs: 2,
    transferEpochs: 20,
    batchSize: 8,
    seeds: [1, 2, 3],
    config: TINY_NET,
    sourceDataArgs: ['--width', '64', '--height', '64', '--templates', TINY_SOURCE_TEMPLATES.join('|')],
    targetDataArgs: ['--width', '64', '--height', '64', '--templates', TINY_TARGET_TEMPLATES.join('|')],
    jointLambda: 0.5,
  },
  // A few hours on 2 cores (see docs/EXPERIMENT.md for the measured time).
  small: {
    name: 'small',
    sourceClips: 1200,
    targetClips: 600,
    sourceEpochs: 6,
    scratchEpochs: 6,
    transferEpochs: 60,
    batchSize: 16,
    seeds: [1, 2, 3],
    config: SMALL_NET,
    sourceDataArgs: ['--width', '96', '--height', '96'],
    targetDataArgs: ['--width', '96', '--height', '96'],
    jointLambda: 0.5,
  },
  // The default network on larger sets: spans several sessions (the runner resumes).
  full: {
    name: 'full',
    sourceClips: 6000,
    targetClips: 2000,
    sourceEpochs: 12,
    scratchEpochs: 12,
    transferEpochs: 80,
    batchSize: 16,
    seeds: [1, 2, 3],
    config: {},
    sourceDataArgs: [],
    targetDataArgs: [],
    jointLambda: 0.5,
  },
};

export type RunKind = 'source' | 'transfer' | 'scratch';

export interface PlannedRun {
  /** Unique, stable key, e.g. "source/captions/l0.5/s2"; the results file is keyed by it. */
  readonly key: string;
  readonly kind: RunKind;
  readonly task: TaskName;
  readonly lambda: number;
  readonly seed: number;
  /** For a transfer: the key of its source run. */
  readonly sourceKey?: string;
}

/** Source configurations: [task, λ] pairs, coarse to fine. */
export function sourceConfigs(scale: Scale): [TaskName, number][] {
  return [
    ['groups', 1],
    ['actions', 1],
    ['simplified', 0],
    ['simplified', scale.jointLambda],
    ['captions', 0],
    ['captions', scale.jointLambda],
  ];
}

export function configLabel(task: TaskName, lambda: number): string {
  return lambda === 1 ? task : `${task} λ=${lambda}`;
}

/** All runs in execution order: for each seed, sources each followed by its transfer, then scratch. */
export function planRuns(scale: Scale, seeds: readonly number[] = scale.seeds): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const seed of seeds) {
    for (const [task, lambda] of sourceConfigs(scale)) {
      const key = `source/${task}/l${lambda}/s${seed}`;
      runs.push({ key, kind: 'source', task, lambda, seed });
      runs.push({ key: `transfer/${task}/l${lambda}/s${seed}`, kind: 'transfer', task, lambda, seed, sourceKey: key });
    }
    runs.push({ key: `scratch/actions/l1/s${seed}`, kind: 'scratch', task: 'actions', lambda: 1, seed });
  }
  return runs;
}
