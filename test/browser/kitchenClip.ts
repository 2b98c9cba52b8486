/**
 * Kitchen clips for the browser tests, made by the project's own procedural renderer and written
 * with real ffmpeg: a .webm for the demo stream and a .y4m that Chromium plays as its fake webcam.
 */
import { spawn } from 'node:child_process';
import { KITCHENWARE } from '../../data/catalogue/kitchenware.js';
import { SOMETHING } from '../../data/catalogue/something.js';
import { DIFFICULTY, planClip, renderFrames } from '../../data/render/clip.js';
import { Prng } from '../../data/prng.js';

/** Renders `clips` consecutive kitchen actions at `size` and encodes them into one file (format by extension). */
export async function writeKitchenClip(out: string, { clips = 3, width = 320, height = 240, fps = 15, seed = 'browser-test' } = {}): Promise<void> {
  const rng = new Prng(seed);
  const plans = Array.from({ length: clips }, (_, i) => planClip(KITCHENWARE, (i * 7) % KITCHENWARE.templates.length, rng.fork(`clip:${i}`), DIFFICULTY.easy, { fps }));
  await encodeFrames(out, { width, height, fps }, (function* () {
    for (const plan of plans) yield* renderFrames(plan, { width, height });
  })());
}

/**
 * One segment per template of the "something" catalogue (actions the kitchen model never saw), each
 * filled with procedural clips of that template to exactly `seconds`: a camera that shows action A
 * for `seconds`, then B, … (Chromium loops the file).
 */
export async function writeActionSegments(out: string, templates: readonly string[], { seconds = 8, width = 192, height = 144, fps = 12, seed = 'teach' } = {}): Promise<void> {
  const rng = new Prng(seed);
  const indexOf = (t: string) => {
    const i = SOMETHING.templates.findIndex((x) => x.template === t);
    if (i < 0) throw new Error(`no template "${t}" in the something catalogue`);
    return i;
  };
  await encodeFrames(out, { width, height, fps }, (function* () {
    for (const [k, template] of templates.entries()) {
      let left = Math.round(seconds * fps);
      for (let c = 0; left > 0; c++) {
        const plan = planClip(SOMETHING, indexOf(template), rng.fork(`segment:${k}:${c}`), DIFFICULTY.easy, { fps });
        for (const rgb of renderFrames(plan, { width, height })) {
          if (left-- <= 0) break;
          yield rgb;
        }
      }
    }
  })());
}

async function encodeFrames(out: string, { width, height, fps }: { width: number; height: number; fps: number }, frames: Iterable<Uint8Array>): Promise<void> {
  const ffmpeg = spawn(process.env.FFMPEG_PATH || 'ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
    '-pix_fmt', 'yuv420p',
    ...(out.endsWith('.webm') ? ['-c:v', 'libvpx', '-b:v', '600k'] : []),
    out,
  ], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    ffmpeg.on('error', reject);
    ffmpeg.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed writing ${out}: ${stderr}`))));
  });
  for (const rgb of frames) {
    if (!ffmpeg.stdin.write(rgb)) await new Promise((r) => ffmpeg.stdin.once('drain', r));
  }
  ffmpeg.stdin.end();
  await done;
}
