/**
 * The event history: every action event and caption of every stream, with its times, confidence,
 * the model that made it and a small JPEG of the frame, kept in one SQLite file (better-sqlite3)
 * across restarts. Bounded by age and by size: the oldest rows go first, and the log says so.
 *
 * History is an extra: a file that is corrupt, locked by another process or unwritable gives one
 * log line and the server runs without it (the live view never waits on or fails with the database).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type BetterSqlite3 from 'better-sqlite3';
import type { Frame } from '../pipelines/types.js';
import { encodeJpeg } from './preview.js';
import { historyFilterSchema, type HistoryFilter, type HistoryItem } from './protocol.js';

/** Rows one export may hold: a day of a busy camera is a few thousand. */
export const MAX_EXPORT_ROWS = 100_000;

export interface HistoryOptions {
  readonly file: string;
  readonly maxAgeDays: number;
  readonly maxBytes: number;
  /** The model name stored with an event whose stream does not say which model it runs. */
  readonly model: string;
  /** How often old rows are pruned (ms). */
  readonly pruneEveryMs?: number;
}

interface Row {
  id: number;
  stream: string;
  stream_name: string;
  type: 'action' | 'caption';
  label: string | null;
  text: string | null;
  reason: string | null;
  start_ms: number;
  end_ms: number | null;
  confidence: number | null;
  model: string;
  has_snapshot: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  stream TEXT NOT NULL,
  stream_name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('action', 'caption')),
  label TEXT,
  text TEXT,
  reason TEXT,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  confidence REAL,
  model TEXT NOT NULL,
  snapshot BLOB
);
CREATE INDEX IF NOT EXISTS events_start ON events (start_ms);
CREATE INDEX IF NOT EXISTS events_stream_start ON events (stream, start_ms);
`;

const COLUMNS = 'id, stream, stream_name, type, label, text, reason, start_ms, end_ms, confidence, model, snapshot IS NOT NULL AS has_snapshot';

function toItem(r: Row): HistoryItem {
  return {
    id: r.id,
    streamId: r.stream,
    streamName: r.stream_name,
    type: r.type,
    label: r.label,
    text: r.text,
    reason: r.reason,
    start: r.start_ms,
    end: r.end_ms,
    confidence: r.confidence,
    model: r.model,
    snapshot: r.has_snapshot === 1,
  };
}

/** better-sqlite3 is a native module: if it cannot load (not built for this Node), history is off, the server is not. */
function loadDriver(): typeof BetterSqlite3 {
  return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
}

export class EventHistory {
  /** Why history is off, once it is (a failed write turns it off too). */
  disabledReason: string | undefined;
  private readonly openActions = new Map<string, number>();
  private readonly pruneTimer: NodeJS.Timeout;
  private insertsSincePrune = 0;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly opts: HistoryOptions,
    private readonly log: Logger,
  ) {
    this.pruneTimer = setInterval(() => this.prune(), opts.pruneEveryMs ?? 60_000);
    this.pruneTimer.unref();
  }

  /**
   * Opens (or creates) the database and checks it; on any failure logs one line and returns the
   * reason instead, so that the caller runs without history.
   */
  static open(opts: HistoryOptions, log: Logger): EventHistory | { disabled: string } {
    let db: BetterSqlite3.Database | undefined;
    try {
      const Database = loadDriver();
      mkdirSync(path.dirname(opts.file), { recursive: true });
      // timeout: how long a statement waits for another process's lock before SQLITE_BUSY.
      db = new Database(opts.file, { timeout: 2000 });
      // Before any table exists, so that deleted rows' pages can be given back to the file system.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const check = db.pragma('quick_check(1)', { simple: true });
      if (check !== 'ok') throw new Error(`integrity check failed: ${String(check).slice(0, 200)}`);
      db.exec(SCHEMA);
      const history = new EventHistory(db, opts, log);
      history.prune();
      log.info({ file: opts.file, events: history.count(), maxAgeDays: opts.maxAgeDays, maxMb: Math.round(opts.maxBytes / 1e6) }, 'event history open');
      return history;
    } catch (err) {
      db?.close();
      const reason = `${opts.file}: ${describe(err)}`;
      log.error({ file: opts.file, code: (err as { code?: string }).code }, `event history disabled (the live view works without it): ${reason}`);
      return { disabled: reason };
    }
  }

  get enabled(): boolean {
    return this.disabledReason === undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  /** An action started or ended. Returns the row id (for the snapshot), or undefined when nothing was stored. */
  action(stream: { id: string; name: string; model?: string }, e: { kind: 'start' | 'end'; label: string; confidence: number; start: number; end?: number }): number | undefined {
    return this.guard(() => {
      const key = `${stream.id}\u0000${e.label}`;
      if (e.kind === 'end') {
        const open = this.openActions.get(key);
        this.openActions.delete(key);
        if (open !== undefined) {
          const changed = this.db.prepare('UPDATE events SET end_ms = ?, confidence = max(coalesce(confidence, 0), ?) WHERE id = ?').run(Math.round(e.end ?? Date.now()), e.confidence, open).changes;
          if (changed > 0) return undefined;
        }
        // An end without its start (the server restarted in between): stored whole.
      }
      const id = Number(
        this.db
          .prepare('INSERT INTO events (stream, stream_name, type, label, start_ms, end_ms, confidence, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(stream.id, stream.name, 'action', e.label, Math.round(e.start), e.kind === 'end' && e.end !== undefined ? Math.round(e.end) : null, e.confidence, stream.model ?? this.opts.model).lastInsertRowid,
      );
      if (e.kind === 'start') this.openActions.set(key, id);
      this.inserted();
      return id;
    });
  }

  caption(stream: { id: string; name: string; model?: string }, c: { text: string; reason: string; at: number; label?: string }): number | undefined {
    return this.guard(() => {
      const id = Number(
        this.db
          .prepare('INSERT INTO events (stream, stream_name, type, label, text, reason, start_ms, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(stream.id, stream.name, 'caption', c.label ?? null, c.text.slice(0, 2000), c.reason, Math.round(c.at), stream.model ?? this.opts.model).lastInsertRowid,
      );
      this.inserted();
      return id;
    });
  }

  /** Attaches the JPEG made for row `id` (encoded after the row was written, off the event's path). */
  snapshot(id: number, jpeg: Uint8Array): void {
    this.guard(() => this.db.prepare('UPDATE events SET snapshot = ? WHERE id = ?').run(jpeg, id));
  }

  getSnapshot(id: number): Buffer | undefined {
    return this.guard(() => (this.db.prepare('SELECT snapshot FROM events WHERE id = ?').get(id) as { snapshot: Buffer | null } | undefined)?.snapshot ?? undefined);
  }

  /** Newest first, `limit` rows, and whether there are older ones (page on with `before`). */
  query(filter: HistoryFilter): { items: HistoryItem[]; more: boolean } {
    const f = historyFilterSchema.parse(filter);
    const { where, params } = whereClause(f);
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`).all(...params, f.limit + 1) as Row[];
    return { items: rows.slice(0, f.limit).map(toItem), more: rows.length > f.limit };
  }

  /** For the export: oldest first, at most MAX_EXPORT_ROWS, read row by row. */
  *iterate(filter: Omit<HistoryFilter, 'limit' | 'before'>): Generator<HistoryItem> {
    const f = historyFilterSchema.parse({ ...filter, limit: 1 });
    const { where, params } = whereClause({ ...f, before: undefined });
    for (const r of this.db.prepare(`SELECT ${COLUMNS} FROM events ${where} ORDER BY id ASC LIMIT ?`).iterate(...params, MAX_EXPORT_ROWS)) yield toItem(r as Row);
  }

  /** What the filters can choose from: the streams and action labels in the history (bounded). */
  facets(): { streams: { id: string; name: string }[]; labels: string[] } {
    return (
      this.guard(() => ({
        streams: (this.db.prepare('SELECT stream AS id, max(stream_name) AS name FROM events GROUP BY stream ORDER BY stream LIMIT 200').all() as { id: string; name: string }[]).map((s) => ({ id: s.id, name: s.name })),
        labels: (this.db.prepare("SELECT DISTINCT label FROM events WHERE type = 'action' AND label IS NOT NULL ORDER BY label LIMIT 500").all() as { label: string }[]).map((r) => r.label),
      })) ?? { streams: [], labels: [] }
    );
  }

  /** Bytes the rows take (pages in use, not the free ones the file keeps for reuse). */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Deletes rows older than maxAgeDays, then the oldest until under 90% of maxBytes; logs what it deleted. */
  prune(now = Date.now()): { byAge: number; bySize: number } {
    const result = { byAge: 0, bySize: 0 };
    this.guard(() => {
      this.insertsSincePrune = 0;
      result.byAge = this.db.prepare('DELETE FROM events WHERE start_ms < ?').run(now - this.opts.maxAgeDays * 86_400_000).changes;
      if (result.byAge > 0) this.log.info({ deleted: result.byAge, maxAgeDays: this.opts.maxAgeDays }, `event history: deleted ${result.byAge} events older than ${this.opts.maxAgeDays} days`);
      if (this.usedBytes() > this.opts.maxBytes) {
        const target = 0.9 * this.opts.maxBytes;
        // Batches of a tenth of the rows, oldest first, until under the target (a few rounds at most).
        for (let round = 0; round < 20 && this.usedBytes() > target; round++) {
          const batch = Math.max(1, Math.ceil(this.count() / 10));
          const deleted = this.db.prepare('DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id ASC LIMIT ?)').run(batch).changes;
          result.bySize += deleted;
          if (deleted === 0) break;
        }
        this.log.info(
          { deleted: result.bySize, maxMb: Math.round(this.opts.maxBytes / 1e6) },
          `event history: deleted the ${result.bySize} oldest events to stay under ${Math.round(this.opts.maxBytes / 1e6)} MB`,
        );
      }
      // Give the freed pages back to the file system, so the file itself stays bounded.
      if (result.byAge + result.bySize > 0) this.db.pragma('incremental_vacuum');
      for (const [key, id] of this.openActions) if (!this.db.prepare('SELECT 1 FROM events WHERE id = ?').get(id)) this.openActions.delete(key);
    });
    return result;
  }

  close(): void {
    clearInterval(this.pruneTimer);
    if (this.db.open) this.db.close();
  }

  private inserted(): void {
    // Size is checked every 100 inserts as well as on the timer: a burst cannot outgrow the bound by much.
    if (++this.insertsSincePrune >= 100) this.prune();
  }

  /** Runs a database step; a failure (disk full, a file corrupted under us) turns history off with one log line. */
  private guard<T>(step: () => T): T | undefined {
    if (this.disabledReason !== undefined) return undefined;
    try {
      return step();
    } catch (err) {
      this.disabledReason = `${this.opts.file}: ${describe(err)}`;
      this.log.error({ file: this.opts.file, code: (err as { code?: string }).code }, `event history disabled (the live view works without it): ${this.disabledReason}`);
      return undefined;
    }
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = (e.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED') return `${message} (another process holds the database; stop it or choose another --history-file)`;
  if (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT') return `${message} (the file is damaged or not a database: move it away and a new one is made)`;
  return message;
}

function whereClause(f: z.output<typeof historyFilterSchema>): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (f.streams && f.streams.length > 0) {
    clauses.push(`stream IN (${f.streams.map(() => '?').join(', ')})`);
    params.push(...f.streams);
  }
  if (f.label !== undefined) {
    clauses.push('label = ?');
    params.push(f.label);
  }
  if (f.type !== undefined) {
    clauses.push('type = ?');
    params.push(f.type);
  }
  if (f.from !== undefined) {
    clauses.push('start_ms >= ?');
    params.push(f.from);
  }
  if (f.to !== undefined) {
    clauses.push('start_ms < ?');
    params.push(f.to);
  }
  if (f.before !== undefined) {
    clauses.push('id < ?');
    params.push(f.before);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** One CSV field: quoted when it must be, and never read as a formula by a spreadsheet. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const CSV_COLUMNS = ['id', 'streamId', 'streamName', 'type', 'label', 'text', 'reason', 'start', 'end', 'confidence', 'model'] as const;

export function csvRow(item: HistoryItem): string {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = { ...item, start: iso(item.start), end: iso(item.end) };
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

/** What the stream manager tells the history: each action event and caption, with the stream's newest frame. */
export interface StreamEventSink {
  action(stream: { id: string; name: string; model?: string }, e: { kind: 'start' | 'end'; label: string; confidence: number; start: number; end?: number }, frame?: Frame): void;
  caption(stream: { id: string; name: string; model?: string }, c: { text: string; reason: string; at: number }, frame?: Frame): void;
}

/**
 * Feeds the history from the streams: rows are written at once, the snapshot (a `width`-px JPEG of
 * the newest frame) is encoded afterwards and attached, so encoding never delays the event. An
 * action's end keeps its start's snapshot; a caption is tagged with the action open at the time.
 */
export function historySink(history: EventHistory, width = 160): StreamEventSink {
  const openLabel = new Map<string, string>();
  const attach = (id: number | undefined, frame: Frame | undefined) => {
    if (id === undefined || !frame) return;
    encodeJpeg(frame, width, 60).then(
      (jpeg) => history.snapshot(id, jpeg),
      () => undefined, // a frame that cannot be encoded leaves the row without a picture
    );
  };
  return {
    action(stream, e, frame) {
      if (e.kind === 'start') openLabel.set(stream.id, e.label);
      else if (openLabel.get(stream.id) === e.label) openLabel.delete(stream.id);
      attach(history.action(stream, e), frame);
    },
    caption(stream, c, frame) {
      attach(history.caption(stream, { ...c, label: openLabel.get(stream.id) }), frame);
    },
  };
}

/** The server's history, or why there is none (switched off, or the database could not be opened or written). */
export class HistoryHandle {
  constructor(
    readonly store: EventHistory | undefined,
    private readonly reason?: string,
  ) {}

  static open(opts: HistoryOptions | undefined, log: Logger): HistoryHandle {
    if (!opts) return new HistoryHandle(undefined, 'event history is off (--no-history)');
    const opened = EventHistory.open(opts, log);
    return opened instanceof EventHistory ? new HistoryHandle(opened) : new HistoryHandle(undefined, `event history is disabled: ${opened.disabled}`);
  }

  /** The open store, or undefined with `unavailable` saying why. */
  get usable(): EventHistory | undefined {
    return this.store?.enabled ? this.store : undefined;
  }

  get unavailable(): string {
    if (this.store?.disabledReason) return `event history is disabled: ${this.store.disabledReason}`;
    return this.reason ?? 'event history is unavailable';
  }
}
