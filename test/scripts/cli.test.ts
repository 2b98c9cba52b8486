/**
 * A first day with the command-line tools: `--help` prints help and runs nothing, a bad number is
 * one clear line, and a non-video file or a failed run is one line with a non-zero exit code
 * (2 for a usage or input error, 1 for a run that failed), never a dump of minified tfjs source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, saveCheckpoint } from '../../model/index.js';
import { untrainedKitchenModel } from '../../server/model.js';
import { hasFfmpeg, makeVideo, need, tempDir } from '../pipelines/tools.js';
import { repoRoot, SMALL_MODEL } from '../server/harness.js';

function cli(script: string, args: string[], timeoutMs = 120_000) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', script), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

describe('npm run bench', () => {
  it('--help prints the areas and their settings and runs no benchmark', () => {
    const r = cli('bench.ts', ['--help'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run bench -- \[options\] \[area\.\.\.\]/);
    expect(r.stdout).toMatch(/server +BENCH_SERVER_SECONDS \(default 15\)/);
    expect(r.stdout).not.toContain('## bench:');
  });

  it('an unknown area or option is refused with exit 2', () => {
    const area = cli('bench.ts', ['nonsense'], 60_000);
    expect(area.code).toBe(2);
    expect(area.stderr).toMatch(/no benchmark named nonsense; choose from data, /);
    expect(area.stdout).not.toContain('## bench:');
    expect(cli('bench.ts', ['--bogus'], 60_000).code).toBe(2);
  });
});

describe('npm run data:make', () => {
  it('refuses fewer than 3 clips per class with the count needed, before writing anything', () => {
    const tmp = tempDir('data-make-small');
    try {
      const out = path.join(tmp.dir, 'ds');
      const r = cli('data-make.ts', ['--domain', 'something', '--count', '40', '--out', out], 60_000);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual(['data:make: --count 40 clips over 45 classes is 0–1 per class, and every class needs at least 3 (one each for train, validation and test): use a count of at least 135, or fewer templates']);
      expect(existsSync(out)).toBe(false);
    } finally {
      tmp.remove();
    }
  });
});

describe('npm run selfcheck', () => {
  it('--runs -3 is one clear line, exit 2', () => {
    for (const bad of ['-3', '0', 'abc', '2.5']) {
      const r = cli('selfcheck.ts', ['--runs', bad], 60_000);
      expect(r.code, bad).toBe(2);
      expect(lines(r.stderr), bad).toEqual([`error: option '--runs <n>' argument '${bad}' is invalid. expected a positive integer.`]);
    }
  });
});

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('npm run replay / tune on bad input', () => {
  let tmp: ReturnType<typeof tempDir>;
  const file = (name: string) => path.join(tmp.dir, name);
  beforeAll(async () => {
    tmp = tempDir('cli');
    writeFileSync(file('notes.webm'), 'shopping list: eggs, flour\n');
    writeFileSync(file('clip.json'), JSON.stringify([{ start: 0, end: 1, template: 'Shaking [something]' }]));
    makeVideo(file('clip.webm'), { seconds: 1, fps: 8, size: '64x64' });
    await initBackend();
    await saveCheckpoint(file('ckpt'), untrainedKitchenModel(SMALL_MODEL, 3));
  });
  afterAll(() => tmp?.remove());

  for (const script of ['replay.ts', 'tune.ts']) {
    it(`${script}: a non-video file is one line naming it, exit 2, before any model loads`, () => {
      const r = cli(script, ['--recording', file('notes.webm'), '--annotations', file('clip.json'), '--model', file('ckpt')]);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual(['error: "notes.webm" is not a video file countertop reads (webm, mkv, mp4, mov or avi)']);
      expect(r.stdout).toBe('');
    });
  }

  it('replay.ts: a failure after the model loaded is one line and exit 1 (not tfjs source and exit 7)', () => {
    const r = cli('replay.ts', ['--recording', file('clip.webm'), '--annotations', file('clip.json'), '--model', file('ckpt'), '--json', path.join(tmp.dir, 'no-such-dir', 'out.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(r.stderr).not.toMatch(/WasmBackendModule|var Module/);
    expect(lines(r.stderr).at(-1)).toMatch(/^replay: ENOENT: no such file or directory, open '.*no-such-dir\/out\.json'$/);
  });
});
