/**
 * What training and transfer need from a data set, in one narrow interface, so the trainer does
 * not depend on how clips are stored or decoded. `openClipData` adapts the data package.
 */
export type SplitName = 'train' | 'validation' | 'test';

/** One annotated clip (no pixels). */
export interface ClipRecord {
  readonly id: string;
  /** Coarse group class id. */
  readonly group: number;
  /** Fine action (template) class id. */
  readonly action: number;
  /** Caption with objects replaced by "something". */
  readonly simplified: string;
  /** Full caption with object words. */
  readonly caption: string;
}

export interface ClipData {
  readonly dir: string;
  readonly groupLabels: readonly string[];
  /** The action templates, e.g. "Putting [something] into [something]"; index = class id. */
  readonly actionLabels: readonly string[];
  /** Frames, height, width of every decoded clip. */
  readonly clipShape: readonly [number, number, number];
  records(split: SplitName): readonly ClipRecord[];
  /** Decoded, normalised pixels of these clips: [B, T, H, W, 3] float32, in the order given. */
  loadClips(records: readonly ClipRecord[]): Promise<Float32Array>;
}
