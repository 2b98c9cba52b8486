/**
 * The roles as separate OS processes on a real nats-server (JetStream, temporary store, free
 * loopback port): 1 edge with 6 streams (the demo recording looped six times), 3 workers running
 * the bundled model, 2 hubs, and a WebSocket dashboard client on each hub. Then, in turn:
 *   - a worker is SIGKILLed mid-stream: its streams come back on the others and both dashboards see
 *     predictions for them again;
 *   - a hub is SIGKILLed: the workers keep storing events; the hub restarted under the same id
 *     catches up from its durable consumer;
 *   - nats-server is restarted: every role reconnects and predictions resume on both dashboards;
 *   - the edge is SIGKILLed: its streams show `reconnecting` on both dashboards.
 * At the end every event a worker had stored (its log says so once the stream acknowledged it) is
 * in the durable stream, and every event of the durable stream is in both hubs' event histories.
 * Times are printed, not asserted beyond generous limits (benchmarks measure; tests check behaviour).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ServerMessage } from '../../server/protocol.js';
import { TestClient } from '../server/harness.js';
import { need, tempDir, until } from '../pipelines/tools.js';
import { hasNatsServer, startNats, startRole, type LogLine, type NatsServer, type RoleProcess } from '../../cluster/localProcesses.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const demoDir = path.join(repoRoot, 'assets', 'demo');
const demo = path.join(demoDir, readdirSync(demoDir).find((f) => f.endsWith('.webm'))!);
const STREAMS = ['s1', 's2', 's3', 's4', 's5', 's6'];
const run = need(hasNatsServer, 'nats-server');

type Prediction = Extract<ServerMessage, { type: 'prediction' }>;
type Status = Extract<ServerMessage, { type: 'status' }>;

/** Arrival times of predictions per stream, as a dashboard client sees them. */
class Dashboard {
  readonly predictionsAt = new Map<string, number[]>();
  private constructor(readonly client: TestClient) {
    client.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as ServerMessage;
      if (m.type === 'prediction') {
        const list = this.predictionsAt.get(m.streamId) ?? [];
        list.push(Date.now());
        this.predictionsAt.set(m.streamId, list);
      }
    });
  }
  static async open(hubUrl: string): Promise<Dashboard> {
    const client = await TestClient.connect(`${hubUrl.replace(/^http/, 'ws')}/ws`);
    await client.request({ type: 'subscribe', streams: '*', preview: false }, 'sub-1');
    return new Dashboard(client);
  }
  /** Resolves when `stream` has a prediction that arrived after `since`. */
  predictionAfter(stream: string, since: number, what: string, limitMs = 60_000): Promise<number> {
    const at = () => this.predictionsAt.get(stream)?.find((t) => t > since);
    return until(() => at() !== undefined, what, limitMs).then(() => at()!);
  }
}

describe.runIf(run)('edge, workers and hubs as processes on NATS JetStream', () => {
  let nats: NatsServer;
  const tmp = tempDir('cluster');
  const procs: RoleProcess[] = [];
  let nc: NatsConnection | undefined;
  let configFile: string;

  const role = (name: string, args: string[]): RoleProcess => {
    const p = startRole(name, ['--config', configFile, '--bus', nats.url, '--bus-id', name, '--log-level', 'info', ...args]);
    procs.push(p);
    return p;
  };
  const hubArgs = (name: string) => ['--role', 'hub', '--port', '0', '--history-file', path.join(tmp.dir, `${name}.sqlite`)];
  const hubUrl = async (p: RoleProcess) => (await p.waitFor((l) => l.msg === 'countertop listening', `${p.name} listening`)).url as string;

  beforeAll(async () => {
    nats = await startNats();
    configFile = path.join(tmp.dir, 'cluster.json');
    writeFileSync(configFile, JSON.stringify({ demo: false, engine: 'inline', bus: { partitions: 6, leaseTtlMs: 2000, files: STREAMS.map((id) => ({ id, path: demo, name: `Counter ${id}` })) } }));
  }, 30_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await nats?.remove();
    tmp.remove();
  });

  /** Which worker runs each stream now, from the workers' own log lines. */
  function owners(workers: readonly RoleProcess[]): Map<string, string> {
    const events: { t: number; stream: string; worker: string; on: boolean }[] = [];
    for (const w of workers) {
      if (w.child.exitCode !== null || w.child.signalCode !== null) continue;
      for (const l of w.lines) {
        if (l.msg === 'stream started on this worker') events.push({ t: l.time as number, stream: l.stream as string, worker: w.name, on: true });
        if (l.msg === 'stream ended on this worker') events.push({ t: l.time as number, stream: l.stream as string, worker: w.name, on: false });
      }
    }
    const now = new Map<string, string>();
    for (const e of events.sort((a, b) => a.t - b.t)) {
      if (e.on) now.set(e.stream, e.worker);
      else if (now.get(e.stream) === e.worker) now.delete(e.stream);
    }
    return now;
  }

  it('moves streams off a killed worker, survives a hub kill and a NATS restart, and loses no durable event', async () => {
    const t0 = Date.now();
    const workers = ['w1', 'w2', 'w3'].map((n) => role(n, ['--role', 'worker']));
    await Promise.all(workers.map((w) => w.waitFor((l) => l.msg === 'worker ready', `${w.name} ready`)));
    const edge = role('edge', ['--role', 'edge']);
    let hub1 = role('h1', hubArgs('h1'));
    let hub2 = role('h2', hubArgs('h2'));
    const url1 = await hubUrl(hub1);
    let url2 = await hubUrl(hub2);
    await Promise.all([hub1, hub2].map((h) => h.waitFor((l) => l.msg === 'hub ready', `${h.name} ready`)));
    const d1 = await Dashboard.open(url1);
    let d2 = await Dashboard.open(url2);
    await Promise.all(STREAMS.flatMap((s) => [d1, d2].map((d) => d.predictionAfter(s, 0, `first prediction of ${s}`, 90_000))));
    console.log(`cluster: all 6 streams predicted on both hubs ${Date.now() - t0} ms after the workers were started`);

    // Previews: asked of the edge only while a dashboard watches, and only for what it watches.
    const watcher = await TestClient.connect(`${url1.replace(/^http/, 'ws')}/ws`);
    await watcher.request({ type: 'subscribe', streams: ['s2'], preview: true }, 'sub-p');
    const preview = await watcher.next<Extract<ServerMessage, { type: 'preview' }>>((m) => m.type === 'preview', 30_000, 'a preview of s2');
    expect(preview.streamId).toBe('s2');
    expect(Buffer.from(preview.jpeg, 'base64').subarray(0, 2).toString('hex')).toBe('ffd8'); // a JPEG
    console.log(`cluster: preview of s2 on h1, ${preview.width}×${preview.height}, ${preview.jpeg.length} base64 characters`);
    expect(watcher.messages.filter((m) => m.type === 'preview' && m.streamId !== 's2')).toEqual([]);
    await watcher.close();

    // Steady state: every stream on one worker, two each (6 partitions, 3 workers).
    await until(() => {
      const o = owners(workers);
      const counts = ['w1', 'w2', 'w3'].map((w) => [...o.values()].filter((x) => x === w).length);
      return o.size === 6 && counts.every((c) => c === 2);
    }, 'two streams per worker', 60_000);
    const before = owners(workers);
    const victim = workers.find((w) => w.name === before.get('s1'))!;
    const moved = STREAMS.filter((s) => before.get(s) === victim.name);

    // 1. kill -9 a worker mid-stream.
    await d1.predictionAfter(moved[0]!, Date.now(), 'a prediction just before the kill');
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const resumed = await Promise.all(moved.flatMap((s) => [d1, d2].map((d) => d.predictionAfter(s, killedAt + 500, `${s} predicted again after ${victim.name} was killed`, 60_000))));
    const resumeMs = Math.max(...resumed) - killedAt;
    console.log(`cluster: ${victim.name} (streams ${moved.join(', ')}) SIGKILLed; predictions back on both hubs after ${resumeMs} ms`);
    expect(resumeMs).toBeLessThan(20_000);
    const survivors = workers.filter((w) => w !== victim);
    await until(() => moved.every((s) => survivors.some((w) => w.name === owners(survivors).get(s))), 'moved streams owned by survivors', 20_000);

    // 2. kill -9 a hub: the workers go on storing events; the hub restarted under its id catches up.
    await hub2.kill('SIGKILL');
    await d2.client.close();
    const storedBefore = survivors.reduce((n, w) => n + w.lines.filter((l) => l.msg === 'event stored').length, 0);
    await until(() => survivors.reduce((n, w) => n + w.lines.filter((l) => l.msg === 'event stored').length, 0) >= storedBefore + 3, 'three events stored while h2 is down', 60_000);
    hub2 = role('h2', hubArgs('h2'));
    url2 = await hubUrl(hub2);
    d2 = await Dashboard.open(url2);

    // 3. restart nats-server: everyone reconnects, both dashboards get predictions for every stream again.
    await hub2.waitFor((l) => l.msg === 'hub ready', 'h2 ready again');
    const restartAt = Date.now();
    await nats.restart();
    const back = await Promise.all(STREAMS.flatMap((s) => [d1, d2].map((d) => d.predictionAfter(s, restartAt + 1000, `${s} predicted after the NATS restart`, 60_000))));
    console.log(`cluster: nats-server restarted; predictions of all 6 streams back on both hubs after ${Math.max(...back) - restartAt} ms`);
    for (const p of [edge, hub1, hub2, ...survivors]) expect(p.lines.some((l) => l.msg === 'bus reconnected'), `${p.name} reconnected`).toBe(true);

    // 4. kill -9 the edge: its streams show `reconnecting` on both dashboards.
    // Waits set up before the kill, on both dashboards at once, so that no status passes unseen.
    const reconnecting = [d1, d2].flatMap((d) => STREAMS.map((s) => d.client.next<Status>((m) => m.type === 'status' && m.streamId === s && m.state === 'reconnecting', 30_000, `${s} reconnecting`)));
    await edge.kill('SIGKILL');
    const shown = await Promise.all(reconnecting);
    expect(shown.every((m) => /not heard from/.test(m.detail ?? ''))).toBe(true);

    // 5. No durable event lost. The workers end the silent streams (closing their open actions),
    // then the hubs drain their consumers.
    await until(() => survivors.every((w) => owners([w]).size === 0), 'workers ended the streams', 30_000);
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const stream = await jsm.streams.info('CT_EVENTS');
    for (const name of ['hub-h1', 'hub-h2']) {
      let drained = false;
      while (!drained) {
        const ci = await jsm.consumers.info('CT_EVENTS', name);
        drained = ci.num_pending === 0 && ci.num_ack_pending === 0 && ci.delivered.stream_seq >= (await jsm.streams.info('CT_EVENTS')).state.last_seq;
        if (!drained) await new Promise((r) => setTimeout(r, 200));
      }
    }
    const last = (await jsm.streams.info('CT_EVENTS')).state.last_seq;
    expect(stream.state.first_seq).toBe(1);
    const durable: { seq: number; msgId: string; subject: string; out: { type: string; event: Record<string, unknown> } }[] = [];
    for (let seq = 1; seq <= last; seq++) {
      const m = await jsm.streams.getMessage('CT_EVENTS', { seq });
      durable.push({ seq, msgId: m!.header.get('Nats-Msg-Id'), subject: m!.subject, out: (m!.json() as { out: { type: string; event: Record<string, unknown> } }).out });
    }
    const stored: LogLine[] = workers.flatMap((w) => w.lines.filter((l) => l.msg === 'event stored'));
    // What the workers sent and were told was stored is in the stream, at the sequence they were told.
    const bySeq = new Map(durable.map((d) => [d.seq, d]));
    for (const s of stored) expect(bySeq.get(s.seq as number)?.msgId, `stored event ${s.msgId as string}`).toBe(s.msgId);
    // At most the killed worker's last unacknowledged publishes are in the stream without a log line.
    expect(durable.length - stored.length).toBeLessThanOrEqual(5);
    expect(durable.filter((d) => d.out.type === 'action').length).toBeGreaterThan(3);

    // And every durable event is in both hubs' histories (h2's across its kill and restart).
    for (const url of [url1, url2]) {
      const res = await fetch(`${url}/history/export?format=json`);
      const items = ((await res.json()) as { items: { streamId: string; type: string; label: string | null; text: string | null; start: number; end: number | null }[] }).items;
      const keys = new Set(items.map((i) => (i.type === 'caption' ? `${i.streamId}|caption|${i.text}|${i.start}` : `${i.streamId}|action|${i.label}|${i.start}`)));
      const ends = new Set(items.filter((i) => i.type === 'action' && i.end !== null).map((i) => `${i.streamId}|${i.label}|${i.end}`));
      const missing: string[] = [];
      for (const d of durable) {
        const streamId = d.subject.split('.')[2];
        const e = d.out.event;
        if (d.out.type === 'caption') {
          const k = `${streamId}|caption|${e.text as string}|${Math.round((e.stamps as { emittedAt: number }).emittedAt)}`;
          if (!keys.has(k)) missing.push(k);
        } else if (e.kind === 'start') {
          const k = `${streamId}|action|${e.label as string}|${Math.round(e.start as number)}`;
          if (!keys.has(k)) missing.push(k);
        } else {
          const k = `${streamId}|${e.label as string}|${Math.round(e.end as number)}`;
          if (!ends.has(k)) missing.push(`end ${k}`);
        }
      }
      expect(missing, `events missing from ${url}'s history`).toEqual([]);
    }
    console.log(`cluster: ${durable.length} durable events (${stored.length} logged as stored by the workers), all in both hubs' histories; total ${Date.now() - t0} ms`);
  }, 300_000);
});
