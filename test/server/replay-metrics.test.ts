import { describe, expect, it } from 'vitest';
import {
  captionPairs,
  eventF1,
  frameAccuracy,
  latencySummary,
  parseAnnotations,
  scoreReplay,
  segmentsFromPredictions,
  temporalIoU,
} from '../../eval/replay.js';

describe('replay metrics (hand-computed)', () => {
  it('frame accuracy labels each annotated frame with the nearest window centre', () => {
    // fps 4 → frames 0, .25, .5, .75 in A and 2, 2.25, 2.5, 2.75 in B; the gap 1–2 is not scored.
    // Nearest predictions: A for the first four (✓✓✓✓), B at 2 and 2.25 (✓✓), A at 2.5 and 2.75 (✗✗).
    const truth = [
      { start: 0, end: 1, label: 'A' },
      { start: 2, end: 3, label: 'B' },
    ];
    const preds = [
      { t: 0.5, label: 'A' },
      { t: 2.0, label: 'B' },
      { t: 2.6, label: 'A' },
    ];
    expect(frameAccuracy(truth, preds, 4)).toEqual({ accuracy: 0.75, frames: 8, correct: 6 });
    expect(frameAccuracy(truth, [], 4).accuracy).toBe(0);
  });

  it('labels compare without regard to case, spacing or placeholder brackets', () => {
    const truth = [{ start: 0, end: 1, label: 'Pouring [something] into [something]' }];
    expect(frameAccuracy(truth, [{ t: 0.5, label: 'pouring  [something] into [something]' }], 2).accuracy).toBe(1);
    expect(frameAccuracy(truth, [{ t: 0.5, label: 'Pouring something into something' }], 2).accuracy).toBe(1);
    expect(frameAccuracy(truth, [{ t: 0.5, label: 'Pretending to pour something into something' }], 2).accuracy).toBe(0);
  });

  it('temporal IoU', () => {
    expect(temporalIoU({ start: 0, end: 2, label: '' }, { start: 1, end: 3, label: '' })).toBeCloseTo(1 / 3);
    expect(temporalIoU({ start: 0, end: 1, label: '' }, { start: 2, end: 3, label: '' })).toBe(0);
  });

  it('event F1 matches same-label segments one-to-one at IoU ≥ 0.5', () => {
    const truth = [
      { start: 0, end: 2, label: 'A' },
      { start: 3, end: 5, label: 'B' },
      { start: 6, end: 8, label: 'A' },
    ];
    const predicted = [
      { start: 0.5, end: 2, label: 'A' }, // IoU 0.75 → match
      { start: 3, end: 4, label: 'B' }, // IoU exactly 0.5 → match
      { start: 6, end: 8, label: 'B' }, // right time, wrong label
      { start: 6.5, end: 10, label: 'A' }, // IoU 1.5 / 4 = 0.375 → no
    ];
    const s = eventF1(truth, predicted);
    expect(s.matched).toBe(2);
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBeCloseTo(2 / 3);
    expect(s.f1).toBeCloseTo(4 / 7); // 2·(1/2)(2/3) / (1/2 + 2/3)

    const dup = eventF1([{ start: 0, end: 2, label: 'A' }], [
      { start: 0, end: 2, label: 'A' },
      { start: 0, end: 1.9, label: 'A' },
    ]);
    expect(dup).toMatchObject({ matched: 1, precision: 0.5, recall: 1 });
    expect(dup.f1).toBeCloseTo(2 / 3);
    expect(eventF1([], []).f1).toBe(0);
  });

  it('runs of equal top-1 labels become segments split halfway between windows', () => {
    const segs = segmentsFromPredictions([
      { t: 0, label: 'A' },
      { t: 1, label: 'A' },
      { t: 2, label: 'B' },
      { t: 3, label: 'B' },
    ]);
    expect(segs).toEqual([
      { start: 0, end: 1.5, label: 'A' },
      { start: 1.5, end: 3, label: 'B' },
    ]);
  });

  it('latency mean and nearest-rank p95', () => {
    expect(latencySummary([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])).toEqual({ mean: 55, p95: 100 });
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(latencySummary(twenty)).toEqual({ mean: 10.5, p95: 19 });
    expect(latencySummary([])).toBeNull();
  });

  it('each annotated caption is paired with the last caption emitted inside its segment', () => {
    const truth = parseAnnotations({
      segments: [
        { start: 0, end: 2, template: 'T1', caption: 'pouring water into a bowl' },
        { start: 2, end: 4, template: 'T2', caption: 'stirring soup with a spoon' },
        { start: 4, end: 6, template: 'T3' },
      ],
    });
    const pairs = captionPairs(truth, [
      { t: 0.5, text: 'first guess' },
      { t: 1.5, text: 'pouring water into a bowl' },
      { t: 4.5, text: 'too late' },
    ]);
    expect(pairs).toEqual([
      { candidate: 'pouring water into a bowl', references: ['pouring water into a bowl'] },
      { candidate: '', references: ['stirring soup with a spoon'] },
    ]);
  });

  it('scoreReplay: perfect output scores 1 everywhere', () => {
    const annotations = parseAnnotations([
      { start: 0, end: 2, template: 'Pouring [something] into [something]', caption: 'pouring water into a red bowl' },
      { start: 2, end: 4, template: 'Stirring [something]', caption: 'stirring soup in a blue pot' },
    ]);
    const report = scoreReplay(annotations, {
      fps: 2,
      predictions: [0, 0.5, 1, 1.5].map((t) => ({ t, label: 'Pouring [something] into [something]' })).concat(
        [2, 2.5, 3, 3.5].map((t) => ({ t, label: 'Stirring [something]' })),
      ),
      events: [],
      captions: [
        { t: 1, text: 'pouring water into a red bowl' },
        { t: 3, text: 'stirring soup in a blue pot' },
      ],
      latenciesMs: [40, 60],
    });
    expect(report.frameAccuracy).toBe(1);
    expect(report.scoredFrames).toBe(8);
    expect(report.eventSource).toBe('top-1 runs');
    expect(report.event.f1).toBe(1);
    expect(report.caption?.bleu[3]).toBeCloseTo(1);
    expect(report.latencyMs).toEqual({ mean: 50, p95: 60 });
  });

  it('rejects a malformed annotation file with a message naming the problem', () => {
    expect(() => parseAnnotations([{ start: 3, end: 1, template: 'x' }], 'a.json')).toThrow(/a\.json.*end after/);
    expect(() => parseAnnotations({ nope: 1 }, 'b.json')).toThrow(/b\.json/);
  });
});
