/**
 * The edge role: opens this machine's sources (the demo, looped files, RTSP and V4L2 cameras of the
 * config), decodes, thins to the model's frame rate and shrinks to its size exactly as the single
 * process does (adaptFrameRate, resizeFrames), and publishes each frame on its partition's subject.
 * The model's input format comes from the workers' announcement in the cluster bucket (the edge
 * needs no model files); a new format restarts the sources.
 *
 * Each stream's state (connecting, live, reconnecting, failed, ended) goes to the hubs on change and
 * every second. While the bus is away frames are dropped here and counted, never buffered.
 */
import path from 'node:path';
import { identity, share, Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { KvWatchEntry } from '@nats-io/kv';
import { adaptFrameRate, resizeFrames } from '../pipelines/index.js';
import type { LiveSource, StreamState, StreamStatus } from '../pipelines/types.js';
import { cameraUrl, rtspDisplayName } from '../server/cameras.js';
import type { ServerConfig } from '../server/config.js';
import type { StreamKind } from '../server/protocol.js';
import { previewJpegs } from '../server/preview.js';
import { pipelineSources, reconnectPolicy, type SourceFactory } from '../server/sources.js';
import { clusterBucket, type Bus } from './bus.js';
import { MODEL_KEY, PREVIEW_WANT_SUBJECT, frameSubject, resultSubject, streamPartition, streamToken } from './subjects.js';
import { decodeModelAnnouncement, decodePreviewWants, encodeEdgeStatus, encodeFrame, type ModelAnnouncement } from './wire.js';

/** One stream the edge serves: how to open it, whatever the model's format turns out to be. */
export interface EdgeStreamSpec {
  readonly id: string;
  readonly kind: StreamKind;
  readonly name: string;
  readonly open: (sources: SourceFactory, events: { stalled: () => void }) => LiveSource;
}

/** The streams of the config for this edge: demo, bus.files (looped), cameras. */
export function edgeStreams(config: ServerConfig, demoFile: string | undefined): EdgeStreamSpec[] {
  const specs: EdgeStreamSpec[] = [];
  if (config.demo && demoFile) specs.push({ id: 'demo', kind: 'demo', name: `Demo kitchen (${path.basename(demoFile)}, loop)`, open: (s) => s.file('demo', demoFile, { loop: true }) });
  for (const f of config.bus.files) specs.push({ id: f.id, kind: 'demo', name: f.name ?? `${path.basename(f.path)} (loop)`, open: (s) => s.file(f.id, f.path, { loop: true }) });
  config.cameras.forEach((cam, i) => {
    if (typeof cam === 'string') specs.push({ id: `v4l2-${i + 1}`, kind: 'v4l2', name: cam, open: (s) => s.v4l2(`v4l2-${i + 1}`, cam) });
    else if (cam.kind === 'v4l2') specs.push({ id: cam.id ?? `cam-${i + 1}`, kind: 'v4l2', name: cam.name ?? cam.device, open: (s) => s.v4l2(cam.id ?? `cam-${i + 1}`, cam.device) });
    else {
      const id = cam.id ?? `cam-${i + 1}`;
      specs.push({ id, kind: 'rtsp', name: cam.name ?? rtspDisplayName(cam.url), open: (s, ev) => s.rtsp(id, cameraUrl(cam), { reconnect: reconnectPolicy(config.rtspReconnect, cam.reconnect), onStall: ev.stalled }) });
    }
  });
  const seen = new Set<string>();
  for (const s of specs) {
    streamToken(s.id);
    if (seen.has(s.id)) throw new Error(`two streams of this edge are called "${s.id}"`);
    seen.add(s.id);
  }
  return specs;
}

interface EdgeStream {
  readonly spec: EdgeStreamSpec;
  readonly partition: number;
  status: StreamStatus;
  reconnects: number;
  stalls: number;
  framesSent: number;
  framesDropped: number;
  sub?: Subscription;
}

export class Edge {
  private readonly streams: EdgeStream[];
  private model?: ModelAnnouncement;
  private heartbeat?: NodeJS.Timeout;
  private connected = true;
  private closed = false;
  /** When a hub last asked for each stream's previews: they are encoded only while someone watches. */
  private readonly previewWanted = new Map<string, number>();

  private constructor(
    private readonly bus: Bus,
    specs: readonly EdgeStreamSpec[],
    partitions: number,
    private readonly log: Logger,
    private readonly preview: { fps: number; width: number } = { fps: 0, width: 240 },
  ) {
    this.streams = specs.map((spec, i) => ({
      spec,
      partition: streamPartition(bus.id, i, partitions),
      status: { streamId: spec.id, state: 'connecting', at: Date.now(), detail: 'waiting for a worker to announce the model' },
      reconnects: 0,
      stalls: 0,
      framesSent: 0,
      framesDropped: 0,
    }));
  }

  static async start(bus: Bus, specs: readonly EdgeStreamSpec[], partitions: number, log: Logger, preview?: { fps: number; width: number }): Promise<Edge> {
    const edge = new Edge(bus, specs, partitions, log, preview);
    bus.nc.subscribe(PREVIEW_WANT_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          for (const id of decodePreviewWants(msg.data)) edge.previewWanted.set(id, Date.now());
        } catch {
          // not a preview request: ignored
        }
      },
    });
    void (async () => {
      for await (const s of bus.nc.status()) {
        if (s.type === 'disconnect') edge.connected = false;
        else if (s.type === 'reconnect') edge.connected = true;
      }
    })();
    edge.heartbeat = setInterval(() => edge.streams.forEach((s) => edge.sendStatus(s)), 1000);
    const kv = await clusterBucket(bus);
    const watch = await kv.watch({ key: MODEL_KEY });
    void (async () => {
      for await (const e of watch) edge.onModel(e);
    })();
    log.info({ streams: edge.streams.map((s) => ({ id: s.spec.id, partition: s.partition })) }, 'edge streams');
    return edge;
  }

  /** What each stream has sent and dropped (for the scale bench and operators). */
  counts(): { id: string; partition: number; state: StreamState; framesSent: number; framesDropped: number }[] {
    return this.streams.map((s) => ({ id: s.spec.id, partition: s.partition, state: s.status.state, framesSent: s.framesSent, framesDropped: s.framesDropped }));
  }

  private onModel(e: KvWatchEntry): void {
    if (e.operation !== 'PUT') return;
    let m: ModelAnnouncement;
    try {
      m = decodeModelAnnouncement(e.value);
    } catch (err) {
      return void this.log.warn({ err: (err as Error).message }, 'model announcement ignored');
    }
    const same = this.model && ['width', 'height', 'fps'].every((k) => this.model!.input[k as 'fps'] === m.input[k as 'fps']);
    this.model = m;
    if (same) return;
    this.log.info({ model: m.name, input: m.input }, 'model format from the workers: (re)starting sources');
    for (const s of this.streams) this.startStream(s, m);
  }

  private startStream(s: EdgeStream, m: ModelAnnouncement): void {
    s.sub?.unsubscribe();
    const { width, height, fps } = m.input;
    const sources = pipelineSources({ width, height, fps });
    const sub = new Subscription();
    s.sub = sub;
    let source: LiveSource;
    try {
      source = s.spec.open(sources, { stalled: () => void s.stalls++ });
    } catch (err) {
      this.setStatus(s, 'failed', (err as Error).message);
      return;
    }
    const subject = frameSubject(s.partition, s.spec.id);
    this.setStatus(s, 'connecting');
    if (source.status) {
      sub.add(
        source.status.subscribe((st) => {
          if (st.state === 'reconnecting' && s.status.state !== 'reconnecting') s.reconnects++;
          this.setStatus(s, st.state, st.detail);
        }),
      );
    }
    // One decoder for both the frames and the previews.
    const frames$ = source.frames.pipe(share());
    if (this.preview.fps > 0) {
      const id = s.spec.id;
      const wanted = () => this.connected && Date.now() - (this.previewWanted.get(id) ?? -Infinity) < 5000;
      sub.add(
        frames$.pipe(previewJpegs(this.preview.fps, this.preview.width, wanted)).subscribe({
          next: (p) => {
            try {
              this.bus.nc.publish(resultSubject(id, 'preview'), JSON.stringify(p));
            } catch {
              // the bus is closing: a preview is only ever the newest picture
            }
          },
          error: (err: unknown) => this.log.warn({ stream: id, err: (err as Error).message }, 'preview encoding stopped'),
        }),
      );
    }
    sub.add(
      frames$
        .pipe(source.frameRate === fps ? identity : adaptFrameRate(fps), resizeFrames(width, height))
        .subscribe({
          next: (f) => {
            if (!source.status && s.status.state !== 'live') this.setStatus(s, 'live');
            if (!this.connected || this.closed) {
              s.framesDropped++;
              return;
            }
            try {
              this.bus.nc.publish(subject, encodeFrame(f));
              s.framesSent++;
            } catch {
              s.framesDropped++;
            }
          },
          error: (err: unknown) => {
            if (!source.status) this.setStatus(s, 'failed', err instanceof Error ? err.message : String(err));
          },
          complete: () => {
            if (!source.status) this.setStatus(s, 'ended');
          },
        }),
    );
  }

  private setStatus(s: EdgeStream, state: StreamState, detail?: string): void {
    if (s.status.state === state && s.status.detail === detail) return;
    s.status = { streamId: s.spec.id, state, at: Date.now(), ...(detail ? { detail } : {}) };
    this.log.info({ stream: s.spec.id, state, detail }, 'stream state');
    this.sendStatus(s);
  }

  private sendStatus(s: EdgeStream): void {
    if (!this.connected) return;
    const msg = { edge: this.bus.id, kind: s.spec.kind, name: s.spec.name, status: s.status, reconnects: s.reconnects, stalls: s.stalls, framesSent: s.framesSent };
    try {
      this.bus.nc.publish(resultSubject(s.spec.id, 'status'), encodeEdgeStatus(msg));
    } catch {
      // closing: the hubs will see the stream go quiet
    }
  }

  /** Stops the sources and tells the hubs the streams ended (a clean stop, not a lost edge). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const s of this.streams) {
      s.sub?.unsubscribe();
      s.status = { streamId: s.spec.id, state: 'ended', at: Date.now(), detail: `edge ${this.bus.id} stopped` };
      this.sendStatus(s);
    }
    this.closed = true;
    await this.bus.nc.flush().catch(() => {});
  }
}
