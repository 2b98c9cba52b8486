/**
 * Small deterministic stand-ins for the marble tests: frames that carry only their seq, and an
 * engine whose answers depend on the window's content so routing mistakes would show.
 */
import { map, timer, type ObservableInput } from 'rxjs';
import type { EngineHead, InferenceEngine, WindowInference } from '../../pipelines/engine.js';
import type { Frame, FrameWindow } from '../../pipelines/types.js';

export function frame(seq: number, streamId = 's', capturedAt = seq * 100): Frame {
  return { streamId, seq, capturedAt, width: 1, height: 1, pixels: new Uint8Array([seq & 255, 0, 0]) };
}

export function window(streamId: string, lastSeq: number, size = 1): FrameWindow {
  const frames = Array.from({ length: size }, (_, i) => frame(lastSeq - size + 1 + i, streamId));
  return { streamId, frames, readyAt: 0 };
}

/** Engine answering after `delay` virtual ms; probability of class 0 = last seq / 100. */
export class DelayedEngine implements InferenceEngine {
  readonly input = { frames: 1, width: 1, height: 1, fps: 10 };
  readonly heads: EngineHead[] = [{ name: 'action', labels: ['a', 'b'] }];
  readonly batches: string[][] = [];

  constructor(private readonly delay: number) {}

  inferBatch(windows: readonly FrameWindow[]): ObservableInput<readonly WindowInference[]> {
    this.batches.push(windows.map((w) => `${w.streamId}${w.frames.at(-1)!.seq}`));
    return timer(this.delay).pipe(
      map(() =>
        windows.map((w) => {
          const p = w.frames.at(-1)!.seq / 100;
          return { probabilities: { action: Float32Array.of(p, 1 - p) }, encoding: Float32Array.of(p) };
        }),
      ),
    );
  }

  caption(encoding: Float32Array): ObservableInput<string> {
    return timer(this.delay).pipe(map(() => `caption ${encoding[0]}`));
  }
}
