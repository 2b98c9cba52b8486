/** The two generated domains by name, and lookups over a catalogue. */
import { templateKey } from '../captions.js';
import { KITCHENWARE } from './kitchenware.js';
import { SOMETHING } from './something.js';
import type { Catalogue, Domain } from './types.js';

export const CATALOGUES: Readonly<Record<Domain, Catalogue>> = { something: SOMETHING, kitchenware: KITCHENWARE };

export function catalogueOf(domain: string): Catalogue {
  const c = (CATALOGUES as Record<string, Catalogue | undefined>)[domain];
  if (!c) throw new Error(`unknown domain "${domain}" (expected one of ${Object.keys(CATALOGUES).join(', ')})`);
  return c;
}

/** Index of a template given with or without brackets; throws naming the domain when unknown. */
export function templateIndex(catalogue: Catalogue, template: string): number {
  const key = templateKey(template).toLowerCase();
  const i = catalogue.templates.findIndex((t) => templateKey(t.template).toLowerCase() === key);
  if (i < 0) throw new Error(`unknown template "${template}" in domain ${catalogue.domain}`);
  return i;
}
