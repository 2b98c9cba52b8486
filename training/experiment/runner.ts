/**
 * Runs the planned study one run at a time, each as a child process of the ordinary CLIs
 * (scripts/train.ts, scripts/transfer.ts) so every run is exactly what a user could type. Runs
 * whose key is already in the results file are skipped; a training run interrupted earlier is
 * continued from its checkpoint (the trainer's --resume).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PlannedRun, Scale } from './plan.js';
import { appendResult, readResults, type RunResult } from './results.js';

const require = createRequire(import.meta.url);
const TSX_CLI = require.resolve('tsx/cli');
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export interface RunnerPaths {
  /** Where generated data sets and run folders go (not committed). */
  readonly workDir: string;
  /** The committed results file (JSONL). */
  readonly resultsFile: string;
}

export interface RunnerHooks {
  readonly log: (line: string) => void;
  /** Called after a result is recorded (e.g. to commit the results file). */
  readonly onResult?: (r: RunResult) => Promise<void> | void;
}

/** Runs a script of this repository with tsx; rejects with its stderr tail on failure. */
export function runScript(script: string, args: readonly string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, path.join(ROOT, script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const collect = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', (c: Buffer) => {
      collect(c);
      for (const line of c.toString().split('\n')) if (line.trim()) log(`  ${line}`);
    });
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${script} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

export function dataDirs(paths: RunnerPaths): { source: string; target: string } {
  return { source: path.join(paths.workDir, 'data', 'something'), target: path.join(paths.workDir, 'data', 'kitchenware') };
}

/** Fixed data seeds: every model seed sees the same data sets, so seeds measure training variance. */
const SOURCE_DATA_SEED = 1001;
const TARGET_DATA_SEED = 2001;

async function ensureData(scale: Scale, paths: RunnerPaths, log: (l: string) => void): Promise<void> {
  const dirs = dataDirs(paths);
  for (const [domain, dir, count, seed, extra] of [
    ['something', dirs.source, scale.sourceClips, SOURCE_DATA_SEED, scale.sourceDataArgs],
    ['kitchenware', dirs.target, scale.targetClips, TARGET_DATA_SEED, scale.targetDataArgs],
  ] as const) {
    if (existsSync(path.join(dir, 'something-something-v2-labels.json'))) continue;
    log(`generating ${count} ${domain} clips into ${dir}`);
    await runScript('scripts/data-make.ts', ['--domain', domain, '--count', String(count), '--out', dir, '--seed', String(seed), ...extra], log);
  }
}

function runDir(paths: RunnerPaths, key: string): string {
  return path.join(paths.workDir, 'runs', ...key.split('/'));
}

function commonTrainArgs(scale: Scale, run: PlannedRun, epochs: number, out: string): string[] {
  return [
    '--task', run.task,
    ...(run.lambda !== 1 ? ['--lambda', String(run.lambda)] : []),
    '--epochs', String(epochs),
    '--batch-size', String(scale.batchSize),
    '--seed', String(run.seed),
    '--config', JSON.stringify(scale.config),
    // A run killed earlier continues from its checkpoint (--resume with none is refused).
    ...(existsSync(path.join(out, 'checkpoint', 'manifest.json')) ? ['--resume'] : []),
    '--no-progress',
  ];
}

interface ReportJson {
  steps: number;
  test: {
    classification: { top1: number; top5: number; classes: number; items: number };
    caption?: { bleu4: number; ciderD: number; exactMatch: number; actionCorrect?: number };
  };
}

export async function executeRun(scale: Scale, run: PlannedRun, paths: RunnerPaths, log: (l: string) => void): Promise<RunResult> {
  const dirs = dataDirs(paths);
  const out = runDir(paths, run.key);
  mkdirSync(path.dirname(out), { recursive: true });
  const started = performance.now();
  if (run.kind === 'source') {
    await runScript('scripts/train.ts', ['--data', dirs.source, '--out', out, ...commonTrainArgs(scale, run, scale.sourceEpochs, out)], log);
  } else if (run.kind === 'scratch') {
    await runScript('scripts/train.ts', ['--data', dirs.target, '--out', out, ...commonTrainArgs(scale, run, scale.scratchEpochs, out)], log);
  } else {
    await runScript(
      'scripts/transfer.ts',
      ['--encoder', runDir(paths, run.sourceKey!), '--data', dirs.target, '--out', out, '--epochs', String(scale.transferEpochs), '--seed', String(run.seed)],
      log,
    );
  }
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as ReportJson;
  const c = report.test.classification;
  const cap = report.test.caption;
  return {
    key: run.key,
    kind: run.kind,
    task: run.task,
    lambda: run.lambda,
    seed: run.seed,
    finishedAt: new Date().toISOString(),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    steps: report.steps,
    top1: c.top1,
    top5: c.top5,
    classes: c.classes,
    testClips: c.items,
    ...(cap ? { bleu4: cap.bleu4, ciderD: cap.ciderD, exactMatch: cap.exactMatch, ...(cap.actionCorrect !== undefined ? { actionCorrect: cap.actionCorrect } : {}) } : {}),
  };
}

/** Runs every planned run not yet in the results file; returns how many ran now. */
export async function runStudy(scale: Scale, runs: readonly PlannedRun[], paths: RunnerPaths, hooks: RunnerHooks, opts: { maxRuns?: number } = {}): Promise<number> {
  mkdirSync(path.dirname(paths.resultsFile), { recursive: true });
  const done = new Set(readResults(paths.resultsFile).map((r) => r.key));
  const pending = runs.filter((r) => !done.has(r.key));
  hooks.log(`${scale.name}: ${runs.length} runs planned, ${runs.length - pending.length} already recorded in ${paths.resultsFile}`);
  if (pending.length === 0) return 0;
  await ensureData(scale, paths, hooks.log);
  const recorded = runs.length - pending.length;
  let ran = 0;
  for (const run of pending) {
    if (opts.maxRuns !== undefined && ran >= opts.maxRuns) break;
    hooks.log(`[${recorded + ran + 1}/${runs.length}] ${run.key}`);
    const result = await executeRun(scale, run, paths, hooks.log);
    appendResult(paths.resultsFile, result);
    hooks.log(`  → top-1 ${(result.top1 * 100).toFixed(1)}% (${result.seconds} s)`);
    await hooks.onResult?.(result);
    ran++;
  }
  return ran;
}
