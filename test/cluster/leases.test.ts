/**
 * Partition leases against a real nats-server (JetStream KV with a TTL): workers share the
 * partitions fairly, a worker that stops renewing (as a killed one does) loses them to the others
 * after the TTL, one that joins gets its share, and a clean stop hands them over at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { PartitionLeases } from '../../cluster/leases.js';
import { need, until } from '../pipelines/tools.js';
import { hasNatsServer, startNats, type NatsServer } from '../../cluster/localProcesses.js';

const run = need(hasNatsServer, 'nats-server');
const TTL = 1500;
const PARTITIONS = 6;

describe.runIf(run)('partition leases', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let kv: KV;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    kv = await new Kvm(nc).create('ct-leases', { ttl: TTL, history: 1 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.remove();
  });

  function worker(id: string) {
    const held = new Set<number>();
    const log: string[] = [];
    const leases = new PartitionLeases(kv, id, { partitions: PARTITIONS, ttlMs: TTL }, { acquired: (p) => (held.add(p), log.push(`+${p}`)), lost: (p, why) => (held.delete(p), log.push(`-${p} ${why}`)) });
    return { id, held, log, leases };
  }
  const owners = async () => {
    const out = new Map<number, string>();
    for (let p = 0; p < PARTITIONS; p++) {
      const e = await kv.get(`p.${p}`);
      if (e && e.operation === 'PUT') out.set(p, e.string());
    }
    return out;
  };

  it('shares, fails over after the TTL, rebalances on join and hands over on a clean stop', async () => {
    const a = worker('a');
    const b = worker('b');
    const c = worker('c');
    for (const w of [a, b, c]) w.leases.start();
    await until(() => a.held.size === 2 && b.held.size === 2 && c.held.size === 2, 'two partitions each', 20_000);
    // No partition is held twice, and the bucket agrees with what each worker believes it holds.
    const own = await owners();
    for (const w of [a, b, c]) for (const p of w.held) expect(own.get(p)).toBe(w.id);

    // "kill -9" of c: its heartbeat stops without giving anything back.
    const orphaned = [...c.held];
    c.leases.abandon();
    const killedAt = Date.now();
    await until(() => orphaned.every((p) => a.held.has(p) || b.held.has(p)), "c's partitions taken over", 20_000);
    const movedAfter = Date.now() - killedAt;
    console.log(`leases: partitions of a stopped worker taken over ${movedAfter} ms after it stopped renewing (TTL ${TTL} ms, heartbeat ${c.leases.heartbeatMs} ms)`);
    expect(a.held.size + b.held.size).toBe(PARTITIONS);
    expect(movedAfter).toBeGreaterThanOrEqual(TTL / 3); // not before the lease could have lapsed

    // A worker joining gets its share: the others give back beyond ⌈6/3⌉ = 2.
    const d = worker('d');
    d.leases.start();
    await until(() => d.held.size === 2 && a.held.size === 2 && b.held.size === 2, 'rebalanced to two each', 20_000);
    expect(a.log.some((l) => /rebalancing/.test(l)) || b.log.some((l) => /rebalancing/.test(l))).toBe(true);

    // A clean stop gives its leases back at once, without waiting for the TTL.
    const handed = [...d.held];
    await d.leases.stop();
    await until(() => handed.every((p) => a.held.has(p) || b.held.has(p)), "d's partitions taken after a clean stop", 20_000);
    await a.leases.stop();
    await b.leases.stop();
    expect((await owners()).size).toBe(0);
  }, 90_000);
});
