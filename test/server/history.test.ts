/**
 * The event history in SQLite: actions and captions with their snapshot survive a server restart
 * (a real file in a temp dir), filter and page as the dashboard asks, export as JSON and CSV behind
 * the token, stay bounded by age and size (saying so in the log); a corrupt or locked file is one
 * clear log line and the live view keeps serving predictions.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { csvField, EventHistory, historySink } from '../../server/history.js';
import type { HistoryItem, ServerMessage } from '../../server/protocol.js';
import type BetterSqlite3 from 'better-sqlite3';
import { hasFfmpeg, makeVideo, need, tempDir, until } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

type HistoryReply = Extract<ServerMessage, { type: 'history' }>;

/** A logger whose lines (JSON) the test can read. */
function capturingLog(): { log: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log: Logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

const cam = { id: 'counter', name: 'Counter' };

describe('EventHistory', () => {
  const tmp = tempDir('history-unit');
  afterAll(() => tmp.remove());

  it('keeps an action from start to end, captions with the open action, and filters and pages them', () => {
    const { log } = capturingLog();
    const h = EventHistory.open({ file: path.join(tmp.dir, 'a.sqlite'), maxAgeDays: 30, maxBytes: 50e6, model: 'test-model' }, log) as EventHistory;
    expect(h).toBeInstanceOf(EventHistory);
    const t0 = 1_700_000_000_000;
    h.action(cam, { kind: 'start', label: 'Pouring milk', confidence: 0.6, start: t0 });
    h.caption(cam, { text: 'pouring milk into a bowl', reason: 'action-changed', at: t0 + 100, label: 'Pouring milk' });
    h.action(cam, { kind: 'end', label: 'Pouring milk', confidence: 0.8, start: t0, end: t0 + 2000 });
    h.action({ id: 'stove', name: 'Stove' }, { kind: 'start', label: 'Stirring', confidence: 0.7, start: t0 + 5000 });
    // An end whose start was before a restart is stored whole.
    h.action(cam, { kind: 'end', label: 'Cutting', confidence: 0.9, start: t0 + 6000, end: t0 + 7000 });

    const all = h.query({});
    expect(all.items.map((i) => [i.streamId, i.type, i.label, i.start - t0, i.end === null ? null : i.end - t0])).toEqual([
      ['counter', 'action', 'Cutting', 6000, 7000],
      ['stove', 'action', 'Stirring', 5000, null],
      ['counter', 'caption', 'Pouring milk', 100, null],
      ['counter', 'action', 'Pouring milk', 0, 2000],
    ]);
    expect(all.items[3]).toMatchObject({ confidence: 0.8, model: 'test-model', streamName: 'Counter' });
    expect(h.query({ streams: ['stove'] }).items.map((i) => i.label)).toEqual(['Stirring']);
    expect(h.query({ label: 'Pouring milk', type: 'action' }).items).toHaveLength(1);
    expect(h.query({ from: t0 + 100, to: t0 + 5001 }).items.map((i) => i.label)).toEqual(['Stirring', 'Pouring milk']);
    const page1 = h.query({ limit: 3 });
    expect(page1.more).toBe(true);
    const page2 = h.query({ limit: 3, before: page1.items.at(-1)!.id });
    expect([page2.more, page2.items.map((i) => i.label)]).toEqual([false, ['Pouring milk']]);
    expect(h.facets()).toEqual({ streams: [cam, { id: 'stove', name: 'Stove' }], labels: ['Cutting', 'Pouring milk', 'Stirring'] });
    h.close();
  });

  it('deletes by age and by size, oldest first, and logs it', () => {
    const { log, lines } = capturingLog();
    const maxBytes = 200_000;
    const h = EventHistory.open({ file: path.join(tmp.dir, 'b.sqlite'), maxAgeDays: 1, maxBytes, model: 'm' }, log) as EventHistory;
    const now = Date.now();
    h.action(cam, { kind: 'end', label: 'old', confidence: 1, start: now - 3 * 86_400_000, end: now - 3 * 86_400_000 + 1000 });
    h.action(cam, { kind: 'end', label: 'new', confidence: 1, start: now - 1000, end: now });
    expect(h.prune(now)).toEqual({ byAge: 1, bySize: 0 });
    expect(h.query({}).items.map((i) => i.label)).toEqual(['new']);
    expect(lines.some((l) => l.msg === 'event history: deleted 1 events older than 1 days')).toBe(true);

    const jpeg = new Uint8Array(2000).fill(7);
    for (let i = 0; i < 400; i++) h.snapshot(h.caption(cam, { text: `caption ${i}`, reason: 'interval', at: now + i })!, jpeg);
    h.prune(now);
    expect(h.usedBytes()).toBeLessThanOrEqual(maxBytes);
    const left = h.query({ limit: 200 }).items;
    expect(left[0]!.text).toBe('caption 399'); // the newest stay
    expect(h.count()).toBeLessThan(401);
    expect(lines.some((l) => /^event history: deleted the \d+ oldest events to stay under 0 MB$/.test(l.msg))).toBe(true);
    h.close();
  });

  it('a corrupt or a locked file is one clear log line, not a crash', () => {
    const { log, lines } = capturingLog();
    const corrupt = path.join(tmp.dir, 'corrupt.sqlite');
    writeFileSync(corrupt, 'this is not a database\n'.repeat(400));
    const r = EventHistory.open({ file: corrupt, maxAgeDays: 30, maxBytes: 50e6, model: 'm' }, log);
    expect(r).toEqual({ disabled: expect.stringMatching(/corrupt\.sqlite: file is not a database \(the file is damaged or not a database: move it away/) });
    expect(lines.filter((l) => l.level >= 50)).toHaveLength(1);

    const lockedFile = path.join(tmp.dir, 'locked.sqlite');
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    const other = new Database(lockedFile);
    other.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
    try {
      const locked = EventHistory.open({ file: lockedFile, maxAgeDays: 30, maxBytes: 50e6, model: 'm' }, log);
      expect(locked).toEqual({ disabled: expect.stringMatching(/database is locked \(another process holds the database/) });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('CSV fields are quoted and never read as spreadsheet formulas', () => {
    expect([csvField('a,b'), csvField('say "hi"'), csvField('=cmd()'), csvField(null), csvField(0.5)]).toEqual(['"a,b"', '"say ""hi"""', "'=cmd()", '', '0.5']);
  });

  it('the sink attaches a JPEG of the newest frame to the event', async () => {
    const { log } = capturingLog();
    const h = EventHistory.open({ file: path.join(tmp.dir, 'c.sqlite'), maxAgeDays: 30, maxBytes: 50e6, model: 'm' }, log) as EventHistory;
    const frame = { streamId: 'counter', seq: 0, capturedAt: 0, width: 64, height: 48, pixels: new Uint8Array(64 * 48 * 3).fill(128) };
    historySink(h, 32).action(cam, { kind: 'start', label: 'x', confidence: 1, start: Date.now() }, frame);
    const id = h.query({}).items[0]!.id;
    await until(() => h.getSnapshot(id) !== undefined, 'the snapshot', 10_000);
    expect([...h.getSnapshot(id)!.subarray(0, 2)]).toEqual([0xff, 0xd8]); // JPEG SOI
    h.close();
  });
});

describe('history in the server', () => {
  let t: TestServer | undefined;
  const tmp = tempDir('history-server');
  afterAll(async () => {
    await t?.close();
    tmp.remove();
  });
  const TOKEN = 'history-token-0123456789';

  it('events survive a restart, page over the socket and export as JSON and CSV behind the token', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const video = makeVideo(path.join(tmp.dir, 'clip.webm'), { seconds: 3, fps: 8 });
    const file = path.join(tmp.dir, 'history.sqlite');
    const flags = ['--history-file', file, '--recordings-dir', path.join(tmp.dir, 'rec'), '--token', TOKEN];
    const headers = { authorization: `Bearer ${TOKEN}` };
    const query = async (client: TestClient, id: string, filter: Record<string, unknown> = {}) =>
      client.request<HistoryReply>({ type: 'history-query', filter, facets: true } as never, id);

    t = await startTestServer(flags, { demoFile: video });
    let client = await TestClient.connect(t.wsUrl, headers);
    client.send({ type: 'subscribe', streams: ['demo'], preview: false });
    for (let i = 0; i < 2; i++) await client.next((m) => m.type === 'caption', 60_000, 'a caption');
    let before: HistoryItem[] = [];
    for (let n = 0; n < 100 && before.filter((i) => i.snapshot).length < 2; n++) {
      before = (await query(client, `q${n}`)).items;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(before.filter((i) => i.type === 'caption' && i.streamId === 'demo' && i.model === 'small untrained (test)').length).toBeGreaterThanOrEqual(2);
    await client.close();
    await t.close();
    t = undefined;

    // A new server on the same file: the same events, newest first, and their snapshots.
    t = await startTestServer(flags);
    client = await TestClient.connect(t.wsUrl, headers);
    const after = await query(client, 'after', { streams: ['demo'], type: 'caption', limit: 200 });
    const ids = new Set(after.items.map((i) => i.id));
    for (const item of before.filter((i) => i.type === 'caption')) expect(ids.has(item.id), `caption ${item.id}`).toBe(true);
    expect(after.facets?.streams).toContainEqual({ id: 'demo', name: 'Demo (test)' });
    const withSnapshot = after.items.find((i) => i.snapshot)!;
    const snap = await fetch(`${t.url}/history/snapshot/${withSnapshot.id}`, { headers });
    expect([snap.status, snap.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    expect((await fetch(`${t.url}/history/snapshot/${withSnapshot.id}`)).status).toBe(401); // the token, as everywhere

    const json = (await (await fetch(`${t.url}/history/export?format=json&type=caption&streams=demo`, { headers })).json()) as { items: HistoryItem[]; truncated: boolean };
    expect(json.truncated).toBe(false);
    expect(json.items.map((i) => i.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    const csv = await fetch(`${t.url}/history/export?format=csv&from=2000-01-01T00:00:00Z`, { headers });
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="countertop-history-.*\.csv"$/);
    const rows = (await csv.text()).trim().split('\n');
    expect(rows[0]).toBe('id,streamId,streamName,type,label,text,reason,start,end,confidence,model');
    expect(rows.length - 1).toBeGreaterThanOrEqual(before.length);
    expect((await fetch(`${t.url}/history/export?format=xml`, { headers })).status).toBe(400);
    expect((await fetch(`${t.url}/history/export?from=yesterday`, { headers })).status).toBe(400);
    const bad = await client.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'history-query', filter: { limit: 5000 } } as never, 'bad');
    expect(bad.code).toBe('invalid-message');
    await client.close();
    await t.close();
    t = undefined;
  });

  it('a corrupt history file is reported once and the server still serves predictions', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx)) return;
    const video = makeVideo(path.join(tmp.dir, 'clip2.webm'), { seconds: 3, fps: 8 });
    const file = path.join(tmp.dir, 'corrupt.sqlite');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const { log, lines } = capturingLog();
    t = await startTestServer(['--history-file', file, '--recordings-dir', path.join(tmp.dir, 'rec2')], { demoFile: video, log });
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg)).toEqual([expect.stringMatching(/^event history disabled \(the live view works without it\): .*corrupt\.sqlite: file is not a database/)]);
    const client = await TestClient.connect(t.wsUrl);
    client.send({ type: 'subscribe', streams: ['demo'], preview: false });
    await client.waitFor((m) => m.type === 'prediction', 60_000, 'a prediction');
    const reply = await client.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'history-query' } as never, 'h');
    expect([reply.type, reply.code]).toEqual(['error', 'failed']);
    expect(reply.message).toMatch(/^event history is disabled: .*file is not a database/);
    expect((await fetch(`${t.url}/history/export`)).status).toBe(503);
    const health = (await (await fetch(`${t.url}/healthz`)).json()) as { history: { enabled: boolean } };
    expect(health.history.enabled).toBe(false);
    await client.close();
  });
});
