/**
 * The dashboard's one WebSocket to the server, as reactive Svelte state: the stream list and, per
 * stream, the newest prediction, caption, preview, stats and a bounded list of recent action events.
 * Requests carry an id; `request()` resolves with the matching reply or rejects with the server's error.
 */
import type {
  ClientMessage,
  EvaluationSummary,
  LibraryView,
  ModelInfo,
  ModelsView,
  TrainingJobView,
  RecordingInfo,
  ScoredLabel,
  ServerMessage,
  StreamInfo,
  StreamStatsPayload,
  WebRtcSettings,
} from '../../../server/protocol.ts';

export const PROTOCOL_VERSION = 1;
/** Action events kept per stream for the timeline. */
const MAX_EVENTS = 50;

export interface TimelineEvent {
  label: string;
  confidence: number;
  start: number;
  end?: number;
}

export interface StreamView {
  top: ScoredLabel[];
  caption: string | null;
  captionAt: number;
  /** Why the caption was written: at an action's start, or on the periodic interval. */
  captionReason: string | null;
  events: TimelineEvent[];
  stats: StreamStatsPayload | null;
  preview: string | null;
  /** Latest emittedAt seen for this stream: the timeline's "now" in the server's clock. */
  serverNow: number;
  predictions: number;
}

type Reply = Extract<ServerMessage, { id?: string }>;
type Outgoing = ClientMessage extends infer M ? (M extends { id?: string } ? Omit<M, 'id'> : never) : never;

function emptyView(): StreamView {
  return { top: [], caption: null, captionAt: 0, captionReason: null, events: [], stats: null, preview: null, serverNow: 0, predictions: 0 };
}

export class Connection {
  state = $state<'connecting' | 'open' | 'closed'>('connecting');
  model = $state<ModelInfo | null>(null);
  /** ICE servers and policy for "Use my webcam", as the server's own peer uses them. */
  webrtc: WebRtcSettings = { iceServers: [], iceTransportPolicy: 'all' };
  streams = $state<StreamInfo[]>([]);
  views = $state<Record<string, StreamView>>({});
  recordings = $state<RecordingInfo[]>([]);
  /** The clip library, the models to switch between, and the training jobs (newest first). */
  library = $state<LibraryView | null>(null);
  models = $state<ModelsView | null>(null);
  jobs = $state<TrainingJobView[]>([]);
  notices = $state<{ id: number; text: string; kind: 'error' | 'info' }[]>([]);

  private ws: WebSocket | null = null;
  private nextId = 1;
  private noticeId = 1;
  private pending = new Map<string, { resolve: (m: Reply) => void; reject: (e: Error) => void; keep?: (m: Reply) => boolean }>();
  private retryMs = 500;

  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    this.state = 'connecting';
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.state = 'open';
      this.retryMs = 500;
      this.send({ type: 'hello', protocol: PROTOCOL_VERSION });
      this.send({ type: 'subscribe', streams: '*', preview: true });
      this.send({ type: 'list-recordings' });
      this.send({ type: 'list-clips' });
      this.send({ type: 'list-models' });
      this.send({ type: 'list-training' });
    };
    ws.onmessage = (ev) => this.onMessage(JSON.parse(ev.data as string) as ServerMessage);
    ws.onclose = () => {
      this.state = 'closed';
      for (const p of this.pending.values()) p.reject(new Error('connection lost'));
      this.pending.clear();
      // Reconnect with capped backoff; the server keeps streams running meanwhile.
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  send(message: Outgoing, id?: string): void {
    if (this.ws?.readyState !== WebSocket.OPEN) throw new Error('not connected to the server');
    this.ws.send(JSON.stringify(id ? { ...message, id } : message));
  }

  /** Sends a request and resolves with its final reply (ack, answer, result) or rejects with the error text. */
  request<T extends Reply = Reply>(message: Outgoing, isFinal: (m: Reply) => boolean = () => true): Promise<T> {
    const id = `r${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: Reply) => void, reject, keep: (m) => !isFinal(m) });
      try {
        this.send(message, id);
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  /** A request whose failure a form shows next to itself: resolves with the error text, or null when it succeeded. */
  async attempt(message: Outgoing): Promise<string | null> {
    try {
      await this.request(message);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  notify(text: string, kind: 'error' | 'info' = 'info'): void {
    const id = this.noticeId++;
    this.notices = [...this.notices.slice(-4), { id, text, kind }];
    setTimeout(() => (this.notices = this.notices.filter((n) => n.id !== id)), 8000);
  }

  view(streamId: string): StreamView {
    return this.views[streamId] ?? emptyView();
  }

  private ensureView(streamId: string): StreamView {
    if (!this.views[streamId]) this.views[streamId] = emptyView();
    return this.views[streamId]!;
  }

  /** Hook for replies that are not final (evaluation progress). */
  onProgress: ((m: Extract<ServerMessage, { type: 'eval-progress' }>) => void) | null = null;

  private onMessage(m: ServerMessage): void {
    if ('id' in m && m.id && this.pending.has(m.id)) {
      const p = this.pending.get(m.id)!;
      if (m.type === 'error') {
        this.pending.delete(m.id);
        p.reject(new Error(m.message));
        return;
      }
      if (m.type === 'eval-progress') this.onProgress?.(m);
      if (!p.keep?.(m)) {
        this.pending.delete(m.id);
        p.resolve(m);
      }
      // These answers are also state every view shows.
      if (m.type !== 'recordings' && m.type !== 'clips' && m.type !== 'models' && m.type !== 'training') return;
    }
    switch (m.type) {
      case 'welcome':
        this.model = m.model;
        this.streams = m.streams;
        this.webrtc = m.webrtc;
        break;
      case 'streams':
        this.streams = m.streams;
        for (const id of Object.keys(this.views)) if (!m.streams.some((s) => s.id === id)) delete this.views[id];
        break;
      case 'status': {
        const s = this.streams.find((x) => x.id === m.streamId);
        if (s) {
          s.state = m.state;
          s.detail = m.detail;
          s.reconnects = m.reconnects;
          s.stalls = m.stalls;
        }
        break;
      }
      case 'prediction': {
        const v = this.ensureView(m.streamId);
        v.top = m.heads.action ?? Object.values(m.heads)[0] ?? [];
        v.serverNow = Math.max(v.serverNow, m.stamps.emittedAt);
        v.predictions++;
        break;
      }
      case 'caption': {
        const v = this.ensureView(m.streamId);
        v.caption = m.text;
        v.captionAt = m.stamps.emittedAt;
        v.captionReason = m.reason;
        v.serverNow = Math.max(v.serverNow, m.stamps.emittedAt);
        break;
      }
      case 'action': {
        const v = this.ensureView(m.streamId);
        v.serverNow = Math.max(v.serverNow, m.stamps.emittedAt);
        if (m.kind === 'start') {
          v.events = [...v.events, { label: m.label, confidence: m.confidence, start: m.start }].slice(-MAX_EVENTS);
        } else {
          const open = v.events.findLastIndex((e) => e.end === undefined && e.label === m.label);
          if (open >= 0) v.events[open] = { ...v.events[open]!, end: m.end ?? m.stamps.emittedAt, confidence: m.confidence };
          else v.events = [...v.events, { label: m.label, confidence: m.confidence, start: m.start, end: m.end }].slice(-MAX_EVENTS);
        }
        break;
      }
      case 'stats':
        this.ensureView(m.streamId).stats = m;
        break;
      case 'preview':
        this.ensureView(m.streamId).preview = `data:image/jpeg;base64,${m.jpeg}`;
        break;
      case 'recordings':
        this.recordings = m.items;
        break;
      case 'clips':
        this.library = m.library;
        break;
      case 'models':
        // Another model runs now: the old one's caption no longer describes what the stream shows.
        if (this.models && this.models.active !== m.models.active) for (const v of Object.values(this.views)) v.caption = null;
        this.models = m.models;
        this.model = m.models.info;
        break;
      case 'training':
        this.jobs = m.jobs;
        break;
      case 'recording-saved':
        this.notify(`Saved ${m.video} and ${m.events}`);
        this.send({ type: 'list-recordings' });
        break;
      case 'error':
        this.notify(m.message, 'error');
        break;
      default:
        break;
    }
  }
}

export type { EvaluationSummary, LibraryView, ModelsView, RecordingInfo, StreamInfo, TrainingJobView };
