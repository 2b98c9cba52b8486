/**
 * `npm run tune -- --recording FILE --annotations FILE [--check-recording FILE --check-annotations FILE] [--model DIR]`
 *
 * Searches the live pipeline's smoothing and segmenter settings on one annotated recording (the
 * model runs once; eval/tune.ts replays its window scores per setting) and ranks them by the mean
 * of event F1 and frame accuracy. With a check recording, the current defaults and the best
 * setting are both scored on it, so the choice is judged on data it was not picked on.
 *
 * Exit codes: 0 done; 2 a usage or input error (a flag, a missing or non-video recording, bad
 * annotations), said before the model loads; 1 the run itself failed. Errors are one line.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { loadAnnotations, type AnnotatedSegment, type ReplayReport } from '../eval/replay.js';
import { describeSettings, objective, recordingWindows, scoreSettings, settingsGrid, type LiveSettings } from '../eval/tune.js';
import { defaultSegmenterOptions } from '../pipelines/actionSegmenter.js';
import { ModelEngine } from '../pipelines/index.js';
import { defaultSmoothing } from '../pipelines/scoreSmoother.js';
import { loadServingModel } from '../server/model.js';
import { NotAVideoError, probeVideo } from '../server/probe.js';

const program = new Command()
  .name('npm run tune --')
  .description('Pick the live smoothing and segmenter settings on an annotated recording.')
  .requiredOption('--recording <file>', 'the recording to tune on')
  .requiredOption('--annotations <file>', 'its annotated segments')
  .option('--check-recording <file>', 'a second recording to judge the choice on')
  .option('--check-annotations <file>', 'its annotated segments')
  .option('--model <dir>', 'checkpoint folder (default: the bundled model)')
  .option('--stride <n>', 'frames between windows', '4')
  .option('--top <n>', 'settings to list', '10')
  .option('--json <file>', 'also write every setting and its scores as JSON')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();

const usage = (message: string): never => program.error(`error: ${message}`, { exitCode: 2 });

const opts = program.opts<{ recording: string; annotations: string; checkRecording?: string; checkAnnotations?: string; model?: string; stride: string; top: string; json?: string }>();
const stride = Number(opts.stride);
if (!Number.isInteger(stride) || stride < 1) usage('--stride must be a positive integer');
const top = Number(opts.top);
if (!Number.isInteger(top) || top < 1) usage('--top must be a positive integer');
if (Boolean(opts.checkRecording) !== Boolean(opts.checkAnnotations)) usage('--check-recording and --check-annotations go together');
const recordings = [opts.recording, opts.checkRecording].filter((x): x is string => Boolean(x));
for (const f of recordings) if (!existsSync(f)) usage(`no such recording: ${f}`);
const annotationsOf = (file: string): AnnotatedSegment[] => {
  try {
    return loadAnnotations(file);
  } catch (err) {
    return usage((err as Error).message);
  }
};
const annotations = annotationsOf(opts.annotations);
const checkAnnotations = opts.checkAnnotations ? annotationsOf(opts.checkAnnotations) : undefined;
// Before the model loads: a text file or a playlist named .webm is said in one line, not after a minute of loading.
for (const f of recordings) {
  await probeVideo(path.resolve(f)).catch((err: unknown) => usage(err instanceof NotAVideoError ? err.message : `cannot probe ${f}: ${(err as Error).message}`));
}

// Any failure from here on ends the process with one line and exit 1. Left uncaught, it would reach
// the handler tfjs's wasm backend installs, which prints a line of its minified source and exits 7.
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);
function fail(err: unknown): never {
  process.stderr.write(`tune: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const { model, info } = await loadServingModel(opts.model, pino({ level: 'warn' }));
const engine = await ModelEngine.create(model);
process.stderr.write(`model: ${info.name} (${info.trained ? 'trained' : 'UNTRAINED'}); scoring ${opts.recording} once…\n`);
const recorded = await recordingWindows(opts.recording, engine, stride);

const current: LiveSettings = {
  smoothing: defaultSmoothing,
  segmenter: {
    startThreshold: defaultSegmenterOptions.startThreshold,
    endThreshold: defaultSegmenterOptions.endThreshold,
    minStartWindows: defaultSegmenterOptions.minStartWindows,
    minEndWindows: defaultSegmenterOptions.minEndWindows,
  },
};
const line = (label: string, r: ReplayReport) =>
  `${label}: objective ${objective(r).toFixed(3)} (event F1 ${r.event.f1.toFixed(3)}, frame accuracy ${r.frameAccuracy.toFixed(3)}, ${r.event.predicted} events)`;

const grid = settingsGrid();
const ranked: { settings: LiveSettings; report: ReplayReport }[] = [];
for (const settings of grid) ranked.push({ settings, report: await scoreSettings(recorded, annotations, settings) });
// Best first; ties keep the grid's order (smoother settings first), so the pick is deterministic.
ranked.sort((a, b) => objective(b.report) - objective(a.report));

console.log(`${recorded.windows.length} windows of ${opts.recording}, ${grid.length} settings`);
console.log(line(`current defaults (${describeSettings(current)})`, await scoreSettings(recorded, annotations, current)));
for (const [i, r] of ranked.slice(0, top).entries()) console.log(line(`#${i + 1} ${describeSettings(r.settings)}`, r.report));

let check: { current: ReplayReport; best: ReplayReport } | undefined;
if (opts.checkRecording && checkAnnotations) {
  const checkWindows = await recordingWindows(opts.checkRecording, engine, stride);
  check = { current: await scoreSettings(checkWindows, checkAnnotations, current), best: await scoreSettings(checkWindows, checkAnnotations, ranked[0]!.settings) };
  console.log(`\non ${opts.checkRecording} (not tuned on):`);
  console.log(line('  current defaults', check.current));
  console.log(line(`  #1 (${describeSettings(ranked[0]!.settings)})`, check.best));
}
if (opts.json) writeFileSync(opts.json, JSON.stringify({ recording: opts.recording, model: info.name, stride, ranked, check }, null, 1));
engine.dispose();
