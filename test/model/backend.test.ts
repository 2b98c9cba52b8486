import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND_ENV, initBackend } from '../../model/backend.js';

const installed = (pkg: string): boolean => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

describe('backend chain', () => {
  afterEach(() => {
    delete process.env[BACKEND_ENV];
  });

  it('takes the first backend that loads and says why the others were skipped, in one log line', async () => {
    const lines: string[] = [];
    const choice = await initBackend({ log: (l) => lines.push(l) });
    const gpu = installed('@tensorflow/tfjs-node-gpu');
    const node = installed('@tensorflow/tfjs-node');
    if (!gpu && !node) {
      // This machine: neither native package can install, so wasm runs.
      expect(choice.name).toBe('wasm');
      expect(choice.skipped).toEqual([
        { name: 'tensorflow-gpu', reason: 'package not installed' },
        { name: 'tensorflow', reason: 'package not installed' },
      ]);
      expect(choice.detail).toMatch(/^SIMD, single-threaded/);
    }
    expect(tf.getBackend()).toBe(choice.name === 'tensorflow-gpu' ? 'tensorflow' : choice.name);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`tensor backend: ${choice.name}`);
    for (const s of choice.skipped) expect(lines[0]).toContain(`${s.name}: ${s.reason}`);
  });

  it('is idempotent: the same request returns the same choice and logs once', async () => {
    const lines: string[] = [];
    const a = await initBackend({ log: (l) => lines.push(l) });
    const b = await initBackend({ log: (l) => lines.push(l) });
    expect(b).toBe(a);
    expect(lines).toHaveLength(0); // already logged by the first test's call
  });

  it('forces a backend by option and by COUNTERTOP_BACKEND, and switches back', async () => {
    const cpu = await initBackend({ force: 'cpu', log: () => {} });
    expect(cpu).toMatchObject({ name: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    process.env[BACKEND_ENV] = 'wasm';
    const wasm = await initBackend({ log: () => {} });
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    process.env[BACKEND_ENV] = 'cpu';
    await initBackend({ log: () => {} });
    expect(tf.getBackend()).toBe('cpu');
    delete process.env[BACKEND_ENV];
    const auto = await initBackend({ log: () => {} });
    expect(tf.getBackend()).toBe(auto.name === 'tensorflow-gpu' ? 'tensorflow' : auto.name);
  });

  it('fails loudly when a forced backend cannot load or the variable is invalid', async () => {
    if (!installed('@tensorflow/tfjs-node')) {
      await expect(initBackend({ force: 'tensorflow', log: () => {} })).rejects.toThrow(/backend tensorflow \(forced by caller\) failed to load: package not installed/);
    }
    process.env[BACKEND_ENV] = 'webgpu';
    await expect(initBackend({ log: () => {} })).rejects.toThrow(/COUNTERTOP_BACKEND=webgpu is not one of tensorflow-gpu, tensorflow, wasm, cpu/);
  });
});
