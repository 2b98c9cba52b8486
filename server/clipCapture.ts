/**
 * Cutting clips out of a live stream for the clip library: the next N seconds of it, or the last N
 * seconds, which a bounded ring of recent frames per stream keeps (at the model's frame rate and
 * the source's decoded size: 10 s of a 144×144 stream is ~7.5 MB). The frames are then encoded to
 * a WebM in the library's folder by a real ffmpeg (data/encode.ts).
 */
import { firstValueFrom, type Observable, take, timeout, toArray } from 'rxjs';
import { encodeWebm } from '../data/encode.js';
import type { Frame } from '../pipelines/types.js';

/** The newest `capacity` frames of a stream; older ones fall out as new ones come. */
export class FrameRing {
  private readonly frames: (Frame | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.frames = new Array<Frame | undefined>(Math.max(0, capacity));
  }

  push(frame: Frame): void {
    if (this.capacity === 0) return;
    this.frames[this.next] = frame;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The newest `n` frames, oldest first. */
  last(n: number): Frame[] {
    const k = Math.min(n, this.count);
    const out: Frame[] = [];
    for (let i = k; i > 0; i--) out.push(this.frames[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }

  get size(): number {
    return this.count;
  }
}

export class ClipTooShortError extends Error {}

/** The next `count` frames of a stream; fails when they do not arrive within `timeoutMs` (a stalled camera). */
export function nextFrames(frames$: Observable<Frame>, count: number, timeoutMs: number): Promise<Frame[]> {
  return firstValueFrom(frames$.pipe(take(count), timeout({ first: timeoutMs, each: timeoutMs }), toArray()));
}

/**
 * The frames as one clip: only the run since the last change of picture size (a reconnection may
 * change it), and at least `minFrames` of them (the model's window), else ClipTooShortError.
 */
export function clipRun(frames: readonly Frame[], minFrames: number, fps: number): Frame[] {
  let start = frames.length - 1;
  while (start > 0 && frames[start - 1]!.width === frames.at(-1)!.width && frames[start - 1]!.height === frames.at(-1)!.height) start--;
  const run = frames.slice(Math.max(0, start));
  if (run.length < minFrames) {
    throw new ClipTooShortError(`only ${(run.length / fps).toFixed(1)} s of the stream was captured; a clip needs at least ${(minFrames / fps).toFixed(1)} s (${minFrames} frames at ${fps} fps, the model's window)`);
  }
  return run;
}

/** Encodes the frames (all one size) to `file` as VP8 WebM at `fps`. */
export async function encodeClip(frames: readonly Frame[], fps: number, file: string): Promise<void> {
  const { width, height } = frames[0]!;
  await encodeWebm(
    frames.map((f) => f.pixels),
    file,
    { width, height, fps, codec: 'vp8', crf: 10 },
  );
}
