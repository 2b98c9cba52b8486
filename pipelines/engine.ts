/**
 * What the live pipelines need from a model: the input shape it wants, its heads, a batched
 * window scorer and a caption decoder. modelEngine.ts adapts the real CountertopModel to it;
 * tests can supply a small deterministic one.
 */
import type { ObservableInput } from 'rxjs';
import type { FrameFormat, FrameWindow } from './types.js';

export interface EngineInput extends FrameFormat {
  /** T, frames per window. */
  readonly frames: number;
  /**
   * Set when the engine runs the pretrained detectors: the side of the square it resizes each
   * frame's `detail` copy to. Sources should then decode at least this large; frames without a
   * detail copy are read at model size (poorly).
   */
  readonly detailSize?: number;
}

export interface EngineHead {
  readonly name: string;
  readonly labels: readonly string[];
}

/** The model's answer for one window. */
export interface WindowInference {
  /** Per head name: probabilities indexed by class id. */
  readonly probabilities: Readonly<Record<string, Float32Array>>;
  /** [U] pooled encoding, the caption decoder's input. */
  readonly encoding: Float32Array;
  /** Detector object labels seen in the window's frames, most frequent first (engines that run the detectors). */
  readonly objects?: readonly string[];
}

export interface InferenceEngine {
  readonly input: EngineInput;
  readonly heads: readonly EngineHead[];
  /** Scores every window in one model call; results are in the same order as `windows`. */
  inferBatch(windows: readonly FrameWindow[]): ObservableInput<readonly WindowInference[]>;
  /** Greedy-decodes a caption from a pooled encoding; absent when the model has no caption decoder. */
  caption?(encoding: Float32Array): ObservableInput<string>;
  /** Releases any per-stream state (e.g. cached frame features) once a stream is gone. */
  forgetStream?(streamId: string): void;
}
