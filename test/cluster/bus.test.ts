/**
 * The bus connection against real nats-servers: user/password, nkey and TLS as the config gives
 * them (and a clear error when they are wrong), and the model switch reaching a worker process,
 * which loads only checkpoints inside its roots.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connect, nkeys } from '@nats-io/transport-node';
import { openBus } from '../../cluster/bus.js';
import { busSchema } from '../../cluster/busConfig.js';
import { hasNatsServer, startNats, startRole, type NatsServer, type RoleProcess } from '../../cluster/localProcesses.js';
import { allowedCheckpoint, requestModelSwitch } from '../../cluster/modelControl.js';
import type { ServerMessage } from '../../server/protocol.js';
import { TestClient } from '../server/harness.js';
import { CLUSTER_BUCKET, MODEL_KEY } from '../../cluster/subjects.js';
import { Kvm } from '@nats-io/kv';
import { need, tempDir } from '../pipelines/tools.js';

/** Polls an async check every 200 ms. */
async function until(check: () => Promise<boolean>, what: string, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const run = need(hasNatsServer, 'nats-server');
const log = pino({ level: 'silent' });
const bus = (servers: string[], more: Record<string, unknown> = {}) => busSchema.parse({ servers, ...more });

describe('model switch paths', () => {
  it('names only folders inside the roots', () => {
    const roots = ['/srv/ct/assets/model', '/data/models'];
    expect(allowedCheckpoint('default', roots)).toBe('/srv/ct/assets/model/default');
    expect(allowedCheckpoint('/data/models/kitchen-3', roots)).toBe('/data/models/kitchen-3');
    expect(allowedCheckpoint('../../../etc', roots)).toBeUndefined();
    expect(allowedCheckpoint('/etc/passwd', roots)).toBeUndefined();
    expect(allowedCheckpoint('default; rm -rf /', roots)).toBeUndefined();
  });
});

describe.runIf(run)('bus connection and control', () => {
  const tmp = tempDir('bus');
  const servers: NatsServer[] = [];
  const procs: RoleProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await Promise.all(servers.map((s) => s.remove()));
    tmp.remove();
  });
  const nats = async (args: string[] = []) => {
    const s = await startNats(args);
    servers.push(s);
    return s;
  };

  it('connects with user/password, and says so clearly when they are wrong', async () => {
    const s = await nats(['--user', 'ct', '--pass', 'a-long-bus-password']);
    const ok = await openBus(bus([s.url], { user: 'ct', password: 'a-long-bus-password', id: 'probe' }), 'hub', log);
    expect(ok.nc.info?.jetstream).toBe(true);
    await ok.close();
    await expect(openBus(bus([s.url], { user: 'ct', password: 'wrong-password', id: 'probe' }), 'hub', log)).rejects.toThrow(/cannot reach the bus .*(auth|Authorization)/i);
  });

  it('connects with an nkey seed file', async () => {
    const user = nkeys.createUser();
    const conf = path.join(tmp.dir, 'nkey.conf');
    writeFileSync(conf, `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n`);
    const seedFile = path.join(tmp.dir, 'user.seed');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
    const s = await nats(['-c', conf]);
    const ok = await openBus(bus([s.url], { nkeySeedFile: seedFile, id: 'probe' }), 'worker', log);
    await ok.close();
    writeFileSync(path.join(tmp.dir, 'bad.seed'), 'not a seed');
    await expect(openBus(bus([s.url], { nkeySeedFile: path.join(tmp.dir, 'bad.seed') }), 'worker', log)).rejects.toThrow(/does not hold a user nkey seed/);
  });

  it('connects over TLS to a server whose CA the config names', async (ctx) => {
    if (spawnSync('openssl', ['version']).status !== 0) return ctx.skip('openssl is not installed');
    const ssl = (args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: tmp.dir });
      if (r.status !== 0) throw new Error(r.stderr.toString());
    };
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
    writeFileSync(path.join(tmp.dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.pem']);
    const s = await nats(['--tls', '--tlscert', path.join(tmp.dir, 'server.pem'), '--tlskey', path.join(tmp.dir, 'server.key')]);
    const tlsUrl = s.url.replace('nats://', 'tls://');
    const ok = await openBus(bus([tlsUrl], { tls: { caFile: path.join(tmp.dir, 'ca.pem') }, id: 'probe' }), 'edge', log);
    expect(ok.nc.info?.tls_required).toBe(true);
    await ok.close();
    // Without the CA, the server's certificate is not trusted: refused, not silently accepted.
    await expect(openBus(bus([tlsUrl], { id: 'probe' }), 'edge', log)).rejects.toThrow(/cannot reach the bus/);
  });

  it('a model switch on the bus reaches a worker process (refusing folders outside its roots) and the hub shows the new model', async () => {
    const s = await nats();
    const worker = startRole('w-switch', ['--role', 'worker', '--engine', 'inline', '--bus', s.url, '--bus-id', 'w-switch', '--log-level', 'info']);
    procs.push(worker);
    await worker.waitFor((l) => l.msg === 'worker ready', 'worker ready');
    const nc = await connect({ servers: s.url });
    try {
      requestModelSwitch(nc, '../../../etc');
      const refused = await worker.waitFor((l) => l.msg === 'model switch failed; the old model keeps running', 'refusal');
      expect(refused.err).toMatch(/is not a checkpoint inside/);
      const kv = await new Kvm(nc).open(CLUSTER_BUCKET);
      const before = (await kv.get(MODEL_KEY))!.revision;
      const hub = startRole('h-switch', ['--role', 'hub', '--port', '0', '--no-history', '--bus', s.url, '--bus-id', 'h-switch', '--log-level', 'info']);
      procs.push(hub);
      const url = (await hub.waitFor((l) => l.msg === 'countertop listening', 'hub listening')).url as string;
      const modelName = async () => ((await (await fetch(`${url}/healthz`)).json()) as { model: { name: string } }).model.name;
      expect(await modelName()).toMatch(/default/);
      // The dashboard's switch on the hub: a request on the bus, acknowledged once a worker announces the model.
      const dash = await TestClient.connect(`${url.replace('http', 'ws')}/ws`);
      try {
        const listed = await dash.request<Extract<ServerMessage, { type: 'models' }>>({ type: 'list-models' }, 'm1');
        expect(listed.models.active).toBe('bundled:default');
        expect(listed.models.items.map((m) => m.id)).toContain('bundled:real-camera');
        const taught = await dash.request<Extract<ServerMessage, { type: 'error' }>>({ type: 'switch-model', model: 'my-model' }, 'm2');
        expect(taught.message).toMatch(/not a bundled model/);
        expect((await dash.request({ type: 'switch-model', model: 'bundled:real-camera' }, 'm3', 90_000)).type).toBe('ack');
        const after = await dash.request<Extract<ServerMessage, { type: 'models' }>>({ type: 'list-models' }, 'm4');
        expect(after.models.active).toBe('bundled:real-camera');
        expect(after.models.previous).toBe('bundled:default');
      } finally {
        await dash.close();
      }
      const switched = await worker.waitFor((l) => l.msg === 'model switched', 'model switched');
      expect(switched.checkpoint).toBe('real-camera');
      // Announced again: edges take its input format from it, hubs its name.
      const after = await kv.get(MODEL_KEY);
      expect(after!.revision).toBeGreaterThan(before);
      expect(JSON.parse(after!.string()).name).toMatch(/real-camera/);
      await until(async () => /real-camera/.test(await modelName()), 'the hub shows the new model', 20_000);
    } finally {
      await nc.close();
    }
  }, 120_000);
});
