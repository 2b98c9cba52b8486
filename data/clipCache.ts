/**
 * A disk cache of decoded clips, so that later epochs read raw frames instead of running ffmpeg
 * again. Bounded: when the files pass `maxBytes`, the least recently used are deleted (and
 * counted). Keys cover the video's path, size and mtime and the decode size, so a changed video
 * or a new size is decoded afresh. Entries are written to a temporary name and renamed, so a
 * crash never leaves a half-written entry behind.
 *
 *   const cache = await ClipCache.open({ dir: 'runs/cache', maxBytes: 2e9 });
 *   const clip = (await cache.get(key)) ?? …decode… then cache.put(key, clip)
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DecodedVideo } from './decode.js';

const MAGIC = 0x31435443; // "CTC1"
const HEADER = 16;
const EXT = '.clip';

export interface ClipCacheStats {
  hits: number;
  misses: number;
  writes: number;
  evictions: number;
  /** Clips larger than the whole cache, not stored. */
  tooLarge: number;
  bytes: number;
  entries: number;
}

export class ClipCache {
  /** key → bytes, oldest use first. */
  private readonly lru = new Map<string, number>();
  private bytes = 0;
  readonly stats: ClipCacheStats = { hits: 0, misses: 0, writes: 0, evictions: 0, tooLarge: 0, bytes: 0, entries: 0 };

  private constructor(readonly dir: string, readonly maxBytes: number) {}

  static async open(opts: { dir: string; maxBytes: number }): Promise<ClipCache> {
    if (!(opts.maxBytes > 0)) throw new Error(`cache maxBytes must be positive, got ${opts.maxBytes}`);
    const dir = path.resolve(opts.dir);
    await mkdir(dir, { recursive: true });
    const cache = new ClipCache(dir, opts.maxBytes);
    const found: { key: string; size: number; mtime: number }[] = [];
    for (const name of await readdir(dir)) {
      if (!name.endsWith(EXT)) continue;
      const st = await stat(path.join(dir, name)).catch(() => undefined);
      if (st) found.push({ key: name.slice(0, -EXT.length), size: st.size, mtime: st.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) cache.remember(f.key, f.size);
    await cache.evict();
    return cache;
  }

  /** The key of a video decoded at a size; changes when the file changes. */
  static async keyFor(file: string, width: number, height: number): Promise<string> {
    const st = await stat(file);
    return createHash('sha1').update(`${path.resolve(file)}|${st.size}|${st.mtimeMs}|${width}x${height}`).digest('hex');
  }

  private fileOf(key: string) {
    return path.join(this.dir, key + EXT);
  }

  private remember(key: string, size: number) {
    const old = this.lru.get(key);
    if (old !== undefined) {
      this.bytes -= old;
      this.lru.delete(key);
    }
    this.lru.set(key, size);
    this.bytes += size;
    this.syncStats();
  }

  private syncStats() {
    this.stats.bytes = this.bytes;
    this.stats.entries = this.lru.size;
  }

  async get(key: string): Promise<DecodedVideo | undefined> {
    const size = this.lru.get(key);
    if (size === undefined) {
      this.stats.misses++;
      return undefined;
    }
    let buf: Buffer;
    try {
      buf = await readFile(this.fileOf(key));
    } catch {
      this.lru.delete(key);
      this.bytes -= size;
      this.syncStats();
      this.stats.misses++;
      return undefined;
    }
    const frames = buf.readUInt32LE(4), width = buf.readUInt32LE(8), height = buf.readUInt32LE(12);
    if (buf.readUInt32LE(0) !== MAGIC || buf.length !== HEADER + frames * width * height * 3) {
      await this.drop(key);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.remember(key, size);
    const now = new Date();
    void utimes(this.fileOf(key), now, now).catch(() => undefined); // keeps the LRU order for the next process
    return { frames, width, height, data: new Uint8Array(buf.buffer, buf.byteOffset + HEADER, buf.length - HEADER) };
  }

  async put(key: string, clip: DecodedVideo): Promise<void> {
    const size = HEADER + clip.data.length;
    if (size > this.maxBytes) {
      this.stats.tooLarge++;
      return;
    }
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(clip.frames, 4);
    header.writeUInt32LE(clip.width, 8);
    header.writeUInt32LE(clip.height, 12);
    const tmp = `${this.fileOf(key)}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.concat([header, Buffer.from(clip.data.buffer, clip.data.byteOffset, clip.data.length)]));
    await rename(tmp, this.fileOf(key));
    this.stats.writes++;
    this.remember(key, size);
    await this.evict();
  }

  private async drop(key: string) {
    const size = this.lru.get(key);
    if (size === undefined) return;
    this.lru.delete(key);
    this.bytes -= size;
    this.syncStats();
    await unlink(this.fileOf(key)).catch(() => undefined);
  }

  private async evict() {
    for (const key of this.lru.keys()) {
      if (this.bytes <= this.maxBytes) break;
      await this.drop(key);
      this.stats.evictions++;
    }
  }
}
