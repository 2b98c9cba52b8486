/** Messages between WorkerEngine (main thread) and engineWorker.ts (the inference thread). */
import type { EngineHead, EngineInput, WindowInference } from './engine.js';
import type { ModelEngineOptions } from './modelEngine.js';
import type { Frame } from './types.js';

export interface WorkerSetup {
  /** Checkpoint folder the worker loads the model from (model/checkpoint.ts format). */
  readonly checkpoint: string;
  readonly engine: ModelEngineOptions;
  /** Frames the worker keeps per stream (the main thread mirrors this FIFO to know what it holds). */
  readonly frameCapacity: number;
}

/** A Frame as sent to the worker, with the id that windows use to refer to it. */
export interface WireFrame extends Frame {
  readonly id: number;
}

export type ToWorker =
  | { readonly type: 'infer'; readonly id: number; readonly frames: readonly WireFrame[]; readonly windows: readonly { readonly streamId: string; readonly frameIds: readonly number[]; readonly readyAt: number }[] }
  | { readonly type: 'caption'; readonly id: number; readonly encoding: Float32Array }
  | { readonly type: 'forget'; readonly streamId: string };

export type FromWorker =
  | { readonly type: 'ready'; readonly input: EngineInput; readonly heads: readonly EngineHead[]; readonly captions: boolean }
  | { readonly type: 'result'; readonly id: number; readonly results: readonly WindowInference[] }
  | { readonly type: 'caption'; readonly id: number; readonly text: string }
  | { readonly type: 'error'; readonly id?: number; readonly message: string };
