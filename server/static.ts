/**
 * Serves the built dashboard (client/dist) read-only: only files under the root, never a path
 * that resolves outside it; unknown paths fall back to index.html (a single-page app).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

async function fileIfExists(p: string): Promise<number | undefined> {
  try {
    const s = await stat(p);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400).end('bad path');
    return;
  }
  const resolvedRoot = path.resolve(root);
  let file = path.resolve(resolvedRoot, '.' + path.posix.normalize('/' + rel));
  if (file !== resolvedRoot && !file.startsWith(resolvedRoot + path.sep)) {
    res.writeHead(404).end('not found');
    return;
  }
  let size = await fileIfExists(file);
  if (size === undefined) {
    file = path.join(resolvedRoot, 'index.html');
    size = await fileIfExists(file);
    if (size === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('The dashboard is not built: run `npm run build`.\n');
      return;
    }
  }
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  // Hashed asset names may be cached for ever; index.html must not be.
  const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { 'content-type': type, 'content-length': size, 'cache-control': cache });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}
