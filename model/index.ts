/**
 * countertop's model package: the public API other packages import.
 *
 *   const { name } = await initBackend();                     // tfjs-node-gpu → tfjs-node → wasm → cpu
 *   const config = parseModelConfig({ frames: 16 });
 *   const vocab = Vocabulary.build(captions, { minCount: 2 });
 *   const model = CountertopModel.create(config, [{ name: 'action', labels }], vocab);
 *   const probs = tf.tidy(() => model.classify(model.encode(clips)));
 *   await saveCheckpoint('runs/x/ckpt', model, { optimizer, training: { step } });
 *   const { model: m2, ...rest } = await loadCheckpoint('runs/x/ckpt');
 *
 * Live inference with a per-frame feature cache: `model.spatialFeatures(frame4d)` per new frame
 * ([N,H,W,3] → [N,F]), then `model.encode(clip5d, { spatial: stacked [B,T,F] })` — the 3D channel
 * still needs the clip, unless its features come precomputed too (`{ spatiotemporal: [B,T,F3] }`,
 * e.g. from `model.spatiotemporalFeatures(clip5d)` or an incremental cache); pass null as the clip
 * when every channel that is on has precomputed features.
 *
 * Weights by layer, typed: `model.weights.spatiotemporal?.convs[i].kernel` (rank 5), built from
 * `model.architecture`, the one layer description (checkpoint names and shapes) of the config.
 */
export type { HeadSpec, TrainingBatch, Encoding, LossParts } from './types.js';
export { normalisePixels, PIXEL_SCALE } from './preprocess.js';
export {
  modelConfigSchema,
  defaultModelConfig,
  parseModelConfig,
  channelFeatureWidth,
  encodingWidth,
  type ModelConfig,
  type ModelConfigInput,
} from './config.js';
export {
  Vocabulary,
  tokenize,
  PAD,
  GO,
  END,
  UNK,
  PAD_ID,
  GO_ID,
  END_ID,
  UNK_ID,
  DEFAULT_CAPTION_LENGTH,
  type VocabularyJson,
} from './vocabulary.js';
export {
  initBackend,
  currentBackend,
  describeChoice,
  BACKEND_NAMES,
  BACKEND_ENV,
  type BackendName,
  type BackendChoice,
  type SkippedBackend,
  type InitBackendOptions,
} from './backend.js';
export { registerWasmTrainingKernels } from './wasm-kernels.js';
export {
  CountertopModel,
  type Conv3dForm,
  type EncodeOptions,
  type TransferOptions,
  type StepLosses,
} from './network.js';
export type { ModelWeights, EncoderWeights, ChannelWeights, ConvWeights, HeadWeights, CaptionWeights, Dense, LstmWeights } from './weights.js';
export type { Architecture } from './architecture.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  restoreAdam,
  CHECKPOINT_FORMAT_VERSION,
  type SaveExtra,
  type LoadedCheckpoint,
} from './checkpoint.js';
export { resolveCheckpoint, CHECKPOINT_DIR, type ResolvedCheckpoint } from './checkpoint-folder.js';
