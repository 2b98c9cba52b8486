/**
 * Reads a folder in the Something-Something v2 layout (the real download or a generated set)
 * into records carrying all four granularities.
 *
 *   const ds = await readSsv2Dataset('runs/data/something');
 *   ds.actions[ds.records.train[0].action]   // "Pushing something from left to right"
 *   ds.groups[ds.records.train[0].group]     // "Pushing something"
 *   ds.videoPath(ds.records.train[0].id)
 *
 * Files: the SSv2 lists and labels (in the folder or its `labels/` subfolder), videos `<id>.webm`
 * (in the folder or `20bn-something-something-v2/`), a required `template-groups.json`
 * (class name → group; the real SSv2 does not ship one) and an optional `countertop-captions.json`
 * (id → simplified and full caption). Without the captions file, the simplified caption uses each
 * placeholder's last word and the full caption is the SSv2 label.
 *
 * Bad input fails loudly: a file that is not JSON names the file, line, column and position; an
 * entry of the wrong shape names the file, entry index and id; a template that is not in the
 * labels file names both.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { fillTemplate, headNoun, placeholderCount, swapLeftRight, templateKey } from './captions.js';
import { SSV2_FILES, SPLITS, type CaptionEntry, type Split } from './layout.js';

export interface VideoRecord {
  readonly id: string;
  readonly split: Split;
  /** SSv2 template with brackets; for an unlabelled test clip, "". */
  readonly template: string;
  /** Fine action (class) id, index into `actions`; -1 for an unlabelled test clip. */
  readonly action: number;
  /** Coarse group id, index into `groups`; -1 when unlabelled. */
  readonly group: number;
  readonly placeholders: readonly string[];
  /** Granularity 3: template filled with object category nouns. */
  readonly simplified: string;
  /** Granularity 4: template filled with full object phrases (attributes included). */
  readonly caption: string;
}

export interface Ssv2Dataset {
  readonly dir: string;
  readonly videoDir: string;
  /** Class names (templates without brackets), index = action id, as in the labels file. */
  readonly actions: readonly string[];
  /** Group names, sorted; index = group id. */
  readonly groups: readonly string[];
  /** Action id → group id. */
  readonly actionGroup: readonly number[];
  /** Action id → the action a left-right mirrored clip shows; -1 when mirroring is not label-safe. */
  readonly mirrorAction: readonly number[];
  readonly records: Readonly<Record<Split, readonly VideoRecord[]>>;
  videoPath(id: string): string;
}

/** Parses JSON, or throws naming the file and the line, column and character position. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n');
    throw new Error(`${file}: not valid JSON at line ${line}, column ${column} (position ${pos}): ${msg}`);
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseJsonText(text, file);
}

const IdSchema = z.union([z.string().regex(/^[A-Za-z0-9_-]+$/, 'id must be letters, digits, "_" or "-"'), z.number().int().nonnegative()]).transform(String);
const EntrySchema = z.object({ id: IdSchema, label: z.string(), template: z.string().min(1), placeholders: z.array(z.string()) });
const TestEntrySchema = z.object({ id: IdSchema });
const LabelsSchema = z.record(z.string(), z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]));
const GroupsSchema = z.record(z.string(), z.string().min(1));
const CaptionsSchema = z.record(z.string(), z.object({ simplified: z.string(), caption: z.string() }));

function checkList<T>(value: unknown, schema: z.ZodType<T>, file: string): T[] {
  if (!Array.isArray(value)) throw new Error(`${file}: expected a JSON array of entries, found ${typeof value}`);
  return value.map((entry, i) => {
    const r = schema.safeParse(entry);
    if (!r.success) {
      const id = typeof entry === 'object' && entry && 'id' in entry ? ` (id ${JSON.stringify((entry as { id: unknown }).id)})` : '';
      const issue = r.error.issues[0]!;
      throw new Error(`${file}: entry #${i}${id}: ${issue.path.join('.') || 'entry'}: ${issue.message}`);
    }
    return r.data;
  });
}

function checkObject<T>(value: unknown, schema: z.ZodType<T>, file: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.length ? `key "${issue.path.join('.')}"` : 'top level'}: ${issue.message}`);
  }
  return r.data;
}

export interface ReadOptions {
  /** Where the videos are, if not in the folder or its 20bn-something-something-v2/ subfolder. */
  readonly videoDir?: string;
}

export async function readSsv2Dataset(dir: string, opts: ReadOptions = {}): Promise<Ssv2Dataset> {
  const root = path.resolve(dir);
  const labelDir = existsSync(path.join(root, SSV2_FILES.labels)) ? root : path.join(root, 'labels');
  const file = (name: string) => path.join(labelDir, name);
  const videoDir = path.resolve(opts.videoDir ?? (existsSync(path.join(root, '20bn-something-something-v2')) ? path.join(root, '20bn-something-something-v2') : root));

  const labelsFile = file(SSV2_FILES.labels);
  const labels = checkObject(await readJson(labelsFile), LabelsSchema, labelsFile);
  const actions: string[] = [];
  for (const [name, idx] of Object.entries(labels)) {
    const i = Number(idx);
    if (actions[i] !== undefined) throw new Error(`${labelsFile}: class index ${i} is used by both "${actions[i]}" and "${name}"`);
    actions[i] = name;
  }
  for (let i = 0; i < actions.length; i++) if (actions[i] === undefined) throw new Error(`${labelsFile}: class index ${i} is missing (indices must run 0…${actions.length - 1})`);
  const actionOf = new Map(actions.map((n, i) => [n, i]));

  const groupsFile = file(SSV2_FILES.groups);
  if (!existsSync(groupsFile)) throw new Error(`${groupsFile}: missing. It maps each class name in ${SSV2_FILES.labels} to a coarse group name (SSv2 itself does not ship one)`);
  const groupMap = checkObject(await readJson(groupsFile), GroupsSchema, groupsFile);
  const groups = [...new Set(Object.values(groupMap))].sort();
  const actionGroup = actions.map((name) => {
    const g = groupMap[name];
    if (g === undefined) throw new Error(`${groupsFile}: class "${name}" has no group`);
    return groups.indexOf(g);
  });
  const mirrorAction = actions.map((name, i) => {
    if (!/\b(left|right)\b/i.test(name)) return i;
    return actionOf.get(swapLeftRight(name)) ?? -1;
  });

  const captionsFile = file(SSV2_FILES.captions);
  const captions: Record<string, CaptionEntry> = existsSync(captionsFile) ? checkObject(await readJson(captionsFile), CaptionsSchema, captionsFile) : {};

  const bracketed = new Map<string, string>();
  const records = {} as Record<Split, VideoRecord[]>;
  for (const split of ['train', 'validation'] as const) {
    const listFile = file(SSV2_FILES[split]);
    const entries = checkList(await readJson(listFile), EntrySchema, listFile);
    records[split] = entries.map((e, i) => {
      const name = templateKey(e.template);
      const action = actionOf.get(name);
      if (action === undefined) throw new Error(`${listFile}: entry #${i} (id ${e.id}): template "${e.template}" is not a class in ${SSV2_FILES.labels}`);
      bracketed.set(name, e.template);
      const side = captions[e.id];
      return {
        id: e.id,
        split,
        template: e.template,
        action,
        group: actionGroup[action]!,
        placeholders: e.placeholders,
        simplified: side?.simplified ?? simplifiedFrom(e.template, e.placeholders),
        caption: side?.caption ?? e.label.charAt(0).toUpperCase() + e.label.slice(1),
      };
    });
  }

  const testFile = file(SSV2_FILES.test);
  const answersFile = file(SSV2_FILES.testAnswers);
  const answers = existsSync(answersFile) ? await readAnswers(answersFile, actionOf) : new Map<string, number>();
  records.test = existsSync(testFile)
    ? checkList(await readJson(testFile), TestEntrySchema, testFile).map((e) => {
        const action = answers.get(e.id) ?? -1;
        const side = captions[e.id];
        return {
          id: e.id,
          split: 'test' as const,
          template: action >= 0 ? bracketed.get(actions[action]!) ?? actions[action]! : '',
          action,
          group: action >= 0 ? actionGroup[action]! : -1,
          placeholders: [],
          simplified: side?.simplified ?? '',
          caption: side?.caption ?? '',
        };
      })
    : [];
  for (const s of SPLITS) records[s] ??= [];

  return { dir: root, videoDir, actions, groups, actionGroup, mirrorAction, records, videoPath: (id) => path.join(videoDir, `${id}.webm`) };
}

function simplifiedFrom(template: string, placeholders: readonly string[]): string {
  if (placeholderCount(template) !== placeholders.length) return templateKey(template);
  const text = fillTemplate(template, placeholders.map(headNoun));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function readAnswers(file: string, actionOf: Map<string, number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const cut = line.indexOf(';');
    if (cut < 0) throw new Error(`${file}: line ${i + 1}: expected "id;class name"`);
    const id = line.slice(0, cut).trim(), name = line.slice(cut + 1).trim();
    const action = actionOf.get(name);
    if (action === undefined) throw new Error(`${file}: line ${i + 1} (id ${id}): class "${name}" is not in ${SSV2_FILES.labels}`);
    out.set(id, action);
  });
  return out;
}
