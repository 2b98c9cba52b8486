/**
 * npm run experiment [-- --scale tiny|small|full] [--seeds 1,2,3] [--max-runs N] [--commit] [--report-only]
 * npm run experiment -- --study [--seeds 1,3,5,7,9] [--max-runs N] [--commit] [--report-only]
 *   (one runner per free core, same command: they claim runs one by one)
 * The granularity study (RQ1–RQ4): runs what is not yet recorded (experiments/<scale>.jsonl, or for
 * --study the pre-registered design in experiments/study*.{jsonl,json}), then rewrites
 * docs/EXPERIMENT.md. See docs/EXPERIMENT.md.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { SCALES, planRuns, planStudy, scaleSchema } from '../training/experiment/plan.js';
import { writeExperimentReport } from '../training/experiment/report.js';
import { runStudy } from '../training/experiment/runner.js';
import { runStudyPlan } from '../training/experiment/study-runner.js';
import { STUDY_FILES } from '../training/experiment/study-files.js';

function seedList(v: string): number[] {
  const seeds = v.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new InvalidArgumentError(`--seeds must be comma-separated non-negative integers: ${v}`);
  return seeds;
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: ${v}`);
  return n;
}

const program = new Command()
  .name('experiment')
  .description('The paper’s granularity study in miniature; resumable across sessions.')
  .option('--scale <scale>', 'tiny | small | full', 'tiny')
  .option('--seeds <list>', 'override the scale’s seeds, e.g. 1,2,3', seedList)
  .option('--max-runs <n>', 'stop after this many runs (time-boxing a session)', positive)
  .option('--results-dir <dir>', 'where the committed results files live', 'experiments')
  .option('--work-dir <dir>', 'generated data and run folders (default runs/experiment-<scale>)')
  .option('--report <file>', 'the report to write', 'docs/EXPERIMENT.md')
  .option('--report-only', 'only rewrite the report from the results files', false)
  .option('--commit', 'git-commit the results file after every finished run', false)
  .option('--study', 'the pre-registered study (issue 14) instead of a --scale', false)
  .action(async (o) => {
    const log = (l: string) => process.stdout.write(l + '\n');
    if (o.study) {
      if (!o.reportOnly) {
        const files = [STUDY_FILES.results, STUDY_FILES.predictions, STUDY_FILES.clips, o.report];
        await runStudyPlan(planStudy(o.seeds), { ...STUDY_FILES, workDir: o.workDir ?? path.join('runs', 'experiment-study') }, {
          log,
          onResult: async (key) => {
            writeExperimentReport(o.resultsDir, o.report);
            if (o.commit) await commitResults(files, `experiment study: ${key}`, log);
          },
        }, { maxRuns: o.maxRuns });
      }
      writeExperimentReport(o.resultsDir, o.report);
      log(`wrote ${o.report}`);
      return;
    }
    const parsed = scaleSchema.safeParse(o.scale);
    if (!parsed.success) throw new Error(`--scale must be one of ${scaleSchema.options.join(', ')} (got ${o.scale})`);
    const scale = SCALES[parsed.data];
    const resultsFile = path.join(o.resultsDir, `${scale.name}.jsonl`);
    if (!o.reportOnly) {
      const runs = planRuns(scale, o.seeds ?? scale.seeds);
      await runStudy(scale, runs, { workDir: o.workDir ?? path.join('runs', `experiment-${scale.name}`), resultsFile }, {
        log,
        onResult: async (r) => {
          writeExperimentReport(o.resultsDir, o.report);
          if (o.commit) {
            const files = [resultsFile, path.join(o.resultsDir, `${scale.name}-transfer.svg`), o.report];
            await commitResults(files, `experiment ${scale.name}: ${r.key}`, log);
          }
        },
      }, { maxRuns: o.maxRuns });
    }
    const scales = writeExperimentReport(o.resultsDir, o.report);
    log(`wrote ${o.report} (${scales.join(', ') || 'no results yet'})`);
  });

/**
 * Commits the results; retries while another git process (a second study runner, an editor) holds
 * the index lock. A commit that still fails loses nothing: the run is already in the results file.
 */
async function commitResults(files: string[], message: string, log: (l: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('git', ['add', ...files]);
      execFileSync('git', ['commit', '-q', '-m', message, '--', ...files]);
      return;
    } catch (e) {
      if (attempt >= 5) {
        log(`  commit failed, results kept in ${files[0]}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
    }
  }
}

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`experiment: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
