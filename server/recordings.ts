/**
 * The recordings folder: the videos a user may replay, and the annotation files beside them.
 * A name from a client is checked by the protocol's pattern and again here by resolving it and
 * requiring the result to be a regular file directly inside the folder (no traversal, no symlink out).
 * Annotation files are read only when they are themselves regular files (not symlinks, which could
 * point at /etc/passwd or another user's folder) and of a plausible size and number of segments.
 */
import { constants, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAnnotations, type AnnotatedSegment } from '../eval/replay.js';
import type { RecordingInfo } from './protocol.js';
import { recordingName } from './protocol.js';
import { probeVideo, type VideoProbe } from './probe.js';

/** Far above a real annotation file (an hour at a segment every 3 s is ~200 kB). */
export const MAX_ANNOTATION_BYTES = 4 * 1024 * 1024;
/** An action shorter than a tenth of a second is not an annotation but noise (or an attack on memory). */
export const MAX_SEGMENTS_PER_SECOND = 10;
/** Short clips still get a few segments; and a video of unknown length at most this many. */
const MIN_SEGMENT_ALLOWANCE = 20;
const UNKNOWN_DURATION_MAX_SEGMENTS = 20_000;
/** Annotated times may run past the video's end by this much (rounding of hand-made files). */
const END_SLACK_SECONDS = 1;

export const VIDEO_EXTENSIONS = new Set(['.webm', '.mp4', '.mkv', '.mov', '.avi']);
/** Annotation file names tried beside `<stem>.<ext>`, in order. */
const ANNOTATION_SUFFIXES = ['.annotations.json', '.segments.json', '.json'];

export class RecordingNotFound extends Error {}
/** An annotation file too large or with implausibly many segments. */
export class AnnotationLimitError extends Error {}

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

  /**
   * Like resolve(), and the file must also be a real video container (ffprobe says so, not its
   * name): throws NotAVideoError for a playlist, a text file or anything else ffmpeg should not open.
   */
  async resolveVideo(name: string): Promise<{ file: string; probe: VideoProbe }> {
    const file = this.resolve(name);
    return { file, probe: await probeVideo(file) };
  }

  /** Name of the (regular, non-symlink) annotation file beside a recording, or null. */
  annotationsFor(name: string): string | null {
    const found = this.annotationCandidate(name);
    return found?.isFile ? found.file : null;
  }

  /** The first annotation name present beside `name`, whatever it is (lstat: a symlink is not followed). */
  private annotationCandidate(name: string): { file: string; isFile: boolean; isSymlink: boolean; size: number } | null {
    const stem = name.slice(0, name.length - path.extname(name).length);
    for (const suffix of ANNOTATION_SUFFIXES) {
      const file = stem + suffix;
      if (file.endsWith('.events.json')) continue;
      try {
        const st = lstatSync(path.join(this.dir, file));
        return { file, isFile: st.isFile(), isSymlink: st.isSymbolicLink(), size: st.size };
      } catch {
        // not there: try the next suffix
      }
    }
    return null;
  }

  /**
   * Reads and checks the annotations of recording `name` (whose video lasts `durationSec`, NaN if
   * unknown). Throws RecordingNotFound or AnnotationLimitError with a message for the user; never one
   * that quotes the file's contents.
   */
  async readAnnotations(name: string, durationSec: number): Promise<{ file: string; segments: AnnotatedSegment[] }> {
    const stem = name.slice(0, name.length - path.extname(name).length);
    const found = this.annotationCandidate(name);
    if (!found) throw new RecordingNotFound(`"${name}" has no annotation file beside it (expected ${stem}.json)`);
    const { file } = found;
    if (found.isSymlink) throw new RecordingNotFound(`"${file}" is a symbolic link; annotation files must be regular files in the recordings folder`);
    if (!found.isFile) throw new RecordingNotFound(`"${file}" is not a regular file`);
    const tooBig = (bytes: number) => new AnnotationLimitError(`"${file}" is ${(bytes / 1024 / 1024).toFixed(1)} MB; annotation files are limited to ${MAX_ANNOTATION_BYTES / 1024 / 1024} MB`);
    if (found.size > MAX_ANNOTATION_BYTES) throw tooBig(found.size);
    let text: string;
    // O_NOFOLLOW: a symlink swapped in since the lstat above is refused rather than followed.
    const handle = await open(path.join(this.dir, file), constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
      throw new RecordingNotFound(`"${file}" cannot be opened as a regular file`);
    });
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new RecordingNotFound(`"${file}" is not a regular file`);
      if (st.size > MAX_ANNOTATION_BYTES) throw tooBig(st.size);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Not V8's message: it quotes the start of the text.
      throw new RecordingNotFound(`"${file}" is not valid JSON`);
    }
    const segments = parseAnnotations(json, file);
    const limit = Number.isFinite(durationSec) ? Math.max(MIN_SEGMENT_ALLOWANCE, Math.ceil(durationSec * MAX_SEGMENTS_PER_SECOND)) : UNKNOWN_DURATION_MAX_SEGMENTS;
    if (segments.length > limit) {
      const length = Number.isFinite(durationSec) ? `a ${durationSec.toFixed(1)} s video` : 'a video of unknown length';
      throw new AnnotationLimitError(`"${file}" has ${segments.length} segments for ${length}; at most ${limit} (${MAX_SEGMENTS_PER_SECOND} per second) are accepted`);
    }
    const last = segments.reduce((m, seg) => Math.max(m, seg.end), 0);
    if (Number.isFinite(durationSec) && last > durationSec + END_SLACK_SECONDS) {
      throw new AnnotationLimitError(`"${file}" has a segment ending at ${last.toFixed(1)} s, after the end of the ${durationSec.toFixed(1)} s video`);
    }
    return { file, segments };
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
  /**
   * Writes `<stem>.annotations.json` beside a recording (the name replay evaluation reads first),
   * through a temporary file and a rename; the segments are already checked by the caller.
   */
  async writeAnnotations(name: string, segments: readonly AnnotatedSegment[]): Promise<string> {
    this.resolve(name);
    const stem = name.slice(0, name.length - path.extname(name).length);
    const file = path.join(this.dir, `${stem}.annotations.json`);
    if (existsSync(file) && lstatSync(file).isSymbolicLink()) throw new RecordingNotFound(`"${path.basename(file)}" is a symbolic link; it is not replaced`);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ video: name, segments: [...segments].sort((a, b) => a.start - b.start) }, null, 1) + '\n');
    await rename(tmp, file);
    return path.basename(file);
  }

  newRecordingBase(streamId: string, at = new Date()): string {
    const stamp = at.toISOString().replace(/[:.]/g, '-');
    return path.join(this.dir, `${streamId}-${stamp}`);
  }
}
