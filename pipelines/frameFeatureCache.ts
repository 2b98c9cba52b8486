/**
 * Per-stream cache of what the model computes once per frame: the normalised pixels (a [H,W,3]
 * tensor, reused to stack every window's clip) and the spatial channel's feature vector ([F]).
 * Overlapping windows (stride < T) therefore run the 2D CNN on each frame once. Each stream holds
 * at most `capacity` frames; the oldest are evicted and their tensors disposed, so the tensor count
 * stays bounded however long a stream runs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Frame } from './types.js';

export interface FrameEntry {
  readonly pixels: tf.Tensor3D;
  /** Absent when the model's spatial channel is off. */
  readonly spatial?: tf.Tensor1D;
}

export class FrameFeatureCache {
  private readonly streams = new Map<string, Map<Frame, FrameEntry>>();
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  }

  /** Keyed by frame identity: windows share Frame objects, so a reconnect or a replayed seq can never alias. */
  get(frame: Frame): FrameEntry | undefined {
    const entry = this.streams.get(frame.streamId)?.get(frame);
    if (entry) this.hits++;
    else this.misses++;
    return entry;
  }

  /** Stores entries, then evicts the stream's oldest beyond capacity (call after the batch that used them). */
  set(frame: Frame, entry: FrameEntry): void {
    let stream = this.streams.get(frame.streamId);
    if (!stream) this.streams.set(frame.streamId, (stream = new Map()));
    stream.set(frame, entry);
  }

  /** Evicts the oldest entries of every stream beyond capacity. */
  trim(): void {
    for (const stream of this.streams.values()) {
      for (const [frame, entry] of stream) {
        if (stream.size <= this.capacity) break;
        stream.delete(frame);
        dispose(entry);
        this.evictions++;
      }
    }
  }

  /** Frames cached for a stream. */
  size(streamId: string): number {
    return this.streams.get(streamId)?.size ?? 0;
  }

  forget(streamId: string): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    for (const entry of stream.values()) dispose(entry);
    this.streams.delete(streamId);
  }

  clear(): void {
    for (const id of [...this.streams.keys()]) this.forget(id);
  }
}

function dispose(entry: FrameEntry): void {
  entry.pixels.dispose();
  entry.spatial?.dispose();
}
