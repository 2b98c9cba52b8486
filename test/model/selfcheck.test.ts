/** `npm run selfcheck` end to end: the default model runs a clip on the chosen backend and reports sane shapes. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('selfcheck script', () => {
  it('builds the default model, runs a clip and prints backend, shapes and timing', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/selfcheck.ts', '--runs', '1'], {
      cwd: root,
      env: { ...process.env, COUNTERTOP_BACKEND: 'wasm' },
    });
    expect(stdout).toMatch(/^backend: wasm \(SIMD/m);
    expect(stdout).toContain('input: clip [1,16,64,64,3] → states [1,16,256], pooled [1,256]');
    expect(stdout).toMatch(/head action: probabilities \[1,174\], sum 1\.0000/);
    expect(stdout).toMatch(/spatial features: frame \[1,64,64,3\] → \[1,128\]/);
    expect(stdout).toMatch(/forward \(batch 1\): first [\d.]+ ms, median of 1 [\d.]+ ms/);
    expect(stdout).toContain('tensors leaked: 0');
    expect(stdout).toContain('selfcheck: OK');
  });

  it('fails with the checkpoint error and a non-zero exit for a missing checkpoint', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/selfcheck.ts', '--checkpoint', 'no/such/ckpt'], {
      cwd: root,
      env: { ...process.env, COUNTERTOP_BACKEND: 'wasm' },
    });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/selfcheck: checkpoint no\/such\/ckpt: manifest\.json is missing/) });
  });
});
