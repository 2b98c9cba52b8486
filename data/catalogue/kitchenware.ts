/**
 * Target domain "kitchenware" (after 20bn-kitchenware): kitchen objects and 22 fine-grained
 * kitchen actions. Pairs differ only in motion detail: pouring / pretending to pour; stirring
 * (slow, wide) / whisking (fast, small); lid on / lid off / pretending to put a lid on; cutting /
 * pretending to cut; sliding left / right.
 */
import { NO_ACTION, type Catalogue, type ObjectKind, type TemplateSpec } from './types.js';

const objects: readonly ObjectKind[] = [
  { noun: 'cup', shape: 'cup', size: [0.15, 0.17], roles: ['item', 'container', 'oriented'] },
  { noun: 'mug', shape: 'mug', size: [0.16, 0.17], roles: ['item', 'container', 'oriented'] },
  { noun: 'glass', shape: 'glass', size: [0.13, 0.19], roles: ['item', 'container', 'oriented'] },
  { noun: 'bowl', shape: 'bowl', size: [0.28, 0.14], roles: ['container', 'item'] },
  { noun: 'pot', shape: 'pot', size: [0.32, 0.2], roles: ['container', 'lidded'] },
  { noun: 'saucepan', shape: 'pan', size: [0.3, 0.09], roles: ['lidded', 'pan'] },
  { noun: 'frying pan', shape: 'pan', size: [0.34, 0.06], roles: ['pan'] },
  { noun: 'jar', shape: 'jar', size: [0.15, 0.19], roles: ['item', 'container', 'lidded', 'oriented'] },
  { noun: 'lid', shape: 'lid', size: [0.3, 0.08], roles: ['lid'] },
  { noun: 'kettle', shape: 'kettle', size: [0.2, 0.2], roles: ['vessel'] },
  { noun: 'bottle', shape: 'bottle', size: [0.1, 0.27], roles: ['vessel', 'item', 'oriented'] },
  { noun: 'knife', shape: 'knife', size: [0.26, 0.05], roles: ['knife'] },
  { noun: 'spoon', shape: 'spoon', size: [0.05, 0.26], roles: ['stirrer', 'scooper'] },
  { noun: 'whisk', shape: 'whisk', size: [0.07, 0.26], roles: ['stirrer'] },
  { noun: 'spatula', shape: 'spatula', size: [0.06, 0.27], roles: ['stirrer'] },
  { noun: 'ladle', shape: 'ladle', size: [0.07, 0.28], roles: ['scooper'] },
  { noun: 'cutting board', shape: 'board', size: [0.38, 0.06], roles: ['surface'] },
  { noun: 'plate', shape: 'plate', size: [0.3, 0.05], roles: ['surface', 'item'] },
  { noun: 'sponge', shape: 'sponge', size: [0.12, 0.06], roles: ['wiper'] },
  { noun: 'cloth', shape: 'cloth', size: [0.16, 0.05], roles: ['wiper'] },
  { noun: 'tomato', shape: 'tomato', size: [0.13, 0.12], roles: ['food', 'item'], natural: 'red' },
  { noun: 'carrot', shape: 'carrot', size: [0.26, 0.06], roles: ['food', 'item'], natural: 'orange' },
  { noun: 'cucumber', shape: 'cucumber', size: [0.28, 0.07], roles: ['food', 'item'], natural: 'green' },
  { noun: 'bread', shape: 'bread', size: [0.24, 0.11], roles: ['food', 'item'], natural: 'brown' },
  { noun: 'lemon', shape: 'lemon', size: [0.12, 0.1], roles: ['food', 'item'], natural: 'yellow' },
  { noun: 'pancake', shape: 'pancake', size: [0.2, 0.035], roles: ['food'], natural: 'yellow' },
  { noun: 'water', shape: 'none', size: [0, 0], roles: ['liquid'], natural: 'blue', mass: true },
  { noun: 'milk', shape: 'none', size: [0, 0], roles: ['liquid'], natural: 'white', mass: true },
  { noun: 'juice', shape: 'none', size: [0, 0], roles: ['liquid'], natural: 'orange', mass: true },
  { noun: 'coffee', shape: 'none', size: [0, 0], roles: ['liquid'], natural: 'brown', mass: true },
  { noun: 'soup', shape: 'none', size: [0, 0], roles: ['content'], natural: 'red', mass: true },
  { noun: 'batter', shape: 'none', size: [0, 0], roles: ['content'], natural: 'yellow', mass: true },
  { noun: 'rice', shape: 'none', size: [0, 0], roles: ['content'], natural: 'white', mass: true },
];

const t = (template: string, group: string, motion: TemplateSpec['motion'], slots: TemplateSpec['slots'], extras?: TemplateSpec['extras']): TemplateSpec =>
  ({ template, group, motion, slots, extras });

const templates: readonly TemplateSpec[] = [
  t('Pouring [something] into [something]', 'Pouring', 'pour', ['liquid', 'container'], ['vessel']),
  t('Pretending to pour [something] into [something]', 'Pouring', 'pretendPour', ['liquid', 'container'], ['vessel']),
  t('Pouring [something] out of [something]', 'Pouring', 'pourOut', ['liquid', 'container']),
  t('Emptying [something] into [something]', 'Pouring', 'emptyInto', ['container', 'container'], ['content']),
  t('Stirring [something] with [something]', 'Mixing', 'stir', ['content', 'stirrer'], ['container']),
  t('Whisking [something] with [something]', 'Mixing', 'whisk', ['content', 'stirrer'], ['container']),
  t('Scooping [something] out of [something]', 'Mixing', 'scoop', ['content', 'container'], ['scooper']),
  t('Putting a lid on [something]', 'Lids', 'lidOn', ['lidded'], ['lid']),
  t('Taking a lid off [something]', 'Lids', 'lidOff', ['lidded'], ['lid']),
  t('Pretending to put a lid on [something]', 'Lids', 'pretendLidOn', ['lidded'], ['lid']),
  t('Wiping [something] with [something]', 'Cleaning', 'wipe', ['surface', 'wiper']),
  t('Cutting [something] with [something]', 'Cutting', 'cut', ['food', 'knife'], ['surface']),
  t('Pretending to cut [something] with [something]', 'Cutting', 'pretendCut', ['food', 'knife'], ['surface']),
  t('Putting [something] into [something]', 'Transferring', 'putInto', ['food', 'container']),
  t('Taking [something] out of [something]', 'Transferring', 'takeOut', ['food', 'container']),
  t('Putting [something] onto [something]', 'Transferring', 'putOnTop', ['item', 'surface']),
  t('Sliding [something] from left to right', 'Sliding', 'slideRight', ['item']),
  t('Sliding [something] from right to left', 'Sliding', 'slideLeft', ['item']),
  t('Shaking [something]', 'Handling', 'shake', ['vessel']),
  t('Flipping [something] in [something]', 'Handling', 'flip', ['food', 'pan']),
  t('Tapping [something] on [something]', 'Handling', 'tap', ['stirrer', 'container']),
  t('Turning [something] upside down', 'Handling', 'upsideDown', ['oriented']),
  // Nothing happening: the objects are scenery (extras), so no caption names them.
  t(NO_ACTION, 'Idle', 'idle', [], ['container', 'item']),
];

export const KITCHENWARE: Catalogue = { domain: 'kitchenware', objects, templates };
