/**
 * `npm run tune -- --recording FILE --annotations FILE [--check-recording FILE --check-annotations FILE] [--model DIR] [--stride N] [--write]`
 *
 * Searches the live pipeline's smoothing and segmenter settings on one annotated recording (the
 * model runs once; eval/tune.ts replays its window scores per setting) and ranks them by the mean
 * of event F1 and frame accuracy. The starting point ("current") is the checkpoint's
 * live-settings.json, else the defaults (pipelines/liveSettings.ts). With a check recording, the
 * current and the best setting are both scored on it, so the choice is judged on data it was not
 * picked on.
 *
 * --write saves the best setting as <checkpoint>/live-settings.json, which the server and replay
 * then use. It is opt-in: a run on one recording is an experiment until its check says otherwise,
 * and the bundled model's folder is under version control, so tuning must not change what the
 * server does as a side effect. The output always says what was (or would be) written and whether
 * an existing file was replaced.
 *
 * Exit codes: 0 done; 2 a usage or input error (a flag, a missing or non-video recording, bad
 * annotations), said before the model loads; 1 the run itself failed. Errors are one line.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { loadAnnotations, type AnnotatedSegment, type ReplayReport } from '../eval/replay.js';
import { describeSettings, objective, recordingWindows, scoreSettings, settingsGrid } from '../eval/tune.js';
import { describeLiveSettings, LIVE_SETTINGS_FILE, ModelEngine, resolveLiveSettings, writeLiveSettings, type LiveSettings } from '../pipelines/index.js';
import { loadServingModel } from '../server/model.js';
import { chooseModel } from './cliModel.js';
import { NotAVideoError, probeVideo } from '../server/probe.js';

const program = new Command()
  .name('npm run tune --')
  .description('Pick the live smoothing and segmenter settings on an annotated recording.')
  .requiredOption('--recording <file>', 'the recording to tune on')
  .requiredOption('--annotations <file>', 'its annotated segments')
  .option('--check-recording <file>', 'a second recording to judge the choice on')
  .option('--check-annotations <file>', 'its annotated segments')
  .option('--model <dir>', 'checkpoint, training run or transfer output folder (default: the bundled model)')
  .option('--stride <n>', "frames between windows (default: the checkpoint's live settings)")
  .option('--top <n>', 'settings to list', '10')
  .option('--json <file>', 'also write every setting and its scores as JSON')
  .option('--write', "save the best setting as the checkpoint's live-settings.json (replacing any there)")
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();

const usage = (message: string): never => program.error(`error: ${message}`, { exitCode: 2 });

const opts = program.opts<{ recording: string; annotations: string; checkRecording?: string; checkAnnotations?: string; model?: string; stride?: string; top: string; json?: string; write?: boolean }>();
const stride = opts.stride === undefined ? undefined : Number(opts.stride);
if (stride !== undefined && (!Number.isInteger(stride) || stride < 1)) usage('--stride must be a positive integer');
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

// The same folder loadServingModel would pick, and its live settings, read before the model loads.
const { checkpoint, loaded } = chooseModel(opts.model, usage);
if (opts.write && !checkpoint) usage('--write needs a checkpoint folder to write into (--model DIR, or the bundled model)');
const current: LiveSettings = resolveLiveSettings({ stride }, loaded.settings);

// Any failure from here on ends the process with one line and exit 1. Left uncaught, it would reach
// the handler tfjs's wasm backend installs, which prints a line of its minified source and exits 7.
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);
function fail(err: unknown): never {
  process.stderr.write(`tune: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const { model, info } = await loadServingModel(checkpoint, pino({ level: 'warn' }));
const engine = await ModelEngine.create(model);
process.stderr.write(`model: ${info.name} (${info.trained ? 'trained' : 'UNTRAINED'}); scoring ${opts.recording} once…\n`);
const recorded = await recordingWindows(opts.recording, engine, current);
const currentFrom = loaded.source === 'file' ? loaded.file : 'defaults, no live-settings.json';
const line = (label: string, r: ReplayReport) =>
  `${label}: objective ${objective(r).toFixed(3)} (event F1 ${r.event.f1.toFixed(3)}, frame accuracy ${r.frameAccuracy.toFixed(3)}, ${r.event.predicted} events)`;

const grid = settingsGrid(current);
const ranked: { settings: LiveSettings; report: ReplayReport }[] = [];
for (const settings of grid) ranked.push({ settings, report: await scoreSettings(recorded, annotations, settings) });
// Best first; ties keep the grid's order (smoother settings first), so the pick is deterministic.
ranked.sort((a, b) => objective(b.report) - objective(a.report));

console.log(`${recorded.windows.length} windows of ${opts.recording} at stride ${current.stride}, ${grid.length} settings`);
console.log(line(`current (${currentFrom}: ${describeSettings(current)})`, await scoreSettings(recorded, annotations, current)));
for (const [i, r] of ranked.slice(0, top).entries()) console.log(line(`#${i + 1} ${describeSettings(r.settings)}`, r.report));

let check: { current: ReplayReport; best: ReplayReport } | undefined;
if (opts.checkRecording && checkAnnotations) {
  const checkWindows = await recordingWindows(opts.checkRecording, engine, current);
  check = { current: await scoreSettings(checkWindows, checkAnnotations, current), best: await scoreSettings(checkWindows, checkAnnotations, ranked[0]!.settings) };
  console.log(`\non ${opts.checkRecording} (not tuned on):`);
  console.log(line('  current', check.current));
  console.log(line(`  #1 (${describeSettings(ranked[0]!.settings)})`, check.best));
  if (objective(check.best) < objective(check.current)) console.log('  note: #1 scores below the current settings on the check recording');
}

const best = ranked[0]!;
const target = checkpoint ? path.join(checkpoint, LIVE_SETTINGS_FILE) : undefined;
if (opts.write && checkpoint) {
  const tuned = {
    by: 'npm run tune',
    at: new Date().toISOString(),
    model: info.name,
    fps: engine.input.fps,
    frames: engine.input.frames,
    recording: opts.recording,
    objective: objective(best.report),
    ...(check && opts.checkRecording ? { checkRecording: opts.checkRecording, checkObjective: objective(check.best), checkObjectiveBefore: objective(check.current) } : {}),
  };
  const written = writeLiveSettings(checkpoint, best.settings, tuned);
  console.log(`\nwrote ${written.file}${written.replaced ? ' (replaced the previous file)' : ' (new file)'}: ${describeLiveSettings(best.settings)}`);
  process.stdout.write(written.text);
} else {
  const where = target ? `${target}${existsSync(target) ? ', replacing the one there' : ''}` : 'a checkpoint folder (there is none: the untrained fallback)';
  console.log(`\nnot written; --write would save #1 to ${where}`);
}
if (opts.json) writeFileSync(opts.json, JSON.stringify({ recording: opts.recording, model: info.name, stride: current.stride, current, currentFrom, ranked, check }, null, 1));
engine.dispose();
