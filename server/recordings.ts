/**
 * The recordings folder: the videos a user may replay, and the annotation files beside them.
 * A name from a client is checked by the protocol's pattern and again here by resolving it and
 * requiring the result to be a regular file directly inside the folder (no traversal, no symlink out).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RecordingInfo } from './protocol.js';
import { recordingName } from './protocol.js';

export const VIDEO_EXTENSIONS = new Set(['.webm', '.mp4', '.mkv', '.mov', '.avi']);
/** Annotation file names tried beside `<stem>.<ext>`, in order. */
const ANNOTATION_SUFFIXES = ['.annotations.json', '.segments.json', '.json'];

export class RecordingNotFound extends Error {}

export class RecordingsFolder {
  readonly dir: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.dir = realpathSync(dir);
  }

  list(): RecordingInfo[] {
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isFile() && VIDEO_EXTENSIONS.has(path.extname(e.name).toLowerCase()) && recordingName.safeParse(e.name).success)
      .map((e) => ({ name: e.name, bytes: statSync(path.join(this.dir, e.name)).size, annotations: this.annotationsFor(e.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Absolute path of a recording named by a client; throws RecordingNotFound for anything else. */
  resolve(name: string): string {
    if (!recordingName.safeParse(name).success || !VIDEO_EXTENSIONS.has(path.extname(name).toLowerCase())) {
      throw new RecordingNotFound(`"${name}" is not a recording name`);
    }
    const candidate = path.join(this.dir, name);
    if (!existsSync(candidate)) throw new RecordingNotFound(`no recording named "${name}"`);
    const real = realpathSync(candidate);
    if (path.dirname(real) !== this.dir || !statSync(real).isFile()) throw new RecordingNotFound(`"${name}" is not a file in the recordings folder`);
    return real;
  }

  /** Name of the annotation file beside a recording, or null. */
  annotationsFor(name: string): string | null {
    const stem = name.slice(0, name.length - path.extname(name).length);
    for (const suffix of ANNOTATION_SUFFIXES) {
      const file = stem + suffix;
      if (file.endsWith('.events.json')) continue;
      const p = path.join(this.dir, file);
      if (existsSync(p) && statSync(p).isFile()) return file;
    }
    return null;
  }

  /**
   * Copies the videos of `dir` (and their annotation files) in when this folder holds no video yet,
   * so that a fresh install has an annotated recording to replay and evaluate. Returns what was copied.
   */
  seedFrom(dir: string): string[] {
    if (!existsSync(dir) || this.list().length > 0) return [];
    const copied: string[] = [];
    for (const name of readdirSync(dir)) {
      const isVideo = VIDEO_EXTENSIONS.has(path.extname(name).toLowerCase());
      const isJson = name.endsWith('.json');
      if (!(isVideo || isJson) || !recordingName.safeParse(name).success) continue;
      copyFileSync(path.join(dir, name), path.join(this.dir, name));
      copied.push(name);
    }
    return copied;
  }

  /** A fresh, unused base path for a new recording of `streamId` (no extension). */
  newRecordingBase(streamId: string, at = new Date()): string {
    const stamp = at.toISOString().replace(/[:.]/g, '-');
    return path.join(this.dir, `${streamId}-${stamp}`);
  }
}
