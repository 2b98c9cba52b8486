/**
 * The dashboard's label and timeline helpers: one colour and one legend entry per action however
 * its label is spelled (annotations use SSv2 templates, predictions the plain names), the idle class
 * grey rather than an action colour, time ticks over the live window, segment labels only where
 * they fit, and the notes that say why caption, top action and last segment can differ.
 */
import { describe, expect, it } from 'vitest';
import { IDLE_COLOUR, isIdle, labelColour, legendLabels } from '../../client/src/lib/labels.js';
import { captionNote, elapsedTicks, fitLabel, liveTickText, segmentSummary, timeTicks } from '../../client/src/lib/timeline.js';
import { normaliseLabel, sameLabel } from '../../eval/replay.js';

describe('action labels in the dashboard', () => {
  const truth = ['Pouring [something] into [something]', 'No action', 'Opening [something]', 'Pouring [something] into [something]'];
  const predicted = ['Pouring something into something', 'opening  something', 'Stirring something'];

  it('one legend entry per action, the idle class left out', () => {
    expect(legendLabels([...truth, ...predicted])).toEqual(['Pouring [something] into [something]', 'Opening [something]', 'Stirring something']);
  });

  it('the same action gets the same colour in both spellings, with a palette and without', () => {
    const palette = legendLabels([...truth, ...predicted]);
    expect(labelColour('Pouring something into something', palette)).toBe(labelColour('Pouring [something] into [something]', palette));
    expect(labelColour('opening  something', palette)).toBe(labelColour('Opening [something]', palette));
    expect(labelColour('Pouring something into something')).toBe(labelColour('Pouring [something] into [something]'));
    expect(labelColour('Stirring something', palette)).not.toBe(labelColour('Opening [something]', palette));
  });

  it('"No action" is idle and grey, not an action hue', () => {
    expect(isIdle('No action')).toBe(true);
    expect(isIdle('no  action')).toBe(true);
    expect(isIdle('Opening [something]')).toBe(false);
    expect(labelColour('No action', ['No action', 'Opening [something]'])).toBe(IDLE_COLOUR);
  });

  it('uses the same normalisation as the server-side evaluation', () => {
    expect(normaliseLabel('Pouring [something] into [something]')).toBe('pouring something into something');
    expect(sameLabel('Pouring [something] into [something]', 'Pouring something into something')).toBe(true);
  });
});

describe('timeline layout', () => {
  it('ticks every 10 s of the 60 s live window, "now" at the right end', () => {
    const ticks = timeTicks(40_000, 100_000, 10_000, liveTickText);
    expect(ticks.map((t) => t.text)).toEqual(['−60 s', '−50 s', '−40 s', '−30 s', '−20 s', '−10 s', 'now']);
    expect(ticks[0]!.x).toBeCloseTo(0);
    expect(ticks[6]!.x).toBeCloseTo(1);
    expect(ticks[3]!.x).toBeCloseTo(0.5);
  });

  it('evaluation ticks step by 1, 2 or 5 × 10^n from 0', () => {
    expect(elapsedTicks(60).map((t) => t.text)).toEqual(['0 s', '10 s', '20 s', '30 s', '40 s', '50 s', '60 s']);
    expect(elapsedTicks(7).map((t) => t.text)).toEqual(['0 s', '2 s', '4 s', '6 s']);
    expect(elapsedTicks(0)).toEqual([]);
  });

  it('a segment shows its label only when wide enough', () => {
    expect(fitLabel('Opening …', 200)).toBe('Opening …');
    expect(fitLabel('Pouring … into …', 60)).toBe('Pouring…');
    expect(fitLabel('Pouring … into …', 20)).toBe('');
  });

  it('the card says what each of its three action texts is', () => {
    expect(captionNote('action-changed', 3200)).toBe('Caption written when the last action started · 3 s ago');
    expect(captionNote('interval', 200)).toMatch(/^Caption of a recent window/);
    expect(segmentSummary([])).toBeNull();
    expect(segmentSummary([{ label: 'A', end: 5 }, { label: 'B' }])).toBe('Last finished segment: A · now in segment: B');
    expect(segmentSummary([{ label: 'A' }])).toBe('In segment: A');
    expect(segmentSummary([{ label: 'A', end: 1 }, { label: 'B', end: 2 }])).toBe('Last finished segment: B');
  });
});
