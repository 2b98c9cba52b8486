/**
 * Prometheus metrics for one server instance (its own registry, so that tests can run several).
 * Labels are per stream id; a removed stream's series are deleted so the label set stays bounded.
 * Names follow the Prometheus conventions: one `countertop_` prefix, counters end in `_total`,
 * units in the name (`_seconds`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  forgetStream(streamId: string): void {
    for (const m of [this.framesIn, this.windowsInferred, this.drops, this.streamUp, this.streamFps, this.reconnects, this.stalls, this.latency, this.previewFrames]) m.remove({ stream: streamId });
  }
}
