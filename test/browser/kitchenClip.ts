/**
 * Kitchen clips for the browser tests, made by the project's own procedural renderer and written
 * with real ffmpeg: a .webm for the demo stream and a .y4m that Chromium plays as its fake webcam.
 */
import { spawn } from 'node:child_process';
import { KITCHENWARE } from '../../data/catalogue/kitchenware.js';
import { DIFFICULTY, planClip, renderFrames } from '../../data/render/clip.js';
import { Prng } from '../../data/prng.js';

/** Renders `clips` consecutive kitchen actions at `size` and encodes them into one file (format by extension). */
export async function writeKitchenClip(out: string, { clips = 3, width = 320, height = 240, fps = 15, seed = 'browser-test' } = {}): Promise<void> {
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
  const rng = new Prng(seed);
  for (let i = 0; i < clips; i++) {
    const plan = planClip(KITCHENWARE, (i * 7) % KITCHENWARE.templates.length, rng.fork(`clip:${i}`), DIFFICULTY.easy, { fps });
    for (const rgb of renderFrames(plan, { width, height })) {
      if (!ffmpeg.stdin.write(rgb)) await new Promise((r) => ffmpeg.stdin.once('drain', r));
    }
  }
  ffmpeg.stdin.end();
  await done;
}
