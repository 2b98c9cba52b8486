/**
 * The clips teach learns from: every labelled clip of an SSv2-layout folder (all three splits
 * pooled, because teach makes its own held-out folds), checked up front so that bad input fails
 * with a message naming the class or clip before anything is trained, and ClipData views over any
 * subset of them (a fold) for the trainer's loader. The folder is only ever read.
 */
import path from 'node:path';
import { readSsv2Dataset, type Ssv2Dataset, type VideoRecord } from '../data/index.js';
import { decodeVideos } from '../data/decode.js';
import type { ClipData } from './data-source.js';
import { clipDataOf, type OpenOptions } from './open-data.js';
import { SeededRandom } from './rng.js';

/** Input teach refuses: the message names the class or clip and what to do. */
export class TeachInputError extends Error {}

export interface TeachSet {
  readonly ds: Ssv2Dataset;
  /** Every labelled clip, train then validation then test, in file order. */
  readonly clips: readonly VideoRecord[];
  /** Clips per class, index = class id. */
  readonly counts: readonly number[];
}

const quote = (s: string) => JSON.stringify(s);

/** Reads the folder and checks the classes: ≥ 2 classes, and every class ≥ 2 clips (one can be held out). */
export async function readTeachSet(dir: string, opts: { videoDir?: string } = {}): Promise<TeachSet> {
  const ds = await readSsv2Dataset(dir, opts);
  const clips = [...ds.records.train, ...ds.records.validation, ...ds.records.test].filter((r) => r.action >= 0);
  const counts = ds.actions.map(() => 0);
  for (const c of clips) counts[c.action]!++;
  if (ds.actions.length < 2) throw new TeachInputError(`${dir}: ${ds.actions.length === 0 ? 'no classes' : `only one class (${quote(ds.actions[0]!)})`}: teaching needs at least 2 classes`);
  const empty = ds.actions.filter((_, i) => counts[i] === 0);
  if (empty.length > 0) throw new TeachInputError(`${dir}: class${empty.length > 1 ? 'es' : ''} ${empty.map(quote).join(', ')} ${empty.length > 1 ? 'have' : 'has'} no clips: record some or remove ${empty.length > 1 ? 'them' : 'it'} from the labels`);
  const single = ds.actions.map((name, i) => ({ name, i })).filter((c) => counts[c.i] === 1);
  if (single.length > 0) {
    const which = single.map((c) => `${quote(c.name)} (clip ${clips.find((r) => r.action === c.i)!.id})`).join(', ');
    throw new TeachInputError(`${dir}: class${single.length > 1 ? 'es' : ''} ${which} ${single.length > 1 ? 'have' : 'has'} only one clip: each class needs at least 2 so that one can be held out to measure it`);
  }
  return { ds, clips, counts };
}

/**
 * Decodes every clip once (small, just to count frames) and refuses one that cannot be decoded or
 * is shorter than the model's window (`needFrames` frames at the clips' 12 fps).
 */
export async function checkClips(
  set: TeachSet,
  needFrames: number,
  opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<void> {
  const size = { width: 16, height: 16 };
  const group = 8;
  for (let i = 0; i < set.clips.length; i += group) {
    opts.signal?.throwIfAborted();
    const part = set.clips.slice(i, i + group);
    let decoded = await decodeVideos(part.map((r) => set.ds.videoPath(r.id)), size);
    // A decoder can fail under load; a clip is called undecodable only if it fails twice alone.
    decoded = await Promise.all(decoded.map(async (d, k) => (d instanceof Error ? (await decodeVideos([set.ds.videoPath(part[k]!.id)], size))[0]! : d)));
    decoded.forEach((d, k) => {
      const r = part[k]!;
      const name = `clip ${r.id} (${quote(set.ds.actions[r.action]!)}, ${path.basename(set.ds.videoPath(r.id))})`;
      if (d instanceof Error) throw new TeachInputError(`${name} cannot be decoded: ${d.message.slice(0, 300)}`);
      if (d.frames < needFrames) {
        throw new TeachInputError(`${name} is too short: ${d.frames} frames (${(d.frames / 12).toFixed(2)} s at 12 fps), the model's window needs ${needFrames} (${(needFrames / 12).toFixed(2)} s)`);
      }
    });
    opts.onProgress?.(Math.min(1, (i + part.length) / set.clips.length));
  }
}

/**
 * Fold of each clip (index into set.clips) for stratified k-fold: each class's clips are shuffled
 * (seeded) and dealt round-robin, so every fold holds ⌊n/k⌋ or ⌈n/k⌉ clips of every class.
 */
export function stratifiedFolds(set: Pick<TeachSet, 'clips' | 'counts'>, k: number, seed: number): Int32Array {
  const fold = new Int32Array(set.clips.length);
  const rng = new SeededRandom((seed * 2654435761) >>> 0 || 1);
  set.counts.forEach((_, c) => {
    const mine = rng.shuffled(set.clips.map((r, i) => (r.action === c ? i : -1)).filter((i) => i >= 0));
    mine.forEach((clip, j) => (fold[clip] = j % k));
  });
  return fold;
}

export type SubsetOptions = Omit<OpenOptions, 'skipped'>;

/**
 * A ClipData whose 'train' split is the given clips (validation and test empty), loaded by the
 * data package's loader as openClipData loads a folder: decoded-clip cache, hand–object states
 * from the side files or measured by the detectors. A clip that fails to load fails the batches.
 */
export function subsetData(set: TeachSet, records: readonly VideoRecord[], opts: SubsetOptions = {}): ClipData {
  return clipDataOf({ ...set.ds, records: { train: records, validation: [], test: [] } }, { ...opts, skipped: 'throw' });
}
