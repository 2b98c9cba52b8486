/**
 * npm run teach -- --base assets/model/default --data MY_CLIPS --out runs/mine [--mode transfer|finetune] [--json]
 *
 * Teaches a model the classes of a folder of clips (SSv2 layout), measures it on held-out clips and
 * saves it to <out>/checkpoint (npm start -- --model <out>). With --json, stdout carries one JSON
 * object per line (training/teach.ts teachMessageSchema: progress, log, then done / error /
 * cancelled) for the server's job runner; without it, human lines on stderr and the result on stdout.
 * SIGTERM or SIGINT cancels (no model saved, exit 130); exit 2 = options or data refused, 1 = failed.
 */
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { TEACH_EXIT, TeachCancelled, TeachInputError, teach, teachMessageSchema, teachOptionsSchema, type TeachMessage, type TeachProgress, type TeachReport } from '../training/teach.js';

function number(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`not a number: ${v}`);
  return n;
}

let json = false;

/** One validated line of the wire format; a message that does not fit it is a bug caught here, not in the server. */
function emit(m: TeachMessage): void {
  const { type, ...rest } = teachMessageSchema.parse(m);
  process.stdout.write(JSON.stringify({ type, ...rest }) + '\n');
}

function human(p: TeachProgress): string {
  const parts = [`${p.phase} ${(p.fraction * 100).toFixed(0).padStart(3)}%`];
  if (p.fold && p.folds) parts.push(`fold ${p.fold}/${p.folds}`);
  if (p.epoch && p.epochs) parts.push(`epoch ${p.epoch}/${p.epochs}`);
  if (p.loss !== undefined) parts.push(`loss ${p.loss.toFixed(3)}`);
  if (p.trainAccuracy !== undefined) parts.push(`train ${(p.trainAccuracy * 100).toFixed(0)}%`);
  if (p.heldOutAccuracy !== undefined) parts.push(`held-out ${(p.heldOutAccuracy * 100).toFixed(0)}%`);
  return parts.join('  ');
}

function summary(r: TeachReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const width = Math.max(...r.labels.map((l) => l.length));
  return [
    `${r.mode}: held-out top-1 ${pct(r.top1)} (${r.heldOut.description}); trained in ${r.seconds.total.toFixed(1)} s; model saved to ${r.checkpoint}`,
    ...r.classes.map((c) => `  ${c.label.padEnd(width)}  ${String(c.correct).padStart(3)}/${c.heldOut} held out  ${pct(c.accuracy).padStart(6)}  (${c.clips} clips)`),
  ].join('\n');
}

const program = new Command()
  .name('teach')
  .description('Teach a model the classes of a folder of clips (SSv2 layout), measured on held-out clips, saved to <out>/checkpoint.')
  .requiredOption('--base <dir>', 'base model: checkpoint, training run, transfer or teach output folder')
  .requiredOption('--data <dir>', 'the clips, SSv2 layout (all labelled clips of all splits are used; only read)')
  .requiredOption('--out <dir>', 'output folder (checkpoint/, report.json, features/ or resume/)')
  .option('--mode <mode>', 'transfer (frozen encoder, new head) | finetune (all weights, lower learning rate)', 'transfer')
  .option('--epochs <n>', 'epochs (default per mode: transfer 100, finetune 12)', number)
  .option('--lr <x>', 'learning rate, Adam (default per mode: transfer 3e-3, finetune 3e-4)', number)
  .option('--batch-size <n>', 'clips per step (default per mode: transfer 32, finetune 8)', number)
  .option('--head <kind>', 'transfer head: linear | mlp', 'linear')
  .option('--hidden <n>', 'hidden units of the MLP head', number, 128)
  .option('--views <n>', 'windows per held-out clip (start … end) whose probabilities are averaged', number, 3)
  .option('--augment <n>', 'transfer: random-window passes per clip added to the training states', number, 4)
  .option('--folds <n>', 'transfer: at most this many held-out folds', number, 5)
  .option('--seed <n>', 'seed', number, 1)
  .option('--resume', 'finetune: continue from <out>/resume/ (same options); transfer: reuse cached features', false)
  .option('--json', 'one JSON object per line on stdout (teachMessageSchema)', false)
  .action(async (o) => {
    json = o.json;
    const parsed = teachOptionsSchema.safeParse({
      base: o.base,
      data: o.data,
      out: o.out,
      mode: o.mode,
      ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
      ...(o.lr !== undefined ? { lr: o.lr } : {}),
      ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
      head: o.head,
      hidden: o.hidden,
      views: o.views,
      augment: o.augment,
      folds: o.folds,
      seed: o.seed,
      resume: o.resume,
    });
    if (!parsed.success) throw new TeachInputError(`invalid options:\n${z.prettifyError(parsed.error)}`);
    const stop = new AbortController();
    const onSignal = (name: string) => {
      // A second signal does not wait for the current step.
      if (stop.signal.aborted) {
        if (json) emit({ type: 'cancelled' });
        else process.stderr.write(`teach: ${name} again: stopped\n`);
        process.exit(TEACH_EXIT.cancelled);
      }
      if (!json) process.stderr.write(`\nteach: ${name}: stopping at the end of this step, no model will be saved\n`);
      stop.abort();
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    const log = (message: string) => (json ? emit({ type: 'log', message }) : process.stderr.write(message + '\n'));
    const report = await teach(parsed.data, {
      signal: stop.signal,
      log,
      onProgress: (p) => (json ? emit({ type: 'progress', ...p }) : process.stderr.write(human(p) + '\n')),
    });
    if (json) emit({ type: 'done', report });
    else process.stdout.write(summary(report) + '\n');
    process.exit(TEACH_EXIT.done);
  });

program.parseAsync().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof TeachCancelled) {
    if (json) emit({ type: 'cancelled' });
    else process.stderr.write(`teach: ${message}\n`);
    process.exit(TEACH_EXIT.cancelled);
  }
  const input = e instanceof TeachInputError;
  if (json) emit({ type: 'error', message, input });
  process.stderr.write(`teach: ${message}\n`);
  process.exit(input ? TEACH_EXIT.badInput : TEACH_EXIT.failed);
});
