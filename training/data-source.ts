/**
 * What training and transfer need from a data set, in one narrow interface, so the trainer does
 * not depend on how clips are stored or decoded. `openClipData` (open-data.ts) adapts the data
 * package's SSv2 reader and clip loader.
 */
import type { HandObjectFrame } from '../perception/features.js';

export type SplitName = 'train' | 'validation' | 'test';

/** Labels of one loaded clip (after any label-changing augmentation such as a mirror flip). */
export interface ClipRecord {
  readonly id: string;
  /** Coarse group class id. */
  readonly group: number;
  /** Fine action class id. */
  readonly action: number;
  /** Template filled with object category nouns ("Putting ball into box"). */
  readonly simplified: string;
  /** Template filled with full object phrases. */
  readonly caption: string;
}

/** Model input size and sampling; the loader decodes and resamples clips to it (clipShapeOf in batches.ts). */
export interface ClipShape {
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  /** 'window' sampling: source frames between two sampled ones; absent = frames spread over the clip. */
  readonly windowStep?: number;
  /** Also load each frame's hand–object vector (the perception channel), in these coordinates. */
  readonly handObject?: HandObjectFrame;
  /** Also load each frame's frozen backbone feature (after the hand–object vector when both). */
  readonly backbone?: boolean;
}

export interface LabelledBatch {
  readonly records: readonly ClipRecord[];
  /** [B, T, H, W, 3] float32, normalised, row i = records[i]. */
  readonly clips: Float32Array;
  /** [B, T, P] perception inputs (hand–object vector, backbone feature) when the shape asked for them. */
  readonly perception?: Float32Array;
}

export interface BatchRequest {
  readonly shape: ClipShape;
  readonly batchSize: number;
  /** Training: shuffled in an order fixed by (seed, epoch), random temporal sampling, crops and label-safe flips. Otherwise: file order, centred, uniform. */
  readonly training: boolean;
  readonly seed: number;
  readonly epoch: number;
  /** Only the first n clips (after shuffling). */
  readonly limit?: number;
  /** Evaluation with 'window' sampling: where in the clip the window is taken (default 0.5, the middle). */
  readonly windowAt?: number;
}

export interface ClipData {
  readonly dir: string;
  readonly groupLabels: readonly string[];
  /** Class names (templates without brackets); index = action id. */
  readonly actionLabels: readonly string[];
  /** The action templates with their [slots], for telling which action a caption names. */
  readonly actionTemplates: readonly string[];
  /** Labelled clips in a split (unlabelled test clips are not counted and never yielded). */
  count(split: SplitName): number;
  /** Every caption of a split's labelled clips (for building a vocabulary), in file order. */
  captions(split: SplitName, kind: 'simplified' | 'captions'): string[];
  batches(split: SplitName, req: BatchRequest): AsyncIterable<LabelledBatch>;
  /**
   * Decodes every clip of the splits once into the clip cache, retrying clips whose decoding
   * failed, so that a transient decoder failure cannot silently drop a clip from one epoch and not
   * another. Returns the ids that still failed (they are then missing from every pass alike).
   */
  warm(shape: ClipShape, splits: readonly SplitName[]): Promise<string[]>;
}
