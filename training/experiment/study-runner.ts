/**
 * Runs the study (plan.ts planStudy) one run at a time with the ordinary training CLI and the
 * study's probe, each a child process. A finished run appends its compact test predictions and
 * its results line (store.ts); a rerun skips every key already recorded and resumes an
 * interrupted training run from its checkpoint.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { captionReport, TemplateMatcher } from '../../eval/caption.js';
import { type ClipPrediction, readPredictions } from '../predictions.js';
import { STUDY_DATA, STUDY_NET, STUDY_TRAINING, type StudyRun } from './plan.js';
import { runScript } from './runner.js';
import { appendStudy, type ClipSplit, type ClipsFile, compactPredictions, decodeClasses, ifUnlocked, readClips, readStudyPredictions, readStudyResults, registerClips, type StudyFiles, type StudyPrediction, type StudyResult } from './store.js';

export interface StudyPaths extends StudyFiles {
  /** Generated data and run folders (not committed). */
  readonly workDir: string;
}

export function studyDataDir(paths: StudyPaths, dataSeed: number): string {
  return path.join(paths.workDir, `data-d${dataSeed}`);
}

function runDir(paths: StudyPaths, key: string): string {
  return path.join(paths.workDir, 'runs', ...key.split('/'));
}

/** The data set a run trains or is tested on: source runs on something, probes and scratch on kitchenware. */
function runDataDir(paths: StudyPaths, run: StudyRun): string {
  return path.join(studyDataDir(paths, run.dataSeed), run.kind === 'source' ? 'something' : 'kitchenware');
}

/** The recorded test clips a run's predictions refer to. */
function clipSplit(run: StudyRun): ClipSplit {
  return run.kind !== 'source' ? 'target' : run.task === 'groups' ? 'sourceGroup' : 'source';
}

/**
 * Generates a data seed's data sets unless they are complete; false when another runner is generating
 * them, so that this runner takes a run of another data seed meanwhile instead of waiting.
 */
async function ensureData(paths: StudyPaths, dataSeed: number, log: (l: string) => void): Promise<boolean> {
  const dir = studyDataDir(paths, dataSeed);
  const complete = (d: string) => {
    const manifest = path.join(dir, d, 'countertop-dataset.json');
    return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { complete?: boolean }).complete === true;
  };
  const done = () => complete('something') && complete('kitchenware');
  if (done()) return true;
  mkdirSync(paths.workDir, { recursive: true });
  const generated = await ifUnlocked(`${dir}.lock`, async () => {
    if (done()) return;
    log(`generating the data sets of data seed ${dataSeed} into ${dir}`);
    await runScript('scripts/experiment-data.ts', ['--data-seed', String(dataSeed), '--out', dir], log);
  });
  return !generated.held;
}

/** The arguments of scripts/train.ts for a source or scratch run. */
export function trainArgs(run: StudyRun, data: string, out: string): string[] {
  const source = run.kind === 'source';
  return [
    '--data', data,
    '--out', out,
    '--task', run.task,
    ...(run.lambda !== 1 ? ['--lambda', String(run.lambda)] : []),
    '--epochs', String((source ? STUDY_DATA.sourceEpochs : STUDY_DATA.scratchEpochs) * run.budget),
    '--max-train-clips', String(source ? STUDY_DATA.sourceTrainClips : STUDY_DATA.targetTrainClips),
    '--batch-size', String(STUDY_DATA.batchSize),
    '--lr', String(STUDY_TRAINING.lr),
    '--warmup-steps', String(STUDY_TRAINING.warmupSteps),
    '--seed', String(run.seed),
    '--config', JSON.stringify(STUDY_NET),
    ...(existsSync(path.join(out, 'checkpoint', 'manifest.json')) ? ['--resume'] : []),
    '--no-progress',
  ];
}

interface ReportJson {
  steps: number;
  probe?: { lr: number; weightDecay: number; validationTop1: number };
  test: { classification: { top1: number; top5: number; classes: number; items: number } };
}

function labelsOf(dir: string): { classNames: string[]; templates: string[] } {
  const labels = JSON.parse(readFileSync(path.join(dir, 'something-something-v2-labels.json'), 'utf8')) as Record<string, string>;
  const classNames = Object.entries(labels).sort((a, b) => Number(a[1]) - Number(b[1])).map(([k]) => k);
  // Bracketed, as training/open-data.ts gives them to the template matcher ("action correct").
  return { classNames, templates: classNames.map((n) => n.replace(/\bsomething\b/gi, '[something]')) };
}

function groupNames(dir: string): string[] {
  // As data/ssv2.ts orders them: the distinct group names, sorted.
  const groups = JSON.parse(readFileSync(path.join(dir, 'template-groups.json'), 'utf8')) as Record<string, string>;
  return [...new Set(Object.values(groups))].sort();
}

export async function executeStudyRun(run: StudyRun, paths: StudyPaths, log: (l: string) => void): Promise<void> {
  const out = runDir(paths, run.key);
  mkdirSync(path.dirname(out), { recursive: true });
  const started = performance.now();
  const data = runDataDir(paths, run);
  if (run.kind === 'probe') {
    await ensureSourceCheckpoint(run, paths, log);
    await runScript('scripts/experiment-probe.ts', ['--encoder', runDir(paths, run.sourceKey!), '--data', data, '--out', out, '--seed', String(run.seed)], log);
  } else {
    await runScript('scripts/train.ts', trainArgs(run, data, out), log);
  }
  recordStudyRun(run, paths, out, (performance.now() - started) / 1000);
}

/**
 * A probe whose source run is recorded but whose checkpoint is gone (run folders are not committed,
 * so a new machine has none) retrains that source with its own arguments and seed, and says how far
 * the retrained test predictions agree with the recorded ones; nothing is recorded again.
 */
async function ensureSourceCheckpoint(probe: StudyRun, paths: StudyPaths, log: (l: string) => void): Promise<void> {
  const sourceDir = runDir(paths, probe.sourceKey!);
  if (existsSync(path.join(sourceDir, 'checkpoint', 'manifest.json')) && existsSync(path.join(sourceDir, 'report.json'))) return;
  const recorded = readStudyPredictions(paths).get(probe.sourceKey!);
  if (!recorded) throw new Error(`${probe.key}: its source ${probe.sourceKey} is neither recorded nor on disk`);
  const source: StudyRun = { ...probe, key: probe.sourceKey!, kind: 'source', sourceKey: undefined };
  log(`${probe.key}: the checkpoint of ${source.key} is not on this machine; retraining it with the same seed`);
  mkdirSync(path.dirname(sourceDir), { recursive: true });
  await runScript('scripts/train.ts', trainArgs(source, runDataDir(paths, source), sourceDir), log);
  const agree = sourceAgreement(source, recorded, readPredictions(path.join(sourceDir, 'predictions-test.jsonl')), readClips(paths)[String(source.dataSeed)]);
  log(`${source.key}: retrained top-1 agrees with the recorded run on ${agree.same} of ${agree.clips} test clips`);
}

/** How many test clips a retrained run predicts as the recorded run did. */
export function sourceAgreement(run: StudyRun, recorded: StudyPrediction, preds: readonly ClipPrediction[], seedClips: ClipsFile[string] | undefined): { same: number; clips: number } {
  const split = clipSplit(run);
  const clips = seedClips?.[split];
  if (!clips) throw new Error(`${recorded.key}: no recorded ${split} clips for its data seed`);
  const now = decodeClasses(compactPredictions(recorded.key, preds, clips).top1);
  const then = decodeClasses(recorded.top1);
  return { same: now.filter((c, i) => c === then[i]).length, clips: then.length };
}

/** Appends a finished run's compact predictions and results line, from its run folder. */
export function recordStudyRun(run: StudyRun, paths: StudyPaths, out: string, seconds: number): StudyResult {
  const data = runDataDir(paths, run);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as ReportJson;
  const preds = readPredictions(path.join(out, 'predictions-test.jsonl'));
  const captionSource = run.kind === 'source' && run.lambda < 1 ? (run.task === 'simplified' ? 'simplified' : 'captions') : undefined;
  const { classNames, templates } = labelsOf(data);
  const split = clipSplit(run);
  const clips = registerClips(paths, run.dataSeed, split, preds, split === 'sourceGroup' ? groupNames(data) : classNames, templates, captionSource);
  const compact = compactPredictions(run.key, preds, clips);
  const c = report.test.classification;
  let caption: StudyResult['caption'];
  if (captionSource) {
    const k = captionReport(preds.map((p) => ({ candidate: p.caption!, references: [p.reference!] })), new TemplateMatcher(templates));
    caption = { bleu4: k.bleu4, ciderD: k.ciderD, exactMatch: k.exactMatch, actionCorrect: k.actionCorrect ?? 0, distinct: new Set(preds.map((p) => p.caption)).size };
  }
  const result: StudyResult = {
    key: run.key,
    kind: run.kind,
    arm: run.arm,
    task: run.task,
    lambda: run.lambda,
    budget: run.budget,
    dataSeed: run.dataSeed,
    seed: run.seed,
    finishedAt: new Date().toISOString(),
    seconds: Math.round(seconds * 10) / 10,
    steps: report.steps,
    top1: c.top1,
    top5: c.top5,
    classes: c.classes,
    testClips: c.items,
    ...(caption ? { caption } : {}),
    ...(report.probe ? { probe: { lr: report.probe.lr, weightDecay: report.probe.weightDecay, validationTop1: report.probe.validationTop1 } } : {}),
  };
  appendStudy(paths, result, compact);
  return result;
}

/** While every pending run is held by another runner or waits for its source, look again this often. */
const IDLE_POLL_MS = 30_000;

/**
 * Runs every planned run not yet recorded; returns how many ran now. Each run is claimed with a lock
 * beside its folder, so runners given overlapping seeds share the work run by run instead of
 * repeating it, and all of them stay busy to the end; a probe waits until its source is recorded, and
 * a run whose data another runner is generating waits while runs of other data seeds go first.
 */
export async function runStudyPlan(runs: readonly StudyRun[], paths: StudyPaths, hooks: { log: (l: string) => void; onResult?: (key: string) => Promise<void> | void }, opts: { maxRuns?: number; idlePollMs?: number; execute?: typeof executeStudyRun } = {}): Promise<number> {
  mkdirSync(path.dirname(paths.results), { recursive: true });
  const recorded = () => new Set(readStudyResults(paths).map((r) => r.key));
  const initially = recorded();
  hooks.log(`study: ${runs.length} runs planned, ${runs.filter((r) => initially.has(r.key)).length} already recorded in ${paths.results}`);
  let ran = 0;
  let idle = false;
  while (opts.maxRuns === undefined || ran < opts.maxRuns) {
    const done = recorded();
    const pending = runs.filter((r) => !done.has(r.key));
    if (pending.length === 0) break;
    let claimed: { key: string; executed: boolean } | undefined;
    // Data seeds another runner is generating now: their runs wait, the others go first.
    const dataBusy = new Set<number>();
    for (const run of pending) {
      if (run.kind === 'probe' && !done.has(run.sourceKey!)) continue;
      if (dataBusy.has(run.dataSeed)) continue;
      const claimDir = `${runDir(paths, run.key)}.claim`;
      mkdirSync(path.dirname(claimDir), { recursive: true });
      const claim = await ifUnlocked(claimDir, async () => {
        // Recorded by another runner since the list above was read.
        const now = recorded();
        if (now.has(run.key)) return 'recorded';
        if (!(await ensureData(paths, run.dataSeed, hooks.log))) return 'dataBusy';
        hooks.log(`[${runs.filter((r) => now.has(r.key)).length + 1}/${runs.length}] ${run.key}`);
        await (opts.execute ?? executeStudyRun)(run, paths, hooks.log);
        return 'ran';
      });
      if (claim.held) continue;
      if (claim.value === 'dataBusy') {
        dataBusy.add(run.dataSeed);
        continue;
      }
      claimed = { key: run.key, executed: claim.value === 'ran' };
      break;
    }
    if (claimed) {
      idle = false;
      if (claimed.executed) {
        await hooks.onResult?.(claimed.key);
        ran++;
      }
      continue;
    }
    if (!idle) hooks.log(`study: the ${pending.length} pending runs are held by other runners or wait for their source or data; waiting`);
    idle = true;
    await new Promise((r) => setTimeout(r, opts.idlePollMs ?? IDLE_POLL_MS));
  }
  return ran;
}
