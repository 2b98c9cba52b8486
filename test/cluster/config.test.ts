/** The role and bus keys of the configuration: defaults, layering, and the refusals that keep a bus from being opened to the network. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';

function problems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('role and bus configuration', () => {
  it('defaults to the single process, with the bus unused', () => {
    const c = loadConfig([], {});
    expect(c.role).toBe('all');
    expect(c.bus.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(c.bus.partitions).toBe(12);
  });

  it('takes the role and bus from flags and environment, key by key over the file', () => {
    const c = loadConfig(['--role', 'worker', '--bus-id', 'w-7'], { COUNTERTOP_BUS: 'nats://127.0.0.1:4300, nats://127.0.0.2:4300', COUNTERTOP_BUS_USER: 'ct', COUNTERTOP_BUS_PASSWORD: 'secret' });
    expect(c.role).toBe('worker');
    expect(c.bus).toMatchObject({ id: 'w-7', servers: ['nats://127.0.0.1:4300', 'nats://127.0.0.2:4300'], user: 'ct', password: 'secret', partitions: 12 });
  });

  it('refuses a bus beyond loopback without credentials, as it refuses an open HTTP port without a token', () => {
    expect(problems(['--role', 'edge', '--bus', 'nats://10.0.0.5:4222'])).toEqual(['bus: the bus nats://10.0.0.5:4222 is not on loopback: set bus.user and bus.password (or bus.nkeySeedFile)']);
    expect(problems(['--role', 'edge', '--bus', 'nats://10.0.0.5:4222'], { COUNTERTOP_BUS_USER: 'ct', COUNTERTOP_BUS_PASSWORD: 'pw' })).toEqual([]);
    expect(problems(['--role', 'hub', '--bus', 'tls://nats.example.org:4222'], { COUNTERTOP_BUS_NKEY_SEED_FILE: '/etc/countertop/nkey.seed' })).toEqual([]);
    // the single process never opens the bus, so its settings are not held against it
    expect(problems(['--bus', 'nats://10.0.0.5:4222'])).toEqual([]);
  });

  it('refuses credentials in the URL, half a user, and ids that cannot be subject tokens', () => {
    expect(problems(['--role', 'hub', '--bus', 'nats://ct:pw@127.0.0.1:4222'])[0]).toMatch(/^bus\.servers\.0: expected nats:\/\/HOST\[:PORT\]/);
    expect(problems(['--role', 'hub'], { COUNTERTOP_BUS_USER: 'ct' })).toEqual(['bus.password: bus.user and bus.password go together']);
    expect(problems(['--role', 'hub', '--bus-id', 'Hub.1'])[0]).toMatch(/^bus\.id: ids are lowercase letters/);
    expect(() => loadConfig(['--role', 'chef'], {})).toThrow(/chef/);
  });
});
