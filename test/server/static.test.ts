/**
 * The dashboard's static files: a file that cannot be read or vanishes while a request is served
 * must answer an error, never crash the process; a symlink leading out of the folder is not followed.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveStatic } from '../../server/static.js';
import { tempDir } from '../pipelines/tools.js';

interface Reply {
  status: number;
  body: string;
}

function fetchText(port: number, urlPath: string): Promise<Reply> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: -1, body }));
    })
      .setTimeout(5000, function (this: { destroy(): void }) {
        this.destroy(); // a hung response fails the test quickly rather than at the suite timeout
      })
      .on('error', () => resolve({ status: -1, body: '' })); // a cut connection counts as an answer
  });
}

async function serve(root: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => void serveStatic(root, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('static files', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('answers 500 for a file that fails to read (EIO) and keeps serving', async () => {
    // /proc/self/mem is a regular file whose first page cannot be read: a real EIO.
    const { server, port } = await serve('/proc/self');
    cleanups.push(() => server.close());
    const r = await fetchText(port, '/mem');
    expect(r.status).toBe(500);
    expect((await fetchText(port, '/comm')).status).toBe(200);
  });

  it('survives files removed and rewritten while requests are in flight', async () => {
    const tmp = tempDir('static');
    cleanups.push(tmp.remove);
    writeFileSync(path.join(tmp.dir, 'index.html'), '<p>index</p>');
    const asset = path.join(tmp.dir, 'app.js');
    const { server, port } = await serve(tmp.dir);
    cleanups.push(() => server.close());
    const statuses = new Set<number>();
    for (let round = 0; round < 60; round++) {
      writeFileSync(asset, 'x'.repeat(64 * 1024));
      const requests = Array.from({ length: 20 }, () => fetchText(port, '/app.js'));
      // What a rebuild does: the file goes away while the GETs are being served.
      await new Promise((r) => setTimeout(r, round % 5));
      rmSync(asset, { force: true });
      for (const r of await Promise.all(requests)) statuses.add(r.status);
    }
    // Each request got the file or the index fallback; none was cut off and the process is alive.
    expect([...statuses].every((s) => s === 200)).toBe(true);
    expect((await fetchText(port, '/')).body).toBe('<p>index</p>');
  });

  it('does not follow a symlink that points outside the folder', async () => {
    const tmp = tempDir('static');
    cleanups.push(tmp.remove);
    const root = path.join(tmp.dir, 'dist');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'index.html'), '<p>index</p>');
    writeFileSync(path.join(root, 'assets', 'app.js'), 'inside');
    writeFileSync(path.join(tmp.dir, 'secret.txt'), 'SECRET');
    symlinkSync(path.join(tmp.dir, 'secret.txt'), path.join(root, 'leak.txt'));
    symlinkSync(tmp.dir, path.join(root, 'up'));
    // A symlink that stays inside the folder is fine.
    symlinkSync(path.join(root, 'assets', 'app.js'), path.join(root, 'alias.js'));
    const { server, port } = await serve(root);
    cleanups.push(() => server.close());
    for (const p of ['/leak.txt', '/up/secret.txt']) {
      const r = await fetchText(port, p);
      expect(r.body, p).not.toContain('SECRET');
      expect(r.body, p).toBe('<p>index</p>'); // the single-page fallback, as for any unknown path
    }
    expect((await fetchText(port, '/alias.js')).body).toBe('inside');
    expect((await fetchText(port, '/assets/app.js')).body).toBe('inside');
  });
});
