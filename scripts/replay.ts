/**
 * `npm run replay -- --recording FILE --annotations FILE [--speed realtime|max] [--model DIR] [--stride N] [--json OUT]`
 *
 * Plays a recorded session through the live pipeline, with the checkpoint's live settings
 * (its live-settings.json, else the defaults; --stride overrides the stride), and scores what it said against the
 * session's annotated segments: frame accuracy, event F1 at IoU ≥ 0.5, caption BLEU-1…4 and
 * CIDEr-D, mean and p95 latency. The annotation format is documented in docs/SERVER.md.
 *
 * Exit codes: 0 done; 2 a usage or input error (a flag, a missing or non-video recording, bad
 * annotations), said before the model loads; 1 the run itself failed. Errors are one line.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { loadAnnotations, type AnnotatedSegment } from '../eval/replay.js';
import { runReplay } from '../eval/replay-run.js';
import { describeLiveSettings, ModelEngine, resolveLiveSettings } from '../pipelines/index.js';
import { loadServingModel } from '../server/model.js';
import { chooseModel } from './cliModel.js';
import { NotAVideoError, probeVideo } from '../server/probe.js';

const program = new Command()
  .name('npm run replay --')
  .description('Score a model on a recorded session against its annotations.')
  .requiredOption('--recording <file>', 'the recorded video (webm, mp4, …)')
  .requiredOption('--annotations <file>', 'JSON segments {start, end, template, caption} in seconds')
  .addOption(new Option('--speed <speed>', 'realtime plays at the recording’s own pace; max decodes as fast as the model runs').choices(['realtime', 'max']).default('max'))
  .option('--model <dir>', 'checkpoint, training run or transfer output folder (default: the bundled model, else an untrained default-config model)')
  .addOption(new Option('--compare <field>', 'annotation field the predicted action is compared with').choices(['template', 'label']).default('template'))
  .option('--stride <n>', "frames between windows (default: the checkpoint's live settings)")
  .option('--json <file>', 'also write the full report as JSON')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();

const usage = (message: string): never => program.error(`error: ${message}`, { exitCode: 2 });

const opts = program.opts<{ recording: string; annotations: string; speed: 'realtime' | 'max'; model?: string; compare: 'template' | 'label'; stride?: string; json?: string }>();
if (!existsSync(opts.recording)) usage(`no such recording: ${opts.recording}`);
const stride = opts.stride === undefined ? undefined : Number(opts.stride);
if (stride !== undefined && (!Number.isInteger(stride) || stride < 1)) usage('--stride must be a positive integer');

const annotations = ((): AnnotatedSegment[] => {
  try {
    return loadAnnotations(opts.annotations);
  } catch (err) {
    return usage((err as Error).message);
  }
})();
// Before the model loads: a text file or a playlist named .webm is said in one line, not after a minute of loading.
await probeVideo(path.resolve(opts.recording)).catch((err: unknown) => usage(err instanceof NotAVideoError ? err.message : `cannot probe ${opts.recording}: ${(err as Error).message}`));

// The same folder loadServingModel would pick, and its live settings, read before the model loads.
const { checkpoint, loaded } = chooseModel(opts.model, usage);
const settings = resolveLiveSettings({ stride }, loaded.settings);

// Any failure from here on ends the process with one line and exit 1. Left uncaught, it would reach
// the handler tfjs's wasm backend installs, which prints a line of its minified source and exits 7.
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);
function fail(err: unknown): never {
  process.stderr.write(`replay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const log = pino({ level: 'warn' });
const { model, info } = await loadServingModel(checkpoint, log);
const engine = await ModelEngine.create(model);
process.stderr.write(`model: ${info.name} (${info.trained ? 'trained' : 'UNTRAINED'}, ${info.labels} labels, ${info.backend}); speed ${opts.speed}\n`);
const settingsFrom = loaded.source === 'file' ? loaded.file : 'defaults, no live-settings.json';
const settingsLine = `${describeLiveSettings(settings)} (${settingsFrom}${stride === undefined ? '' : '; stride from --stride'})`;

const labelOf = opts.compare === 'label' ? (s: AnnotatedSegment) => s.label ?? s.template : (s: AnnotatedSegment) => s.template;
let lastShown = -1;
const started = performance.now();
const run = await runReplay({
  video: opts.recording,
  annotations,
  engine,
  pace: opts.speed,
  labelOf,
  pipeline: settings,
  onProgress: (f) => {
    const pct = Math.floor(f * 100);
    if (pct >= lastShown + 10 && process.stderr.isTTY) {
      lastShown = pct;
      process.stderr.write(`\r${pct}%`);
    }
  },
});
const seconds = (performance.now() - started) / 1000;
if (process.stderr.isTTY) process.stderr.write('\r');

const r = run.report;
const f3 = (x: number) => x.toFixed(3);
const lines = [
  `recording        ${opts.recording} (${run.duration.toFixed(1)} s, ${run.frames} frames, ${annotations.length} annotated segments)`,
  `frame accuracy   ${f3(r.frameAccuracy)} over ${r.scoredFrames} annotated frames`,
  `event F1         ${f3(r.event.f1)} (precision ${f3(r.event.precision)}, recall ${f3(r.event.recall)}; ${r.event.matched} matched of ${r.event.predicted} predicted / ${r.event.annotated} annotated; from ${r.eventSource})`,
  r.caption
    ? `captions         BLEU-1…4 ${r.caption.bleu.map(f3).join(' / ')}, CIDEr-D ${f3(r.caption.ciderD)} over ${r.caption.items} segments`
    : 'captions         (no annotated captions)',
  r.latencyMs ? `latency          mean ${r.latencyMs.mean.toFixed(1)} ms, p95 ${r.latencyMs.p95.toFixed(1)} ms (frame arrival → prediction emitted)` : 'latency          (no predictions)',
  `windows          ${r.predictions} scored, ${run.windowsDropped} dropped; wall time ${seconds.toFixed(1)} s`,
  `live settings    ${settingsLine}`,
];
console.log(lines.join('\n'));
if (opts.json) {
  writeFileSync(opts.json, JSON.stringify({ recording: opts.recording, annotations: opts.annotations, speed: opts.speed, model: info, settings, settingsFrom, seconds, report: r, predictedSegments: run.predictedSegments, windowsDropped: run.windowsDropped, observations: run.observations }, null, 2));
}
