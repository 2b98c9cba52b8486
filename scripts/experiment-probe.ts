/**
 * npx tsx scripts/experiment-probe.ts --encoder RUN --data DIR --out DIR [--seed N]
 * The study's transfer probe (training/experiment/probe.ts): frozen features of every split,
 * standardised, a linear head with learning rate and weight decay chosen on validation. Writes
 * predictions-test.jsonl and report.json (with the chosen values and the whole grid) to --out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { initBackend, loadCheckpoint, resolveCheckpoint } from '../model/index.js';
import { labelOf } from '../training/batches.js';
import { toPredictions } from '../training/evaluate.js';
import { fitProbe, type FeatureSplit } from '../training/experiment/probe.js';
import { encodeSplit } from '../training/head-training.js';
import { openClipData } from '../training/open-data.js';
import { evaluatePredictions, writePredictions } from '../training/predictions.js';
import { compactReport } from '../training/trainer.js';

const program = new Command()
  .requiredOption('--encoder <dir>', 'a training run (its checkpoint is frozen)')
  .requiredOption('--data <dir>', 'the target data set')
  .requiredOption('--out <dir>', 'output folder')
  .option('--seed <n>', 'seed of the probe’s data order', (v) => Number(v), 1)
  .action(async (o: { encoder: string; data: string; out: string; seed: number }) => {
    const log = (l: string) => process.stdout.write(l + '\n');
    await initBackend({ log: () => {} });
    const started = performance.now();
    const model = (await loadCheckpoint(resolveCheckpoint(o.encoder).dir)).model;
    const data = await openClipData(o.data);
    const U = model.encodingWidth;
    const splits = {} as Record<'train' | 'validation' | 'test', FeatureSplit & { records: Awaited<ReturnType<typeof encodeSplit>>['records'] }>;
    for (const split of ['train', 'validation', 'test'] as const) {
      const f = await encodeSplit(model, data, split, 16);
      const n = f.records.length;
      const x = new Float32Array(n * U);
      for (let i = 0; i < n; i++) for (let t = 0; t < f.T; t++) for (let u = 0; u < U; u++) x[i * U + u]! += f.states[(i * f.T + t) * U + u]! / f.T;
      splits[split] = { x, labels: f.records.map((r) => labelOf(r, 'action')), records: f.records };
    }
    const encoded = performance.now();
    const classes = data.actionLabels.length;
    const r = fitProbe(splits, U, { classes, seed: o.seed });
    const preds = toPredictions(splits.test.records, r.testProbs, 'action').predictions;
    mkdirSync(o.out, { recursive: true });
    writePredictions(path.join(o.out, 'predictions-test.jsonl'), preds);
    const test = evaluatePredictions('action', preds, classes, data.actionTemplates);
    const seconds = { features: (encoded - started) / 1000, probe: (performance.now() - encoded) / 1000 };
    writeFileSync(path.join(o.out, 'report.json'), JSON.stringify({ encoder: o.encoder, steps: r.steps, epochs: r.epochs, probe: r.chosen, grid: r.grid, seconds, test: compactReport(test) }, null, 2) + '\n');
    model.dispose();
    log(`probe: lr ${r.chosen.lr}, weight decay ${r.chosen.weightDecay} (validation top-1 ${(r.chosen.validationTop1 * 100).toFixed(1)}%); test top-1 ${(test.classification.top1 * 100).toFixed(1)}% on ${preds.length} clips (${seconds.features.toFixed(0)} s features, ${seconds.probe.toFixed(0)} s probe)`);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`experiment-probe: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
