/**
 * npm run transfer -- --encoder runs/NAME --data KITCHEN_DIR [--head linear|mlp] [--out DIR]
 * Freezes a trained encoder, trains a new head on the target set, reports test accuracy and saves
 * the servable model to <out>/checkpoint (npm start -- --model <out>).
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { openClipData } from '../training/open-data.js';
import { transfer, transferOptionsSchema } from '../training/transfer.js';
import { z } from 'zod';

function number(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`not a number: ${v}`);
  return n;
}

const program = new Command()
  .name('transfer')
  .description('Train a new head on a frozen encoder (features cached once), report test accuracy and save the model to <out>/checkpoint.')
  .requiredOption('--encoder <dir>', 'training run folder (or checkpoint folder) of the source encoder')
  .requiredOption('--data <dir>', 'target data set folder (e.g. kitchenware)')
  .option('--out <dir>', 'output folder (default <encoder>/transfer-<head>)')
  .option('--head <kind>', 'linear | mlp', 'linear')
  .option('--hidden <n>', 'hidden units of the MLP head', number, 128)
  .option('--epochs <n>', 'head training epochs', number, 40)
  .option('--batch-size <n>', 'clips per step', number, 32)
  .option('--lr <x>', 'learning rate (Adam)', number, 3e-3)
  .option('--seed <n>', 'seed of the head initialisation and data order', number, 1)
  .action(async (o) => {
    const parsed = transferOptionsSchema.safeParse({
      encoder: o.encoder,
      data: o.data,
      out: o.out ?? path.join(o.encoder, `transfer-${o.head}`),
      head: o.head,
      hidden: o.hidden,
      epochs: o.epochs,
      batchSize: o.batchSize,
      lr: o.lr,
      seed: o.seed,
    });
    if (!parsed.success) throw new Error(`invalid options:\n${z.prettifyError(parsed.error)}`);
    const data = await openClipData(parsed.data.data);
    const r = await transfer(parsed.data, data);
    const c = r.test.classification;
    process.stdout.write(
      `${parsed.data.out}: test top-1 ${(c.top1 * 100).toFixed(1)}%, top-5 ${(c.top5 * 100).toFixed(1)}% on ${c.items} clips (chance ${(100 / c.classes).toFixed(1)}%); encoder unchanged: ${r.encoderUnchanged}; model saved to ${r.checkpoint}\n`,
    );
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`transfer: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
