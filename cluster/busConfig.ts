/**
 * The `role` and `bus` keys of the server configuration (server/config.ts merges them into its one
 * zod schema): which part of countertop this process runs, and how it reaches the NATS bus. Only
 * zod here, so that `npm start` in the default role never loads a NATS client.
 */
import { z } from 'zod';

/** `all`: today's single process (no bus). The others split it across processes on a NATS bus (docs/SCALE.md). */
export const ROLES = ['all', 'edge', 'worker', 'hub'] as const;
export type Role = (typeof ROLES)[number];

/** Credentials never go in the URL (where logs and `ps` would show them): bus.user/password or bus.nkeySeedFile. */
const busUrl = z
  .string()
  .regex(/^(nats|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/, 'expected nats://HOST[:PORT] or tls://HOST[:PORT] (credentials go in bus.user/bus.password or bus.nkeySeedFile, not in the URL)');

/** Ids become NATS subject tokens and consumer names: lowercase letters, digits and dashes only. */
export const busId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'ids are lowercase letters, digits and dashes (at most 64)');

export const busSchema = z.strictObject({
  /** One or more servers of the same NATS cluster; the client fails over between them. */
  servers: z.array(busUrl).min(1).max(16).default(['nats://127.0.0.1:4222']),
  /**
   * This process's name on the bus. A hub's durable event consumer is named after it, so a hub
   * restarted with the same id catches up where it stopped; two hubs must have different ids.
   * Default: the host name (lowercased, other characters as dashes) and the role.
   */
  id: busId.optional(),
  user: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(256).optional(),
  /** A file holding an NKey seed (SU…): nkey authentication, the seed never on a command line. */
  nkeySeedFile: z.string().min(1).optional(),
  /** TLS to the bus: a CA to trust (else the system's) and, for mutual TLS, a client certificate and key (PEM files). */
  tls: z.strictObject({ caFile: z.string().min(1).optional(), certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() }).optional(),
  /** Streams are spread over this many partitions; a partition is the unit leased to one worker. Several per worker keeps the load even. */
  partitions: z.coerce.number().int().min(1).max(1024).default(12),
  /** A worker's lease on a partition lapses this long after its last heartbeat (a killed worker's streams move after about this). */
  leaseTtlMs: z.coerce.number().int().min(1000).max(60_000).default(2000),
  /** JetStream replicas of the durable event stream and the buckets: 3 on a 3-node NATS cluster (one node may fail), 1 on a single server. */
  replicas: z.coerce.number().int().min(1).max(5).default(1),
  /**
   * Hub: the streams this hub shows, as ids or prefixes ending in `*` (e.g. "site-a-*"); default all.
   * A hub shows at most maxStreams streams, so a large site splits its cameras over several hubs.
   */
  show: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}\*?$|^\*$/, 'a stream id, or a prefix ending in *')).max(256).default(['*']),
  /** How long the durable stream keeps action events and captions for hubs that were away, and its size cap. */
  eventRetentionHours: z.coerce.number().min(0.01).max(24 * 365).default(24 * 7),
  eventMaxMb: z.coerce.number().int().min(1).max(1_000_000).default(1024),
  /** Edge: recorded files played on loop as cameras (demos, tests, benchmarks), each under its id. */
  files: z.array(z.strictObject({ id: busId, path: z.string().min(1), name: z.string().min(1).max(80).optional() })).max(256).default([]),
});
export type BusConfig = z.output<typeof busSchema>;

/** What the config's key help says of the two keys. */
export const BUS_KEY_HELP = {
  role: 'which part this process runs: all (one process, no bus; the default), edge (cameras), worker (the model) or hub (dashboard, history, API); see docs/SCALE.md',
  bus: 'the NATS bus of the edge, worker and hub roles: servers, id, user/password or nkeySeedFile, tls, partitions, leaseTtlMs, replicas, show (hub), eventRetentionHours, eventMaxMb, files (edge)',
} as const;

/** A NATS URL's host, for the loopback check. */
export function busHost(url: string): string {
  const m = /^[a-z]+:\/\/(\[[^\]]+\]|[^:/]+)/.exec(url);
  return m ? m[1]!.replace(/^\[|\]$/g, '') : url;
}

/** Whether a hub configured with `show` shows this stream. */
export function shows(patterns: readonly string[], streamId: string): boolean {
  return patterns.some((p) => p === '*' || p === streamId || (p.endsWith('*') && streamId.startsWith(p.slice(0, -1))));
}
