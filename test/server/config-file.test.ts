/**
 * Cameras in a validated config file: the published JSON schema is current; unknown keys,
 * duplicate cameras and unset `${ENV}` references are refused one line each; secrets come from the
 * environment or a token file; `--validate-config` exits 0 or 2 without starting; the file's
 * cameras start with the server under their own ids, with no credentials in what clients see.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchemaText, CONFIG_SCHEMA_FILE } from '../../scripts/config-schema.js';
import { ConfigError, expandEnvRefs, loadConfig } from '../../server/config.js';
import { hasFfmpeg, hasRtspServer, need, startRtspServer, tempDir, freePort, until, type RtspServer } from '../pipelines/tools.js';
import { repoRoot, startTestServer, TestClient, type TestServer } from './harness.js';

const TOKEN = 'a-token-of-24-characters';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  const write = (value: unknown) => writeFileSync(file, JSON.stringify(value));
  beforeAll(() => {
    tmp = tempDir('config-file');
    file = path.join(tmp.dir, 'countertop.json');
  });
  afterAll(() => tmp?.remove());

  it('docs/config.schema.json is the one generated from the zod schema (npx tsx scripts/config-schema.ts)', () => {
    expect(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')).toBe(configSchemaText());
    const schema = JSON.parse(configSchemaText()) as { additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['cameras', 'tokenFile', 'port']));
    expect(configSchemaText()).not.toContain(repoRoot); // no machine-specific defaults
  });

  it('refuses unknown keys, at the top and inside a camera, one line each', () => {
    write({ port: 9100, prot: 1, cameras: [{ kind: 'rtsp', url: 'rtsp://cam/x', pasword: 'x' }] });
    const problems = problemsOf(() => loadConfig(['--config', file], {}));
    expect(problems).toHaveLength(2);
    expect(problems).toContainEqual(expect.stringMatching(/^config: Unrecognized key: "prot"$/));
    expect(problems).toContainEqual(expect.stringMatching(/^cameras\.0: Unrecognized key: "pasword"$/));
  });

  it('explains a bad camera by its own fields, and refuses the same camera twice', () => {
    write({ cameras: [{ kind: 'rtsp', url: 'http://cam/x' }, { kind: 'webcam' }, '/dev/sda'] });
    expect(problemsOf(() => loadConfig(['--config', file], {}))).toEqual([
      'cameras.0.url: expected rtsp://host[:port]/path or rtsps://…',
      "cameras.1.kind: Invalid discriminator value. Expected 'v4l2' | 'rtsp'",
      'cameras.2: expected a V4L2 device such as /dev/video0',
    ]);
    // Checked once every camera is well-formed: the same camera under two spellings, one id twice.
    write({ cameras: [{ kind: 'rtsp', url: 'rtsp://a:b@CAM/x', id: 'a' }, { kind: 'rtsp', url: 'rtsp://cam:554/x' }, { kind: 'v4l2', device: '/dev/video0', id: 'a' }] });
    const problems = problemsOf(() => loadConfig(['--config', file], {}));
    expect(problems).toEqual(['cameras.1: the same camera as cameras.0 (rtsp://cam:554/x)', 'cameras.2.id: id "a" is already cameras.0\'s']);
  });

  it('takes secrets from ${ENV} references and refuses an unset one', () => {
    write({ host: '0.0.0.0', token: '${CT_SECRET}', cameras: [{ kind: 'rtsp', url: 'rtsp://cam.local/live', username: 'admin', password: '${CAM_PW}' }] });
    const c = loadConfig(['--config', file], { CT_SECRET: TOKEN, CAM_PW: 'p@ss w/rd' });
    expect(c.token).toBe(TOKEN);
    expect(c.cameras[0]).toMatchObject({ kind: 'rtsp', username: 'admin', password: 'p@ss w/rd' });
    const problems = problemsOf(() => loadConfig(['--config', file], { CT_SECRET: TOKEN }));
    expect(problems).toEqual(['cameras.0.password: environment variable CAM_PW is not set']);
    const mixed: string[] = [];
    expect(expandEnvRefs({ a: ['x${A}y', '$${A}', '${not a name}'] }, { A: '1' }, mixed)).toEqual({ a: ['x1y', '${A}', ''] });
    expect(mixed).toEqual(['a.2: "${not a name}" is not an environment variable name']);
  });

  it('reads the token from a file (first line), refuses a symlink, and a higher level replaces it', () => {
    const tokenFile = path.join(tmp.dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\nignored\n`);
    chmodSync(tokenFile, 0o600);
    write({ host: '0.0.0.0', tokenFile });
    expect(loadConfig(['--config', file], {}).token).toBe(TOKEN);
    expect(loadConfig(['--config', file, '--token', 'b'.repeat(16)], {}).token).toBe('b'.repeat(16));
    expect(loadConfig(['--host', '0.0.0.0'], { COUNTERTOP_TOKEN_FILE: tokenFile }).token).toBe(TOKEN);
    const link = path.join(tmp.dir, 'token-link');
    symlinkSync(tokenFile, link);
    expect(problemsOf(() => loadConfig(['--host', '0.0.0.0', '--token-file', link], {}))[0]).toMatch(/^tokenFile: cannot open .*ELOOP/);
    write({ host: '0.0.0.0', tokenFile, token: TOKEN });
    expect(problemsOf(() => loadConfig(['--config', file], {}))).toContain('tokenFile: give the token or a tokenFile, not both');
  });

  it('--validate-config exits 0 with a summary, or 2 with one line per problem, without starting', () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server/main.ts'), '--validate-config', ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', ...env },
      });
    write({ port: 9100, cameras: [{ kind: 'rtsp', id: 'counter', url: 'rtsp://cam.local/live', username: 'u', password: '${CAM_PW}' }] });
    const ok = run(['--config', file], { CAM_PW: 'x' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^countertop: configuration valid \(.*countertop\.json\): 1 camera, 127\.0\.0\.1:9100\n$/);
    write({ port: 'x', demo: 1, extra: true });
    const bad = run(['--config', file]);
    expect(bad.status).toBe(2);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^countertop: (port|demo|config): /);
    expect(bad.stdout).toBe('');
  });
});

describe('cameras from the config file start with the server', () => {
  let t: TestServer | undefined;
  let rtsp: RtspServer | undefined;
  let tmp: ReturnType<typeof tempDir>;
  afterAll(async () => {
    await t?.close();
    await rtsp?.stop();
    tmp?.remove();
  });

  it('an RTSP camera with a password from the environment goes live under its configured id and name', async (ctx) => {
    if (!need(hasFfmpeg, 'ffmpeg', ctx) || !need(hasRtspServer, 'the GStreamer RTSP server', ctx)) return;
    tmp = tempDir('config-cameras');
    rtsp = await startRtspServer(await freePort(), '/counter');
    const deadPort = await freePort();
    const file = path.join(tmp.dir, 'countertop.json');
    writeFileSync(
      file,
      JSON.stringify({
        cameras: [
          { kind: 'rtsp', id: 'counter', name: 'Counter', url: rtsp.url, username: 'cook', password: '${CAM_PW}' },
          { kind: 'rtsp', url: `rtsp://127.0.0.1:${deadPort}/gone` },
        ],
      }),
    );
    t = await startTestServer(['--config', file, '--recordings-dir', path.join(tmp.dir, 'rec')], { env: { CAM_PW: 's3cret-pw' } });
    const { streams } = t.server;
    expect(streams.list().map((s) => [s.id, s.name, s.kind])).toEqual([
      ['counter', 'Counter', 'rtsp'],
      ['cam-2', `127.0.0.1:${deadPort}/gone`, 'rtsp'],
    ]);
    await until(() => streams.list()[0]!.state === 'live', 'the configured camera to go live', 30_000);
    const client = await TestClient.connect(t.wsUrl);
    client.send({ type: 'subscribe', streams: '*', preview: false });
    await client.waitFor((m) => m.type === 'prediction' && m.streamId === 'counter', 60_000, 'a prediction from the configured camera');
    await until(() => streams.list()[1]!.state === 'reconnecting', 'the dead camera to be reconnecting', 30_000);
    await client.close();
    // The password reaches ffmpeg only: not the stream list, the states, the health report or the log of messages.
    expect(JSON.stringify(client.messages)).not.toContain('s3cret-pw');
    expect(await (await fetch(`${t.url}/healthz`)).text()).not.toContain('s3cret-pw');
  });
});
