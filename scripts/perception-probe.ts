/**
 * npm run perception:probe -- --clips DIR [--data PROCEDURAL_DIR] [--json FILE]
 * Runs the pretrained detectors on every video in DIR (e.g. ../shared/real-clips/clips: evaluation
 * only, nothing is copied) and prints how often they find hands and objects, hand sizes and motion;
 * with --data, the same figures for a procedural set's scene states with simulated detector noise,
 * so the two can be compared (what perception/simulate.ts is tuned against).
 */
import { Command } from 'commander';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Prng } from '../data/prng.js';
import { initBackend } from '../model/backend.js';
import { ClipPerceiver, parseClipPerception } from '../perception/clipPerception.js';
import { simulateDetections } from '../perception/simulate.js';
import { stateStats } from '../perception/stats.js';
import type { FramePerception } from '../perception/types.js';
import { DEFAULT_PERCEPTION_CACHE } from '../training/open-data.js';

const program = new Command()
  .name('perception:probe')
  .description('Detection rates, hand sizes and motion of the pretrained detectors on real clips, next to simulated ones.')
  .requiredOption('--clips <dir>', 'folder of videos (.webm, .mp4) to run the detectors on')
  .option('--data <dir>', 'a procedural data set (npm run data:make) to compare with')
  .option('--max <n>', 'at most this many clips of each', (v) => Number.parseInt(v, 10), 200)
  .option('--json <file>', 'also write the figures as JSON')
  .parse();
const o = program.opts<{ clips: string; data?: string; max: number; json?: string }>();

async function main() {
  await initBackend({ log: () => {} });
  const files = (await readdir(o.clips)).filter((f) => /\.(webm|mp4|mkv|mov)$/i.test(f)).sort().slice(0, o.max);
  if (files.length === 0) throw new Error(`${o.clips}: no videos`);
  const perceiver = await ClipPerceiver.load({ cacheDir: DEFAULT_PERCEPTION_CACHE });
  const real: FramePerception[][] = [];
  for (const f of files) {
    real.push([...(await perceiver.measure(path.join(o.clips, f))).frames]);
    process.stderr.write(`\r${real.length}/${files.length} clips measured`);
  }
  process.stderr.write('\n');
  perceiver.dispose();
  const out: Record<string, unknown> = { real: stateStats(real) };
  if (o.data) {
    const sides = (await readdir(o.data)).filter((f) => f.endsWith('.perception.json')).sort().slice(0, o.max);
    const scenes = await Promise.all(sides.map(async (f) => parseClipPerception(JSON.parse(await readFile(path.join(o.data!, f), 'utf8')), f).frames));
    out.sceneTruth = stateStats(scenes);
    out.simulated = stateStats(scenes.map((c, i) => simulateDetections(c, new Prng('probe').fork(i))));
  }
  for (const [k, v] of Object.entries(out)) console.log(k.padEnd(11), JSON.stringify(v));
  if (o.json) await writeFile(o.json, JSON.stringify(out, null, 1) + '\n');
}

main().catch((e: unknown) => {
  console.error(`perception:probe: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
