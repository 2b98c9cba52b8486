/**
 * Caption metrics: corpus BLEU-1…4, CIDEr-D, exact match and "action correct".
 *
 * Definitions (as implemented here, so numbers can be checked by hand):
 *
 * Tokens: a caption is lower-cased and split on every character that is not a letter, digit or
 * apostrophe (`tokenize`; the same rule as the model's vocabulary, so decoded captions and
 * references split alike).
 *
 * BLEU-N (Papineni et al. 2002, corpus level, as coco-caption computes it):
 *   p_n   = Σ_i Σ_g min(c_i(g), max_r r_i,r(g)) / Σ_i Σ_g c_i(g)     (clipped n-gram precision, g of length n)
 *   BP    = 1 if C > R else exp(1 − R / C), C = Σ candidate lengths, R = Σ per-candidate reference length
 *           closest to the candidate's length (ties → the shorter reference)
 *   BLEU-N = BP · exp( (1/N) Σ_{n=1..N} log p_n )   (0 when any p_n is 0; no smoothing)
 *
 * CIDEr-D (Vedantam et al. 2015, the "-D" variant of coco-caption's cider scorer):
 *   each sentence becomes, for n = 1…4, a TF-IDF vector over its n-grams:
 *     v(g) = count(g) · (log |I| − log max(1, df(g)))
 *   where |I| is the number of evaluated items and df(g) the number of items whose references contain g.
 *   For a candidate c with references r_1…r_m:
 *     sim_n(c, r) = Σ_g min(v_c(g), v_r(g)) · v_r(g) / (‖v_c‖ ‖v_r‖) · exp(−(ℓ_c − ℓ_r)² / (2·6²))
 *     CIDEr-D(c) = 10 · (1/m) Σ_r (1/4) Σ_n sim_n(c, r)
 *   (min(…) clips repeated words; ℓ is the token count; a zero-norm vector gives 0 for that n.)
 *   The corpus score is the mean over items. IDF comes from the evaluated set's own references,
 *   so a score depends on the set: with a single item every IDF is 0 and so is the score.
 *
 * Exact match: fraction of items whose candidate token sequence equals one reference's.
 *
 * Action correct: fraction of items whose candidate matches the same action template as the
 * reference (see `TemplateMatcher`): the caption names the right action, whatever the objects.
 */

export type Tokens = readonly string[];

export function tokenize(caption: string): string[] {
  return caption
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter((t) => t.length > 0);
}

/** One evaluated item: a candidate caption and its reference captions (at least one). */
export interface CaptionPair {
  readonly candidate: string;
  readonly references: readonly string[];
}

function ngramCounts(tokens: Tokens, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export interface BleuScores {
  /** BLEU-1…BLEU-4, index 0 = BLEU-1. */
  readonly bleu: readonly [number, number, number, number];
  /** Clipped precisions p_1…p_4. */
  readonly precisions: readonly [number, number, number, number];
  readonly brevityPenalty: number;
}

export function corpusBleu(pairs: readonly CaptionPair[]): BleuScores {
  const matched = [0, 0, 0, 0];
  const total = [0, 0, 0, 0];
  let candLen = 0;
  let refLen = 0;
  for (const { candidate, references } of pairs) {
    if (references.length === 0) throw new Error('corpusBleu: an item has no reference caption');
    const cand = tokenize(candidate);
    const refs = references.map(tokenize);
    candLen += cand.length;
    refLen += closestRefLength(cand.length, refs);
    for (let n = 1; n <= 4; n++) {
      const maxRef = new Map<string, number>();
      for (const r of refs) for (const [g, c] of ngramCounts(r, n)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, c));
      for (const [g, c] of ngramCounts(cand, n)) {
        matched[n - 1] += Math.min(c, maxRef.get(g) ?? 0);
        total[n - 1] += c;
      }
    }
  }
  const precisions = matched.map((m, i) => (total[i] > 0 ? m / total[i] : 0)) as [number, number, number, number];
  const brevityPenalty = candLen === 0 ? 0 : candLen > refLen ? 1 : Math.exp(1 - refLen / candLen);
  const bleu = [1, 2, 3, 4].map((N) => {
    const ps = precisions.slice(0, N);
    if (ps.some((p) => p === 0)) return 0;
    return brevityPenalty * Math.exp(ps.reduce((s, p) => s + Math.log(p), 0) / N);
  }) as [number, number, number, number];
  return { bleu, precisions, brevityPenalty };
}

function closestRefLength(candLen: number, refs: readonly Tokens[]): number {
  let best = refs[0].length;
  for (const r of refs) {
    const d = Math.abs(r.length - candLen);
    const bd = Math.abs(best - candLen);
    if (d < bd || (d === bd && r.length < best)) best = r.length;
  }
  return best;
}

const CIDER_N = 4;
const CIDER_SIGMA = 6;

interface TfIdf {
  readonly vectors: Map<string, number>[];
  readonly norms: number[];
  readonly length: number;
}

/** Per-item CIDEr-D scores and their mean. */
export function ciderD(pairs: readonly CaptionPair[]): { score: number; perItem: number[] } {
  if (pairs.length === 0) return { score: 0, perItem: [] };
  const refTokens = pairs.map((p) => p.references.map(tokenize));
  const df = new Map<string, number>();
  for (const refs of refTokens) {
    const seen = new Set<string>();
    for (const r of refs) for (let n = 1; n <= CIDER_N; n++) for (const g of ngramCounts(r, n).keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const logItems = Math.log(pairs.length);
  const tfidf = (tokens: Tokens): TfIdf => {
    const vectors: Map<string, number>[] = [];
    const norms: number[] = [];
    for (let n = 1; n <= CIDER_N; n++) {
      const v = new Map<string, number>();
      let sq = 0;
      for (const [g, c] of ngramCounts(tokens, n)) {
        const w = c * (logItems - Math.log(Math.max(1, df.get(g) ?? 0)));
        v.set(g, w);
        sq += w * w;
      }
      vectors.push(v);
      norms.push(Math.sqrt(sq));
    }
    return { vectors, norms, length: tokens.length };
  };
  const perItem = pairs.map((p, i) => {
    const cand = tfidf(tokenize(p.candidate));
    let sum = 0;
    for (const refTok of refTokens[i]) {
      const ref = tfidf(refTok);
      const penalty = Math.exp(-((cand.length - ref.length) ** 2) / (2 * CIDER_SIGMA ** 2));
      for (let n = 0; n < CIDER_N; n++) {
        if (cand.norms[n] === 0 || ref.norms[n] === 0) continue;
        let dot = 0;
        for (const [g, w] of cand.vectors[n]) {
          const r = ref.vectors[n].get(g);
          if (r !== undefined) dot += Math.min(w, r) * r;
        }
        sum += (dot / (cand.norms[n] * ref.norms[n])) * penalty;
      }
    }
    return (10 * sum) / CIDER_N / refTokens[i].length;
  });
  return { score: perItem.reduce((s, x) => s + x, 0) / perItem.length, perItem };
}

export function exactMatch(pairs: readonly CaptionPair[]): number {
  if (pairs.length === 0) return 0;
  let hits = 0;
  for (const { candidate, references } of pairs) {
    const c = tokenize(candidate).join(' ');
    if (references.some((r) => tokenize(r).join(' ') === c)) hits++;
  }
  return hits / pairs.length;
}

/**
 * Finds which action template a caption instantiates. A template such as
 * "Putting [something] into [something]" matches any caption whose tokens are the template's
 * literal words with one or more tokens in each bracket slot ("putting a cup into the bowl",
 * or the simplified "putting something into something"). When several templates match, the one
 * with the most literal words wins (the most specific), ties going to the earlier template.
 */
export class TemplateMatcher {
  private readonly patterns: { index: number; regex: RegExp; literalWords: number }[];

  constructor(readonly templates: readonly string[]) {
    this.patterns = templates.map((t, index) => {
      const literal = t.split(/\[[^\]]*\]/).map((part) => tokenize(part));
      return { index, regex: buildRegex(literal), literalWords: literal.flat().length };
    });
  }

  /** Template index, or -1 when the caption fits no template. */
  match(caption: string): number {
    const text = tokenize(caption).join(' ');
    let best = -1;
    let bestWords = -1;
    for (const p of this.patterns) {
      if (p.literalWords > bestWords && p.regex.test(text)) {
        best = p.index;
        bestWords = p.literalWords;
      }
    }
    return best;
  }
}

/** Literal word groups separated by slots of ≥ 1 token; token boundaries are single spaces. */
function buildRegex(literal: string[][]): RegExp {
  const slot = "[^ ]+(?: [^ ]+)*";
  const pieces: string[] = [];
  literal.forEach((words, i) => {
    if (i > 0) pieces.push(slot);
    if (words.length > 0) pieces.push(words.map(escapeRegex).join(' '));
  });
  return new RegExp('^' + pieces.join(' ') + '$');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function actionCorrect(pairs: readonly CaptionPair[], matcher: TemplateMatcher): number {
  if (pairs.length === 0) return 0;
  let hits = 0;
  for (const { candidate, references } of pairs) {
    const want = matcher.match(references[0]);
    if (want >= 0 && matcher.match(candidate) === want) hits++;
  }
  return hits / pairs.length;
}

export interface CaptionReport {
  readonly items: number;
  readonly bleu1: number;
  readonly bleu2: number;
  readonly bleu3: number;
  readonly bleu4: number;
  readonly ciderD: number;
  readonly exactMatch: number;
  /** Present when a template matcher was given. */
  readonly actionCorrect?: number;
}

export function captionReport(pairs: readonly CaptionPair[], matcher?: TemplateMatcher): CaptionReport {
  const { bleu } = corpusBleu(pairs);
  return {
    items: pairs.length,
    bleu1: bleu[0],
    bleu2: bleu[1],
    bleu3: bleu[2],
    bleu4: bleu[3],
    ciderD: ciderD(pairs).score,
    exactMatch: exactMatch(pairs),
    ...(matcher ? { actionCorrect: actionCorrect(pairs, matcher) } : {}),
  };
}
