/**
 * A @tensorflow/tfjs-node that imports but registers its backend elsewhere (another copy of
 * tfjs-core, i.e. a version mismatch) is skipped with that reason, and the chain carries on to wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';

vi.mock('@tensorflow/tfjs-node', () => ({}));

describe('backend chain with a mismatched tfjs-node', () => {
  it('skips tensorflow with the mismatch as its reason and runs wasm', async () => {
    const { initBackend } = await import('../../model/backend.js');
    const choice = await initBackend({ log: () => {} });
    expect(choice.name).toBe('wasm');
    expect(choice.skipped[1]).toEqual({
      name: 'tensorflow',
      reason: `@tensorflow/tfjs-node registered its backend with another copy of @tensorflow/tfjs-core (version mismatch with @tensorflow/tfjs ${tf.version.tfjs})`,
    });
    await expect(initBackend({ force: 'tensorflow', log: () => {} })).rejects.toThrow(/backend tensorflow \(forced by caller\) failed to load: @tensorflow\/tfjs-node registered its backend with another copy/);
  });
});
