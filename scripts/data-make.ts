/**
 * `npm run data:make -- --domain something|kitchenware --count N --out DIR --seed S [difficulty options]`
 *   renders a procedural data set in the SSv2 layout (see docs/DATA.md) and prints per-class counts.
 * `npm run data:make -- --session --domain kitchenware --actions 20 --out DIR [--name session]`
 *   writes one long WebM of consecutive actions and its segment annotation JSON
 *   (`--templates "A|B|…"` performs those templates in that order instead).
 * `npm run data:make -- --contact-sheet --domain something --out docs/images/contact-sheet.png`
 *   draws one row per action, a few frames each.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { z } from 'zod';
import { catalogueOf } from '../data/catalogue/index.js';
import { DOMAINS } from '../data/catalogue/types.js';
import { contactSheet } from '../data/contactSheet.js';
import { generateDataset, splitProblem } from '../data/generate.js';
import { DIFFICULTY, DifficultySchema } from '../data/render/clip.js';
import { writeSession } from '../data/session.js';

const num = (v: string) => Number(v);

const program = new Command('data:make')
  .description('make procedural Something-Something-style clips in the SSv2 layout')
  .addOption(new Option('--domain <domain>', 'source "something" or target "kitchenware"').choices([...DOMAINS]).makeOptionMandatory())
  .requiredOption('--out <path>', 'output folder (a .png file for --contact-sheet)')
  .option('--count <n>', 'number of clips', num)
  .option('--seed <seed>', 'random seed (same seed, same data)', '1')
  .addOption(new Option('--difficulty <preset>', 'nuisance preset').choices(Object.keys(DIFFICULTY)).default('moderate'))
  .option('--shake <0..1>', 'camera shake', num)
  .option('--zoom <0..1>', 'camera zoom variation', num)
  .option('--lighting <0..1>', 'lighting changes', num)
  .option('--distractors <0..4>', 'most distractor objects', num)
  .option('--occlusion <0..1>', 'chance of a foreground occluder', num)
  .option('--no-textures', 'plain backgrounds and objects')
  .option('--speed <0..1>', 'speed and timing variation', num)
  .option('--size <0..1>', 'object size variation', num)
  .option('--noise <0..1>', 'pixel noise', num)
  .option('--width <px>', 'frame width', num, 128)
  .option('--height <px>', 'frame height', num, 128)
  .option('--fps <n>', 'frames per second', num, 12)
  .option('--photos <dir>', 'draw random crops of the photographs in DIR as wall and counter top (domain randomisation)')
  .addOption(new Option('--codec <codec>', 'WebM video codec').choices(['vp9', 'vp8']).default('vp9'))
  .option('--crf <n>', 'encoder quality (lower is better)', num)
  .option('--templates <list>', 'only these templates, separated by "|"', (v: string) => v.split('|').map((t) => t.trim()).filter(Boolean))
  .option('--concurrency <n>', 'encoders at once', num, 2)
  .option('--overwrite', 'replace a data set made with other options in --out')
  .option('--session', 'write one long session video with segment annotations')
  .option('--actions <n>', 'actions in a session', num, 20)
  .option('--name <name>', 'file name (without extension) of a session', 'session')
  .option('--contact-sheet', 'write a contact sheet PNG to --out')
  .parse();

const raw = program.opts();
const Args = z.object({
  domain: z.enum(['something', 'kitchenware']),
  out: z.string().min(1),
  count: z.number().int().positive().optional(),
  seed: z.string().min(1),
  width: z.number().int().min(16).max(1920),
  height: z.number().int().min(16).max(1080),
  fps: z.number().int().min(1).max(60),
  codec: z.enum(['vp9', 'vp8']),
  crf: z.number().int().min(4).max(63).optional(),
  concurrency: z.number().int().min(1).max(16),
  actions: z.number().int().min(1).max(10_000),
  name: z.string(),
  session: z.boolean().optional(),
  contactSheet: z.boolean().optional(),
  templates: z.array(z.string()).optional(),
  overwrite: z.boolean().optional(),
  photos: z.string().min(1).optional(),
});
const parsed = Args.safeParse(raw);
if (!parsed.success) {
  const i = parsed.error.issues[0]!;
  program.error(`--${String(i.path[0])}: ${i.message}`);
}
const args = parsed.data!;
const preset = DIFFICULTY[raw.difficulty as keyof typeof DIFFICULTY];
const overrides = Object.fromEntries(['shake', 'zoom', 'lighting', 'distractors', 'occlusion', 'speed', 'size', 'noise'].filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
const diff = DifficultySchema.safeParse({ ...preset, ...overrides, textures: raw.textures === false ? false : preset.textures });
if (!diff.success) {
  const i = diff.error.issues[0]!;
  program.error(`--${String(i.path[0])}: ${i.message}`);
}
const difficulty = diff.data!;

async function main() {
  if (args.contactSheet) {
    const png = await contactSheet(catalogueOf(args.domain), { seed: args.seed, difficulty });
    await mkdir(path.dirname(path.resolve(args.out)), { recursive: true });
    await writeFile(args.out, png);
    console.log(`wrote ${args.out} (${catalogueOf(args.domain).templates.length} actions)`);
  } else if (args.session) {
    await mkdir(args.out, { recursive: true });
    const a = await writeSession({ domain: args.domain, seed: args.seed, actions: args.templates ?? args.actions, width: args.width, height: args.height, fps: args.fps, difficulty, dir: args.out, name: args.name, codec: args.codec, crf: args.crf });
    console.log(`wrote ${path.join(args.out, a.video)} (${a.duration.toFixed(1)} s, ${a.frames} frames, ${a.segments.length} segments) and ${args.name}.json`);
  } else {
    if (args.count === undefined) program.error('--count is required to make a data set');
    // Too few clips for every class to reach validation and test: refused before anything is written.
    const problem = splitProblem(args.count!, args.templates?.length ?? catalogueOf(args.domain).templates.length);
    if (problem) program.error(`data:make: --count ${problem}`, { exitCode: 2 });
    const bar = new SingleBar({ format: 'clips {bar} {value}/{total} {eta_formatted} left', stream: process.stderr }, Presets.shades_classic);
    bar.start(args.count!, 0);
    const report = await generateDataset({ domain: args.domain, count: args.count!, out: args.out, seed: args.seed, difficulty, width: args.width, height: args.height, fps: args.fps, ...(args.photos ? { photos: args.photos } : {}), codec: args.codec, concurrency: args.concurrency, templates: args.templates, overwrite: args.overwrite, onClip: (done) => bar.update(done) });
    bar.stop();
    const names = Object.keys({ ...report.counts.train, ...report.counts.validation, ...report.counts.test });
    console.log(`wrote ${report.total} clips to ${report.out} in ${report.seconds.toFixed(1)} s${report.resumed ? ` (${report.resumed} kept from an interrupted run)` : ''}`);
    console.log('per-class counts (train / validation / test):');
    for (const n of names) console.log(`  ${String(report.counts.train[n] ?? 0).padStart(5)} ${String(report.counts.validation[n] ?? 0).padStart(4)} ${String(report.counts.test[n] ?? 0).padStart(4)}  ${n}`);
  }
}

// Bad input (an unknown template, a folder holding another recipe, ffmpeg failing) ends with one
// clear line, not a stack trace.
main().catch((err: unknown) => {
  console.error(`data:make: ${(err as Error).message}`);
  process.exit(1);
});
