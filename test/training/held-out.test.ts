/**
 * A data set with no labelled validation or test clips (what `data:make` used to make from fewer
 * than 3 clips per class) is refused before any training step, not after all the epochs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClipData } from '../../training/data-source.js';
import { parseTrainOptions } from '../../training/options.js';
import { train } from '../../training/trainer.js';
import { TINY_CONFIG } from './harness.js';

const work = mkdtempSync(path.join(tmpdir(), 'countertop-held-out-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('train() without held-out clips', () => {
  it('refuses before it builds a model or reads a batch', async () => {
    const used: string[] = [];
    const data: ClipData = {
      dir: '/data/train-only',
      groupLabels: ['g0', 'g1'],
      actionLabels: ['a0', 'a1'],
      actionTemplates: ['a0', 'a1'],
      count: (split) => (split === 'train' ? 40 : 0),
      captions: () => (used.push('captions'), ['a caption']),
      batches: () => {
        used.push('batches');
        throw new Error('batches read');
      },
      warm: async () => (used.push('warm'), []),
    };
    const out = path.join(work, 'run');
    const opts = parseTrainOptions({ data: data.dir, task: 'simplified', epochs: 3, out, config: JSON.parse(TINY_CONFIG), progress: false });
    await expect(train(opts, data, { log: () => undefined })).rejects.toThrow(
      '/data/train-only: no labelled test or validation clips to evaluate on (the data maker needs ≥ 3 clips per class for them); nothing was trained',
    );
    expect(used).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
