/**
 * npm run train -- --data DIR --task groups|actions|simplified|captions --lambda L --epochs E --out runs/NAME
 * Trains a source task; --resume continues a killed run from its last checkpoint. See docs/TRAINING.md.
 * Ctrl-C (SIGINT) stops at the end of the current step with a checkpoint and prints the command that
 * resumes it (a second Ctrl-C quits at once, without one).
 *
 * Exit codes: 0 done; 1 the run failed; 2 a usage or input error (among them --resume with no
 * checkpoint to resume); 130 stopped by Ctrl-C (checkpoint saved).
 */
import { Command, InvalidArgumentError } from 'commander';
import { openClipData } from '../training/open-data.js';
import { parseTrainOptions } from '../training/options.js';
import { TASKS } from '../training/tasks.js';
import { NothingToResumeError, train, TrainingInterrupted } from '../training/trainer.js';
import { evaluateCheckpoint } from '../training/evaluate-checkpoint.js';

function number(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`not a number: ${v}`);
  return n;
}

function json(v: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(v);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed;
  } catch (e) {
    throw new InvalidArgumentError(`--config must be a JSON object: ${(e as Error).message}`);
  }
}

const program = new Command()
  .name('train')
  .description('Train the two-channel encoder on a source task (SSv2 layout data).')
  .requiredOption('--data <dir>', 'data set folder (SSv2 layout)')
  .option('--task <task>', `source task: ${TASKS.join(' | ')}`)
  .option('--lambda <l>', 'classification weight λ in [0,1] (caption tasks; default 0.5)', number)
  .option('--epochs <n>', 'epochs', number, 10)
  .requiredOption('--out <dir>', 'run folder (checkpoint, metrics, charts, report)')
  .option('--batch-size <n>', 'clips per step', number, 8)
  .option('--lr <x>', 'base learning rate (Adam)', number, 1e-3)
  .option('--schedule <kind>', 'constant | cosine | step', 'cosine')
  .option('--warmup-steps <n>', 'linear warm-up steps', number, 0)
  .option('--seed <n>', 'seed for initial weights, data order and dropout', number, 1)
  .option('--config <json>', 'model config overrides, e.g. \'{"encoder":{"units":128}}\'', json, {})
  .option('--checkpoint-every <n>', 'also checkpoint every N steps (0 = epoch ends only)', number, 0)
  .option('--max-train-clips <n>', 'use only the first N training clips (0 = all)', number, 0)
  .option('--min-word-count <n>', 'minimum count of a caption word to enter the vocabulary', number, 1)
  .option('--resume', 'continue the run in --out from its checkpoint (refused, exit 2, when it has none)', false)
  .option('--no-progress', 'no progress bar')
  .option('--evaluate <checkpoint>', 'do not train: evaluate this run/checkpoint on every labelled clip of --data, writing to --out')
  .action(async (o) => {
    if (o.evaluate) {
      const data = await openClipData(o.data);
      const r = await evaluateCheckpoint(o.evaluate, data, o.out, { splits: ['train', 'validation', 'test'], batchSize: o.batchSize });
      const c = r.classification;
      const lines = [`${o.evaluate} on ${o.data}: ${r.head} top-1 ${(c.top1 * 100).toFixed(1)}%, top-5 ${(c.top5 * 100).toFixed(1)}%, mean class accuracy ${(c.meanClassAccuracy * 100).toFixed(1)}% (${c.items} clips, chance ${(100 / c.classes).toFixed(1)}%)`];
      if (r.caption) lines.push(`captions: BLEU-1 ${r.caption.bleu1.toFixed(3)} BLEU-4 ${r.caption.bleu4.toFixed(3)} CIDEr-D ${r.caption.ciderD.toFixed(3)} exact ${(r.caption.exactMatch * 100).toFixed(1)}% action-correct ${((r.caption.actionCorrect ?? 0) * 100).toFixed(1)}%`);
      process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    const opts = parseTrainOptions({
      data: o.data,
      task: o.task,
      lambda: o.lambda,
      epochs: o.epochs,
      out: o.out,
      batchSize: o.batchSize,
      lr: o.lr,
      schedule: o.schedule,
      warmupSteps: o.warmupSteps,
      seed: o.seed,
      config: o.config,
      checkpointEvery: o.checkpointEvery,
      maxTrainClips: o.maxTrainClips,
      minWordCount: o.minWordCount,
      resume: o.resume,
      progress: o.progress,
    });
    const data = await openClipData(opts.data);
    const stop = new AbortController();
    process.on('SIGINT', () => {
      if (stop.signal.aborted) {
        process.stderr.write('train: stopped without saving a checkpoint\n');
        process.exit(130);
      }
      process.stderr.write('\ntrain: Ctrl-C: saving a checkpoint at the end of this step (Ctrl-C again quits without it)\n');
      stop.abort();
    });
    let result;
    try {
      result = await train(opts, data, { signal: stop.signal });
    } catch (e) {
      if (!(e instanceof TrainingInterrupted)) throw e;
      const args = process.argv.slice(2);
      const again = ['npm run train --', ...args.map(shellWord), ...(args.includes('--resume') ? [] : ['--resume'])].join(' ');
      process.stderr.write(`train: ${e.message}\nresume with: ${again}\n`);
      process.exit(130);
    }
    const c = result.test.classification;
    const lines = [`${opts.out}: ${result.steps} steps; test ${result.test.head} top-1 ${(c.top1 * 100).toFixed(1)}%, top-5 ${(c.top5 * 100).toFixed(1)}% (${c.items} clips, chance ${(100 / c.classes).toFixed(1)}%)`];
    if (result.test.caption) {
      const k = result.test.caption;
      lines.push(`captions: BLEU-1 ${k.bleu1.toFixed(3)} BLEU-4 ${k.bleu4.toFixed(3)} CIDEr-D ${k.ciderD.toFixed(3)} exact ${(k.exactMatch * 100).toFixed(1)}% action-correct ${((k.actionCorrect ?? 0) * 100).toFixed(1)}%`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  });

/** A word as a POSIX shell reads it back. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`train: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof NothingToResumeError ? 2 : 1);
});
