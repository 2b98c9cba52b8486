/**
 * `npm run bench -- teach`: what teaching from the dashboard costs the live streams, through the
 * real server process (server/main.ts, the bundled default model on its worker thread) and the
 * WebSocket protocol, with BENCH_TEACH_STREAMS streams playing the demo session in real time:
 *  - capture → emitted latency (p50/p95) of every stream's predictions while nothing trains, while a
 *    transfer job runs, and while a fine-tuning job runs (both in their own process, at nice 10);
 *  - how long each job takes with those streams running;
 *  - a live model switch: time from the request to its ack, and the longest gap in each stream's
 *    predictions around it.
 * The clips are taken from the demo stream itself (two classes, BENCH_TEACH_CLIPS clips each).
 * One run; the machine is shared, so read medians and ratios.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { ClientMessage, ServerMessage } from '../server/protocol.js';
import { startRole } from '../cluster/localProcesses.js';

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

class Client {
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  private n = 0;
  onMessage: (m: ServerMessage) => void = () => {};
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      this.onMessage(m);
      this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
    });
  }
  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }
  wait<T extends ServerMessage>(pred: (m: ServerMessage) => boolean, ms = 600_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('bench: timed out')), ms);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m as T)) });
    });
  }
  async request<T extends ServerMessage>(m: ClientMessage): Promise<T> {
    const id = `b${++this.n}`;
    const reply = this.wait<T>((r) => 'id' in r && r.id === id);
    this.ws.send(JSON.stringify({ ...m, id }));
    const r = await reply;
    if (r.type === 'error') throw new Error(`${m.type}: ${r.message}`);
    return r;
  }
  send(m: ClientMessage): void {
    this.ws.send(JSON.stringify(m));
  }
  close(): void {
    this.ws.close();
  }
}

export async function run(): Promise<void> {
  const streams = Number(process.env.BENCH_TEACH_STREAMS ?? 4);
  const clipsPerClass = Number(process.env.BENCH_TEACH_CLIPS ?? 5);
  const quietSeconds = Number(process.env.BENCH_TEACH_SECONDS ?? 30);
  const dir = mkdtempSync(path.join(tmpdir(), 'countertop-bench-teach-'));
  const server = startRole('teach-bench', [
    '--port', '0', '--no-history', '--preview-fps', '0',
    '--recordings-dir', path.join(dir, 'recordings'), '--library-dir', path.join(dir, 'library'), '--models-dir', path.join(dir, 'models'),
  ]);
  const url = (await server.waitFor((l) => l.msg === 'countertop listening', 'the server to listen').catch(async (err: unknown) => {
    await server.kill('SIGKILL');
    throw err;
  })).url as string;
  const client = await Client.open(`${url.replace('http', 'ws')}/ws`);
  try {
    let phase = 'warm-up';
    const latency = new Map<string, number[]>();
    const lastAt = new Map<string, number>();
    const gaps: number[] = [];
    let watchGaps = false;
    client.onMessage = (m) => {
      if (m.type !== 'prediction') return;
      const list = latency.get(phase) ?? [];
      list.push(m.stamps.emittedAt - m.stamps.capturedAt);
      latency.set(phase, list);
      const prev = lastAt.get(m.streamId);
      if (watchGaps && prev !== undefined) gaps.push(m.stamps.emittedAt - prev);
      lastAt.set(m.streamId, m.stamps.emittedAt);
    };
    client.send({ type: 'subscribe', streams: '*', preview: false });
    await client.wait((m) => m.type === 'status' && m.streamId === 'demo' && m.state === 'live');
    for (let i = 1; i < streams; i++) await client.request({ type: 'start-replay', recording: 'kitchen-session.webm', loop: true });
    const classes = ['Bench action A', 'Bench action B'];
    for (let i = 0; i < clipsPerClass; i++) {
      for (const action of classes) await client.request({ type: 'record-clip', streamId: 'demo', seconds: 2, when: 'next', label: { action, objects: [] } });
    }
    console.log(`${streams} streams of the demo session in real time; ${clipsPerClass} clips per class taken from the demo stream`);

    const measure = async (name: string, seconds: number) => {
      phase = name;
      await new Promise((r) => setTimeout(r, seconds * 1000));
    };
    await measure('no training', quietSeconds);
    const job = async (mode: 'transfer' | 'finetune') => {
      phase = `${mode} running`;
      const started = performance.now();
      await client.request({ type: 'start-training', classes, base: 'bundled:default', mode, name: `bench ${mode}` });
      const end = await client.wait<Extract<ServerMessage, { type: 'training' }>>((m) => m.type === 'training' && m.jobs[0]?.name === `bench ${mode}` && m.jobs[0].state !== 'running');
      const j = end.jobs[0]!;
      if (j.state !== 'done') throw new Error(`bench: the ${mode} job ended ${j.state}: ${j.error}`);
      console.log(`${mode} job: ${((performance.now() - started) / 1000).toFixed(1)} s wall clock with the streams running (teach reports ${j.report!.seconds.toFixed(1)} s), held-out top-1 ${(j.report!.top1 * 100).toFixed(0)}% (${j.report!.heldOut})`);
      return j.model!;
    };
    const taught = await job('transfer');
    await job('finetune');
    phase = 'after training';

    watchGaps = true;
    const t = performance.now();
    await client.request({ type: 'switch-model', model: taught });
    const switchMs = performance.now() - t;
    await measure('after the switch', 10);
    watchGaps = false;
    console.log(`model switch: ${switchMs.toFixed(0)} ms from request to ack; longest gap between a stream's predictions around it ${Math.max(...gaps).toFixed(0)} ms (median gap ${quantile(gaps, 0.5).toFixed(0)} ms)`);

    const base = quantile(latency.get('no training') ?? [], 0.95);
    console.log('capture → emitted latency of the live predictions (all streams):');
    for (const [name, xs] of latency) {
      if (name === 'warm-up' || name === 'after training') continue;
      const p95 = quantile(xs, 0.95);
      console.log(`  ${name.padEnd(18)} n=${String(xs.length).padStart(5)}  p50 ${quantile(xs, 0.5).toFixed(0).padStart(5)} ms  p95 ${p95.toFixed(0).padStart(5)} ms  (p95 ×${(p95 / base).toFixed(2)} of no training)`);
    }
  } finally {
    client.close();
    await server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
