/**
 * Where things travel on the bus, named in one place:
 *
 *   ct.frames.<partition>.<stream>     edge → the worker holding the partition's lease (core NATS: a
 *                                      frame nobody holds is simply not delivered, nothing queues)
 *   ct.out.<stream>.prediction|stats   worker → hubs (core NATS: newest wins, a missed one is stale anyway)
 *   ct.out.<stream>.status             edge → hubs, on change and every second (its absence says the edge is gone)
 *   ct.out.<stream>.action|caption     worker → the durable stream CT_EVENTS → every hub's own consumer
 *   ct.out.<stream>.preview            edge → hubs: a small JPEG, only while a hub asks for it
 *   ct.control.previews                hubs → edges, every 2 s: the streams some dashboard watches
 *   ct.control.model                   hub/operator → every worker: load this checkpoint
 *
 * Stream ids are subject tokens: lowercase letters, digits and dashes (the config's camera ids),
 * checked by `streamToken` before any subject is built from one.
 */

export const LEASE_BUCKET = 'ct-leases';
/** Cluster-wide facts without TTL: the model the workers run (its input format the edges decode to). */
export const CLUSTER_BUCKET = 'ct-cluster';
export const MODEL_KEY = 'model';
export const EVENTS_STREAM = 'CT_EVENTS';
export const MODEL_CONTROL_SUBJECT = 'ct.control.model';
export const PREVIEW_WANT_SUBJECT = 'ct.control.previews';

export type ResultKind = 'prediction' | 'stats' | 'status' | 'action' | 'caption' | 'preview';
export const DURABLE_KINDS: readonly ResultKind[] = ['action', 'caption'];

const TOKEN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The stream id itself, once it is known to be safe as a subject token (no dots, wildcards or spaces). */
export function streamToken(streamId: string): string {
  if (!TOKEN.test(streamId)) throw new Error(`stream id "${streamId.slice(0, 80)}" cannot travel on the bus: use lowercase letters, digits and dashes`);
  return streamId;
}

export const frameSubject = (partition: number, streamId: string): string => `ct.frames.${partition}.${streamToken(streamId)}`;
export const partitionFrames = (partition: number): string => `ct.frames.${partition}.*`;
export const resultSubject = (streamId: string, kind: ResultKind): string => `ct.out.${streamToken(streamId)}.${kind}`;
/** What the durable stream captures. */
export const eventSubjects = (): string[] => DURABLE_KINDS.map((k) => `ct.out.*.${k}`);
/** Core results a hub listens to (the durable kinds come through its consumer instead). */
export const liveResultSubjects = (): string[] => (['prediction', 'stats', 'status', 'preview'] as const).map((k) => `ct.out.*.${k}`);

/** `ct.out.<stream>.<kind>` → its parts; undefined for anything else. */
export function parseResultSubject(subject: string): { streamId: string; kind: ResultKind } | undefined {
  const m = /^ct\.out\.([a-z0-9][a-z0-9-]{0,63})\.(prediction|stats|status|action|caption|preview)$/.exec(subject);
  return m ? { streamId: m[1]!, kind: m[2] as ResultKind } : undefined;
}

export const leaseKey = (partition: number): string => `p.${partition}`;
export const presenceKey = (workerId: string): string => `w.${workerId}`;

/** FNV-1a, 32 bits: a stable hash for spreading an edge's streams over the partitions. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The partition of an edge's i-th stream: consecutive from an offset hashed from the edge's id, so
 * that one edge's streams share a partition only when it has more streams than there are partitions
 * (a plain hash of each id would pile some onto one worker by chance), and edges start at different places.
 */
export function streamPartition(edgeId: string, index: number, partitions: number): number {
  return (fnv1a(edgeId) + index) % partitions;
}
