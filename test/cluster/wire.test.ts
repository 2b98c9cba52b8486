/** Frames and results as they travel on the bus: exact round trips, malformed messages refused with a reason. */
import { describe, expect, it } from 'vitest';
import type { Frame, PipelineOutput } from '../../pipelines/types.js';
import { frameSubject, parseResultSubject, resultSubject, streamPartition } from '../../cluster/subjects.js';
import { decodeEdgeStatus, decodeFrame, decodeResult, encodeEdgeStatus, encodeFrame, encodeResult } from '../../cluster/wire.js';

const frame = (seq: number): Frame => ({ streamId: 'counter-1', seq, capturedAt: 1_764_000_000_123.25, width: 48, height: 48, pixels: Uint8Array.from({ length: 48 * 48 * 3 }, (_, i) => (i * 7 + seq) % 256) });

describe('wire format', () => {
  it('a 48×48 frame travels in under 7 KB and comes back the same', () => {
    const data = encodeFrame(frame(41));
    expect(data.length).toBeLessThan(7 * 1024);
    const back = decodeFrame(data);
    expect(back).toEqual({ ...frame(41), pixels: back.pixels });
    expect(Buffer.from(back.pixels).equals(Buffer.from(frame(41).pixels))).toBe(true);
  });

  it('refuses truncated or inconsistent frames', () => {
    const data = encodeFrame(frame(1));
    expect(() => decodeFrame(data.subarray(0, data.length - 1))).toThrow(/expected 6912/);
    expect(() => decodeFrame(new Uint8Array([0, 0, 255, 255, 1]))).toThrow(/header length/);
    expect(() => decodeFrame(new Uint8Array(2))).toThrow(/too short/);
  });

  it('results keep the pipelines’ types and say which worker made them', () => {
    const out: PipelineOutput = { type: 'action', event: { streamId: 'counter-1', kind: 'start', label: 'Stirring [something]', confidence: 0.8, start: 1, stamps: { capturedAt: 1, windowReadyAt: 2, inferredAt: 3, emittedAt: 4 } } };
    expect(decodeResult(encodeResult('w-1', out))).toEqual({ worker: 'w-1', out });
    expect(() => decodeResult(new TextEncoder().encode('{"worker":"w","out":{"type":"action"}}'))).toThrow(/no body/);
    const status = { edge: 'e-1', kind: 'rtsp' as const, name: 'Counter', status: { streamId: 'counter-1', state: 'reconnecting' as const, at: 5, detail: 'retry 1' }, reconnects: 1, stalls: 0, framesSent: 10 };
    expect(decodeEdgeStatus(encodeEdgeStatus(status))).toEqual(status);
    expect(() => decodeEdgeStatus(new TextEncoder().encode('{"edge":"e","kind":"bogus"}'))).toThrow(/not an edge status/);
  });

  it('subjects are built only from safe stream ids', () => {
    expect(frameSubject(3, 'counter-1')).toBe('ct.frames.3.counter-1');
    expect(parseResultSubject(resultSubject('counter-1', 'caption'))).toEqual({ streamId: 'counter-1', kind: 'caption' });
    expect(() => frameSubject(0, 'a.b')).toThrow(/cannot travel on the bus/);
    expect(() => resultSubject('*', 'action')).toThrow(/cannot travel on the bus/);
    expect(parseResultSubject('ct.out.a.b.action')).toBeUndefined();
  });

  it("an edge's streams take consecutive partitions, so six streams over six partitions share none", () => {
    const parts = Array.from({ length: 6 }, (_, i) => streamPartition('edge-a', i, 6));
    expect(new Set(parts).size).toBe(6);
  });
});
