/**
 * ClipData over the data package: readSsv2Dataset for the annotations and clipBatches for decoded
 * clips, with the decoded-clip disk cache under .cache/clips (bounded; the loader evicts).
 */
import path from 'node:path';
import { clipBatches, readSsv2Dataset, type Ssv2Dataset } from '../data/index.js';
import type { ClipMeasures } from '../data/loader.js';
import { ClipFeaturizer } from '../perception/backbone.js';
import { ClipPerceiver } from '../perception/clipPerception.js';
import type { ClipData, LabelledBatch, SplitName } from './data-source.js';

export interface OpenOptions {
  /** Decoded-clip cache folder; null disables the cache. */
  readonly cacheDir?: string | null;
  readonly cacheBytes?: number;
  /**
   * A clip that cannot be loaded while batching: `warn` (default) skips it with a line on stderr;
   * `throw` fails the batches (teach decodes every clip first, so a failure then is a hiccup, and
   * a silently smaller fold would skew its measurement).
   */
  readonly skipped?: 'warn' | 'throw';
}

export const DEFAULT_CLIP_CACHE = path.join('.cache', 'clips');
/** Hand–object states measured by the detectors on clips that came without one (real video). */
export const DEFAULT_PERCEPTION_CACHE = path.join('.cache', 'perception');
/** Backbone features measured on clips that came without a side file (real video, a user's clips). */
export const DEFAULT_BACKBONE_CACHE = path.join('.cache', 'backbone');
const WARM_ATTEMPTS = 4;

export async function openClipData(dir: string, opts: OpenOptions = {}): Promise<ClipData> {
  return clipDataOf(await readSsv2Dataset(dir), opts);
}

/** ClipData over an SSv2 data set already read (or a subset of its records, as teach's folds are). */
export function clipDataOf(ds: Ssv2Dataset, opts: OpenOptions = {}): ClipData {
  const cacheDir = opts.cacheDir === undefined ? DEFAULT_CLIP_CACHE : opts.cacheDir;
  const cache = cacheDir ? { dir: cacheDir, maxBytes: opts.cacheBytes ?? 4e9 } : undefined;
  const labelled = (split: SplitName) => ds.records[split].filter((r) => r.action >= 0);
  // The detectors load on the first clip that needs measuring (procedural sets never do).
  let perceiver: Promise<ClipPerceiver> | undefined;
  let featurizer: Promise<ClipFeaturizer> | undefined;
  const measures: ClipMeasures = {
    perceive: (file) => {
      perceiver ??= ClipPerceiver.load({ cacheDir: cacheDir ? DEFAULT_PERCEPTION_CACHE : undefined });
      return perceiver.then((p) => p.measure(file));
    },
    features: (file) => {
      featurizer ??= ClipFeaturizer.load({ cacheDir: cacheDir ? DEFAULT_BACKBONE_CACHE : undefined });
      return featurizer.then((f) => f.measure(file));
    },
  };
  // Bracketed template of each class from the annotations; SSv2 class names drop the brackets.
  const templates = ds.actions.map((name) => name.replace(/\bsomething\b/gi, '[something]'));
  for (const split of ['train', 'validation'] as const) for (const r of ds.records[split]) if (r.template) templates[r.action] = r.template;
  return {
    dir: ds.dir,
    groupLabels: ds.groups,
    actionLabels: ds.actions,
    actionTemplates: templates,
    count: (split) => labelled(split).length,
    captions: (split, kind) => labelled(split).map((r) => (kind === 'simplified' ? r.simplified : r.caption)),
    async warm(shape, splits) {
      if (!cache) return [];
      let failed: string[] = [];
      for (let attempt = 0; attempt < WARM_ATTEMPTS; attempt++) {
        failed = [];
        for (const split of splits) {
          // Centre/uniform or random crops all cut from the same cached decode (model size × (1 + margin)).
          const stream = clipBatches(ds, split, { frames: shape.frames, height: shape.height, width: shape.width, batchSize: 16, shuffle: false, cache });
          for await (const _ of stream);
          failed.push(...stream.report.skipped.map((s) => s.id));
        }
        if (failed.length === 0) break;
      }
      return failed;
    },
    async *batches(split, req): AsyncGenerator<LabelledBatch> {
      const stream = clipBatches(ds, split, {
        frames: req.shape.frames,
        height: req.shape.height,
        width: req.shape.width,
        batchSize: req.batchSize,
        shuffle: req.training,
        seed: req.seed,
        epoch: req.epoch,
        sampling: req.shape.windowStep ? (req.training ? 'window-random' : 'window') : req.training ? 'random' : 'uniform',
        step: req.shape.windowStep ?? 1,
        ...(req.windowAt !== undefined ? { windowAt: req.windowAt } : {}),
        handObject: req.shape.handObject ?? false,
        backbone: req.shape.backbone ?? false,
        crop: req.training ? 'random' : 'center',
        flip: req.training,
        cache,
        ...(req.limit ? { limit: req.limit } : {}),
      }, measures);
      for await (const b of stream) {
        const floats = b.clips.length / b.ids.length;
        const keep = b.ids.map((_, i) => i).filter((i) => b.actions[i] >= 0);
        if (keep.length === 0) continue;
        const clips = keep.length === b.ids.length ? b.clips : new Float32Array(keep.length * floats);
        if (clips !== b.clips) keep.forEach((i, j) => clips.set(b.clips.subarray(i * floats, (i + 1) * floats), j * floats));
        let perception = b.perception;
        if (perception && keep.length !== b.ids.length) {
          const per = perception.length / b.ids.length;
          const kept = new Float32Array(keep.length * per);
          keep.forEach((i, j) => kept.set(b.perception!.subarray(i * per, (i + 1) * per), j * per));
          perception = kept;
        }
        yield {
          clips,
          ...(perception ? { perception } : {}),
          records: keep.map((i) => ({ id: b.ids[i], group: b.groups[i], action: b.actions[i], simplified: b.simplified[i], caption: b.captions[i] })),
        };
      }
      if (stream.report.skipped.length > 0 && opts.skipped === 'throw') {
        const s = stream.report.skipped[0]!;
        throw new Error(`clip ${s.id} could not be loaded (${s.reason}: ${s.detail.slice(0, 200)}); try again`);
      }
      if (stream.report.skipped.length > 0) {
        process.stderr.write(`${ds.dir} ${split}: skipped ${stream.report.skipped.length} unreadable clip(s): ${stream.report.skipped.slice(0, 3).map((s) => `${s.id} (${s.reason})`).join(', ')}\n`);
      }
    },
  };
}
