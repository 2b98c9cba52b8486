/**
 * Public API of the data package (other packages import from here):
 * - readSsv2Dataset(dir) → records with group / action / simplified / caption + label lists
 * - clipBatches(dataset, split, opts) → AsyncIterable<ClipBatch> with a skip report
 * - renderSession(opts) → a procedural frame source with its segments (no ffmpeg)
 * - writeSession / generateDataset → files in the SSv2 layout
 * - decodeVideo, ClipCache, the catalogues and the caption helpers
 */
export { readSsv2Dataset, parseJsonText, type Ssv2Dataset, type VideoRecord } from './ssv2.js';
export { clipBatches, ClipBatchOptionsSchema, type ClipBatch, type ClipBatchOptions, type ClipBatchStream, type LoaderReport, type SkippedVideo } from './loader.js';
export { renderSession, writeSession, type Session, type SessionAnnotation, type SessionOptions, type SessionSegment } from './session.js';
export { generateDataset, type GenerateOptions, type GenerateReport } from './generate.js';
export { decodeVideo, DecodeError, type DecodedVideo } from './decode.js';
export { ClipCache } from './clipCache.js';
export { CATALOGUES, catalogueOf, templateIndex } from './catalogue/index.js';
export type { Catalogue, Domain, TemplateSpec, ObjectKind } from './catalogue/types.js';
export { templateKey, fillTemplate, swapLeftRight } from './captions.js';
export { DIFFICULTY, DifficultySchema, type Difficulty, type DifficultyPreset } from './render/clip.js';
export { SSV2_FILES, SPLITS, type Split } from './layout.js';
