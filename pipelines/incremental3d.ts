/**
 * The model's spatiotemporal (3D) channel computed incrementally over a stream, giving exactly the
 * windowed model's features (ModelEngine uses it by default; `incremental3d: false` turns it off).
 *
 * The model's 3D convolutions are 'same' in time with zero padding at the window's edges. At layer
 * l a timestep at least l·h frames (h = (kt−1)/2) from both window edges never sees that padding,
 * so its activation is a function of the stream alone: it is computed once and cached per frame.
 * Timesteps nearer an edge are recomputed for every window with zero padding, as the windowed
 * model does. Every layer's jobs for a whole batch run together, as kt conv2d calls (one per time
 * tap) over gathered inputs, summed — the model's own 'shifted' form of a kt×3×3 convolution.
 */
import * as tf from '@tensorflow/tfjs';
import type { CountertopModel } from '../model/index.js';
import type { Frame } from './types.js';

interface Layer {
  /** One [3, 3, C, O] kernel per time tap (the model's 'shifted' form of a kt×3×3 convolution). */
  readonly taps: tf.Tensor4D[];
  readonly bias: tf.Tensor1D;
}

export interface Incremental3dWindow {
  readonly frames: readonly Frame[];
  /** Each frame's normalised pixels [H, W, 3], in window order. */
  readonly pixels: readonly tf.Tensor3D[];
}

export class Incremental3dChannel {
  private readonly layers: Layer[] = [];
  private readonly dense: { kernel: tf.Tensor2D; bias: tf.Tensor1D };
  private readonly half: number;
  /** Per stream, per frame: its stream-context activation at each layer (index l−1) once computed. */
  private readonly cache = new Map<string, Map<Frame, tf.Tensor3D[]>>();
  /** Timesteps computed per layer so far (edge recomputations included) — the work done. */
  readonly timestepsComputed: number[];

  constructor(
    model: CountertopModel,
    readonly capacity = 4 * model.config.frames,
  ) {
    const channel = model.weights.spatiotemporal;
    if (!channel) throw new Error('the spatiotemporal channel is switched off (config.spatiotemporal.features = 0); the incremental 3D channel does not apply');
    const kt = model.config.spatiotemporal.temporalKernel;
    this.half = (kt - 1) / 2;
    for (const conv of channel.convs) {
      const [k, kh, kw, c, o] = conv.kernel.shape;
      this.layers.push({
        taps: Array.from({ length: k }, (_, j) => tf.keep(tf.tidy(() => conv.kernel.slice([j, 0, 0, 0, 0], [1, kh, kw, c, o]).reshape([kh, kw, c, o]) as tf.Tensor4D))),
        bias: tf.keep(tf.clone(conv.bias)),
      });
    }
    this.dense = { kernel: tf.keep(tf.clone(channel.dense.kernel) as tf.Tensor2D), bias: tf.keep(tf.clone(channel.dense.bias) as tf.Tensor1D) };
    this.timestepsComputed = this.layers.map(() => 0);
  }

  /** [B, T, F] spatiotemporal features of each window (caller disposes). */
  features(windows: readonly Incremental3dWindow[]): tf.Tensor3D {
    const T = windows[0]!.frames.length;
    const h = this.half;
    const temporaries: tf.Tensor[] = [];
    let prev: tf.Tensor3D[][] = windows.map((w) => [...w.pixels]);
    this.layers.forEach((layer, li) => {
      const l = li + 1;
      const zeros = tf.zerosLike(prev[0]![0]!);
      temporaries.push(zeros);
      const jobs: { inputs: tf.Tensor3D[]; cacheAs?: Frame }[] = [];
      const interiorJob = new Map<Frame, number>();
      const slots: (tf.Tensor3D | number)[][] = windows.map((w, b) =>
        w.frames.map((frame, t) => {
          const interior = t >= l * h && t <= T - 1 - l * h;
          if (interior) {
            const cached = this.cache.get(frame.streamId)?.get(frame)?.[li];
            if (cached) return cached;
            const pending = interiorJob.get(frame);
            if (pending !== undefined) return pending;
            interiorJob.set(frame, jobs.length);
          }
          const inputs = Array.from({ length: 2 * h + 1 }, (_, k) => prev[b]![t - h + k] ?? zeros);
          jobs.push({ inputs, cacheAs: interior ? frame : undefined });
          return jobs.length - 1;
        }),
      );
      // A constant number of ops per layer, whatever the number of jobs (wasm pays per op): per time
      // tap, stack that tap's inputs (tf.stack is a plain copy; wasm's GatherV2 was 15× slower here),
      // one conv2d; then sum, bias, ReLU.
      const outputs = jobs.length
        ? tf.tidy(() => {
            const sum = tf.addN(layer.taps.map((filter, k) => tf.conv2d(tf.stack(jobs.map((j) => j.inputs[k]!)) as tf.Tensor4D, filter, 2, 'same')));
            return tf.unstack(tf.relu(tf.add(sum, layer.bias))) as tf.Tensor3D[];
          })
        : [];
      this.timestepsComputed[li]! += jobs.length;
      jobs.forEach((job, i) => {
        // tf.keep: the cache outlives any tf.tidy the caller runs this in.
        if (job.cacheAs) this.store(job.cacheAs, li, tf.keep(outputs[i]!));
        else temporaries.push(outputs[i]!);
      });
      prev = slots.map((row) => row.map((s) => (typeof s === 'number' ? outputs[s]! : s)));
    });
    const result = tf.tidy(() => {
      const last = tf.stack(prev.flat());
      const flat = last.reshape([last.shape[0], -1]) as tf.Tensor2D;
      const features = tf.fused.matMul({ a: flat, b: this.dense.kernel, bias: this.dense.bias, activation: 'relu' });
      return features.reshape([windows.length, T, -1]) as tf.Tensor3D;
    });
    tf.dispose(temporaries);
    this.trim();
    return result;
  }

  forget(streamId: string): void {
    const stream = this.cache.get(streamId);
    if (!stream) return;
    for (const acts of stream.values()) tf.dispose(acts);
    this.cache.delete(streamId);
  }

  dispose(): void {
    for (const id of [...this.cache.keys()]) this.forget(id);
    for (const layer of this.layers) tf.dispose([...layer.taps, layer.bias]);
    tf.dispose([this.dense.kernel, this.dense.bias]);
  }

  private store(frame: Frame, layer: number, activation: tf.Tensor3D): void {
    let stream = this.cache.get(frame.streamId);
    if (!stream) this.cache.set(frame.streamId, (stream = new Map()));
    let acts = stream.get(frame);
    if (!acts) stream.set(frame, (acts = []));
    acts[layer] = activation;
  }

  private trim(): void {
    for (const stream of this.cache.values()) {
      for (const [frame, acts] of stream) {
        if (stream.size <= this.capacity) break;
        stream.delete(frame);
        tf.dispose(acts.filter(Boolean));
      }
    }
  }
}
