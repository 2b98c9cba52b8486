/**
 * npx tsx scripts/experiment-data.ts --data-seed D --out DIR
 * The study's two data sets for one data seed (training/experiment/plan.ts STUDY_DATA): the source
 * set (something, no size variation) into DIR/something and the kitchenware set with its larger
 * test split into DIR/kitchenware. Resumable: the generator keeps finished clips of the same recipe.
 */
import path from 'node:path';
import { Command } from 'commander';
import { DIFFICULTY } from '../data/render/clip.js';
import { generateDataset } from '../data/generate.js';
import { STUDY_DATA, studySourceDifficulty } from '../training/experiment/plan.js';

const program = new Command()
  .requiredOption('--data-seed <d>', 'the study’s data seed (1, 2, 3)', (v) => Number(v))
  .requiredOption('--out <dir>', 'folder for something/ and kitchenware/')
  .option('--concurrency <n>', 'encoders at once', (v) => Number(v), 1)
  .action(async (o: { dataSeed: number; out: string; concurrency: number }) => {
    const common = { width: STUDY_DATA.width, height: STUDY_DATA.height, fps: 12, concurrency: o.concurrency };
    const source = await generateDataset({ ...common, domain: 'something', count: STUDY_DATA.sourceClips, out: path.join(o.out, 'something'), seed: String(STUDY_DATA.sourceSeed(o.dataSeed)), difficulty: studySourceDifficulty() });
    process.stdout.write(`something: ${source.total} clips in ${source.seconds.toFixed(0)} s\n`);
    const target = await generateDataset({ ...common, domain: 'kitchenware', count: STUDY_DATA.targetClips, out: path.join(o.out, 'kitchenware'), seed: String(STUDY_DATA.targetSeed(o.dataSeed)), difficulty: DIFFICULTY.moderate, split: STUDY_DATA.targetSplit });
    process.stdout.write(`kitchenware: ${target.total} clips in ${target.seconds.toFixed(0)} s\n`);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`experiment-data: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
