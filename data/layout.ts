/**
 * File names of an SSv2-layout folder, shared by the writer (generate.ts) and the reader (ssv2.ts).
 * The first four are the real SSv2 names; the others are countertop's own side files.
 */
export const SSV2_FILES = {
  train: 'something-something-v2-train.json',
  validation: 'something-something-v2-validation.json',
  test: 'something-something-v2-test.json',
  labels: 'something-something-v2-labels.json',
  /** `id;class name` per line: labels of the test split, kept out of the ids-only test list. */
  testAnswers: 'something-something-v2-test-answers.csv',
  /** Class name (template without brackets) → coarse group name. */
  groups: 'template-groups.json',
  /** Clip id → { simplified, caption } – granularities 3 and 4. */
  captions: 'countertop-captions.json',
  /** How the set was made: domain, seed, difficulty, sizes, per-class counts. */
  manifest: 'countertop-dataset.json',
} as const;

/**
 * Per clip, beside `<id>.webm`: the hand–object state of every frame (perception/types.ts
 * FramePerception[]), noiseless for procedural clips, measured by the detectors for real ones.
 */
export const perceptionFileName = (id: string) => `${id}.perception.json`;

/** Per clip, beside `<id>.webm`: the frozen backbone's feature of every frame (perception/backbone.ts). */
export const backboneFileName = (id: string) => `${id}.backbone.bin`;

export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** One entry of the train/validation lists, exactly as SSv2 writes it. */
export interface Ssv2Entry {
  id: string;
  label: string;
  template: string;
  placeholders: string[];
}

export interface CaptionEntry {
  simplified: string;
  caption: string;
}
