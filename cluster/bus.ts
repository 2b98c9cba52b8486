/**
 * The connection to the NATS bus, as every role opens it: auth (user/password or an nkey seed
 * file) and TLS from the config, reconnecting forever (a NATS restart is a pause, not an end), and
 * the JetStream resources the roles share created if missing: the lease bucket and the durable
 * event stream.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { connect, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { BusConfig, Role } from './busConfig.js';
import { CLUSTER_BUCKET, EVENTS_STREAM, LEASE_BUCKET, eventSubjects } from './subjects.js';

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** This process's name on the bus. */
  readonly id: string;
  /** JetStream replicas for what this process creates (bus.replicas). */
  readonly replicas: number;
  close(): Promise<void>;
}

/** The default id: host name and role, as a subject token. */
export function defaultBusId(role: Role, host = hostname()): string {
  const h = host.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'host';
  return `${h}-${role}`;
}

/** Connection options from the config; the seed file is read here so that a bad file fails at start. */
export function connectionOptions(bus: BusConfig, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: bus.servers,
    name,
    // A restart of nats-server is a pause: keep trying, every second, without limit.
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    pingInterval: 5000,
    maxPingOut: 2,
  };
  if (bus.user && bus.password) Object.assign(opts, { user: bus.user, pass: bus.password });
  if (bus.nkeySeedFile) {
    let seed: string;
    try {
      seed = readFileSync(bus.nkeySeedFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`bus.nkeySeedFile: cannot read ${bus.nkeySeedFile}: ${(err as Error).message}`);
    }
    if (!/^SU[A-Z2-7]{56}$/.test(seed)) throw new Error(`bus.nkeySeedFile: ${bus.nkeySeedFile} does not hold a user nkey seed (SU…)`);
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  const tls = bus.tls;
  if (tls || bus.servers.some((s) => s.startsWith('tls://'))) {
    opts.tls = { ...(tls?.caFile ? { caFile: tls.caFile } : {}), ...(tls?.certFile ? { certFile: tls.certFile } : {}), ...(tls?.keyFile ? { keyFile: tls.keyFile } : {}) };
  }
  return opts;
}

export async function openBus(bus: BusConfig, role: Role, log: Logger): Promise<Bus> {
  const id = bus.id ?? defaultBusId(role);
  let nc: NatsConnection;
  try {
    nc = await connect({ ...connectionOptions(bus, `countertop-${role}-${id}`), timeout: 10_000 });
  } catch (err) {
    throw new Error(`cannot reach the bus (${bus.servers.join(', ')}): ${(err as Error).message}`);
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ bus: s.type, server: 'server' in s ? s.server : undefined }, `bus ${s.type === 'disconnect' ? 'disconnected; reconnecting' : 'reconnected'}`);
      else if (s.type === 'error') log.error({ err: s.error }, 'bus error');
    }
  })();
  log.info({ id, servers: bus.servers, server: nc.info?.server_name }, 'connected to the bus');
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc).catch((err: unknown) => {
    throw new Error(`the bus has no JetStream (start nats-server with -js): ${(err as Error).message}`);
  });
  return {
    nc,
    js,
    jsm,
    id,
    replicas: bus.replicas,
    close: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
}

/**
 * The lease bucket. Its TTL is the lease time: a key not renewed for that long is gone (a dead
 * worker's partitions, a dead worker's presence). One value per key is all a lease needs.
 */
export async function leaseBucket(bus: Bus, ttlMs: number, log: Logger): Promise<KV> {
  const kvm = new Kvm(bus.nc);
  try {
    return await kvm.create(LEASE_BUCKET, { ttl: ttlMs, history: 1, replicas: bus.replicas });
  } catch (err) {
    // Made before with another TTL (another leaseTtlMs somewhere): use it as it is, and say so.
    log.warn({ err: (err as Error).message, bucket: LEASE_BUCKET }, 'lease bucket exists with other settings; using it as it is');
    return kvm.open(LEASE_BUCKET);
  }
}

/** The bucket of cluster-wide facts (the workers' model), without TTL. */
export function clusterBucket(bus: Bus): Promise<KV> {
  return new Kvm(bus.nc).create(CLUSTER_BUCKET, { history: 1, replicas: bus.replicas });
}

/**
 * The durable stream of action events and captions: limits retention (every hub reads all of
 * it, at its own pace, through its own durable consumer), capped by age and size, and a 2-minute
 * duplicate window so that a worker's retried publish is stored once.
 */
export async function ensureEventStream(bus: Bus, opts: { retentionHours: number; maxMb: number }, log: Logger): Promise<void> {
  const config = { name: EVENTS_STREAM, subjects: eventSubjects(), max_age: Math.round(opts.retentionHours * 3600e9), max_bytes: opts.maxMb * 1024 * 1024, duplicate_window: 120e9, num_replicas: bus.replicas };
  try {
    await bus.jsm.streams.info(EVENTS_STREAM);
    await bus.jsm.streams.update(EVENTS_STREAM, { subjects: config.subjects, max_age: config.max_age, max_bytes: config.max_bytes }).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'event stream settings not updated'));
  } catch {
    await bus.jsm.streams.add(config).catch(async (err: unknown) => {
      // Two roles starting together may both try to create it: the other one won.
      if (!(await bus.jsm.streams.info(EVENTS_STREAM).then(() => true, () => false))) throw err;
    });
  }
}
