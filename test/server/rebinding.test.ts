/**
 * DNS rebinding: without a token, a request that reached the loopback server under a name that is
 * not a loopback name or the bound host (an attacker's domain re-pointed at 127.0.0.1) is refused,
 * over HTTP and for the WebSocket upgrade.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAllowed } from '../../server/auth.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

const TOKEN = 'test-token-0123456789abcdef';

function get(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('Host header check', () => {
  it('accepts loopback names and the bound host only', () => {
    for (const h of ['localhost', 'localhost:8080', 'LOCALHOST:1', 'localhost.:80', '127.0.0.1:8080', '127.1.2.3', '[::1]:8080', '[::1]']) expect(hostAllowed(h, '127.0.0.1'), h).toBe(true);
    for (const h of [undefined, '', 'rebind.attacker.test', 'rebind.attacker.test:8080', '127.0.0.1.attacker.test', 'localhost.attacker.test', 'user@localhost', '[::2]:80', '10.0.0.1', 'localhost:80:80']) {
      expect(hostAllowed(h, '127.0.0.1'), String(h)).toBe(false);
    }
    expect(hostAllowed('countertop.local:8080', 'countertop.local')).toBe(true);
    expect(hostAllowed('[::1]:8080', '::1')).toBe(true);
  });
});

describe('DNS rebinding without a token', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it('refuses HTTP under a foreign Host with 421 and says why', async () => {
    const port = t.server.port;
    const r = await get(port, '/healthz', `rebind.attacker.test:${port}`, { origin: `http://rebind.attacker.test:${port}` });
    expect(r.status).toBe(421);
    expect(r.body).toMatch(/only requests addressed to localhost/);
    expect(r.body).not.toMatch(/protocol/); // no /healthz content
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await get(port, '/healthz', host)).status, host).toBe(200);
    }
  });

  it('refuses the WebSocket upgrade under a foreign Host', async () => {
    const port = t.server.port;
    await expect(TestClient.connect(t.wsUrl, { host: `rebind.attacker.test:${port}`, origin: `http://rebind.attacker.test:${port}` })).rejects.toThrow(/421/);
    const ok = await TestClient.connect(t.wsUrl, { host: `localhost:${port}` });
    await ok.waitFor((m) => m.type === 'welcome');
    await ok.close();
  });
});

describe('with a token', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(['--token', TOKEN]);
  });
  afterAll(async () => t?.close());

  it('any Host is served to a request that carries the token (a LAN name, a reverse proxy)', async () => {
    const r = await get(t.server.port, '/healthz', 'countertop.lan', { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
  });
});
