/**
 * The session's structure: one handler per message type (the table covers the whole protocol),
 * and evaluations limited by a semaphore that is released however an evaluation ends.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnnotatedSegment } from '../../eval/replay.js';
import { Semaphore } from '../../server/limits.js';
import { clientMessageSchema, type EvaluationSummary, type ServerMessage } from '../../server/protocol.js';
import { messageHandlers } from '../../server/session.js';
import { hasFfmpeg, makeVideo, need, tempDir } from '../pipelines/tools.js';
import { startTestServer, TestClient, type TestServer } from './harness.js';

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

describe('Semaphore', () => {
  it('gives at most `max` permits, and a release (even twice) frees exactly one', () => {
    const s = new Semaphore(2);
    const a = s.tryAcquire();
    const b = s.tryAcquire();
    expect([Boolean(a), Boolean(b), s.tryAcquire()]).toEqual([true, true, undefined]);
    a!();
    a!(); // a second release of the same permit is ignored
    expect(s.inUse).toBe(1);
    expect(s.tryAcquire()).toBeDefined();
    expect(s.tryAcquire()).toBeUndefined();
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('message handler table', () => {
  it('has one handler for every message type of the protocol, and nothing else', () => {
    const types = clientMessageSchema.options.map((o) => o.shape.type.value).sort();
    expect(Object.keys(messageHandlers).sort()).toEqual(types);
    for (const t of types) expect(typeof messageHandlers[t], t).toBe('function');
  });
});

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('evaluations, one at a time', () => {
  let t: TestServer;
  let tmp: ReturnType<typeof tempDir>;
  let release: (() => void) | undefined;
  let fail = false;
  const calls: { video: string; segments: readonly AnnotatedSegment[] }[] = [];

  beforeAll(async () => {
    tmp = tempDir('session');
    const recordings = path.join(tmp.dir, 'recordings');
    // A stand-in evaluator that finishes when the test says so: the semaphore is what is under test.
    const evaluate = async (video: string, segments: readonly AnnotatedSegment[], onProgress: (f: number) => void): Promise<EvaluationSummary> => {
      calls.push({ video, segments });
      onProgress(0.5);
      await new Promise<void>((resolve) => (release = resolve));
      if (fail) throw new Error('decoder gave up');
      onProgress(1);
      return { recording: path.basename(video), frameAccuracy: 0.5, eventF1: 0, eventPrecision: 0, eventRecall: 0, captionBleu: null, captionCider: null, latencyMs: null, truth: [], predicted: [], duration: 2 };
    };
    t = await startTestServer(['--recordings-dir', recordings], { evaluate });
    makeVideo(path.join(recordings, 'a.webm'), { seconds: 2, fps: 8, size: '64x64' });
    writeFileSync(path.join(recordings, 'a.json'), JSON.stringify([{ start: 0, end: 2, template: 'Shaking [something]' }]));
  });
  afterAll(async () => {
    release?.();
    await t?.close();
    tmp?.remove();
  });

  it('a second evaluation is refused while one runs, and the slot is freed when it ends or fails', async () => {
    const c = await TestClient.connect(t.wsUrl);
    const first = c.next<Extract<ServerMessage, { type: 'eval-result' }>>((m) => m.type === 'eval-result' && m.id === 'e1', 30_000);
    expect((await c.request({ type: 'evaluate', recording: 'a.webm' }, 'e1', 30_000)).type).toBe('ack');
    const busy = await c.request<ErrorMessage>({ type: 'evaluate', recording: 'a.webm' }, 'e2', 30_000);
    expect(busy).toMatchObject({ code: 'limit', message: 'another evaluation is running; try again when it has finished' });
    release!();
    const result = await first;
    expect(result.result.recording).toBe('a.webm');
    expect(c.messages.filter((m) => m.type === 'eval-progress' && m.id === 'e1').map((m) => (m as { fraction: number }).fraction)).toEqual([0.5, 1]);
    expect(calls[0]!.segments).toEqual([{ start: 0, end: 2, template: 'Shaking [something]' }]);
    expect(path.isAbsolute(calls[0]!.video)).toBe(true);

    // An evaluation that fails also frees the slot.
    fail = true;
    const failed = c.next<ErrorMessage>((m) => m.type === 'error' && m.id === 'e3', 30_000);
    expect((await c.request({ type: 'evaluate', recording: 'a.webm' }, 'e3', 30_000)).type).toBe('ack');
    release!();
    expect((await failed).message).toBe('decoder gave up');
    fail = false;
    expect((await c.request({ type: 'evaluate', recording: 'a.webm' }, 'e4', 30_000)).type).toBe('ack');
    release!();
    await c.close();
  });
});
