/**
 * Prometheus metrics for one server instance (its own registry, so that tests can run several).
 * Labels are per stream id; a removed stream's series are deleted so the label set stays bounded.
 * Names follow the Prometheus conventions: one `countertop_` prefix, counters end in `_total`,
 * units in the name (`_seconds`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const INFERENCE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly framesIn = new Counter({ name: 'countertop_frames_in_total', help: 'Frames received from a source', labelNames: ['stream'], registers: [this.registry] });
  readonly windowsInferred = new Counter({ name: 'countertop_windows_inferred_total', help: 'Windows run through the model', labelNames: ['stream'], registers: [this.registry] });
  readonly drops = new Counter({ name: 'countertop_pipeline_drops_total', help: 'Frames or windows the pipeline dropped under load', labelNames: ['stream'], registers: [this.registry] });
  readonly streamUp = new Gauge({ name: 'countertop_stream_up', help: '1 while the stream is live (frames arriving), else 0', labelNames: ['stream'], registers: [this.registry] });
  readonly streamFps = new Gauge({ name: 'countertop_stream_fps', help: 'Frames per second arriving from the source over the last stats interval', labelNames: ['stream'], registers: [this.registry] });
  readonly reconnects = new Counter({ name: 'countertop_stream_reconnects_total', help: 'Times a stream lost its source and started reconnecting', labelNames: ['stream'], registers: [this.registry] });
  readonly stalls = new Counter({ name: 'countertop_stream_stalls_total', help: 'Times the stall watchdog dropped a live connection that delivered no frame in time', labelNames: ['stream'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'countertop_latency_seconds',
    help: 'Capture → emitted latency of predictions',
    labelNames: ['stream'],
    buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly skippedFrames = new Counter({
    name: 'countertop_stream_skipped_frames_total',
    help: "Source frames the frame-rate adapter skipped to thin the stream to the model's fps (windows the inference queue dropped are countertop_pipeline_drops_total)",
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly inferenceBatch = new Histogram({
    name: 'countertop_inference_batch_seconds',
    help: 'Engine time of one batch (all streams): call to result',
    buckets: INFERENCE_BUCKETS,
    registers: [this.registry],
  });
  readonly inferenceBatchWindows = new Histogram({ name: 'countertop_inference_batch_windows', help: 'Windows scored per engine call', buckets: [1, 2, 3, 4, 6, 8, 12, 16], registers: [this.registry] });
  readonly streamInference = new Histogram({
    name: 'countertop_stream_inference_seconds',
    help: "Engine time of the batch each of the stream's windows was scored in (queue wait not included; capture → emitted is countertop_latency_seconds)",
    labelNames: ['stream'],
    buckets: INFERENCE_BUCKETS,
    registers: [this.registry],
  });
  readonly clients = new Gauge({ name: 'countertop_ws_clients', help: 'Connected WebSocket clients', registers: [this.registry] });
  readonly streams = new Gauge({ name: 'countertop_streams', help: 'Streams running', registers: [this.registry] });
  readonly clientDrops = new Counter({
    name: 'countertop_ws_messages_dropped_total',
    help: 'Messages not sent to a slow client: replaced by a newer state (coalesced) or dropped from a full event queue',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly deadPeers = new Counter({ name: 'countertop_ws_dead_peers_terminated_total', help: 'WebSocket clients dropped for leaving two heartbeat pings unanswered', registers: [this.registry] });
  readonly invalidMessages = new Counter({ name: 'countertop_ws_invalid_messages_total', help: 'Client messages rejected by validation', labelNames: ['code'], registers: [this.registry] });
  readonly previewFrames = new Counter({ name: 'countertop_preview_frames_total', help: 'Preview JPEGs encoded', labelNames: ['stream'], registers: [this.registry] });

  constructor() {
    // The default names already start with process_ / nodejs_: prefixing only the app gives countertop_process_cpu_seconds_total.
    collectDefaultMetrics({ register: this.registry, prefix: 'countertop_' });
  }

  /** One engine call: the batch's time, and once per window under that window's stream. */
  observeBatch(seconds: number, streams: readonly string[]): void {
    this.inferenceBatch.observe(seconds);
    this.inferenceBatchWindows.observe(streams.length);
    for (const stream of streams) this.streamInference.observe({ stream }, seconds);
  }

  forgetStream(streamId: string): void {
    for (const m of [this.framesIn, this.windowsInferred, this.drops, this.streamUp, this.streamFps, this.reconnects, this.stalls, this.latency, this.previewFrames, this.skippedFrames, this.streamInference]) m.remove({ stream: streamId });
  }
}
