/**
 * Makes a procedural data set in the SSv2 layout: renders clips, encodes each with ffmpeg to
 * `<id>.webm`, writes the train / validation / test lists, the labels file, the template → group
 * file and countertop's side files (captions, manifest).
 *
 *   const report = await generateDataset({ domain: 'something', count: 440, out: 'runs/data/ss', seed: '1' });
 *
 * An interrupted run resumes: rerun the same command and finished clips are kept.
 *
 * Deterministic from the seed: clip i is rendered from its own forked random stream, so the same
 * options give the same records and the same pixels. Classes are balanced (clip i gets template
 * i mod K before the ids are shuffled) and each class is split 80/10/10 on its own, so splits are
 * disjoint by construction and every class is present in each split. Fewer than
 * MIN_CLIPS_PER_CLASS clips for some class is refused before anything is written (such a class
 * would be missing from validation and test, and training would have nothing to evaluate on).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ssv2Label, templateKey } from './captions.js';
import { catalogueOf, templateIndex } from './catalogue/index.js';
import type { Domain } from './catalogue/types.js';
import { encodeWebmGroup } from './encode.js';
import { perceptionFileName, SSV2_FILES, SPLITS, type CaptionEntry, type Split, type Ssv2Entry } from './layout.js';
import { Prng } from './prng.js';
import { DIFFICULTY, perceiveFrames, planClip, renderFrames, type Difficulty } from './render/clip.js';
import { loadPhotos } from './render/photos.js';
import type { FramePerception } from '../perception/types.js';

export interface GenerateOptions {
  readonly domain: Domain;
  readonly count: number;
  readonly out: string;
  readonly seed: string;
  readonly difficulty?: Difficulty;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  /** A folder of photographs drawn as wall and counter top (data/render/photos.ts); none = drawn colours. */
  readonly photos?: string;
  /** Shares of train and validation; test gets the rest. */
  readonly split?: { readonly train: number; readonly validation: number };
  /** ffmpeg encoders running at once. */
  readonly concurrency?: number;
  readonly codec?: 'vp9' | 'vp8';
  /** Only these templates (with or without brackets); default all of the domain's. */
  readonly templates?: readonly string[];
  /** Replace a data set made with other options in `out` instead of refusing. */
  readonly overwrite?: boolean;
  readonly onClip?: (done: number, total: number) => void;
}

export interface GenerateReport {
  readonly out: string;
  readonly total: number;
  /** Clips already in the folder from an interrupted run with the same options, kept as they were. */
  readonly resumed: number;
  /** Per split, per class name: clip counts. */
  readonly counts: Record<Split, Record<string, number>>;
  readonly seconds: number;
}

interface PlannedRecord {
  id: string;
  split: Split;
  templateIndex: number;
  clipSeed: number;
}

/** One clip each for train, validation and test. */
export const MIN_CLIPS_PER_CLASS = 3;

/** Why `count` clips cannot be split over `classes` classes, or undefined when they can. */
export function splitProblem(count: number, classes: number): string | undefined {
  if (count >= MIN_CLIPS_PER_CLASS * classes) return undefined;
  const per = Math.floor(count / classes);
  const some = count % classes === 0 ? `${per}` : `${per}–${per + 1}`;
  return `${count} clips over ${classes} classes is ${some} per class, and every class needs at least ${MIN_CLIPS_PER_CLASS} (one each for train, validation and test): use a count of at least ${MIN_CLIPS_PER_CLASS * classes}, or fewer templates`;
}

/** Which template and split each clip gets; independent of rendering. */
export function assignRecords(count: number, classes: number, seed: string, split = { train: 0.8, validation: 0.1 }): PlannedRecord[] {
  const problem = splitProblem(count, classes);
  if (problem) throw new Error(problem);
  const rng = new Prng(seed).fork('assign');
  const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < count; i++) byClass[i % classes]!.push(order[i]!);
  const records: PlannedRecord[] = [];
  byClass.forEach((slots, c) => {
    // Every class (≥ 3 clips, checked above) gets at least one validation and one test clip.
    const n = slots.length;
    const nVal = Math.max(1, Math.round(n * split.validation));
    const nTest = Math.max(1, Math.round(n * (1 - split.train - split.validation)));
    const nTrain = n - nVal - nTest;
    slots.forEach((slot, k) => {
      const s: Split = k < nTrain ? 'train' : k < nTrain + nVal ? 'validation' : 'test';
      records.push({ id: String(slot + 1), split: s, templateIndex: c, clipSeed: slot });
    });
  });
  return records.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Four decimals (a tenth of a pixel at 1000 px) keep the side files small. */
const roundState = (frames: FramePerception[]): unknown => JSON.parse(JSON.stringify(frames, (_, v) => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v)));

async function writeJson(file: string, value: unknown) {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 1));
  await rename(tmp, file);
}

export async function generateDataset(o: GenerateOptions): Promise<GenerateReport> {
  const t0 = performance.now();
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error(`count must be a positive integer, got ${o.count}`);
  const full = catalogueOf(o.domain);
  const catalogue = o.templates ? { ...full, templates: o.templates.map((t) => full.templates[templateIndex(full, t)]!) } : full;
  const difficulty = o.difficulty ?? DIFFICULTY.moderate;
  const width = o.width ?? 128, height = o.height ?? 128, fps = o.fps ?? 12;
  const out = path.resolve(o.out);
  // Refused before the folder or its manifest is written.
  const problem = splitProblem(o.count, catalogue.templates.length);
  if (problem) throw new Error(problem);
  await mkdir(out, { recursive: true });
  // The manifest is written first (complete: false): a rerun with the same recipe resumes, keeping
  // finished clips (they are byte-identical by construction); another recipe in the folder is refused.
  const photos = o.photos ? loadPhotos(o.photos) : undefined;
  const recipe = {
    domain: o.domain, seed: o.seed, count: o.count, width, height, fps, codec: o.codec ?? 'vp9', difficulty, templates: catalogue.templates.map((t) => t.template), split: o.split ?? null,
    ...(photos ? { photos: photos.names } : {}),
  };
  const manifestFile = path.join(out, SSV2_FILES.manifest);
  let resume = false;
  if (existsSync(manifestFile)) {
    const before = JSON.parse(await readFile(manifestFile, 'utf8')) as { recipe?: unknown };
    resume = JSON.stringify(before.recipe) === JSON.stringify(recipe);
    if (!resume && !o.overwrite) throw new Error(`${out} holds a data set made with other options (${SSV2_FILES.manifest}); use another folder or overwrite it`);
  }
  await writeJson(manifestFile, { generator: 'countertop data/generate.ts', complete: false, recipe });
  const records = assignRecords(o.count, catalogue.templates.length, o.seed, o.split);
  const root = new Prng(o.seed).fork(`domain:${o.domain}`);

  const lists: Record<Split, Ssv2Entry[]> = { train: [], validation: [], test: [] };
  const captions: Record<string, CaptionEntry> = {};
  const counts = Object.fromEntries(SPLITS.map((s) => [s, {} as Record<string, number>])) as Record<Split, Record<string, number>>;
  // Clips go to ffmpeg in groups (one process encodes several), spread over `concurrency` workers.
  const groupSize = 8;
  let next = 0;
  let done = 0;
  let resumed = 0;
  const worker = async () => {
    while (next < records.length) {
      const group = records.slice(next, next + groupSize);
      next += group.length;
      const plans = group.map((r) => planClip(catalogue, r.templateIndex, root.fork(`clip:${r.clipSeed}`), difficulty, { fps, ...(photos ? { photos } : {}) }));
      const targets = group.map((r) => path.join(out, `${r.id}.webm`));
      const todo = plans.map((_, i) => i).filter((i) => !(resume && existsSync(targets[i]!)));
      resumed += plans.length - todo.length;
      // Written under a temporary name and renamed, so a killed run never leaves a half clip.
      const clips = todo.map((i) => ({ frames: [...renderFrames(plans[i]!, { width, height })], out: `${targets[i]!}.part` }));
      await encodeWebmGroup(clips, { width, height, fps, codec: o.codec });
      for (const c of clips) await rename(c.out, c.out.slice(0, -'.part'.length));
      // The hand–object state is read off the scene (cheap: nothing is painted), also for resumed clips.
      for (const [i, r] of group.entries()) {
        const file = path.join(out, perceptionFileName(r.id));
        if (!(resume && existsSync(file))) await writeJson(file, { source: 'scene', frames: roundState(perceiveFrames(plans[i]!, { width, height })) });
      }
      group.forEach((r, i) => {
        const plan = plans[i]!;
        const name = templateKey(plan.template.template);
        lists[r.split].push({ id: r.id, label: ssv2Label(plan.caption), template: plan.template.template, placeholders: [...plan.placeholders] });
        captions[r.id] = { simplified: plan.simplified, caption: plan.caption };
        counts[r.split][name] = (counts[r.split][name] ?? 0) + 1;
        o.onClip?.(++done, records.length);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));
  for (const s of SPLITS) lists[s].sort((a, b) => Number(a.id) - Number(b.id));

  const names = catalogue.templates.map((t) => templateKey(t.template));
  const labels = Object.fromEntries([...names].sort().map((n, i) => [n, String(i)]));
  const groups = Object.fromEntries(catalogue.templates.map((t) => [templateKey(t.template), t.group]));
  await writeJson(path.join(out, SSV2_FILES.train), lists.train);
  await writeJson(path.join(out, SSV2_FILES.validation), lists.validation);
  await writeJson(path.join(out, SSV2_FILES.test), lists.test.map((e) => ({ id: e.id })));
  await writeFile(path.join(out, SSV2_FILES.testAnswers), lists.test.map((e) => `${e.id};${templateKey(e.template)}`).join('\n') + '\n');
  await writeJson(path.join(out, SSV2_FILES.labels), labels);
  await writeJson(path.join(out, SSV2_FILES.groups), groups);
  await writeJson(path.join(out, SSV2_FILES.captions), captions);
  await writeJson(manifestFile, { generator: 'countertop data/generate.ts', complete: true, recipe, counts });
  return { out, total: records.length, resumed, counts, seconds: (performance.now() - t0) / 1000 };
}
