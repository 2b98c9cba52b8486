import { asyncScheduler, map, mergeMap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { InferenceStage } from '../../pipelines/inferenceStage.js';
import { adaptFrameRate } from '../../pipelines/operators/adaptFrameRate.js';
import { resizeRgb } from '../../pipelines/operators/resizeFrames.js';
import { decodeCaptions } from '../../pipelines/operators/decodeCaptions.js';
import { segmentActions } from '../../pipelines/operators/segmentActions.js';
import { selectCaptionWindows } from '../../pipelines/operators/selectCaptionWindows.js';
import { slidingWindow } from '../../pipelines/operators/slidingWindow.js';
import { smoothScores } from '../../pipelines/operators/smoothScores.js';
import { withReconnect } from '../../pipelines/sources/reconnect.js';
import type { ScoredWindow, SegmentedWindow } from '../../pipelines/types.js';
import { DelayedEngine, frame, window } from './fakes.js';

/** Defers the stage's batch start in virtual time (asyncScheduler is virtual inside TestScheduler.run). */
const virtual = (start: () => void) => void asyncScheduler.schedule(start);
const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const seqs = map((w: { frames: readonly { seq: number }[] }) => w.frames.map((f) => f.seq).join(','));

/** A scored window whose "action" head has the given probabilities over labels a, b, c. */
function scored(lastSeq: number, probs: number[]): ScoredWindow {
  return {
    streamId: 's',
    firstSeq: lastSeq,
    lastSeq,
    firstCapturedAt: lastSeq * 100,
    lastCapturedAt: lastSeq * 100 + 50,
    probabilities: { action: Float32Array.from(probs) },
    encoding: new Float32Array(1),
    stamps: { capturedAt: 0, windowReadyAt: 0, inferredAt: 0 },
  };
}

describe('slidingWindow', () => {
  it('cuts overlapping windows of size T every stride frames, once T frames have arrived', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const frames = cold('abcdefg|', Object.fromEntries([...'abcdefg'].map((c, i) => [c, frame(i)])));
      expectObservable(frames.pipe(slidingWindow(3, 2, { clock: () => 0 }), seqs)).toBe('--x-y-z|', { x: '0,1,2', y: '2,3,4', z: '4,5,6' });
    });
  });

  it('with stride 1 emits a window per frame after warm-up, and with stride > T skips frames', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = Object.fromEntries([...'abcde'].map((c, i) => [c, frame(i)]));
      expectObservable(cold('abcde|', values).pipe(slidingWindow(2, 1, { clock: () => 0 }), seqs)).toBe('-wxyz|', { w: '0,1', x: '1,2', y: '2,3', z: '3,4' });
      expectObservable(cold('abcde|', values).pipe(slidingWindow(2, 3, { clock: () => 0 }), seqs)).toBe('--x--|', { x: '1,2' });
    });
  });

  it('starts over after a capture-time gap, so no window joins frames from both sides of it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // Frames 100 ms apart, then a 2 s hole (a reconnection) before frame 3.
      const at = [0, 100, 200, 2200, 2300, 2400, 2500];
      const values = Object.fromEntries([...'abcdefg'].map((c, i) => [c, frame(i, 's', at[i])]));
      expectObservable(cold('abcdefg|', values).pipe(slidingWindow(3, 1, { clock: () => 0, maxGapMs: 1000 }), seqs)).toBe('--x--yz|', { x: '0,1,2', y: '3,4,5', z: '4,5,6' });
      // Without a limit the window runs across the hole.
      expectObservable(cold('abcdefg|', values).pipe(slidingWindow(3, 1, { clock: () => 0 }), seqs)).toBe('--vwxyz|', { v: '0,1,2', w: '1,2,3', x: '2,3,4', y: '3,4,5', z: '4,5,6' });
    });
    expect(() => slidingWindow(3, 1, { maxGapMs: 0 })).toThrow(/maxGapMs/);
  });

  it('passes errors through and rejects bad sizes', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab#', { a: frame(0), b: frame(1) }).pipe(slidingWindow(2, 1, { clock: () => 0 }), seqs)).toBe('-x#', { x: '0,1' });
    });
    expect(() => slidingWindow(0, 1)).toThrow(/positive integer/);
    expect(() => slidingWindow(4, 1.5)).toThrow(/positive integer/);
  });
});

describe('adaptFrameRate', () => {
  it('thins 30 fps capture to 10 fps evenly and renumbers seq consecutively', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // Capture every 33.3 ms (30 fps): keep about every third frame.
      const values = Object.fromEntries([...'abcdefghi'].map((c, i) => [c, frame(i + 10, 's', i * 33.33)]));
      const out = cold('abcdefghi|', values).pipe(adaptFrameRate(10), map((f) => `${f.seq}@${Math.round(f.capturedAt)}`));
      expectObservable(out).toBe('a--d--g--|', { a: '0@0', d: '1@100', g: '2@200' });
    });
  });
});

describe('smoothScores', () => {
  it('EMA: each output is alpha·new + (1−alpha)·previous', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('abc|', { a: scored(0, [1, 0]), b: scored(1, [0, 1]), c: scored(2, [0, 1]) });
      const out = input.pipe(smoothScores({ method: 'ema', alpha: 0.5 }), map((w) => Array.from(w.probabilities.action!)));
      expectObservable(out).toBe('xyz|', { x: [1, 0], y: [0.5, 0.5], z: [0.25, 0.75] });
    });
  });

  it('mean: averages the last k windows, and each subscription starts fresh', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('abc|', { a: scored(0, [1, 0]), b: scored(1, [0, 1]), c: scored(2, [0, 1]) });
      const out = input.pipe(smoothScores({ method: 'mean', windows: 2 }), map((w) => Array.from(w.probabilities.action!)));
      expectObservable(out).toBe('xyz|', { x: [1, 0], y: [0.5, 0.5], z: [0, 1] });
      expectObservable(out).toBe('xyz|', { x: [1, 0], y: [0.5, 0.5], z: [0, 1] });
    });
    expect(() => smoothScores({ method: 'ema', alpha: 0 })).toThrow(/alpha/);
  });

  it('starts afresh after a gap in capture time instead of averaging across it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // Windows end at 50 and 150 ms; the third starts at 3000 ms, after a reconnection.
      const input = cold('abc|', { a: scored(0, [1, 0]), b: scored(1, [0, 1]), c: scored(30, [0, 1]) });
      const smoothed = (gap?: number) => input.pipe(smoothScores({ method: 'ema', alpha: 0.5 }, gap ? { maxGapMs: gap } : {}), map((w) => Array.from(w.probabilities.action!)));
      expectObservable(smoothed(1000)).toBe('xyz|', { x: [1, 0], y: [0.5, 0.5], z: [0, 1] });
      expectObservable(smoothed()).toBe('xyz|', { x: [1, 0], y: [0.5, 0.5], z: [0.25, 0.75] });
    });
  });
});

describe('segmentActions', () => {
  const labels = ['a', 'b', 'c'];
  /** Streaks of two windows to start and to end: the mechanics, independent of the tuned defaults. */
  const TWO_EACH_WAY = { startThreshold: 0.5, endThreshold: 0.3, minStartWindows: 2, minEndWindows: 2 };
  const events = mergeMap((w: SegmentedWindow) => w.events.map((e) => `${e.kind}:${e.label}`));

  it('starts after minStartWindows above the start threshold and ends with hysteresis, ignoring one-window blips', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const v = {
        n: scored(0, [0.2, 0.2, 0.6]), // c on top but it only lasts one window: no start
        a: scored(1, [0.7, 0.2, 0.1]),
        m: scored(2, [0.4, 0.3, 0.3]), // below start but above end: a continues
        l: scored(3, [0.1, 0.2, 0.25]), // below end
        b: scored(4, [0.1, 0.8, 0.1]),
      };
      const out = cold('naammalll|', v).pipe(segmentActions(labels, { startThreshold: 0.5, endThreshold: 0.3, minStartWindows: 2, minEndWindows: 2 }), events);
      // start:a at the second a; the m's (between thresholds) keep it; two l's in a row end it.
      expectObservable(out).toBe('--x----y-|', { x: 'start:a', y: 'end:a' });
    });
  });

  it('switches when another label qualifies, and closes an open action when the stream completes', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const v = { a: scored(1, [0.9, 0.05, 0.05]), b: scored(4, [0.1, 0.8, 0.1]) };
      const out = cold('aaabbbbbb|', v).pipe(segmentActions(labels, { minStartWindows: 2, minEndWindows: 2 }), events);
      // b's 2nd window is both a's 2nd end vote and b's 2nd qualifying window: end:a and start:b together.
      expectObservable(out).toBe('-s--(ex)-(f|)', { s: 'start:a', e: 'end:a', x: 'start:b', f: 'end:b' });
      // The closing record is marked final, so nobody mistakes it for a new window.
      const finals = cold('aaabbbbbb|', v).pipe(segmentActions(labels, {}), map((w) => w.final === true));
      expectObservable(finals).toBe('fffffffff(t|)', { f: false, t: true });
    });
  });

  it('reports the segment times from frame capture times and the mean confidence', () => {
    const out: string[] = [];
    scheduler().run(({ cold, flush }) => {
      const v = { a: scored(1, [0.8, 0.1, 0.1]), z: scored(9, [0.1, 0.1, 0.1]) };
      // Times: first window's first frame 100; ending window's last frame 950.
      cold('aazz|', { a: v.a, z: v.z })
        .pipe(segmentActions(labels, TWO_EACH_WAY), mergeMap((w) => w.events))
        .subscribe((e) => out.push(`${e.kind} ${e.label} ${e.start}-${e.end ?? ''} ${e.confidence.toFixed(2)}`));
      flush();
    });
    expect(out).toEqual(['start a 100- 0.80', 'end a 100-950 0.80']);
  });

  it('ends an open action where the stream was last seen when a gap follows, and starts over after it', () => {
    const out: string[] = [];
    scheduler().run(({ cold, flush }) => {
      const a = [0.9, 0.05, 0.05];
      // Windows ending at 150 and 250 ms, then a hole until 4000 ms.
      cold('pqrs|', { p: scored(1, a), q: scored(2, a), r: scored(40, a), s: scored(41, a) })
        .pipe(segmentActions(labels, { ...TWO_EACH_WAY, maxGapMs: 1000 }), mergeMap((w) => w.events))
        .subscribe((e) => out.push(`${e.kind} ${e.label} ${e.start}-${e.end ?? ''}`));
      flush();
    });
    // The streak before the hole does not count after it: r alone does not restart a, r + s do.
    expect(out).toEqual(['start a 100-', 'end a 100-250', 'start a 4000-', 'end a 4000-4150']);
  });

  it('never starts on an ignored label', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('aaa|', { a: scored(1, [0.9, 0.05, 0.05]) }).pipe(segmentActions(labels, { ignoreLabels: ['a'] }), events);
      expectObservable(out).toBe('---|');
    });
  });
});

describe('selectCaptionWindows', () => {
  it('captions when an action starts and otherwise at most once per interval of capture time', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const w = (seq: number, start = false): SegmentedWindow => ({
        ...scored(seq, [1]),
        lastCapturedAt: seq * 1000,
        events: start ? [{ streamId: 's', kind: 'start', label: 'a', confidence: 1, start: 0, stamps: { capturedAt: 0, windowReadyAt: 0, inferredAt: 0, emittedAt: 0 } }] : [],
      });
      const input = cold('abcdef|', { a: w(0), b: w(1), c: w(2, true), d: w(3), e: w(4), f: w(6) });
      const out = input.pipe(selectCaptionWindows(3000), map((t) => `${t.reason}@${t.window.lastSeq}`));
      expectObservable(out).toBe('i-a--j|', { i: 'interval@0', a: 'action-changed@2', j: 'interval@6' });
    });
  });
});

describe('InferenceStage', () => {
  it('batches windows from all streams into one engine call and routes each answer to its stream', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const engine = new DelayedEngine(5);
      const stage = new InferenceStage(engine, { maxBatch: 4, queueCapacity: 2, clock: () => 0, deferBatchStart: virtual });
      const tag = map((w: ScoredWindow) => `${w.streamId}${w.lastSeq}`);
      // w's window finds the engine idle and goes at once; a's and b's arrive while it is busy
      // and wait, then go together in the next call.
      const w = cold('x|', { x: window('w', 1) }).pipe(stage.infer('w'), tag);
      const a = cold('-x|', { x: window('a', 10) }).pipe(stage.infer('a'), tag);
      const b = cold('--x|', { x: window('b', 20) }).pipe(stage.infer('b'), tag);
      expectObservable(w).toBe('-----(x|)', { x: 'w1' });
      expectObservable(a).toBe('----------(x|)', { x: 'a10' });
      expectObservable(b).toBe('----------(x|)', { x: 'b20' });
      flush();
      expect(engine.batches.map((b) => [...b].sort())).toEqual([['w1'], ['a10', 'b20']]);
    });
  });

  it('under overload drops the oldest waiting windows, counts the drops per stream, and never queues more than its capacity', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const engine = new DelayedEngine(10);
      const stage = new InferenceStage(engine, { maxBatch: 1, queueCapacity: 2, clock: () => 0, deferBatchStart: virtual });
      const windows = Object.fromEntries([...'abcdefgh'].map((c, i) => [c, window('s', i)]));
      // Windows every 3 ms, the engine takes 10 ms per call, capacity 2:
      //  0 w0 runs (0–10) · 3 w1 waits · 6 w2 waits · 9 w3 evicts w1
      // 10 w2 runs (10–20) · 12 w4 waits · 15 w5 evicts w3 · 18 w6 evicts w4
      // 20 w5 runs · 21 w7 waits · 30 w6 runs · 40 w7 runs · 50 done.
      const out = cold('a--b--c--d--e--f--g--h|', windows).pipe(stage.infer('s'), map((w) => String(w.lastSeq)));
      expectObservable(out).toBe('10ms 0 9ms 2 9ms 5 9ms 6 9ms (7|)', { 0: '0', 2: '2', 5: '5', 6: '6', 7: '7' });
      flush();
      expect(stage.dropsFor('s')).toBe(3);
      expect(engine.batches.flat()).toEqual(['s0', 's2', 's5', 's6', 's7']);
    });
  });

  it('a stream id may attach only once at a time', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const stage = new InferenceStage(new DelayedEngine(1), { clock: () => 0, deferBatchStart: virtual });
      const first = cold('-x', { x: window('a', 1) }).pipe(stage.infer('a'));
      const second = cold('-x', { x: window('a', 1) }).pipe(stage.infer('a'));
      expectObservable(first.pipe(map(() => 'ok')), '^---!').toBe('--o-', { o: 'ok' });
      expectObservable(second, '^---!').toBe('#', undefined, new Error('stream "a" is already attached to the inference stage'));
    });
  });
});

describe('resizeRgb', () => {
  it('leaves a same-size image alone and resamples bilinearly with aligned pixel centres', () => {
    const img = Uint8Array.of(0, 0, 0, 200, 100, 50); // 2×1: black, then (200,100,50)
    expect(Array.from(resizeRgb(img, 2, 1, 2, 1))).toEqual(Array.from(img));
    // 4×1: centres at 0.25 and 0.75 of each source pixel → 0, 50, 150, 200 on the red channel.
    expect(Array.from(resizeRgb(img, 2, 1, 4, 1)).filter((_, i) => i % 3 === 0)).toEqual([0, 50, 150, 200]);
    // 1×1: the mean.
    expect(Array.from(resizeRgb(img, 2, 1, 1, 1))).toEqual([100, 50, 25]);
    expect(() => resizeRgb(img, 3, 1, 1, 1)).toThrow(/expected 3×1×3/);
  });
});

describe('decodeCaptions', () => {
  const trigger = (seq: number, reason: 'interval' | 'action-changed') => ({ window: { ...scored(seq, [1]), encoding: Float32Array.of(seq), events: [] }, reason });
  const slowCaption = (encoding: Float32Array) => timer(10).pipe(map(() => `c${encoding[0]}`));

  it('decodes one at a time, keeps only the newest waiting trigger, and never lets an interval displace an action change', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const triggers = cold('a-b-c-d--------------|', {
        a: trigger(1, 'interval'), // decodes 0–10
        b: trigger(2, 'interval'), // waits, replaced by c
        c: trigger(3, 'action-changed'), // waits
        d: trigger(4, 'interval'), // may not displace c: dropped
      });
      const out = triggers.pipe(decodeCaptions(slowCaption, () => 0), map((e) => `${e.reason}:${e.text}`));
      expectObservable(out).toBe('----------x---------y|', { x: 'interval:c1', y: 'action-changed:c3' });
    });
  });

  it('completes only after the caption in flight is out', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: trigger(1, 'interval') }).pipe(decodeCaptions(slowCaption, () => 0), map((e) => e.text));
      expectObservable(out).toBe('----------(x|)', { x: 'c1' });
    });
  });
});

describe('InferenceStage errors', () => {
  it('an engine that throws fails the streams in that batch and does not wedge the stage', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const engine = new DelayedEngine(2);
      let calls = 0;
      const inner = engine.inferBatch.bind(engine);
      engine.inferBatch = (windows) => {
        if (calls++ === 0) throw new Error('out of memory');
        return inner(windows);
      };
      const stage = new InferenceStage(engine, { clock: () => 0, deferBatchStart: virtual });
      const failing = cold('x|', { x: window('a', 1) }).pipe(stage.infer('a'), map((w) => w.lastSeq));
      const later = cold('---x|', { x: window('b', 7) }).pipe(stage.infer('b'), map((w) => w.lastSeq));
      expectObservable(failing).toBe('#', undefined, new Error('out of memory'));
      expectObservable(later).toBe('-----(x|)', { x: 7 });
    });
  });
});

describe('withReconnect', () => {
  const policy = { initialDelayMs: 10, maxDelayMs: 40, maxRetries: 4, connectTimeoutMs: 100, stallTimeoutMs: 20 };

  it('retries after capped exponential delays, resets the count once frames flow, and fails after maxRetries in a row', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const states: string[] = [];
      let attempt = 0;
      // Attempt 1 delivers a frame then drops; attempts 2–6 fail at once.
      const open = () => (attempt++ === 0 ? cold('a#', { a: 'f1' }) : cold('#'));
      const out = withReconnect(open, policy, (state, detail) => states.push(detail ? `${state}(${detail.replace(/^.*retry/, 'retry')})` : state));
      // drop at 1 → wait 10 → fail at 11 → 20 → 31 → 40 → 71 → 40 (capped) → 111 fails for good.
      expectObservable(out).toBe('a 110ms #', { a: 'f1' }, 'error'); // cold('#') errors with the string 'error'
      flush();
      expect(states).toEqual([
        'connecting',
        'live',
        'reconnecting(retry 1/4 in 10 ms)',
        'reconnecting',
        'reconnecting(retry 2/4 in 20 ms)',
        'reconnecting',
        'reconnecting(retry 3/4 in 40 ms)',
        'reconnecting',
        'reconnecting(retry 4/4 in 40 ms)',
        'reconnecting',
        'failed(error)',
      ]);
    });
  });

  it('treats a stall (no frame within stallTimeoutMs) and a clean end of stream as drops', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let attempt = 0;
      const open = () => [cold('a 50ms b', { a: 1, b: 2 }), cold('c|', { c: 3 }), cold('d-----', { d: 4 })][Math.min(attempt++, 2)]!;
      // 1 at 0, stall at 20 → retry in 10 → 3 at 30, ended at 31 → retry in 10 (count reset) → 4 at 41.
      expectObservable(withReconnect(open, policy, () => {}), '^ 60ms !').toBe('a 29ms c 10ms d', { a: 1, c: 3, d: 4 });
    });
  });
});

describe('adaptFrameRate after a pause', () => {
  it('re-anchors instead of bursting to catch up', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // 10 fps wanted; frames at 0, 100, then a 1 s gap, then every 50 ms.
      const times = [0, 100, 1100, 1150, 1200, 1250, 1300];
      const values = Object.fromEntries(times.map((t, i) => [String.fromCharCode(97 + i), frame(i, 's', t)]));
      const out = cold('abcdefg|', values).pipe(adaptFrameRate(10), map((f) => f.capturedAt));
      expectObservable(out).toBe('abc-e-g|', { a: 0, b: 100, c: 1100, e: 1200, g: 1300 });
    });
  });
});
