import { describe, expect, it } from 'vitest';
import { TemplateMatcher, actionCorrect, captionReport, ciderD, corpusBleu, exactMatch, tokenize } from '../../eval/caption.js';
import { classificationReport, confusionMatrix, rankScores, topKAccuracy } from '../../eval/classification.js';

describe('BLEU', () => {
  it('matches the hand-computed clipped precisions of a classic example', () => {
    // cand: the cat sat on the mat / ref: the cat is on the mat
    // p1 = 5/6, p2 = 3/5, p3 = 1/4, p4 = 0/3, equal lengths → BP = 1
    const { bleu, precisions, brevityPenalty } = corpusBleu([{ candidate: 'The cat sat on the mat.', references: ['the cat is on the mat'] }]);
    expect(precisions).toEqual([5 / 6, 3 / 5, 1 / 4, 0]);
    expect(brevityPenalty).toBe(1);
    expect(bleu[0]).toBeCloseTo(5 / 6, 12);
    expect(bleu[1]).toBeCloseTo(Math.sqrt(0.5), 12);
    expect(bleu[2]).toBeCloseTo(0.5, 12);
    expect(bleu[3]).toBe(0);
  });

  it('penalises short candidates and clips repeated words', () => {
    const short = corpusBleu([{ candidate: 'the cat', references: ['the cat is on the mat'] }]);
    expect(short.brevityPenalty).toBeCloseTo(Math.exp(1 - 6 / 2), 12);
    expect(short.bleu[1]).toBeCloseTo(Math.exp(-2), 12);
    const repeated = corpusBleu([{ candidate: 'the the the', references: ['the cat'] }]);
    expect(repeated.precisions[0]).toBeCloseTo(1 / 3, 12);
  });

  it('pools counts over the corpus rather than averaging sentence scores', () => {
    const { precisions } = corpusBleu([
      { candidate: 'a b', references: ['a b'] },
      { candidate: 'c d e f', references: ['x y z w'] },
    ]);
    expect(precisions[0]).toBeCloseTo(2 / 6, 12);
  });

  it('uses the reference closest in length for the brevity penalty', () => {
    const { brevityPenalty } = corpusBleu([{ candidate: 'a b c', references: ['a b c d e f g h', 'a b c d'] }]);
    expect(brevityPenalty).toBeCloseTo(Math.exp(1 - 4 / 3), 12);
  });
});

describe('CIDEr-D', () => {
  it('gives 10 to perfect captions of a set whose items share no n-gram', () => {
    const { score } = ciderD([
      { candidate: 'a b c d', references: ['a b c d'] },
      { candidate: 'e f g h', references: ['e f g h'] },
    ]);
    expect(score).toBeCloseTo(10, 12);
  });

  it('matches a hand computation with partial overlap', () => {
    // IDF weight of every n-gram here is log 2. Item 2: unigram cosine 1/2, bigram 0 → 10·0.5/4.
    const { perItem, score } = ciderD([
      { candidate: 'a b', references: ['a b'] },
      { candidate: 'c d', references: ['c e'] },
    ]);
    expect(perItem[0]).toBeCloseTo(5, 12);
    expect(perItem[1]).toBeCloseTo(1.25, 12);
    expect(score).toBeCloseTo(3.125, 12);
  });

  it('clips repeated words and applies the Gaussian length penalty', () => {
    // "a a" vs "a": min(2w, w)·w / (2w · w) = 1/2 for n = 1; no bigram in the reference; length gap 1.
    const { perItem } = ciderD([
      { candidate: 'a a', references: ['a'] },
      { candidate: 'b', references: ['b'] },
    ]);
    expect(perItem[0]).toBeCloseTo((10 * 0.5 * Math.exp(-1 / 72)) / 4, 12);
    expect(perItem[1]).toBeCloseTo(2.5, 12);
  });

  it('gives n-grams found in every item no weight', () => {
    const { score } = ciderD([
      { candidate: 'the', references: ['the cup'] },
      { candidate: 'the', references: ['the bowl'] },
    ]);
    expect(score).toBe(0);
  });
});

describe('exact match, action correct', () => {
  const templates = [
    'Putting [something] into [something]',
    'Putting [something] onto [something]',
    'Pouring [something] into [something]',
    'Putting [something] into [something] until it overflows',
    '[Something] falling like a rock',
  ];
  const matcher = new TemplateMatcher(templates);

  it('tokenises case- and punctuation-insensitively', () => {
    expect(tokenize('Pouring water, into a Cup!')).toEqual(['pouring', 'water', 'into', 'a', 'cup']);
    expect(exactMatch([{ candidate: 'Putting cup into bowl.', references: ['putting cup into bowl'] }])).toBe(1);
    expect(exactMatch([{ candidate: 'putting cup into bowl', references: ['putting cup onto bowl'] }])).toBe(0);
  });

  it('finds the template of full and simplified captions', () => {
    expect(matcher.match('putting a red cup into the bowl')).toBe(0);
    expect(matcher.match('putting something onto something')).toBe(1);
    expect(matcher.match('pouring water into cup')).toBe(2);
    expect(matcher.match('a spoon falling like a rock')).toBe(4);
    expect(matcher.match('putting into bowl')).toBe(-1); // empty slot
    expect(matcher.match('stirring soup')).toBe(-1);
  });

  it('prefers the most specific template', () => {
    expect(matcher.match('putting water into cup until it overflows')).toBe(3);
  });

  it('counts a caption with the right action but wrong objects as action-correct, not exact', () => {
    const pairs = [
      { candidate: 'putting spoon into bowl', references: ['putting cup into bowl'] },
      { candidate: 'putting cup onto bowl', references: ['putting cup into bowl'] },
    ];
    expect(actionCorrect(pairs, matcher)).toBe(0.5);
    const report = captionReport(pairs, matcher);
    expect(report.exactMatch).toBe(0);
    expect(report.actionCorrect).toBe(0.5);
    expect(report.bleu1).toBeCloseTo(6 / 8, 12);
  });
});

describe('classification metrics', () => {
  const preds = [
    { label: 0, ranked: [0, 1, 2] },
    { label: 0, ranked: [1, 0, 2] },
    { label: 1, ranked: [1, 2, 0] },
    { label: 2, ranked: [0, 1, 2] },
  ];

  it('computes top-k, per-class accuracy and the confusion matrix', () => {
    expect(topKAccuracy(preds, 1)).toBe(0.5);
    expect(topKAccuracy(preds, 2)).toBe(0.75);
    const r = classificationReport(preds, 4);
    expect(r.top5).toBe(1);
    expect(r.confusion).toEqual([
      [1, 1, 0, 0],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(r.perClassAccuracy.slice(0, 3)).toEqual([0.5, 1, 0]);
    expect(Number.isNaN(r.perClassAccuracy[3])).toBe(true);
    expect(r.meanClassAccuracy).toBeCloseTo(0.5, 12);
    expect(r.support).toEqual([2, 1, 1, 0]);
  });

  it('ranks scores stably and rejects labels outside the class range', () => {
    expect(rankScores([0.1, 0.7, 0.7, 0.2], 3)).toEqual([1, 2, 3]);
    expect(() => confusionMatrix([{ label: 5, ranked: [0] }], 3)).toThrow(/outside/);
  });
});

describe('SVG charts', () => {
  /** Every tag's attributes are unique and every opened element is closed: what an XML parser rejects first. */
  function expectWellFormed(svg: string): void {
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-z]+)([^>]*?)(\/?)>/g)) {
      const [, closing, name, attrs, selfClosing] = m;
      const names = [...attrs.matchAll(/([a-z-]+)="[^"]*"/g)].map((a) => a[1]);
      expect(new Set(names).size, `duplicate attribute in <${name}${attrs}>`).toBe(names.length);
      if (closing) expect(stack.pop()).toBe(name);
      else if (!selfClosing) stack.push(name);
    }
    expect(stack).toEqual([]);
  }

  it('draws well-formed line, confusion and bar charts that carry their data', async () => {
    const { lineChartSvg, confusionMatrixSvg, barChartSvg } = await import('../../eval/charts.js');
    const line = lineChartSvg({ title: 'loss <1>', xLabel: 'step', yLabel: 'loss', series: [{ name: 'train', points: [[1, 2], [2, 1.5], [3, 1]] }] });
    expectWellFormed(line);
    expect(line).toContain('loss &lt;1&gt;');
    const conf = confusionMatrixSvg([[2, 1], [0, 3]], ['pour', 'stir'], 'test');
    expectWellFormed(conf);
    expect(conf).toContain('<title>pour → stir: 1</title>');
    expect(conf.match(/<rect x="\d+" y="\d+" width/g)).toHaveLength(4);
    const bars = barChartSvg('t', 'y', [{ label: 'groups', bars: [{ series: 'a', mean: 40, spread: 3 }] }]);
    expectWellFormed(bars);
    expect(bars).toContain('groups / a: 40 ± 3');
  });
});
