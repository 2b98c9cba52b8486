/**
 * One structured log format: the tensor backend line that model/backend.ts prints goes through the
 * server's pino logger (a JSON line), not to stderr as plain text.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadServingModel } from '../../server/model.js';

afterEach(() => vi.restoreAllMocks());

describe('tensor backend log line', () => {
  it('is one JSON line of the server log, and nothing plain reaches stderr', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    const stderr: string[] = [];
    const realWrite = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      stderr.push(String(chunk));
      return realWrite(chunk as string, ...(rest as []));
    }) as typeof process.stderr.write);
    const log = pino({ level: 'info', base: { app: 'countertop' } }, sink);
    // A checkpoint that does not exist: the backend is chosen (and logged) before the model is looked for.
    await expect(loadServingModel('/nonexistent-checkpoint', log)).rejects.toThrow(/manifest\.json is missing/);
    await new Promise((r) => setImmediate(r));
    const records = lines.map((l) => JSON.parse(l) as { msg: string; backend?: string; app: string });
    const backend = records.filter((r) => /tensor backend/.test(r.msg));
    expect(backend).toHaveLength(1);
    expect(backend[0]!.msg).toMatch(/^tensor backend: (tensorflow-gpu|tensorflow|wasm|cpu) \(/);
    expect(backend[0]!.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
    expect(backend[0]!.app).toBe('countertop');
    expect(stderr.join('')).not.toMatch(/tensor backend/);
  });
});
