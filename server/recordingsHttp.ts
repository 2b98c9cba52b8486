/**
 * GET /recordings/<name>: a recording's video for the dashboard's labelling player, with byte
 * ranges (a <video> seeks with them). The name goes through RecordingsFolder.resolve like every
 * other client-given name: a regular file directly in the folder, or 404.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { RecordingsFolder } from './recordings.js';

const TYPES: Record<string, string> = { '.webm': 'video/webm', '.mkv': 'video/x-matroska', '.mp4': 'video/mp4', '.mov': 'video/quicktime', '.avi': 'video/x-msvideo' };

export function serveRecording(folder: RecordingsFolder, name: string, req: IncomingMessage, res: ServerResponse): void {
  let file: string;
  try {
    file = folder.resolve(decodeURIComponent(name));
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('no such recording\n');
    return;
  }
  const size = statSync(file).size;
  const headers = { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'accept-ranges': 'bytes', 'cache-control': 'no-store' };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  if (range && (range[1] || range[2])) {
    start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
  } else {
    res.writeHead(200, { ...headers, 'content-length': size });
  }
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}
