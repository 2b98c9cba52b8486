/**
 * Every caption target of the granularity study fits the decoder's 14 tokens (<go>, 12 words,
 * <end>): a cut caption loses the words that tell its action apart ("… closer to each other",
 * "… so it doesn't fall down"), which turns full captions into corrupted labels. Checked over the
 * clips the study's data maker actually plans (same assignment, same seeds, same nuisances), and
 * over the worst object phrase each template slot can receive.
 */
import { describe, expect, it } from 'vitest';
import { placeholderCount } from '../../data/captions.js';
import { SOMETHING } from '../../data/catalogue/something.js';
import { COLOURS, TEXTURES } from '../../data/catalogue/types.js';
import { assignRecords } from '../../data/generate.js';
import { Prng } from '../../data/prng.js';
import { planClip } from '../../data/render/clip.js';
import { DEFAULT_CAPTION_LENGTH, tokenize } from '../../model/vocabulary.js';
import { STUDY_DATA, studySourceDifficulty } from '../../training/experiment/plan.js';

const MAX_WORDS = DEFAULT_CAPTION_LENGTH - 2;

/** The plans of every clip of a generated set, as data/generate.ts makes them (no rendering). */
function plannedSet(count: number, seed: string) {
  const records = assignRecords(count, SOMETHING.templates.length, seed);
  const root = new Prng(seed).fork('domain:something');
  return records.map((r) => planClip(SOMETHING, r.templateIndex, root.fork(`clip:${r.clipSeed}`), studySourceDifficulty(), { fps: 12 }));
}

describe('caption targets fit the decoder', () => {
  for (const dataSeed of STUDY_DATA.dataSeeds) {
    const seed = String(STUDY_DATA.sourceSeed(dataSeed));
    it(`no full or simplified caption of the study's source set (seed ${seed}) is cut, and none names an unobservable size`, () => {
      const plans = plannedSet(STUDY_DATA.sourceClips, seed);
      expect(plans).toHaveLength(STUDY_DATA.sourceClips);
      const tooLong = plans.filter((p) => tokenize(p.caption).length > MAX_WORDS || tokenize(p.simplified).length > MAX_WORDS);
      expect(tooLong.map((p) => p.caption)).toEqual([]);
      const sized = plans.filter((p) => /\b(small|large)\b/.test(p.caption));
      expect(sized.map((p) => p.caption)).toEqual([]);
      // Attributes are still there: the full captions are finer than the simplified ones.
      expect(plans.filter((p) => p.caption !== p.simplified).length).toBeGreaterThan(plans.length / 2);
    });
  }

  it('fits in the worst case too: the longest phrase every slot can get, without a size word', () => {
    const longestColour = Math.max(...COLOURS.map((c) => tokenize(c.name).length));
    const longestTexture = Math.max(...TEXTURES.filter((t) => t !== 'plain').map((t) => tokenize(t).length));
    for (const t of SOMETHING.templates) {
      const fixed = tokenize(t.template.replace(/\[[^\]]+\]/g, ' ')).length;
      const phrases = t.slots.map((role) => {
        const nouns = SOMETHING.objects.filter((o) => o.roles.includes(role)).map((o) => tokenize(o.noun).length + (o.natural ? 0 : longestColour + longestTexture));
        return 1 + Math.max(...nouns); // article + (colour texture) noun
      });
      expect(placeholderCount(t.template)).toBe(t.slots.length);
      expect(fixed + phrases.reduce((s, n) => s + n, 0), t.template).toBeLessThanOrEqual(MAX_WORDS);
    }
  });

});
