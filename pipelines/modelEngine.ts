/**
 * Adapts a CountertopModel to the pipelines' InferenceEngine. One `inferBatch` call runs the spatial
 * channel once on every frame of the batch not seen before (one [N,H,W,3] batch), runs the 3D
 * channel incrementally (reusing each frame's activations across overlapping windows, exactly), and
 * runs the LSTM encoder and the heads once for the whole batch. All tensors other than the bounded
 * per-stream caches are freed per call.
 */
import * as tf from '@tensorflow/tfjs';
import type { CountertopModel } from '../model/index.js';
import { normalisePixels } from '../model/preprocess.js';
import type { EngineHead, EngineInput, InferenceEngine, WindowInference } from './engine.js';
import { FrameFeatureCache, type FrameEntry } from './frameFeatureCache.js';
import { Incremental3dChannel } from './incremental3d.js';
import { FramePerceptionStage, type FramePerceptionOptions } from './framePerception.js';
import { PerceptionRunner } from '../perception/runner.js';
import type { Frame, FrameWindow } from './types.js';

export interface ModelEngineOptions {
  /** Reuse per-frame work across overlapping windows (default true; false only for benchmarks). */
  readonly cacheFrames?: boolean;
  /** Frames kept per stream (default 4·T). */
  readonly cacheCapacity?: number;
  /**
   * Run the 3D channel incrementally (Incremental3dChannel: exact, reuses per-frame activations
   * across overlapping windows). Default true; needs cacheFrames.
   */
  readonly incremental3d?: boolean;
  /** How the pretrained detectors run, for a model whose perception channel is on. */
  readonly perception?: FramePerceptionOptions;
}

export class ModelEngine implements InferenceEngine {
  readonly input: EngineInput;
  readonly heads: readonly EngineHead[];
  readonly cache: FrameFeatureCache;
  private readonly cacheFrames: boolean;
  private readonly incremental: Incremental3dChannel | undefined;
  /** Frames run through the spatial channel so far (the cost the cache saves). */
  framesEncoded = 0;

  /** The detectors' stage, for a model whose perception channel is on. */
  readonly perception: FramePerceptionStage | undefined;

  /**
   * An engine for `model`, loading the pretrained detectors (from the installed package) when the
   * model's perception channel needs them.
   */
  static async create(model: CountertopModel, options: ModelEngineOptions = {}): Promise<ModelEngine> {
    const runner = needsPerception(model) ? await PerceptionRunner.load({ hands: model.config.perception.handObject }) : undefined;
    return new ModelEngine(model, options, runner);
  }

  constructor(
    readonly model: CountertopModel,
    options: ModelEngineOptions = {},
    runner?: PerceptionRunner,
  ) {
    const { frames, height, width, fps } = model.config;
    if (needsPerception(model) && !runner) throw new Error('this model reads the pretrained detectors: build its engine with ModelEngine.create');
    const parts = { handObject: model.config.perception.handObject, backbone: model.config.perception.backbone };
    this.perception = runner && needsPerception(model) ? new FramePerceptionStage(runner, options.perception, parts) : undefined;
    this.input = { frames, height, width, fps, ...(this.perception ? { detailSize: this.perception.size } : {}) };
    this.heads = model.heads.map((h) => ({ name: h.name, labels: [...h.labels] }));
    this.cacheFrames = options.cacheFrames ?? true;
    this.cache = new FrameFeatureCache(options.cacheCapacity ?? 4 * frames);
    const useIncremental = (options.incremental3d ?? true) && this.cacheFrames && model.config.spatiotemporal.features > 0;
    this.incremental = useIncremental ? new Incremental3dChannel(model, this.cache.capacity) : undefined;
    if (!model.vocabulary) this.caption = undefined;
  }

  async inferBatch(windows: readonly FrameWindow[]): Promise<readonly WindowInference[]> {
    for (const w of windows) this.checkWindow(w);
    const stage = this.perception;
    if (!stage) return this.cacheFrames ? this.inferCached(windows) : this.inferUncached(windows);
    await stage.perceive(windows.flatMap((w) => w.frames));
    const results = this.cacheFrames ? this.inferCached(windows) : this.inferUncached(windows);
    return results.map((r, i) => ({ ...r, objects: stage.objectsSeen(windows[i]!.frames) }));
  }

  caption?: (encoding: Float32Array) => Promise<string> = async (encoding) => {
    const pooled = tf.tensor2d(encoding, [1, encoding.length]);
    try {
      return this.model.captionGreedy(pooled)[0] ?? '';
    } finally {
      pooled.dispose();
    }
  };

  forgetStream(streamId: string): void {
    this.cache.forget(streamId);
    this.incremental?.forget(streamId);
    this.perception?.forget(streamId);
  }

  dispose(): void {
    this.cache.clear();
    this.incremental?.dispose();
    this.perception?.dispose();
  }

  /** [B, T, P] perception input of the windows, or nothing when the model has no perception channel. */
  private perceptionInput(windows: readonly FrameWindow[]): { perception?: tf.Tensor3D } {
    const stage = this.perception;
    if (!stage) return {};
    const rows = windows.map((w) => stage.inputs(w.frames, this.model.config.perception.coordinates));
    const P = rows[0]!.length / this.input.frames;
    const data = new Float32Array(rows.length * rows[0]!.length);
    rows.forEach((r, i) => data.set(r, i * r.length));
    return { perception: tf.tensor3d(data, [windows.length, this.input.frames, P]) };
  }

  private checkWindow(w: FrameWindow): void {
    const { frames, width, height } = this.input;
    if (w.frames.length !== frames) throw new Error(`window of ${w.frames.length} frames; the model takes ${frames}`);
    for (const f of w.frames) {
      if (f.width !== width || f.height !== height || f.pixels.length !== width * height * 3) {
        throw new Error(`frame ${f.seq} of stream ${f.streamId} is ${f.width}×${f.height}; the model takes ${width}×${height}`);
      }
    }
  }

  private normalise(frames: readonly Frame[]): tf.Tensor4D {
    const { width, height } = this.input;
    const size = width * height * 3;
    const buffer = new Float32Array(frames.length * size);
    frames.forEach((f, i) => normalisePixels(f.pixels, buffer, i * size));
    return tf.tensor4d(buffer, [frames.length, height, width, 3]);
  }

  private inferCached(windows: readonly FrameWindow[]): WindowInference[] {
    const useSpatial = this.model.config.spatial.features > 0;
    const entries = new Map<Frame, FrameEntry>();
    const fresh: Frame[] = [];
    for (const w of windows) {
      for (const f of w.frames) {
        if (entries.has(f)) continue;
        const hit = this.cache.get(f);
        if (hit) entries.set(f, hit);
        else if (!fresh.includes(f)) fresh.push(f);
      }
    }
    if (fresh.length > 0) {
      const created = tf.tidy(() => {
        const pixels = this.normalise(fresh);
        const spatial = useSpatial ? tf.unstack(this.model.spatialFeatures(pixels)) : [];
        return fresh.map((_, i) => ({ pixels: tf.keep(pixels.slice([i], [1]).squeeze([0]) as tf.Tensor3D), spatial: useSpatial ? (tf.keep(spatial[i]!) as tf.Tensor1D) : undefined }));
      });
      this.framesEncoded += fresh.length;
      fresh.forEach((f, i) => {
        const entry: FrameEntry = created[i]!;
        entries.set(f, entry);
        this.cache.set(f, entry);
      });
    }
    let results: WindowInference[] = [];
    tf.tidy(() => {
      const spatial = useSpatial ? (tf.stack(windows.map((w) => tf.stack(w.frames.map((f) => entries.get(f)!.spatial!)))) as tf.Tensor3D) : undefined;
      const pixelsOf = (w: FrameWindow) => w.frames.map((f) => entries.get(f)!.pixels);
      const spatiotemporal = this.incremental?.features(windows.map((w) => ({ frames: w.frames, pixels: pixelsOf(w) })));
      const needClips = this.model.config.spatiotemporal.features > 0 && !spatiotemporal;
      const clips = needClips ? (tf.stack(windows.map((w) => tf.stack(pixelsOf(w)))) as tf.Tensor5D) : null;
      results = this.readOut(this.model.encode(clips, { spatial, spatiotemporal, ...this.perceptionInput(windows) }), windows.length);
    });
    // Only now, with the batch done, may old entries go.
    this.cache.trim();
    return results;
  }

  private inferUncached(windows: readonly FrameWindow[]): WindowInference[] {
    let results: WindowInference[] = [];
    tf.tidy(() => {
      const { frames: T, height, width } = this.input;
      const clips = this.normalise(windows.flatMap((w) => w.frames)).reshape([windows.length, T, height, width, 3]) as tf.Tensor5D;
      this.framesEncoded += windows.length * T;
      results = this.readOut(this.model.encode(clips, this.perceptionInput(windows)), windows.length);
    });
    return results;
  }

  /** Classifies an encoding and copies probabilities and pooled encodings out of the tensors. */
  private readOut(encoding: ReturnType<CountertopModel['encode']>, batch: number): WindowInference[] {
    const probs = this.model.classify(encoding);
    const pooled = encoding.pooled.dataSync() as Float32Array;
    const U = encoding.pooled.shape[1];
    const perHead = Object.entries(probs).map(([name, t]) => [name, t.dataSync() as Float32Array, t.shape[1]] as const);
    return Array.from({ length: batch }, (_, b) => ({
      probabilities: Object.fromEntries(perHead.map(([name, data, C]) => [name, data.slice(b * C, (b + 1) * C)])),
      encoding: pooled.slice(b * U, (b + 1) * U),
    }));
  }
}

function needsPerception(model: CountertopModel): boolean {
  const p = model.config.perception;
  return p.features > 0 && (p.handObject || p.backbone);
}
