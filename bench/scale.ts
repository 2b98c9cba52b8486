/**
 * Scale-out benchmark (`npm run bench -- scale`): what the NATS bus costs on one machine, and what
 * more workers give here. All with the bundled model on its worker thread (the server's default
 * engine) and the bundled demo recording looped as every stream, in real time.
 *
 *  1. single process: N streams through the pipelines in this process (as `npm start` runs them):
 *     windows/s and p95 capture → prediction latency;
 *  2. the same N streams through the bus: a nats-server, 1 edge and 1 worker as their own processes,
 *     predictions read off the bus here (where a hub would): windows/s, p95 capture → prediction
 *     at this reader, the ratio to (1); messages/s and bytes/s per stream by subject kind; CPU
 *     seconds per second of the edge and the worker (their processes and children, from /proc);
 *  3. M streams (more than one worker holds here) with 1, 2 and 3 workers: windows/s delivered,
 *     p95, windows dropped by the workers, frames lost on the bus.
 * One run each; on a 2-core machine (3) shows the cores, not the design: read it with that in mind.
 *
 * Env: BENCH_SCALE_STREAMS (N, default 6), BENCH_SCALE_SECONDS (measured seconds per trial, default
 * 30), BENCH_SCALE_LOAD_STREAMS (M, default 48: more than one worker process scores here), BENCH_SCALE_WORKERS (default '1,2,3').
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Subscription } from 'rxjs';
import { connect } from '@nats-io/transport-node';
import { InferenceStage, createLivePipeline, loadLiveSettings } from '../pipelines/index.js';
import { percentile } from '../pipelines/streamStats.js';
import { loadServingModel, servingEngine } from '../server/model.js';
import { pipelineSources } from '../server/sources.js';
import { startNats, startRole, type RoleProcess } from '../cluster/localProcesses.js';
import { parseResultSubject } from '../cluster/subjects.js';
import { decodeResult } from '../cluster/wire.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = path.join(repoRoot, 'assets', 'demo');
const WARMUP_MS = 8000;

interface Trial {
  windows: number;
  seconds: number;
  latencies: number[];
}

const p95 = (xs: number[]) => (xs.length ? percentile([...xs].sort((a, b) => a - b), 0.95) : NaN);
const rate = (t: Trial) => t.windows / t.seconds;

/** CPU seconds (user + system) of a process and all its descendants, from /proc (Linux). */
function treeCpuSeconds(root: number): number {
  const tick = 100; // USER_HZ on Linux
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / tick });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    total += procs.get(pid)?.cpu ?? 0;
    for (const [child, p] of procs) if (p.ppid === pid) todo.push(child);
  }
  return total;
}

async function singleProcess(demo: string, streams: number, seconds: number): Promise<Trial> {
  const log = pino({ level: 'warn' });
  const served = await loadServingModel(undefined, log);
  const live = loadLiveSettings(served.checkpoint);
  const engine = await servingEngine('worker', served, log);
  const stage = new InferenceStage(engine, { maxBatch: 8, queueCapacity: 2 });
  const sources = pipelineSources(engine.input);
  const trial: Trial = { windows: 0, seconds, latencies: [] };
  const start = Date.now();
  let measuring = false;
  const sub = new Subscription();
  for (let i = 0; i < streams; i++) {
    sub.add(
      createLivePipeline(sources.file(`s${i + 1}`, demo, { loop: true }), stage, live.settings).subscribe((out) => {
        if (!measuring || out.type !== 'prediction') return;
        trial.windows++;
        trial.latencies.push(out.prediction.stamps.emittedAt - out.prediction.stamps.capturedAt);
      }),
    );
  }
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  trial.seconds = (Date.now() - start - WARMUP_MS) / 1000;
  sub.unsubscribe();
  await engine.close();
  return trial;
}

interface BusTrial extends Trial {
  /** At the worker: emitted − captured (without the hop to the reader). */
  workerLatencies: number[];
  bytes: Map<string, number>;
  msgs: Map<string, number>;
  drops: number;
  framesLost: number;
  cpu: { edge: number; workers: number };
  streamsSeen: number;
}

async function busTrial(demo: string, streams: number, workers: number, seconds: number, dir: string): Promise<BusTrial> {
  const nats = await startNats();
  const procs: RoleProcess[] = [];
  try {
    const config = path.join(dir, `scale-${streams}-${workers}.json`);
    writeFileSync(config, JSON.stringify({ demo: false, bus: { partitions: Math.max(12, streams), files: Array.from({ length: streams }, (_, i) => ({ id: `s${i + 1}`, path: demo })) } }));
    const role = (name: string, r: string) => {
      const p = startRole(name, ['--config', config, '--role', r, '--bus', nats.url, '--bus-id', name, '--log-level', 'warn']);
      procs.push(p);
      return p;
    };
    const ws = Array.from({ length: workers }, (_, i) => role(`w${i + 1}`, 'worker'));
    // warn level: "worker ready" is not logged; wait for the model announcement instead (below).
    const edge = role('edge', 'edge');
    const nc = await connect({ servers: nats.url });
    const t: BusTrial = { windows: 0, seconds, latencies: [], workerLatencies: [], bytes: new Map(), msgs: new Map(), drops: 0, framesLost: 0, cpu: { edge: 0, workers: 0 }, streamsSeen: 0 };
    const seen = new Set<string>();
    // Measured only once every stream has stayed on one worker for a while (workers starting at
    // different times rebalance, and a moved stream starts its windows over).
    const ownerOf = new Map<string, string>();
    let movedAt = Date.now();
    const drops = new Map<string, number>();
    const lost = new Map<string, number>();
    let measuring = false;
    nc.subscribe('ct.>', {
      callback: (_err, msg) => {
        const kind = msg.subject.startsWith('ct.frames.') ? 'frame' : (parseResultSubject(msg.subject)?.kind ?? 'other');
        if (measuring) {
          t.msgs.set(kind, (t.msgs.get(kind) ?? 0) + 1);
          t.bytes.set(kind, (t.bytes.get(kind) ?? 0) + msg.data.length + msg.subject.length);
        }
        if (kind !== 'prediction' && kind !== 'stats') return;
        const { worker, out } = decodeResult(msg.data);
        if (out.type === 'prediction') {
          seen.add(out.prediction.streamId);
          if (ownerOf.get(out.prediction.streamId) !== worker) {
            ownerOf.set(out.prediction.streamId, worker);
            movedAt = Date.now();
          }
          if (!measuring) return;
          t.windows++;
          t.latencies.push(Date.now() - out.prediction.stamps.capturedAt);
          t.workerLatencies.push(out.prediction.stamps.emittedAt - out.prediction.stamps.capturedAt);
        } else if (out.type === 'stats') {
          const key = `${worker}/${out.stats.streamId}`;
          drops.set(key, Math.max(drops.get(key) ?? 0, out.stats.drops));
          lost.set(key, Math.max(lost.get(key) ?? 0, (JSON.parse(new TextDecoder().decode(msg.data)) as { framesLost?: number }).framesLost ?? 0));
        }
      },
    });
    const until = Date.now() + 120_000;
    while (seen.size < streams && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    // Said in the result line, not thrown: under overload some streams may never get a window through.
    t.streamsSeen = seen.size;
    if (seen.size < streams) console.log(`  (only ${seen.size} of ${streams} streams had a prediction within 2 minutes; measuring anyway)`);
    while (Date.now() - movedAt < WARMUP_MS && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const dropsBefore = new Map(drops);
    const lostBefore = new Map(lost);
    const cpu0 = { edge: treeCpuSeconds(edge.child.pid!), workers: ws.reduce((s, w) => s + treeCpuSeconds(w.child.pid!), 0) };
    const start = Date.now();
    measuring = true;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    t.seconds = (Date.now() - start) / 1000;
    t.cpu = { edge: (treeCpuSeconds(edge.child.pid!) - cpu0.edge) / t.seconds, workers: (ws.reduce((s, w) => s + treeCpuSeconds(w.child.pid!), 0) - cpu0.workers) / t.seconds };
    for (const [k, v] of drops) t.drops += v - (dropsBefore.get(k) ?? 0);
    for (const [k, v] of lost) t.framesLost += v - (lostBefore.get(k) ?? 0);
    await nc.close();
    return t;
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await nats.remove();
  }
}

export async function run(): Promise<void> {
  const streams = Number(process.env.BENCH_SCALE_STREAMS ?? 6);
  const seconds = Number(process.env.BENCH_SCALE_SECONDS ?? 30);
  const loadStreams = Number(process.env.BENCH_SCALE_LOAD_STREAMS ?? 48);
  const workerCounts = String(process.env.BENCH_SCALE_WORKERS ?? '1,2,3').split(',').map(Number).filter((n) => n >= 1);
  const video = readdirSync(demoDir).find((f) => f.endsWith('.webm'));
  if (!video) throw new Error(`no demo recording in ${demoDir}`);
  const demo = path.join(demoDir, video);
  const dir = (await import('node:fs')).mkdtempSync(path.join(os.tmpdir(), 'countertop-bench-scale-'));
  console.log(`${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; bundled model on a worker thread; ${path.basename(demo)} looped in real time as every stream; ${seconds} s measured per trial after warm-up; one run each`);
  try {
    const single = await singleProcess(demo, streams, seconds);
    console.log(`single process, ${streams} streams: ${rate(single).toFixed(1)} windows/s, p95 capture → prediction ${p95(single.latencies).toFixed(0)} ms`);
    const bus = await busTrial(demo, streams, 1, seconds, dir);
    console.log(
      `bus (nats-server + 1 edge + 1 worker, own processes), ${streams} streams: ${rate(bus).toFixed(1)} windows/s, p95 capture → prediction read off the bus ${p95(bus.latencies).toFixed(0)} ms (at the worker ${p95(bus.workerLatencies).toFixed(0)} ms); windows dropped ${bus.drops}, frames lost ${bus.framesLost}`,
    );
    console.log(`bus ÷ single process: windows/s ${(rate(bus) / rate(single)).toFixed(2)}, p95 latency ${(p95(bus.latencies) / p95(single.latencies)).toFixed(2)}`);
    const perStream = (m: Map<string, number>, k: string) => (m.get(k) ?? 0) / bus.seconds / streams;
    for (const k of ['frame', 'prediction', 'stats', 'status', 'action', 'caption']) {
      console.log(`  per stream, ${k.padEnd(10)}: ${perStream(bus.msgs, k).toFixed(2)} msgs/s, ${(perStream(bus.bytes, k) / 1024).toFixed(2)} KiB/s`);
    }
    const totalBytes = [...bus.bytes.values()].reduce((a, b) => a + b, 0) / bus.seconds / streams;
    const totalMsgs = [...bus.msgs.values()].reduce((a, b) => a + b, 0) / bus.seconds / streams;
    console.log(`  per stream, all       : ${totalMsgs.toFixed(1)} msgs/s, ${(totalBytes / 1024).toFixed(1)} KiB/s (payload + subject; NATS protocol framing adds ~40 B a message)`);
    console.log(`  CPU: edge ${(bus.cpu.edge / streams).toFixed(3)} cores per stream (ffmpeg included), worker ${(bus.cpu.workers / streams).toFixed(3)} cores per stream`);
    for (const n of workerCounts) {
      const t = await busTrial(demo, loadStreams, n, seconds, dir);
      console.log(
        `${loadStreams} streams (${t.streamsSeen} predicted), ${n} worker${n === 1 ? ' ' : 's'}: ${rate(t).toFixed(1)} windows/s delivered (${(rate(t) / loadStreams).toFixed(2)} per stream), p95 ${p95(t.latencies).toFixed(0)} ms, windows dropped ${t.drops}, frames lost ${t.framesLost}, CPU edge ${t.cpu.edge.toFixed(2)} + workers ${t.cpu.workers.toFixed(2)} cores`,
      );
    }
    console.log(`(${os.cpus().length} cores here: more workers than cores cannot add throughput; on separate machines each worker brings its own)`);
  } finally {
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  }
}
