/**
 * The worker role: runs the model for the partitions it leases. For every stream whose frames
 * arrive on a held partition it runs the same live pipeline as the single process
 * (pipelines/livePipeline.ts: windows, the shared batched InferenceStage across all its streams,
 * smoothing, segmenting, captions), and publishes the outputs: predictions and stats on core
 * subjects, action events and captions into the durable stream. A partition lost (lease lapsed,
 * rebalanced) ends its streams here; the worker that takes it over starts their windows over, as
 * after a gap. Frames the worker cannot keep up with are dropped oldest-first by the stage
 * (counted in stats.drops); frames lost before they reached it show as gaps in seq (counted too).
 */
import { NEVER, Subject, type Subscription as RxSubscription } from 'rxjs';
import type { Logger } from 'pino';
import type { Subscription } from '@nats-io/transport-node';
import { InferenceStage, createLivePipeline, type LivePipelineOptions } from '../pipelines/index.js';
import type { Frame, PipelineOutput } from '../pipelines/types.js';
import type { ModelInfo } from '../server/protocol.js';
import { clusterBucket, type Bus } from './bus.js';
import { DurablePublisher, type StoredEvent } from './durablePublisher.js';
import { PartitionLeases } from './leases.js';
import { MODEL_CONTROL_SUBJECT, MODEL_KEY, partitionFrames, resultSubject } from './subjects.js';
import { decodeFrame, encodeResult, type ModelAnnouncement } from './wire.js';
import type { KV } from '@nats-io/kv';
import type { ServingEngine } from '../server/model.js';

/** A stream with no frame for this long is ended here (its edge stopped it, or went away). */
const IDLE_END_MS = 5000;

export interface WorkerModel {
  readonly engine: ServingEngine;
  readonly info: ModelInfo;
  readonly checkpoint?: string;
  readonly pipeline: LivePipelineOptions;
}

export interface WorkerOptions {
  readonly partitions: number;
  readonly leaseTtlMs: number;
  /** Loads the named checkpoint (a model switch); absent: switching is refused. */
  readonly loadModel?: (checkpoint: string) => Promise<WorkerModel>;
  /** Every event the durable stream acknowledged (the multi-process test compares these with what hubs got). */
  readonly onStored?: (e: StoredEvent) => void;
}

interface WorkerStream {
  readonly id: string;
  readonly partition: number;
  readonly frames: Subject<Frame>;
  readonly sub: RxSubscription;
  lastSeq: number;
  lastFrameAt: number;
  framesLost: number;
}

export class Worker {
  private readonly streams = new Map<string, WorkerStream>();
  private readonly subs = new Map<number, Subscription>();
  private stage: InferenceStage;
  private leases!: PartitionLeases;
  private cluster!: KV;
  private readonly durable: DurablePublisher;
  private idleTimer?: NodeJS.Timeout;
  private eventCount = 0;
  private readonly nonce = Date.now().toString(36);
  private switching = false;

  private constructor(
    private readonly bus: Bus,
    private model: WorkerModel,
    private readonly opts: WorkerOptions,
    private readonly log: Logger,
  ) {
    this.stage = this.newStage();
    this.durable = new DurablePublisher(bus.js, log, opts.onStored);
  }

  static async start(bus: Bus, model: WorkerModel, kv: KV, opts: WorkerOptions, log: Logger): Promise<Worker> {
    const w = new Worker(bus, model, opts, log);
    w.cluster = await clusterBucket(bus);
    await w.announce();
    w.leases = new PartitionLeases(kv, bus.id, { partitions: opts.partitions, ttlMs: opts.leaseTtlMs }, { acquired: (p) => w.acquire(p), lost: (p, why) => w.release(p, why) }, log);
    w.leases.start();
    w.idleTimer = setInterval(() => w.endIdle(), 1000);
    bus.nc.subscribe(MODEL_CONTROL_SUBJECT, { callback: (err, msg) => void (err || w.onModelControl(msg.data)) });
    return w;
  }

  get partitions(): number[] {
    return this.leases.partitions;
  }

  private newStage(): InferenceStage {
    const stage = new InferenceStage(this.model.engine, { maxBatch: 8, queueCapacity: 2 });
    stage.drops$.subscribe(({ streamId, drops }) => {
      if (drops === 1 || drops % 100 === 0) this.log.warn({ stream: streamId, drops }, 'worker overloaded: dropping windows, oldest first');
    });
    return stage;
  }

  /** The model's name and input format, for the edges (what to decode to) and the hubs (what to show). */
  private async announce(): Promise<void> {
    const { info, engine, checkpoint } = this.model;
    const a: ModelAnnouncement = { ...info, ...(checkpoint ? { checkpoint } : {}), input: { width: engine.input.width, height: engine.input.height, fps: engine.input.fps, frames: engine.input.frames } };
    await this.cluster.put(MODEL_KEY, JSON.stringify(a));
  }

  private acquire(partition: number): void {
    this.subs.get(partition)?.unsubscribe();
    this.subs.set(
      partition,
      this.bus.nc.subscribe(partitionFrames(partition), {
        callback: (err, msg) => {
          if (err) return void this.log.warn({ partition, err: err.message }, 'frame subscription error');
          let frame: Frame;
          try {
            frame = decodeFrame(msg.data);
          } catch (e) {
            return void this.log.warn({ subject: msg.subject, err: (e as Error).message }, 'malformed frame dropped');
          }
          this.onFrame(partition, frame);
        },
      }),
    );
  }

  private release(partition: number, reason: string): void {
    this.subs.get(partition)?.unsubscribe();
    this.subs.delete(partition);
    for (const s of [...this.streams.values()]) if (s.partition === partition) this.endStream(s, reason);
  }

  private onFrame(partition: number, frame: Frame): void {
    let s = this.streams.get(frame.streamId);
    if (s && s.partition !== partition) this.endStream(s, 'moved to another partition');
    s = this.streams.get(frame.streamId);
    if (!s) {
      // The stream's previous run here still finishes its last windows in the stage: its frames
      // wait for nothing (a gap, as after any move), the new run starts once the old one is gone.
      if (this.stage.streams.includes(frame.streamId)) return;
      s = this.startStream(frame.streamId, partition);
    }
    if (s.lastSeq >= 0 && frame.seq > s.lastSeq + 1) s.framesLost += frame.seq - s.lastSeq - 1;
    s.lastSeq = frame.seq;
    s.lastFrameAt = Date.now();
    s.frames.next(frame);
  }

  private startStream(id: string, partition: number): WorkerStream {
    const frames = new Subject<Frame>();
    const fps = this.model.engine.input.fps;
    // The edge already thinned the frames to the model's rate and size; its own status travels from it.
    const source = { streamId: id, frames: frames.asObservable(), status: NEVER, frameRate: fps };
    const stream: WorkerStream = { id, partition, frames, sub: undefined as unknown as RxSubscription, lastSeq: -1, lastFrameAt: Date.now(), framesLost: 0 };
    const sub = createLivePipeline(source, this.stage, this.model.pipeline).subscribe({
      next: (out) => this.publish(stream, out),
      error: (err: unknown) => {
        // A model error: said loudly, and the stream starts again on its next frame.
        this.log.error({ stream: id, err: (err as Error).message }, 'pipeline failed on this worker');
        if (this.streams.get(id) === stream) this.streams.delete(id);
      },
    });
    (stream as { sub: RxSubscription }).sub = sub;
    this.streams.set(id, stream);
    this.log.info({ stream: id, partition, worker: this.bus.id }, 'stream started on this worker');
    return stream;
  }

  private endStream(s: WorkerStream, reason: string): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    // Completing the frames lets the pipeline close an open action where the stream was last seen.
    s.frames.complete();
    setTimeout(() => s.sub.unsubscribe(), 2000).unref();
    this.log.info({ stream: s.id, partition: s.partition, reason }, 'stream ended on this worker');
  }

  private endIdle(): void {
    const now = Date.now();
    for (const s of [...this.streams.values()]) if (now - s.lastFrameAt > IDLE_END_MS) this.endStream(s, `no frame for ${IDLE_END_MS} ms`);
  }

  private publish(s: WorkerStream, out: PipelineOutput): void {
    if (out.type === 'status') return; // the edge reports the source's state
    const worker = this.bus.id;
    if (out.type === 'action' || out.type === 'caption') {
      const subject = resultSubject(s.id, out.type);
      this.durable.publish(subject, encodeResult(worker, out), `${worker}-${this.nonce}-${++this.eventCount}`);
      return;
    }
    const data = out.type === 'stats' ? new TextEncoder().encode(JSON.stringify({ worker, out, framesLost: s.framesLost })) : encodeResult(worker, out);
    try {
      this.bus.nc.publish(resultSubject(s.id, out.type), data);
    } catch {
      // The bus is closing or away: a prediction is stale by the time it is back; nothing to keep.
    }
  }

  /** A model switch: `{"checkpoint": DIR}` on ct.control.model. Every stream starts over on the new model. */
  private async onModelControl(data: Uint8Array): Promise<void> {
    let checkpoint: unknown;
    try {
      checkpoint = (JSON.parse(new TextDecoder().decode(data)) as { checkpoint?: unknown }).checkpoint;
    } catch {
      checkpoint = undefined;
    }
    if (typeof checkpoint !== 'string' || checkpoint.length === 0 || checkpoint.length > 1024) return void this.log.warn('model switch ignored: expected {"checkpoint": "<folder>"}');
    if (!this.opts.loadModel) return void this.log.warn({ checkpoint }, 'model switch ignored: this worker cannot load models');
    if (this.switching) return void this.log.warn({ checkpoint }, 'model switch ignored: a switch is already under way');
    this.switching = true;
    try {
      const next = await this.opts.loadModel(checkpoint);
      const old = this.model;
      for (const s of [...this.streams.values()]) this.endStream(s, 'model switch');
      this.model = next;
      this.stage = this.newStage();
      await this.announce();
      setTimeout(() => void old.engine.close().catch(() => {}), 3000).unref();
      this.log.info({ checkpoint, model: next.info.name }, 'model switched');
    } catch (err) {
      this.log.error({ checkpoint, err: (err as Error).message }, 'model switch failed; the old model keeps running');
    } finally {
      this.switching = false;
    }
  }

  /** Gives the leases back (the others take over at once) and stores what events are waiting. */
  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    await this.leases.stop();
    for (const s of [...this.streams.values()]) this.endStream(s, 'worker stopping');
    await new Promise((r) => setTimeout(r, 200));
    await this.durable.close();
  }
}
