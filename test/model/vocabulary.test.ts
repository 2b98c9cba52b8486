import { describe, expect, it } from 'vitest';
import { END_ID, GO_ID, PAD_ID, UNK_ID, Vocabulary, tokenize } from '../../model/vocabulary.js';

describe('Vocabulary', () => {
  const captions = ['Pouring water into a bowl', 'pouring milk into a cup', 'Putting a cup onto a plate'];

  it('keeps words seen at least minCount times, after the four special tokens', () => {
    const v = Vocabulary.build(captions, { minCount: 2 });
    expect(v.words.slice(0, 4)).toEqual(['<pad>', '<go>', '<end>', '<unk>']);
    expect(new Set(v.words.slice(4))).toEqual(new Set(['pouring', 'into', 'a', 'cup']));
    expect(v.words[4]).toBe('a'); // the most frequent word first
  });

  it('encodes to exactly 14 ids: <go>, words, <end>, padding; rare words become <unk>', () => {
    const v = Vocabulary.build(captions, { minCount: 2 });
    const ids = v.encode('pouring juice into a cup');
    expect(ids).toHaveLength(14);
    expect(ids.slice(0, 7)).toEqual([GO_ID, v.idOf('pouring'), UNK_ID, v.idOf('into'), v.idOf('a'), v.idOf('cup'), END_ID]);
    expect(ids.slice(7)).toEqual(Array(7).fill(PAD_ID));
    expect(v.decode(ids)).toBe('pouring <unk> into a cup');
  });

  it('cuts captions longer than 12 words and still ends with <end>', () => {
    const v = Vocabulary.build(['a b c d e f g h i j k l m n o']);
    const ids = v.encode('a b c d e f g h i j k l m n o');
    expect(ids).toHaveLength(14);
    expect(ids[13]).toBe(END_ID);
    expect(v.decode(ids)).toBe('a b c d e f g h i j k l');
  });

  it('decode stops at <end> and skips <go>/<pad>', () => {
    const v = Vocabulary.build(captions);
    expect(v.decode([GO_ID, v.idOf('cup'), END_ID, v.idOf('bowl')])).toBe('cup');
  });

  it('round-trips through JSON and rejects malformed JSON', () => {
    const v = Vocabulary.build(captions, { minCount: 1 });
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
    expect(back.words).toEqual(v.words);
    expect(back.encode(captions[0]!)).toEqual(v.encode(captions[0]!));
    expect(() => Vocabulary.fromJSON({ words: ['a', 'b', 'c', 'd'], length: 14 })).toThrow(/must start with <pad>/);
    expect(() => Vocabulary.fromJSON({ words: 'x' })).toThrow(/invalid vocabulary/);
  });

  it('tokenizes case- and punctuation-insensitively', () => {
    expect(tokenize("Putting [something] onto, the CUP's rim!")).toEqual(['putting', 'something', 'onto', 'the', "cup's", 'rim']);
  });
});
