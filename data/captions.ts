/**
 * The four label granularities of a clip, defined as in Mahdisoltani et al. (2018):
 *   1. coarse group   – one of the action groups (50 on SSv2), e.g. "Putting something somewhere";
 *   2. fine action    – the template with its placeholders left as "something" (174 on SSv2),
 *                       e.g. "Putting something into something": the class names of the labels file;
 *   3. simplified caption – the template with each placeholder filled by the object's category noun
 *                       alone, e.g. "Putting ball into box";
 *   4. full caption   – the template filled with the full object phrases, attributes included
 *                       (size, colour, texture), e.g. "Putting a small red striped ball into a blue box";
 *                       this is SSv2's `label` field (which SSv2 writes in lower case).
 */

/**
 * A placeholder: any bracketed part. Ours are all `[something]`; real SSv2 also has `[Something]`
 * at the start of a template and `[number of]` ("Stacking [number of] [something]").
 */
const PLACEHOLDER = /\[[^\]]+\]/g;

export function placeholderCount(template: string): number {
  return (template.match(PLACEHOLDER) ?? []).length;
}

/** "Putting [something] into [something]" → "Putting something into something" (the labels-file key). */
export function templateKey(template: string): string {
  return template.replace(/\[([^\]]*)\]/g, '$1');
}

/** Fills each placeholder in order with the given words. */
export function fillTemplate(template: string, words: readonly string[]): string {
  let i = 0;
  const out = template.replace(PLACEHOLDER, () => {
    const w = words[i++];
    if (w === undefined) throw new Error(`template "${template}" has more placeholders than the ${words.length} words given`);
    return w;
  });
  if (i !== words.length) throw new Error(`template "${template}" has ${i} placeholders but ${words.length} words were given`);
  return out;
}

/** SSv2's `label`: the full caption starting in lower case. */
export function ssv2Label(fullCaption: string): string {
  return fullCaption.charAt(0).toLowerCase() + fullCaption.slice(1);
}

/** "a" or "an" before a word. */
export function withArticle(phrase: string): string {
  return (/^[aeiou]/i.test(phrase) ? 'an ' : 'a ') + phrase;
}

/**
 * The category noun of a free-text SSv2 placeholder ("a red pen" → "pen"), used when a real set
 * has no side file: its last word, without articles.
 */
export function headNoun(placeholder: string): string {
  const words = placeholder.trim().toLowerCase().split(/\s+/).filter((w) => !['a', 'an', 'the', 'some'].includes(w));
  return words[words.length - 1] ?? placeholder;
}

/** Swaps the words left and right: the caption of a mirrored clip. */
export function swapLeftRight(text: string): string {
  return text.replace(/\b(left|right)\b/gi, (m) => {
    const swapped = m.toLowerCase() === 'left' ? 'right' : 'left';
    return m[0] === m[0]!.toUpperCase() ? swapped[0]!.toUpperCase() + swapped.slice(1) : swapped;
  });
}
