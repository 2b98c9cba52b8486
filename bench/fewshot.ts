/**
 * Few-shot quality of teach (scripts/fewshot.ts): transfer and fine-tuning at 1, 3, 5 and 10 clips
 * per class of actions the default model never saw, scored on a separate held-out set, with the
 * training time, and transfer on the real clips of ../shared/real-clips (throwaway heads). Teach's
 * default settings only; `npx tsx scripts/fewshot.ts --help` runs the variants.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FINETUNE_VARIANTS, TRANSFER_VARIANTS, runFewshot } from '../scripts/fewshot.js';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export async function run(): Promise<void> {
  const real = (process.env.FEWSHOT_REAL ?? '1') === '1' && existsSync(path.resolve(import.meta.dirname, '..', '..', 'shared', 'real-clips', 'manifest.json'));
  await runFewshot({
    base: process.env.FEWSHOT_BASE ?? 'assets/model/default',
    out: path.join('runs', 'fewshot'),
    shots: list(process.env.FEWSHOT_SHOTS ?? '1,3,5,10').map(Number),
    repeats: Number(process.env.FEWSHOT_REPEATS ?? 3),
    modes: list(process.env.FEWSHOT_MODES ?? 'transfer,finetune') as ('transfer' | 'finetune')[],
    poolPerClass: 20,
    testPerClass: 10,
    transferVariants: [Object.keys(TRANSFER_VARIANTS)[0]!],
    finetuneVariants: [Object.keys(FINETUNE_VARIANTS)[0]!],
    variantShots: 5,
    testViews: [3],
    real,
  });
}
