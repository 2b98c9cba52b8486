/**
 * Source domain "something": everyday objects and 44 actions in 15 coarse groups, worded as in
 * Something-Something v2 where the real list has the action. Pairs that differ only in motion
 * detail are deliberate: pushing / pretending to push / pushing so that it slightly moves;
 * closer / away; putting into / pretending to put into; spinning that stops / continues.
 *
 * Every full caption fits the caption decoder's 12 words (test/data/captions-fit.test.ts): where
 * SSv2's wording is longer ("… closer to each other", "Tilting [something] with [something] on it
 * until it falls off") it is shortened to keep the words that tell the action apart, and nouns
 * are one word, so that "a red striped car" is the longest object phrase a caption can hold
 * twice.
 */
import { NO_ACTION, type Catalogue, type ObjectKind, type TemplateSpec } from './types.js';

const objects: readonly ObjectKind[] = [
  { noun: 'box', shape: 'box', size: [0.26, 0.2], roles: ['item', 'container', 'flat'] },
  { noun: 'ball', shape: 'ball', size: [0.15, 0.15], roles: ['item', 'round'] },
  { noun: 'cup', shape: 'cup', size: [0.15, 0.17], roles: ['item', 'container', 'oriented'] },
  { noun: 'mug', shape: 'mug', size: [0.16, 0.17], roles: ['spinnable', 'item', 'container', 'oriented'] },
  { noun: 'bowl', shape: 'bowl', size: [0.28, 0.14], roles: ['container'] },
  { noun: 'basket', shape: 'basket', size: [0.27, 0.18], roles: ['container'] },
  { noun: 'bottle', shape: 'bottle', size: [0.1, 0.27], roles: ['item', 'tall', 'oriented'] },
  { noun: 'can', shape: 'can', size: [0.12, 0.2], roles: ['item', 'tall', 'oriented'] },
  { noun: 'candle', shape: 'candle', size: [0.08, 0.24], roles: ['item', 'tall', 'oriented'] },
  { noun: 'book', shape: 'book', size: [0.28, 0.08], roles: ['spinnable', 'item', 'flat'] },
  { noun: 'phone', shape: 'phone', size: [0.2, 0.06], roles: ['spinnable', 'item', 'flat'] },
  { noun: 'pen', shape: 'pen', size: [0.22, 0.05], roles: ['spinnable', 'item'] },
  { noun: 'cube', shape: 'cube', size: [0.15, 0.15], roles: ['item'] },
  { noun: 'car', shape: 'car', size: [0.22, 0.12], roles: ['spinnable', 'item', 'oriented'] },
  { noun: 'pyramid', shape: 'pyramid', size: [0.18, 0.16], roles: ['item', 'oriented'] },
  { noun: 'remote', shape: 'remote', size: [0.22, 0.06], roles: ['spinnable', 'item', 'flat'] },
  { noun: 'jar', shape: 'jar', size: [0.15, 0.19], roles: ['item', 'container', 'oriented'] },
  { noun: 'orange', shape: 'ball', size: [0.14, 0.14], roles: ['item', 'round'], natural: 'orange' },
  { noun: 'towel', shape: 'cloth', size: [0.32, 0.05], roles: ['cover'] },
  { noun: 'paper', shape: 'cloth', size: [0.3, 0.045], roles: ['cover'] },
  { noun: 'tray', shape: 'board', size: [0.32, 0.06], roles: ['flat'] },
];

const t = (template: string, group: string, motion: TemplateSpec['motion'], slots: TemplateSpec['slots'], extras?: TemplateSpec['extras']): TemplateSpec =>
  ({ template, group, motion, slots, extras });

const templates: readonly TemplateSpec[] = [
  t('Pushing [something] from left to right', 'Pushing something', 'pushRight', ['item']),
  t('Pushing [something] from right to left', 'Pushing something', 'pushLeft', ['item']),
  t('Pushing [something] so that it slightly moves', 'Pushing something', 'pushSlightly', ['item']),
  t('Pulling [something] from left to right', 'Pulling something', 'pullRight', ['item']),
  t('Pulling [something] from right to left', 'Pulling something', 'pullLeft', ['item']),
  t('Moving [something] up', 'Moving something vertically', 'moveUp', ['item']),
  t('Moving [something] down', 'Moving something vertically', 'moveDown', ['item']),
  t('Lifting [something] up completely without letting it drop down', 'Moving something vertically', 'liftUp', ['item']),
  t('Putting [something] on a surface', 'Moving something vertically', 'putOnSurface', ['item']),
  t('Moving [something] closer to [something]', 'Moving two things relative to each other', 'moveCloser', ['item', 'item']),
  t('Moving [something] away from [something]', 'Moving two things relative to each other', 'moveAway', ['item', 'item']),
  t('Moving [something] and [something] together', 'Moving two things relative to each other', 'bothCloser', ['item', 'item']),
  t('Moving [something] and [something] apart', 'Moving two things relative to each other', 'bothAway', ['item', 'item']),
  t('Putting [something] into [something]', 'Putting something somewhere', 'putInto', ['item', 'container']),
  t('Putting [something] on top of [something]', 'Putting something somewhere', 'putOnTop', ['item', 'flat']),
  t('Putting [something] next to [something]', 'Putting something somewhere', 'putNextTo', ['item', 'item']),
  t('Putting [something] behind [something]', 'Putting something somewhere', 'putBehind', ['item', 'container']),
  t('Taking [something] out of [something]', 'Taking something', 'takeOut', ['item', 'container']),
  t('Removing [something], revealing [something] behind', 'Taking something', 'removeReveal', ['container', 'item']),
  t('Dropping [something] onto [something]', 'Dropping something', 'dropOnto', ['item', 'flat']),
  t('Dropping [something] next to [something]', 'Dropping something', 'dropNextTo', ['item', 'item']),
  t('Dropping [something] into [something]', 'Dropping something', 'dropInto', ['item', 'container']),
  t('Turning [something] upside down', 'Turning something', 'upsideDown', ['oriented']),
  t('Spinning [something] that quickly stops spinning', 'Turning something', 'spinStop', ['spinnable']),
  t('Spinning [something] so it continues spinning', 'Turning something', 'spinContinue', ['spinnable']),
  t('Rolling [something] on a flat surface', 'Rolling something', 'roll', ['round']),
  t('Letting [something] roll along a flat surface', 'Rolling something', 'letRoll', ['round']),
  t('Covering [something] with [something]', 'Covering something', 'cover', ['item', 'cover']),
  t('Uncovering [something]', 'Covering something', 'uncover', ['item'], ['cover']),
  t('Pretending to put [something] into [something]', 'Pretending', 'pretendPutInto', ['item', 'container']),
  t('Pretending to push [something]', 'Pretending', 'pretendPush', ['item']),
  t('Pretending to pick [something] up', 'Pretending', 'pretendPick', ['item']),
  t('Pretending to turn [something] upside down', 'Pretending', 'pretendUpsideDown', ['oriented']),
  t('Pretending to take [something] from [something]', 'Pretending', 'pretendTakeOut', ['item', 'container']),
  t('Showing [something] to the camera', 'Holding or showing something', 'showToCamera', ['item']),
  t('Holding [something]', 'Holding or showing something', 'hold', ['item']),
  t('Poking [something] so lightly that it barely moves', 'Poking something', 'pokeLightly', ['item']),
  t('Poking [something] so that it falls over', 'Poking something', 'pokeFall', ['tall']),
  t('Turning the camera left while filming [something]', 'Moving the camera', 'cameraLeft', ['item']),
  t('Turning the camera right while filming [something]', 'Moving the camera', 'cameraRight', ['item']),
  t('Approaching [something] with your camera', 'Moving the camera', 'cameraApproach', ['item']),
  t('Moving away from [something] with your camera', 'Moving the camera', 'cameraAway', ['item']),
  t('Tilting [something] until [something] falls off', 'Tilting something', 'tiltFall', ['flat', 'item']),
  t('Tilting [something] slightly, [something] stays on', 'Tilting something', 'tiltSlight', ['flat', 'item']),
  // Nothing happening: the objects are scenery (extras), so no caption names them.
  t(NO_ACTION, 'Idle', 'idle', [], ['container', 'item']),
];

export const SOMETHING: Catalogue = { domain: 'something', objects, templates };
