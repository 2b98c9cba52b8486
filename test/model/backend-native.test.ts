/**
 * The chain's native branch, with a stand-in for @tensorflow/tfjs-node (which cannot install here):
 * the stand-in registers a 'tensorflow' backend, as the real package does on import.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';

vi.mock('@tensorflow/tfjs-node', async () => {
  const core = await import('@tensorflow/tfjs');
  const cpu = core.findBackend('cpu') ?? (await core.ready(), core.findBackend('cpu'));
  // Same kernels as cpu under the name tfjs-node registers.
  core.registerBackend('tensorflow', () => cpu!);
  for (const k of core.getKernelsForBackend('cpu')) core.registerKernel({ ...k, backendName: 'tensorflow' });
  return {};
});

describe('backend chain with tfjs-node present', () => {
  it('picks tensorflow after skipping tensorflow-gpu, and the model resolves 3D conv to native', async () => {
    const { initBackend } = await import('../../model/backend.js');
    const lines: string[] = [];
    const choice = await initBackend({ log: (l) => lines.push(l) });
    expect(choice.name).toBe('tensorflow');
    expect(choice.skipped).toEqual([{ name: 'tensorflow-gpu', reason: 'package not installed' }]);
    expect(choice.detail).toMatch(/^libtensorflow via @tensorflow\/tfjs-node/);
    expect(tf.getBackend()).toBe('tensorflow');
    expect(lines).toEqual([expect.stringContaining('tensor backend: tensorflow (libtensorflow via @tensorflow/tfjs-node')]);

    const { CountertopModel } = await import('../../model/network.js');
    const { tinyConfig, HEADS } = await import('./helpers.js');
    const model = CountertopModel.create(tinyConfig(), HEADS, null);
    expect(model.resolvedConv3dForm()).toBe('native');
    model.dispose();
  });
});
