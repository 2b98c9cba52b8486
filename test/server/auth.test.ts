/**
 * Binding and access: loopback by default; any other address needs a token, and with a token
 * configured every HTTP request and WebSocket upgrade must carry it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';
import { repoRoot, startTestServer, TestClient, type TestServer } from './harness.js';

const TOKEN = 'test-token-0123456789abcdef';

describe('configuration', () => {
  it('refuses a non-loopback bind without a token, from flags, env or file', () => {
    expect(() => loadConfig(['--host', '0.0.0.0'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--host', '0.0.0.0'], {})).toThrow(/requires a token/);
    expect(() => loadConfig([], { COUNTERTOP_HOST: '192.168.1.5' })).toThrow(/requires a token/);
    expect(loadConfig(['--host', '0.0.0.0', '--token', TOKEN], {}).token).toBe(TOKEN);
    expect(loadConfig([], {}).host).toBe('127.0.0.1');
    expect(() => loadConfig(['--host', '0.0.0.0', '--token', 'short'], {})).toThrow(/at least 16/);
    expect(() => loadConfig(['--port', '99999'], {})).toThrow(/port/);
  });

  it('flags override the environment, which overrides defaults', () => {
    const c = loadConfig(['--port', '9001'], { COUNTERTOP_PORT: '9000', COUNTERTOP_PREVIEW_FPS: '2' });
    expect(c.port).toBe(9001);
    expect(c.previewFps).toBe(2);
    expect(loadConfig(['--no-demo'], { COUNTERTOP_DEMO: '1' }).demo).toBe(false);
    expect(loadConfig([], { COUNTERTOP_DEMO: 'false' }).demo).toBe(false);
    expect(loadConfig(['--camera', '/dev/video0', '/dev/video2'], {}).cameras).toEqual(['/dev/video0', '/dev/video2']);
    expect(loadConfig([], { COUNTERTOP_CAMERAS: '/dev/video1' }).cameras).toEqual(['/dev/video1']);
    expect(() => loadConfig(['--camera', '/dev/sda'], {})).toThrow(/V4L2 device/);
    expect(loadConfig([], {}).engine).toBe('worker');
    expect(loadConfig(['--engine', 'inline'], { COUNTERTOP_ENGINE: 'worker' }).engine).toBe('inline');
    expect(() => loadConfig([], { COUNTERTOP_ENGINE: 'gpu' })).toThrow(/engine/);
  });

  it('takes STUN/TURN servers from flags or JSON in the environment, and refuses anything but stun/turn URLs', () => {
    expect(loadConfig([], {}).iceServers).toEqual([]);
    expect(loadConfig(['--ice-server', 'stun:stun.example.org:3478', 'turn:[::1]:3478?transport=tcp'], {}).iceServers).toEqual([
      { urls: 'stun:stun.example.org:3478' },
      { urls: 'turn:[::1]:3478?transport=tcp' },
    ]);
    const turn = [{ urls: ['turn:turn.example.org'], username: 'u', credential: 'p' }];
    const c = loadConfig([], { COUNTERTOP_ICE_SERVERS: JSON.stringify(turn), COUNTERTOP_ICE_TRANSPORT_POLICY: 'relay' });
    expect([c.iceServers, c.iceTransportPolicy]).toEqual([turn, 'relay']);
    expect(() => loadConfig([], { COUNTERTOP_ICE_SERVERS: '[{"urls": ' })).toThrow(/COUNTERTOP_ICE_SERVERS must be a JSON array/);
    for (const bad of ['http://stun.example.org', 'stun:host;rm -rf /', 'stun:-host', 'turn:host:3478?transport=sctp', 'stun:']) {
      expect(() => loadConfig(['--ice-server', bad], {}), bad).toThrow(/expected stun:HOST/);
    }
    expect(() => loadConfig([], { COUNTERTOP_ICE_SERVERS: '[{"urls": "stun:a.org", "extra": 1}]' })).toThrow(/extra/);
    expect(() => loadConfig(['--ice-server', 'stun:a.org', '--ice-transport-policy', 'relay'], {})).toThrow(/relay-only WebRTC needs a TURN server/);
  });

  it('reads a JSON config file under the environment and flags, and names a bad key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'countertop-config-'));
    const file = path.join(dir, 'countertop.json');
    writeFileSync(file, JSON.stringify({ port: 9100, previewFps: 1, maxStreams: 3 }));
    expect(loadConfig(['--config', file], {})).toMatchObject({ port: 9100, previewFps: 1, maxStreams: 3 });
    expect(loadConfig(['--config', file], { COUNTERTOP_PORT: '9200' }).port).toBe(9200);
    expect(loadConfig(['--config', file, '--port', '9300'], { COUNTERTOP_PORT: '9200' }).port).toBe(9300);
    writeFileSync(file, JSON.stringify({ maxStreams: 'many' }));
    expect(() => loadConfig(['--config', file], {})).toThrow(/maxStreams/);
    writeFileSync(file, '{ not json');
    expect(() => loadConfig(['--config', file], {})).toThrow(/cannot read config file/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('`npm start -- --host 0.0.0.0` without a token exits with an explanation and never listens', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server/main.ts'), '--host', '0.0.0.0', '--port', '0'], { cwd: repoRoot, env: { ...process.env, COUNTERTOP_TOKEN: '' } });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/requires a token/);
    expect(stdout).not.toMatch(/listening/);
  });
});

describe('token access', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(['--token', TOKEN]);
  });
  afterAll(async () => t?.close());

  it('HTTP needs the token (header, query or the cookie the query sets)', async () => {
    expect((await fetch(`${t.url}/`)).status).toBe(401);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${t.url}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const viaQuery = await fetch(`${t.url}/healthz?token=${TOKEN}`);
    expect(viaQuery.status).toBe(200);
    const cookie = viaQuery.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect((await fetch(`${t.url}/metrics`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
  });

  it('the WebSocket upgrade needs the token too', async () => {
    await expect(TestClient.connect(t.wsUrl)).rejects.toThrow(/401/);
    await expect(TestClient.connect(`${t.wsUrl}?token=nope-nope-nope-nope`)).rejects.toThrow(/401/);
    const ok = await TestClient.connect(t.wsUrl, { authorization: `Bearer ${TOKEN}` });
    await ok.waitFor((m) => m.type === 'welcome');
    await ok.close();
  });

  it('a page from another origin cannot open the socket', async () => {
    await expect(TestClient.connect(`${t.wsUrl}?token=${TOKEN}`, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });
});

describe('HTTPS', () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'countertop-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    expect(made.status).toBe(0);
    t = await startTestServer(['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem'), '--token', TOKEN]);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and WSS (what browsers require for the camera off localhost)', async () => {
    expect(t.url).toMatch(/^https:\/\//);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpsGet(`${t.url}/healthz`, { rejectUnauthorized: false, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(200);
    const c = await TestClient.connect(t.wsUrl, { authorization: `Bearer ${TOKEN}` }, { rejectUnauthorized: false });
    expect(t.wsUrl).toMatch(/^wss:\/\//);
    await c.waitFor((m) => m.type === 'welcome');
    await c.close();
  });

  it('needs both the certificate and the key', () => {
    expect(() => loadConfig(['--tls-cert', 'cert.pem'], {})).toThrow(/both --tls-cert and --tls-key/);
  });
});
