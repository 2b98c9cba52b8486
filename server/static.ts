/**
 * Serves the built dashboard (client/dist) read-only: only files under the root, never a path
 * that resolves outside it (`..` or a symlink pointing out); unknown paths fall back to index.html
 * (a single-page app). A file that vanishes or cannot be read answers 404/500 and never throws:
 * `npm run build` rewrites client/dist while the server runs.
 */
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
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

/** Files up to this size are read whole before the headers go out, so a read error is still a clean 500. */
const BUFFERED_MAX_BYTES = 8 * 1024 * 1024;

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/**
 * Opens `file` if it is a regular file whose real path lies inside `realRoot`; undefined if it does
 * not exist, is not a file or leads outside. Opening first and checking the open handle (not a
 * stat of the name) leaves no gap in which the file can be swapped or removed.
 */
async function openInside(realRoot: string, file: string): Promise<{ handle: FileHandle; size: number } | undefined> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return undefined; // missing (ENOENT, ENOTDIR…)
  }
  if (!inside(realRoot, real)) return undefined;
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: the real path has no symlink left; one appearing since realpath() is refused.
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const s = await handle.stat();
    if (s.isFile()) return { handle, size: s.size };
  } catch {
    // fall through: treated as missing
  }
  await handle.close().catch(() => undefined);
  return undefined;
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
  if (!inside(resolvedRoot, file)) {
    res.writeHead(404).end('not found');
    return;
  }
  let realRoot: string;
  try {
    realRoot = await realpath(resolvedRoot);
  } catch {
    realRoot = resolvedRoot; // no folder at all: nothing opens below, so the 503 below answers
  }
  let opened = await openInside(realRoot, file);
  if (!opened) {
    file = path.join(resolvedRoot, 'index.html');
    opened = await openInside(realRoot, file);
    if (!opened) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('The dashboard is not built: run `npm run build`.\n');
      return;
    }
  }
  const { handle, size } = opened;
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  // Hashed asset names may be cached for ever; index.html must not be.
  const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  const headers = { 'content-type': type, 'cache-control': cache };
  if (req.method === 'HEAD') {
    await handle.close().catch(() => undefined);
    res.writeHead(200, { ...headers, 'content-length': size }).end();
    return;
  }
  if (size <= BUFFERED_MAX_BYTES) {
    let body: Buffer;
    try {
      body = await handle.readFile();
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('cannot read the file\n');
      return;
    } finally {
      await handle.close().catch(() => undefined);
    }
    res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
    return;
  }
  // Large files stream; a read error after the headers can only cut the response short.
  res.writeHead(200, { ...headers, 'content-length': size });
  const stream = handle.createReadStream(); // closes the handle when it ends or fails
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
