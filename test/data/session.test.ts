import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVideo } from '../../data/decode.js';
import { NO_ACTION } from '../../data/catalogue/types.js';
import { renderSession, writeSession, type SessionAnnotation } from '../../data/session.js';
import { readSsv2Dataset } from '../../data/ssv2.js';
import { HAVE_FFMPEG } from './requireFfmpeg.js';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

describe('renderSession', () => {
  it('lays out ordered, non-overlapping action segments with idle "No action" gaps between them', () => {
    const s = renderSession({ domain: 'kitchenware', seed: 4, actions: 5, width: 32, height: 32 });
    // Gaps are "No action" with no caption; drawn clips (an idle clip among them) have one.
    const drawn = s.segments.filter((x) => x.caption !== '');
    const gaps = s.segments.filter((x) => x.caption === '');
    expect(drawn).toHaveLength(5);
    // One gap before each clip and the tail after the last.
    expect(gaps).toHaveLength(6);
    expect(gaps.every((x) => x.label === NO_ACTION && x.end > x.start)).toBe(true);
    let last = 0;
    for (const seg of s.segments) {
      // Segments tile the video in order: each starts where the previous one ended.
      expect(seg.start).toBeCloseTo(last, 2);
      if (seg.caption !== '') {
        expect(seg.end - seg.start).toBeGreaterThanOrEqual(2.5 - 1e-9);
        expect(seg.end - seg.start).toBeLessThanOrEqual(4 + 1 / 12);
        expect(seg.label).toBe(seg.template.replace(/\[something\]/g, 'something'));
      }
      last = seg.end;
    }
    expect(last).toBeCloseTo(s.duration, 2);
    const frames = [...s.frames()];
    expect(frames).toHaveLength(s.frameCount);
    expect(frames.every((f) => f.length === 32 * 32 * 3)).toBe(true);
  });

  it('performs the templates asked for, in order, and is deterministic', () => {
    const asked = ['Putting a lid on [something]', 'Stirring something with something', 'Taking a lid off [something]'];
    const a = renderSession({ domain: 'kitchenware', seed: 'x', actions: asked, width: 24, height: 24 });
    const b = renderSession({ domain: 'kitchenware', seed: 'x', actions: asked, width: 24, height: 24 });
    expect(a.segments.filter((s) => s.caption !== '').map((s) => s.label)).toEqual(['Putting a lid on something', 'Stirring something with something', 'Taking a lid off something']);
    expect(b.segments).toEqual(a.segments);
    const fa = [...a.frames()], fb = [...b.frames()];
    expect(fa.every((f, i) => Buffer.compare(Buffer.from(f), Buffer.from(fb[i]!)) === 0)).toBe(true);
  });

  it('fails clearly on an unknown template or domain', () => {
    expect(() => renderSession({ domain: 'kitchenware', seed: 1, actions: ['Juggling [something]'] })).toThrow('unknown template "Juggling [something]" in domain kitchenware');
    expect(() => renderSession({ domain: 'bakery' as never, seed: 1, actions: 2 })).toThrow(/unknown domain "bakery"/);
  });
});

describe.skipIf(!HAVE_FFMPEG)('session files and the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ct-session-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a webm whose decoded frames match the annotation, and the annotation JSON', async () => {
    const a = await writeSession({ domain: 'something', seed: 2, actions: 3, width: 48, height: 48, dir, name: 'mini' });
    const saved = JSON.parse(await readFile(path.join(dir, 'mini.json'), 'utf8')) as SessionAnnotation;
    expect(saved).toEqual(a);
    expect(saved.video).toBe('mini.webm');
    const video = await decodeVideo(path.join(dir, 'mini.webm'), { width: 48, height: 48 });
    expect(video.frames).toBe(saved.frames);
    expect(saved.segments.at(-1)!.end).toBeLessThanOrEqual(saved.duration);
  });

  it('makes a data set from the command line and prints per-class counts', async () => {
    const out = path.join(dir, 'cli');
    const { stdout } = await run('npx', ['tsx', 'scripts/data-make.ts', '--domain', 'kitchenware', '--count', '6', '--out', out, '--seed', '3', '--width', '48', '--height', '48', '--difficulty', 'hard', '--templates', 'Shaking [something]|Turning [something] upside down'], { cwd: ROOT });
    expect(stdout).toMatch(/wrote 6 clips/);
    expect(stdout).toMatch(/\s+1\s+1\s+1\s+Shaking something/);
    const ds = await readSsv2Dataset(out);
    expect(ds.actions).toEqual(['Shaking something', 'Turning something upside down']);
    const manifest = JSON.parse(await readFile(path.join(out, 'countertop-dataset.json'), 'utf8')) as { complete: boolean; recipe: { difficulty: { distractors: number } } };
    expect(manifest.complete).toBe(true);
    expect(manifest.recipe.difficulty.distractors).toBe(3);
  });

  it('rejects bad command-line input with a message naming the option', async () => {
    await expect(run('npx', ['tsx', 'scripts/data-make.ts', '--domain', 'bakery', '--count', '2', '--out', path.join(dir, 'x')], { cwd: ROOT })).rejects.toMatchObject({ stderr: expect.stringMatching(/--domain.*bakery/) });
    await expect(run('npx', ['tsx', 'scripts/data-make.ts', '--domain', 'something', '--count', '2', '--shake', '3', '--out', path.join(dir, 'x')], { cwd: ROOT })).rejects.toMatchObject({ stderr: expect.stringMatching(/--shake/) });
    await expect(run('npx', ['tsx', 'scripts/data-make.ts', '--session', '--domain', 'kitchenware', '--templates', 'Juggling [something]', '--out', path.join(dir, 'x')], { cwd: ROOT })).rejects.toMatchObject({ stderr: expect.stringMatching(/^data:make: unknown template "Juggling \[something\]" in domain kitchenware$/m) });
  });
});
