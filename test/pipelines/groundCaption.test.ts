import { describe, expect, it } from 'vitest';
import { groundCaption } from '../../pipelines/groundCaption.js';

describe('groundCaption', () => {
  it('names the objects the detectors saw, with the catalogue noun, and says where each word came from', () => {
    const g = groundCaption('Cutting something with something', 'Cutting a red striped tomato with a blue knife', ['knife', 'sandwich', 'cup'])!;
    expect(g.text).toBe('Cutting a bread with a knife');
    expect(g.words).toEqual([
      { text: 'Cutting', source: 'template' },
      { text: 'a bread', source: 'detector' },
      { text: 'with', source: 'template' },
      { text: 'a knife', source: 'detector' },
    ]);
  });

  it("keeps the decoder's words for a slot nothing was seen for", () => {
    const g = groundCaption('Pouring something into something', 'Pouring milk into a small green bowl', ['bowl'])!;
    expect(g.text).toBe('Pouring milk into a bowl');
    expect(g.words.find((w) => w.text === 'milk')?.source).toBe('decoder');
  });

  it('grounds nothing when no seen object fits a slot, the action is idle or unknown', () => {
    expect(groundCaption('Cutting something with something', 'Cutting a tomato with a knife', ['cup'])).toBeNull();
    expect(groundCaption('No action', 'No action', ['cup'])).toBeNull();
    expect(groundCaption('Measuring flour', 'Measuring flour', ['bowl'])).toBeNull();
  });
});
