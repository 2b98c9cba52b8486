/**
 * The clip library: short labelled clips a user records or cuts from recordings to teach the model
 * their own actions. It is a folder in the SSv2 layout (data/layout.ts), so that `npm run teach`,
 * `npm run transfer` and the data readers take it as it is:
 *
 *   <dir>/<clip id>.webm                      the clip
 *   <dir>/countertop-library.json             the index: every clip's label, source and time (the truth)
 *   <dir>/something-something-v2-*.json, template-groups.json   derived from the index after each change
 *
 * Every change goes through one queue, so two browser tabs editing at once cannot lose each other's
 * clips, and every file is written to a temporary name and renamed (a crash leaves the old file or
 * the new one, never half of one). Clip ids are made here, never from user text; labels are data.
 * The library is bounded (bytes and clip count): a clip beyond the limit is refused with a message
 * and its temporary file removed, nothing already kept is touched.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { fillTemplate, placeholderCount, templateKey } from '../data/captions.js';
import { SSV2_FILES } from '../data/layout.js';
import type { ClipLabel, LibraryClip, LibraryView } from './protocol.js';

export type { ClipLabel, LibraryClip, LibraryView };

export const LIBRARY_INDEX = 'countertop-library.json';

export class LibraryFullError extends Error {}
export class ClipNotFoundError extends Error {}
export class ClipLabelError extends Error {}

/** Letters and digits of any script, spaces and a little punctuation; `[something]` slots in templates. */
const ACTION_TEXT = /^[\p{L}\p{N}][\p{L}\p{N} ,'()&+-]*$/u;
const OBJECT_TEXT = /^[\p{L}\p{N}][\p{L}\p{N} '-]*$/u;
const MAX_ACTION = 100;
const MAX_OBJECT = 40;

/**
 * Checks a label and returns its class name. A label never becomes a file or folder name (clip ids
 * do), but it becomes a class name in SSv2 files and the dashboard, so characters that have no
 * place in an action's name (slashes, quotes, angle brackets, control characters) are refused with a
 * message saying what is allowed.
 */
export function checkLabel(label: ClipLabel): string {
  const action = label.action.trim().replace(/\s+/g, ' ');
  if (!action) throw new ClipLabelError('a clip needs an action: pick one or type a new one ("Measuring flour")');
  if (action.length > MAX_ACTION) throw new ClipLabelError(`an action's name is at most ${MAX_ACTION} characters`);
  const unslotted = action.replace(/\[something\]/g, 'something');
  if (!ACTION_TEXT.test(unslotted)) {
    throw new ClipLabelError(`"${action.slice(0, 40)}": an action's name may use letters, digits, spaces and , ' ( ) & + - (and [something] for an object), nothing else`);
  }
  const slots = placeholderCount(action);
  if (label.objects.length !== slots) throw new ClipLabelError(`"${action}" has ${slots} object slot${slots === 1 ? '' : 's'} but ${label.objects.length} object word${label.objects.length === 1 ? ' was' : 's were'} given`);
  for (const o of label.objects) {
    if (!o.trim() || o.length > MAX_OBJECT || !OBJECT_TEXT.test(o.trim())) throw new ClipLabelError(`object "${o.slice(0, 40)}": letters, digits, spaces, ' and -, at most ${MAX_OBJECT} characters`);
  }
  return templateKey(action);
}

const clipSchema = z.strictObject({
  id: z.string().regex(/^clip-[a-z0-9-]{6,40}$/),
  action: z.string(),
  objects: z.array(z.string()),
  className: z.string(),
  streamId: z.string(),
  streamName: z.string(),
  capturedAt: z.number(),
  frames: z.number().int(),
  fps: z.number(),
  bytes: z.number().int(),
  createdAt: z.number(),
});
const indexSchema = z.strictObject({ format: z.literal('countertop-library'), version: z.literal(1), clips: z.array(clipSchema) });

export interface ClipLibraryOptions {
  readonly maxBytes: number;
  readonly maxClips: number;
}

/** What a new clip brings: its video, already encoded to a temporary file in the library folder. */
export interface NewClip extends ClipLabel {
  readonly tempFile: string;
  readonly streamId: string;
  readonly streamName: string;
  readonly capturedAt: number;
  readonly frames: number;
  readonly fps: number;
}

export class ClipLibrary {
  readonly dir: string;
  private clips: LibraryClip[];
  /** One change at a time: each waits for the one before (a failed change does not block the next). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    dir: string,
    clips: LibraryClip[],
    readonly options: ClipLibraryOptions,
  ) {
    this.dir = dir;
    this.clips = clips;
  }

  /** Opens (or creates) the library; an index that is not the library's format is an error naming the file. */
  static async open(dir: string, options: ClipLibraryOptions): Promise<ClipLibrary> {
    mkdirSync(dir, { recursive: true });
    const real = realpathSync(dir);
    const file = path.join(real, LIBRARY_INDEX);
    let clips: LibraryClip[] = [];
    if (existsSync(file)) {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new Error(`${file}: not valid JSON (${(err as Error).message}); the clip library cannot be read`);
      }
      const parsed = indexSchema.safeParse(json);
      if (!parsed.success) throw new Error(`${file}: not a countertop clip library index (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
      clips = parsed.data.clips.filter((c) => existsSync(path.join(real, `${c.id}.webm`)));
    }
    const library = new ClipLibrary(real, clips, options);
    // The SSv2 files are derived: written again at open, so a crash between two writes heals.
    await library.serial(() => library.writeFiles());
    return library;
  }

  view(): LibraryView {
    const counts = new Map<string, number>();
    for (const c of this.clips) counts.set(c.className, (counts.get(c.className) ?? 0) + 1);
    return {
      clips: this.clips.map((c) => ({ ...c })),
      classes: [...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([name, clips]) => ({ name, clips })),
      bytes: this.bytes(),
      maxBytes: this.options.maxBytes,
      maxClips: this.options.maxClips,
    };
  }

  get(id: string): LibraryClip {
    const clip = this.clips.find((c) => c.id === id);
    if (!clip) throw new ClipNotFoundError(`no clip "${id}" in the library (deleted in another tab?)`);
    return clip;
  }

  videoPath(id: string): string {
    return path.join(this.dir, `${this.get(id).id}.webm`);
  }

  /** A temporary file name inside the library for a clip being encoded (same file system: the rename is atomic). */
  tempFile(): string {
    return path.join(this.dir, `.incoming-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.webm`);
  }

  /** Refuses early (before anything is recorded) when the library has no room for one more clip. */
  checkRoom(): void {
    if (this.clips.length >= this.options.maxClips) throw new LibraryFullError(`the clip library is full (${this.clips.length} clips, the most it keeps): delete clips first`);
    const used = this.bytes();
    if (used >= this.options.maxBytes) throw new LibraryFullError(`the clip library is full (${mb(used)} of ${mb(this.options.maxBytes)}): delete clips or raise libraryMaxMb`);
  }

  /** Keeps a clip whose video is in `clip.tempFile`; on any refusal the temporary file is removed. */
  add(clip: NewClip): Promise<LibraryClip> {
    return this.serial(async () => {
      try {
        const className = checkLabel(clip);
        this.checkRoom();
        const bytes = statSync(clip.tempFile).size;
        if (this.bytes() + bytes > this.options.maxBytes) throw new LibraryFullError(`the clip (${mb(bytes)}) does not fit: the library holds ${mb(this.bytes())} of ${mb(this.options.maxBytes)}; delete clips or raise libraryMaxMb`);
        const id = `clip-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
        const kept: LibraryClip = {
          id,
          action: clip.action.trim().replace(/\s+/g, ' '),
          objects: clip.objects.map((o) => o.trim()),
          className,
          streamId: clip.streamId,
          streamName: clip.streamName,
          capturedAt: clip.capturedAt,
          frames: clip.frames,
          fps: clip.fps,
          bytes,
          createdAt: Date.now(),
        };
        await rename(clip.tempFile, path.join(this.dir, `${id}.webm`));
        this.clips = [...this.clips, kept];
        await this.writeFiles();
        return kept;
      } finally {
        await rm(clip.tempFile, { force: true });
      }
    });
  }

  relabel(id: string, label: ClipLabel): Promise<LibraryClip> {
    return this.serial(async () => {
      const old = this.get(id);
      const className = checkLabel(label);
      const updated: LibraryClip = { ...old, action: label.action.trim().replace(/\s+/g, ' '), objects: label.objects.map((o) => o.trim()), className };
      this.clips = this.clips.map((c) => (c.id === id ? updated : c));
      await this.writeFiles();
      return updated;
    });
  }

  /** Forgets the clip (index first, so a crash never leaves an index entry without its video), then deletes its file. */
  delete(id: string): Promise<void> {
    return this.serial(async () => {
      this.get(id);
      this.clips = this.clips.filter((c) => c.id !== id);
      await this.writeFiles();
      await rm(path.join(this.dir, `${id}.webm`), { force: true });
    });
  }

  private bytes(): number {
    return this.clips.reduce((sum, c) => sum + c.bytes, 0);
  }

  private serial<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change, change);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The index, then the SSv2 files made from it: every clip in the train list (teach does its own held-out split). */
  private async writeFiles(): Promise<void> {
    await this.writeJson(LIBRARY_INDEX, { format: 'countertop-library', version: 1, clips: this.clips });
    const names = [...new Set(this.clips.map((c) => c.className))].sort();
    await this.writeJson(SSV2_FILES.labels, Object.fromEntries(names.map((n, i) => [n, String(i)])));
    // Each class is its own coarse group: a user's actions come without a grouping.
    await this.writeJson(SSV2_FILES.groups, Object.fromEntries(names.map((n) => [n, n])));
    await this.writeJson(
      SSV2_FILES.train,
      this.clips.map((c) => ({ id: c.id, label: c.objects.length ? fillTemplate(c.action, c.objects) : c.action, template: c.action, placeholders: c.objects })),
    );
    await this.writeJson(SSV2_FILES.validation, []);
    await this.writeJson(SSV2_FILES.test, []);
  }

  private async writeJson(name: string, value: unknown): Promise<void> {
    const file = path.join(this.dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value, null, 1) + '\n');
    await rename(tmp, file);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
