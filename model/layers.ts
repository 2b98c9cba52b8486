/**
 * The network's building blocks as plain functions over tf.Variables: conv blocks (2D, and 3D in
 * three numerically equivalent forms), dense layers and an LSTM cell. Callers run them inside
 * tf.tidy; the variables come from weights.ts.
 */
import * as tf from '@tensorflow/tfjs';

export interface Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

export function dense(x: tf.Tensor2D, layer: Dense, activation: 'linear' | 'relu' = 'linear'): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: layer.kernel as tf.Tensor2D, bias: layer.bias, activation }) as tf.Tensor2D;
}

/**
 * One downsampling block: a 3×3 conv with stride 2 ('same', so odd sizes round up) + bias + ReLU.
 * Strided convs rather than conv + 2×2 max-pool: a quarter of the multiply-adds, and wasm's
 * MaxPoolGrad is slow (docs/MODEL.md has the measurements).
 */
export function conv2dBlock(x: tf.Tensor4D, kernel: tf.Variable, bias: tf.Variable): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: kernel as tf.Tensor4D, strides: 2, pad: 'same', bias, activation: 'relu' });
}

/**
 * How a kt×3×3 3D convolution ('same' in time, so T is kept) runs: 'native' is tf.conv3d;
 * 'stacked' concatenates the kt neighbouring frames along channels and runs one conv2d with the
 * kernel reshaped to [3, 3, kt·C, O]; 'shifted' runs kt conv2d calls, one per temporal tap, and sums
 * them. All three compute the same operator (zero padding in time).
 */
export type Conv3dImpl = 'native' | 'stacked' | 'shifted';

/**
 * x [B, T, H, W, C], kernel [kt, 3, 3, C, O] → per-frame output [B·T, H/s, W/s, O] (spatial stride
 * s, 'same' padding), plus bias and ReLU (fused into the conv where the form allows).
 */
export function conv3dSame(x: tf.Tensor5D, kernel: tf.Tensor5D, bias: tf.Tensor1D, impl: Conv3dImpl, stride = 1): tf.Tensor4D {
  const [B, T, H, W, C] = x.shape;
  const [kt, kh, kw, , O] = kernel.shape;
  if (impl === 'native') {
    const y = tf.relu(tf.add(tf.conv3d(x, kernel, [1, stride, stride], 'same'), bias)) as tf.Tensor5D;
    const [, , h, w] = y.shape;
    return y.reshape([B * T, h, w, O]);
  }
  const half = (kt - 1) / 2;
  // Time taps are sliced from a rank-3 view: wasm's rank-5 Slice is very slow, rank 3 is a copy.
  const flat = x.reshape([B, T, H * W * C]);
  const padded = half > 0 ? tf.pad(flat, [[0, 0], [half, half], [0, 0]]) : flat;
  const tap = (k: number): tf.Tensor4D => padded.slice([0, k, 0], [B, T, H * W * C]).reshape([B * T, H, W, C]);
  if (impl === 'stacked') {
    // [kt, N, C] → [N, kt, C] by a transpose: wasm concatenates along the innermost axis row by row, 7× slower.
    const N = B * T * H * W;
    const taps = Array.from({ length: kt }, (_, k) => tap(k).reshape([1, N, C]));
    const stacked = (kt > 1 ? tf.concat(taps, 0).transpose([1, 0, 2]) : taps[0]!).reshape([B * T, H, W, kt * C]) as tf.Tensor4D;
    const filter = kernel.transpose([1, 2, 0, 3, 4]).reshape([kh, kw, kt * C, O]) as tf.Tensor4D;
    return tf.fused.conv2d({ x: stacked, filter, strides: stride, pad: 'same', bias, activation: 'relu' });
  }
  const parts = Array.from({ length: kt }, (_, k) =>
    tf.conv2d(tap(k), kernel.slice([k, 0, 0, 0, 0], [1, kh, kw, C, O]).reshape([kh, kw, C, O]) as tf.Tensor4D, stride, 'same'),
  );
  return tf.relu(tf.add(parts.length > 1 ? tf.addN(parts) : parts[0]!, bias));
}

/** One spatiotemporal downsampling block: conv3dSame with spatial stride 2 (+ bias, ReLU); T is kept. */
export function conv3dBlock(x: tf.Tensor5D, kernel: tf.Variable, bias: tf.Variable, impl: Conv3dImpl): tf.Tensor5D {
  const [B, T] = x.shape;
  const y = conv3dSame(x, kernel as tf.Tensor5D, bias as tf.Tensor1D, impl, 2);
  const [, h, w, o] = y.shape;
  return y.reshape([B, T, h, w, o]);
}

/** LSTM weights, gates packed [i | f | g | o]. */
export interface LstmWeights {
  readonly kernel: tf.Variable; // [D, 4U]
  readonly recurrent: tf.Variable; // [U, 4U]
  readonly bias: tf.Variable; // [4U], forget gate initialised to 1
  readonly units: number;
}

/** One step: gates = xProj + h·R (xProj already holds x·K + b). */
export function lstmStep(xProj: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D, w: LstmWeights): [tf.Tensor2D, tf.Tensor2D] {
  const gates = tf.add(xProj, tf.matMul(h, w.recurrent as tf.Tensor2D)) as tf.Tensor2D;
  const [i, f, g, o] = tf.split(gates, 4, 1) as tf.Tensor2D[];
  const cNext = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!))) as tf.Tensor2D;
  const hNext = tf.mul(tf.sigmoid(o!), tf.tanh(cNext)) as tf.Tensor2D;
  return [hNext, cNext];
}

/** Runs an LSTM over x [B, T, D] from a zero state → all hidden states [B, T, U]; `reverse` runs back in time. */
export function lstmSequence(x: tf.Tensor3D, w: LstmWeights, reverse = false): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const proj = tf.add(tf.matMul(x.reshape([B * T, D]), w.kernel as tf.Tensor2D), w.bias).reshape([B, T, 4 * w.units]);
  const steps = tf.unstack(proj, 1) as tf.Tensor2D[];
  let h = tf.zeros([B, w.units]) as tf.Tensor2D;
  let c = tf.zeros([B, w.units]) as tf.Tensor2D;
  const out: tf.Tensor2D[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    [h, c] = lstmStep(steps[t]!, h, c, w);
    out[t] = h;
  }
  return tf.stack(out, 1) as tf.Tensor3D;
}
