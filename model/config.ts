/**
 * The model's size and shape, in one validated object. Every size is configurable; the defaults are
 * sized so that a 16-frame 64×64 clip runs in real time on one CPU core with the wasm backend
 * (figures in docs/MODEL.md).
 */
import { z } from 'zod';
import { BACKBONE_WIDTH } from '../perception/constants.js';
import { HAND_OBJECT_FRAMES, HAND_OBJECT_WIDTH } from '../perception/features.js';

const width = z.number().int().min(1).max(1024);

/** The spatial channel: a 2D CNN applied to every frame with shared weights. */
const spatialSchema = z.strictObject({
  /** Output channels of each block (3×3 conv with stride 2, ReLU): each block halves height and width. */
  filters: z.array(width).min(1).max(6),
  /** Length of the per-frame feature vector (a dense layer over the flattened last block); 0 switches the channel off. */
  features: z.number().int().min(0).max(4096),
});

/** The spatiotemporal channel: a 3D CNN over the clip that keeps the time axis. */
const spatiotemporalSchema = z.strictObject({
  /** Output channels of each block (kt×3×3 conv, stride 1 in time with 'same' padding, stride 2 in space, ReLU). */
  filters: z.array(width).min(1).max(6),
  /** kt, the temporal extent of every 3D kernel; odd so that 'same' padding keeps T. */
  temporalKernel: z.number().int().min(1).max(9).refine((k) => k % 2 === 1, 'temporalKernel must be odd'),
  /** Length of the per-timestep feature vector; 0 switches the channel off. */
  features: z.number().int().min(0).max(4096),
});

/**
 * Per-frame inputs from the pretrained detectors (perception/): the hand–object state and the
 * frozen COCO backbone feature, projected by one dense layer and concatenated per timestep with the
 * two channels. Absent in checkpoints made before it existed: off.
 */
const perceptionSchema = z.strictObject({
  handObject: z.boolean(),
  backbone: z.boolean(),
  /** Width of the projection; 0 switches the channel off. With projection 'none' it must equal the raw input's width. */
  features: z.number().int().min(0).max(4096),
  /**
   * 'dense': a trained dense+ReLU layer; 'none': the raw per-frame input goes to the encoder as it
   * is (a frozen pretrained feature that nothing trained on cartoons has touched).
   */
  projection: z.enum(['dense', 'none']).default('dense'),
  /** Coordinates of the hand–object vector (perception/features.ts HandObjectFrame). */
  coordinates: z.enum(HAND_OBJECT_FRAMES).default('image'),
});

/**
 * How a window's frames are taken from a clip, the same in training, evaluation, replay and live:
 * 'window' = T consecutive frames at `fps` (a random start in training, the middle otherwise), as
 * the live pipeline sees them; 'spread' = T frames spread over the whole clip (how models before
 * this setting were trained; live they see actions faster than they learned them).
 */
export const SAMPLINGS = ['window', 'spread'] as const;

export const modelConfigSchema = z
  .strictObject({
    /** T, frames per clip. */
    frames: z.number().int().min(1).max(256),
    height: z.number().int().min(8).max(512),
    width: z.number().int().min(8).max(512),
    /** The frame rate clips are sampled at (SSv2 videos are 12 fps); the live pipeline resamples to it. */
    fps: z.number().positive().max(120),
    sampling: z.enum(SAMPLINGS).default('spread'),
    spatial: spatialSchema,
    spatiotemporal: spatiotemporalSchema,
    perception: perceptionSchema.default({ handObject: false, backbone: false, features: 0, projection: 'dense', coordinates: 'image' }),
    /**
     * Training only: the chance that a clip's pixel channels (2D and 3D) are zeroed as a whole, so
     * that the model cannot lean on cartoon pixels alone when the perception channel is on.
     */
    channelDropout: z.number().min(0).max(0.9).default(0),
    /** The shared LSTM over the per-timestep concatenation of both channels. */
    encoder: z.strictObject({
      /**
       * 'lstm' (the paper's); 'pool': no recurrent layer, the per-timestep features are the states
       * and the heads average over time. A pool encoder over the raw backbone feature has no
       * weights at all, so teaching a head on it cannot inherit what cartoons taught an LSTM.
       */
      kind: z.enum(['lstm', 'pool']).default('lstm'),
      /** LSTM units (ignored by 'pool'). */
      units: z.number().int().min(1).max(4096),
      /** Bidirectional doubles the encoding width; it needs the whole clip, which a sliding window has anyway. */
      bidirectional: z.boolean(),
    }),
    /** The caption decoder. */
    caption: z.strictObject({
      /** Fixed token length of a caption: <go>, words, <end>, <pad>…; the paper uses 14. */
      length: z.number().int().min(3).max(64),
      embedding: z.number().int().min(1).max(2048),
      units: z.number().int().min(1).max(4096),
      /**
       * Training only, at the start of a new run: 'standardise' rescales the decoder's context
       * weights so that the clip encoding enters its gates standardised (per feature, over the
       * first training clips). Absent: plain initialisation. See docs/EXPERIMENT.md on why caption
       * decoders collapsed.
       */
      contextInit: z.enum(['standardise']).optional(),
      /** Training only: word dropout on the teacher-forced inputs (model/decoder.ts). Absent: none. */
      wordDropout: z.number().min(0).max(0.9).optional(),
    }),
    /** Dropout rate on the channel features and on the encoder states while training. */
    dropout: z.number().min(0).max(0.9),
  })
  .superRefine((c, ctx) => {
    if (c.spatial.features === 0 && c.spatiotemporal.features === 0 && c.perception.features === 0) {
      ctx.addIssue({ code: 'custom', message: 'at least one of spatial.features, spatiotemporal.features and perception.features must be > 0', path: ['spatial', 'features'] });
    }
    if (c.perception.features > 0 && !c.perception.handObject && !c.perception.backbone) {
      ctx.addIssue({ code: 'custom', message: 'perception.features > 0 needs perception.handObject or perception.backbone', path: ['perception'] });
    }
    const rawWidth = perceptionInputWidth(c);
    if (c.perception.projection === 'none' && c.perception.features > 0 && c.perception.features !== rawWidth) {
      ctx.addIssue({ code: 'custom', message: `perception.projection 'none' passes the raw input through: perception.features must be its width, ${rawWidth}`, path: ['perception', 'features'] });
    }
    if (c.encoder.kind === 'pool' && c.encoder.bidirectional) {
      ctx.addIssue({ code: 'custom', message: "encoder.kind 'pool' has no direction: bidirectional must be false", path: ['encoder', 'bidirectional'] });
    }
    for (const [name, ch] of [['spatial', c.spatial], ['spatiotemporal', c.spatiotemporal]] as const) {
      if (ch.features === 0) continue;
      const shrink = 2 ** ch.filters.length;
      if (c.height < shrink || c.width < shrink) {
        ctx.addIssue({
          code: 'custom',
          path: [name, 'filters'],
          message: `${ch.filters.length} downsampling blocks need frames of at least ${shrink}×${shrink}, got ${c.height}×${c.width}`,
        });
      }
    }
  });

export type ModelConfig = z.infer<typeof modelConfigSchema>;

/** A partial config: any subset of fields, nested objects merged over the defaults. */
export type ModelConfigInput = {
  [K in keyof ModelConfig]?: ModelConfig[K] extends readonly unknown[] ? ModelConfig[K] : ModelConfig[K] extends object ? Partial<ModelConfig[K]> : ModelConfig[K];
};

export const defaultModelConfig: ModelConfig = Object.freeze({
  frames: 16,
  height: 64,
  width: 64,
  fps: 12,
  sampling: 'window',
  spatial: { filters: [16, 32, 48, 64], features: 128 },
  spatiotemporal: { filters: [8, 16, 32, 32], temporalKernel: 3, features: 64 },
  perception: { handObject: false, backbone: false, features: 0, projection: 'dense', coordinates: 'image' },
  channelDropout: 0,
  encoder: { kind: 'lstm', units: 256, bidirectional: false },
  caption: { length: 14, embedding: 64, units: 256 },
  dropout: 0.2,
}) as ModelConfig;

/**
 * Merges `partial` over the defaults (one level deep for the nested groups) and validates the result.
 * Throws a ZodError-derived Error whose message lists every bad field.
 */
export function parseModelConfig(partial: ModelConfigInput | unknown = {}): ModelConfig {
  const input = (partial ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) throw new Error('model config must be an object');
  const merged: Record<string, unknown> = { ...structuredClone(defaultModelConfig) };
  for (const [key, value] of Object.entries(input)) {
    const base = merged[key];
    merged[key] =
      base && typeof base === 'object' && !Array.isArray(base) && value && typeof value === 'object' && !Array.isArray(value)
        ? { ...base, ...value }
        : value;
  }
  const result = modelConfigSchema.safeParse(merged);
  if (!result.success) throw new Error(`invalid model config:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/** Feature width the LSTM sees per timestep. */
export function channelFeatureWidth(c: ModelConfig): number {
  return c.spatial.features + c.spatiotemporal.features + c.perception.features;
}

/** Width of the raw per-frame perception input [B, T, P] the perception channel projects (0 when off). */
export function perceptionInputWidth(c: Pick<ModelConfig, 'perception'>): number {
  if (c.perception.features === 0) return 0;
  return (c.perception.handObject ? HAND_OBJECT_WIDTH : 0) + (c.perception.backbone ? BACKBONE_WIDTH : 0);
}

/** Source frames between two sampled frames for clips stored at `sourceFps` (SSv2 and procedural clips: 12). */
export function frameStep(c: ModelConfig, sourceFps = 12): number {
  return Math.max(1, Math.round(sourceFps / c.fps));
}

/** Width of the encoding (states and pooled). */
export function encodingWidth(c: ModelConfig): number {
  if (c.encoder.kind === 'pool') return channelFeatureWidth(c);
  return c.encoder.units * (c.encoder.bidirectional ? 2 : 1);
}
