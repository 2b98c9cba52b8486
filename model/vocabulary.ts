/**
 * Caption words ↔ token ids. Captions are fixed-length sequences: <go> w1 … wn <end> <pad>…, with
 * words seen fewer than minCount times in the training captions mapped to <unk>.
 */
import { z } from 'zod';

export const PAD = '<pad>';
export const GO = '<go>';
export const END = '<end>';
export const UNK = '<unk>';
export const SPECIAL_TOKENS = [PAD, GO, END, UNK] as const;
export const PAD_ID = 0;
export const GO_ID = 1;
export const END_ID = 2;
export const UNK_ID = 3;

/** The paper's fixed caption length. */
export const DEFAULT_CAPTION_LENGTH = 14;

const vocabularyJsonSchema = z.strictObject({
  words: z.array(z.string().min(1)).min(4),
  length: z.number().int().min(3),
});
export type VocabularyJson = z.infer<typeof vocabularyJsonSchema>;

/** Lower-cases and splits on anything that is not a letter, digit or apostrophe. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((w) => w.length > 0);
}

export class Vocabulary {
  private readonly ids: Map<string, number>;

  private constructor(
    /** Index = token id; the first four are <pad> <go> <end> <unk>. */
    readonly words: readonly string[],
    /** Token length of every encoded caption (14 by default). */
    readonly length: number,
  ) {
    this.ids = new Map(words.map((w, i) => [w, i]));
    if (this.ids.size !== words.length) throw new Error('vocabulary has duplicate words');
    SPECIAL_TOKENS.forEach((t, i) => {
      if (words[i] !== t) throw new Error(`vocabulary must start with ${SPECIAL_TOKENS.join(' ')}`);
    });
  }

  /** Builds from training captions: words seen at least minCount times, most frequent first (ties alphabetical). */
  static build(captions: Iterable<string>, opts: { minCount?: number; length?: number } = {}): Vocabulary {
    const minCount = opts.minCount ?? 1;
    const counts = new Map<string, number>();
    for (const caption of captions) for (const w of tokenize(caption)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return new Vocabulary([...SPECIAL_TOKENS, ...kept.map(([w]) => w)], opts.length ?? DEFAULT_CAPTION_LENGTH);
  }

  get size(): number {
    return this.words.length;
  }

  /** Words a caption can hold: length minus <go> and <end>. */
  get maxWords(): number {
    return this.length - 2;
  }

  idOf(word: string): number {
    return this.ids.get(word) ?? UNK_ID;
  }

  /** text → exactly `length` ids: <go>, up to length−2 words (longer captions are cut), <end>, then <pad>. */
  encode(text: string): number[] {
    const words = tokenize(text).slice(0, this.maxWords);
    const ids = [GO_ID, ...words.map((w) => this.idOf(w)), END_ID];
    while (ids.length < this.length) ids.push(PAD_ID);
    return ids;
  }

  /** ids → text: skips <go> and <pad>, stops at <end>; unknown words read as <unk>. */
  decode(ids: Iterable<number>): string {
    const out: string[] = [];
    for (const id of ids) {
      if (id === END_ID) break;
      if (id === GO_ID || id === PAD_ID) continue;
      out.push(this.words[id] ?? UNK);
    }
    return out.join(' ');
  }

  toJSON(): VocabularyJson {
    return { words: [...this.words], length: this.length };
  }

  static fromJSON(json: unknown): Vocabulary {
    const parsed = vocabularyJsonSchema.safeParse(json);
    if (!parsed.success) throw new Error(`invalid vocabulary: ${z.prettifyError(parsed.error)}`);
    return new Vocabulary(parsed.data.words, parsed.data.length);
  }
}
