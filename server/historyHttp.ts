/**
 * The history over HTTP (behind the same token check as everything else):
 *
 *   GET /history/export?format=json|csv&streams=a,b&label=…&type=action|caption&from=…&to=…
 *   GET /history/snapshot/<id>      the event's JPEG
 *
 * `from`/`to` are epoch milliseconds or ISO 8601 times. The export is streamed row by row, oldest
 * first, at most MAX_EXPORT_ROWS rows, without snapshots.
 */
import type { ServerResponse } from 'node:http';
import { CSV_COLUMNS, csvRow, MAX_EXPORT_ROWS, type HistoryHandle } from './history.js';
import { historyFilterSchema } from './protocol.js';

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${body}\n`);
}

/** A time as epoch ms: digits, or an ISO 8601 date/time that Date parses. */
function parseTime(raw: string | null): number | undefined | 'bad' {
  if (raw === null || raw === '') return undefined;
  if (/^\d{1,16}$/.test(raw)) return Number(raw);
  if (raw.length > 40 || !/^\d{4}-\d{2}-\d{2}/.test(raw)) return 'bad';
  const ms = Date.parse(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : 'bad';
}

export function serveHistory(history: HistoryHandle, url: URL, res: ServerResponse): void {
  const store = history.usable;
  if (!store) return text(res, 503, history.unavailable);
  const snap = /^\/history\/snapshot\/(\d{1,15})$/.exec(url.pathname);
  if (snap) {
    const jpeg = store.getSnapshot(Number(snap[1]));
    if (!jpeg) return text(res, 404, 'no snapshot for that event');
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'private, max-age=86400' }).end(jpeg);
    return;
  }
  if (url.pathname !== '/history/export') return text(res, 404, 'not found: /history/export or /history/snapshot/<id>');

  const q = url.searchParams;
  const format = q.get('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') return text(res, 400, 'format must be json or csv');
  const from = parseTime(q.get('from'));
  const to = parseTime(q.get('to'));
  if (from === 'bad' || to === 'bad') return text(res, 400, 'from and to are epoch milliseconds or ISO 8601 times (2025-01-31T08:00:00Z)');
  const streams = q.get('streams');
  const parsed = historyFilterSchema.safeParse({
    ...(streams ? { streams: streams.split(',').slice(0, 65) } : {}),
    ...(q.get('label') ? { label: q.get('label') } : {}),
    ...(q.get('type') ? { type: q.get('type') } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  });
  if (!parsed.success) return text(res, 400, `bad filter: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { limit: _limit, before: _before, ...filter } = parsed.data;

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="countertop-history-${stamp}.${format}"`,
    'cache-control': 'no-store',
  });
  let n = 0;
  try {
    if (format === 'csv') {
      res.write(`${CSV_COLUMNS.join(',')}\n`);
      for (const item of store.iterate(filter)) {
        res.write(`${csvRow(item)}\n`);
        n++;
      }
    } else {
      res.write('{"items":[');
      for (const item of store.iterate(filter)) res.write(`${n++ === 0 ? '' : ','}\n${JSON.stringify(item)}`);
      res.write(`\n],"truncated":${n >= MAX_EXPORT_ROWS}}`);
    }
    res.end(format === 'csv' ? '' : '\n');
  } catch {
    // The headers are out: an error mid-way can only cut the download short, visibly.
    res.destroy();
  }
}
