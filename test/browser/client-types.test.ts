/**
 * The dashboard is outside the root tsconfig (it is a browser bundle), so its types and Svelte
 * diagnostics (accessibility warnings included) are checked here: svelte-check must find nothing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../server/harness.js';

describe('dashboard sources', () => {
  it('svelte-check reports no errors and no warnings', () => {
    const bin = path.join(repoRoot, 'node_modules/.bin/svelte-check');
    const r = spawnSync(bin, ['--tsconfig', './tsconfig.json', '--workspace', 'client', '--output', 'machine'], { cwd: repoRoot, encoding: 'utf8', timeout: 150_000 });
    const summary = r.stdout.split('\n').find((l) => /COMPLETED/.test(l)) ?? '';
    expect(summary, r.stdout + r.stderr).toMatch(/COMPLETED \d+ FILES 0 ERRORS 0 WARNINGS/);
    expect(r.status).toBe(0);
  });
});
