import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateKey } from '../../data/captions.js';
import { CATALOGUES } from '../../data/catalogue/index.js';
import { assignRecords, generateDataset, type GenerateReport } from '../../data/generate.js';
import { SSV2_FILES } from '../../data/layout.js';
import { Prng } from '../../data/prng.js';
import { DIFFICULTY, planClip, renderFrames } from '../../data/render/clip.js';
import { MOTIONS } from '../../data/render/motions.js';
import { readSsv2Dataset } from '../../data/ssv2.js';
import { HAVE_FFMPEG } from './requireFfmpeg.js';

const TEMPLATES = ['Pushing [something] from left to right', 'Pretending to push [something]', 'Putting [something] into [something]'];

describe('catalogues', () => {
  it('have the size the issue asks for, with unique templates and enough objects', () => {
    const s = CATALOGUES.something, k = CATALOGUES.kitchenware;
    expect(s.templates.length).toBeGreaterThanOrEqual(40);
    expect(new Set(s.templates.map((t) => t.group)).size).toBeGreaterThanOrEqual(10);
    expect(s.objects.filter((o) => o.shape !== 'none').length).toBeGreaterThanOrEqual(15);
    expect(k.templates.length).toBeGreaterThanOrEqual(20);
    for (const c of [s, k]) expect(new Set(c.templates.map((t) => templateKey(t.template))).size).toBe(c.templates.length);
  });

  it('can fill every slot of every template with distinct objects, in both domains', () => {
    for (const c of Object.values(CATALOGUES)) {
      c.templates.forEach((t, i) => {
        const plan = planClip(c, i, new Prng('slots').fork(i), DIFFICULTY.hard);
        expect(new Set(plan.objects.map((o) => o.kind.noun)).size).toBe(plan.objects.length);
        expect(plan.placeholders.length).toBe((t.template.match(/\[something\]/g) ?? []).length);
      });
    }
  });
});

describe('rendering', () => {
  const size = { width: 64, height: 64 };
  const frames = (seed: string) => [...renderFrames(planClip(CATALOGUES.something, 0, new Prng(seed), DIFFICULTY.moderate), size)];

  it('is deterministic from the seed and changes with it', () => {
    const a = frames('same'), b = frames('same'), c = frames('other');
    expect(a.length).toBe(b.length);
    a.forEach((f, i) => expect(Buffer.compare(Buffer.from(f), Buffer.from(b[i]!))).toBe(0));
    expect(a.length === c.length && a.every((f, i) => Buffer.compare(Buffer.from(f), Buffer.from(c[i]!)) === 0)).toBe(false);
  });

  it('draws photographs as the backdrop only when given them, changing nothing else of the plan', async () => {
    const { createCanvas } = await import('@napi-rs/canvas');
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(tmpdir(), 'ct-photos-'));
    try {
      // A photograph stand-in: vertical stripes of saturated colours no drawn wall has.
      const c = createCanvas(64, 48);
      const g = c.getContext('2d');
      for (let x = 0; x < 64; x += 8) {
        g.fillStyle = x % 16 ? 'rgb(0,255,0)' : 'rgb(255,0,255)';
        g.fillRect(x, 0, 8, 48);
      }
      writeFileSync(path.join(dir, 'stripes.png'), c.toBuffer('image/png'));
      writeFileSync(path.join(dir, 'notes.txt'), 'not a photo');
      const { loadPhotos } = await import('../../data/render/photos.js');
      const photos = loadPhotos(dir);
      expect(photos.names).toEqual(['stripes.png']);
      const plain = planClip(CATALOGUES.kitchenware, 2, new Prng('p'), DIFFICULTY.moderate);
      const withPhotos = planClip(CATALOGUES.kitchenware, 2, new Prng('p'), DIFFICULTY.moderate, { photos });
      expect(withPhotos.caption).toBe(plain.caption);
      expect(withPhotos.frames).toBe(plain.frames);
      expect(plain.look.photo).toBeUndefined();
      // The top-left corner is wall: drawn colour without photos, the photo's colours with them.
      const greenOrMagenta = (f: Uint8Array) => (f[1]! > 200 && f[0]! < 60) || (f[0]! > 150 && f[2]! > 150 && f[1]! < 90);
      const [a] = [...renderFrames(plain, size)], [b] = [...renderFrames(withPhotos, size)];
      expect(greenOrMagenta(a!)).toBe(false);
      expect(greenOrMagenta(b!)).toBe(true);
      expect(() => loadPhotos(path.join(dir, 'none'))).toThrow(/no such file|ENOENT/i);
      rmSync(path.join(dir, 'stripes.png'));
      expect(() => loadPhotos(dir)).toThrow(/no \.jpg or \.png photographs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('differs from a still scene: the first and last frames of a push are not the same picture', () => {
    const f = [...renderFrames(planClip(CATALOGUES.something, 0, new Prng('m'), DIFFICULTY.easy), size)];
    const meanDiff = f[0]!.reduce((s, v, i) => s + Math.abs(v - f[f.length - 1]![i]!), 0) / f[0]!.length;
    expect(meanDiff).toBeGreaterThan(0.5);
  });
});

describe('motions tell look-alike classes apart by motion alone', () => {
  const boxes = [{ w: 0.15, h: 0.15 }, { w: 0.28, h: 0.16 }];
  const run = (name: keyof typeof MOTIONS, seed = 'm') => MOTIONS[name]({ rng: new Prng(seed), boxes, table: 0.75, amp: 1 });

  it('pushing left to right moves the object right; right to left moves it left; pretending leaves it still while the hand moves', () => {
    for (const seed of ['a', 'b', 'c']) {
      const right = run('pushRight', seed), left = run('pushLeft', seed), pretend = run('pretendPush', seed), slight = run('pushSlightly', seed);
      expect(right(1).actors[0]!.x - right(0).actors[0]!.x).toBeGreaterThan(0.2);
      expect(left(1).actors[0]!.x - left(0).actors[0]!.x).toBeLessThan(-0.2);
      expect(pretend(1).actors[0]!.x).toBe(pretend(0).actors[0]!.x);
      expect(Math.abs(pretend(0.5).hands[0]!.x - pretend(0).hands[0]!.x)).toBeGreaterThan(0.1);
      const moved = Math.abs(slight(1).actors[0]!.x - slight(0).actors[0]!.x);
      expect(moved).toBeGreaterThan(0.02);
      expect(moved).toBeLessThan(0.1);
    }
  });

  it('closer ends nearer than it starts, away ends farther', () => {
    const gap = (s: ReturnType<ReturnType<typeof run>>) => Math.abs(s.actors[0]!.x - s.actors[1]!.x);
    const closer = run('moveCloser'), away = run('moveAway');
    expect(gap(closer(1))).toBeLessThan(gap(closer(0)) - 0.2);
    expect(gap(away(1))).toBeGreaterThan(gap(away(0)) + 0.2);
  });

  it('putting into ends inside the container, pretending ends where it began', () => {
    const into = run('putInto'), pretend = run('pretendPutInto');
    const end = into(1);
    expect(Math.abs(end.actors[0]!.x - end.actors[1]!.x)).toBeLessThan(1e-9);
    expect(end.actors[0]!.z).toBeLessThan(end.actors[1]!.z); // drawn behind the container's front
    expect(pretend(1).actors[0]!.x).toBeCloseTo(pretend(0).actors[0]!.x, 9);
    expect(pretend(1).actors[0]!.y).toBeCloseTo(pretend(0).actors[0]!.y, 9);
  });
});

describe('assignRecords', () => {
  it('balances classes, splits each class 80/10/10 and never puts an id in two splits', () => {
    const r = assignRecords(440, 44, 'seed');
    const ids = r.map((x) => x.id);
    expect(new Set(ids).size).toBe(440);
    for (let c = 0; c < 44; c++) {
      const mine = r.filter((x) => x.templateIndex === c);
      expect(mine.length).toBe(10);
      expect(mine.filter((x) => x.split === 'train').length).toBe(8);
      expect(mine.filter((x) => x.split === 'validation').length).toBe(1);
      expect(mine.filter((x) => x.split === 'test').length).toBe(1);
    }
    expect(assignRecords(440, 44, 'seed')).toEqual(r);
    expect(assignRecords(440, 44, 'other')).not.toEqual(r);
  });

  it('puts every class in train, validation and test from 3 clips per class, and refuses fewer', () => {
    const r = assignRecords(132, 44, 'seed');
    for (let c = 0; c < 44; c++) {
      expect(r.filter((x) => x.templateIndex === c).map((x) => x.split).sort()).toEqual(['test', 'train', 'validation']);
    }
    // 40 clips over 44 classes used to go to train alone, without a word.
    expect(() => assignRecords(40, 44, 'seed')).toThrow('40 clips over 44 classes is 0–1 per class, and every class needs at least 3 (one each for train, validation and test): use a count of at least 132, or fewer templates');
    expect(() => assignRecords(5, 2, 'seed')).toThrow(/at least 6\b/);
  });

  it('generateDataset refuses too few clips per class before it writes anything', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'ct-gen-small-'));
    try {
      const out = path.join(parent, 'ds');
      await expect(generateDataset({ domain: 'something', count: 40, out, seed: '1' })).rejects.toThrow(/every class needs at least 3 .* at least 135/);
      await expect(readdir(parent)).resolves.toEqual([]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!HAVE_FFMPEG)('generated data set on disk', () => {
  let dir: string, dir2: string;
  let report: GenerateReport;
  const opts = { domain: 'something' as const, count: 30, seed: '11', width: 64, height: 64, templates: TEMPLATES, difficulty: DIFFICULTY.easy };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ct-gen-a-'));
    dir2 = await mkdtemp(path.join(tmpdir(), 'ct-gen-b-'));
    report = await generateDataset({ ...opts, out: dir });
    await generateDataset({ ...opts, out: dir2 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(dir2, { recursive: true, force: true });
  });

  it('writes the SSv2 files and one webm per id', async () => {
    const files = await readdir(dir);
    for (const f of Object.values(SSV2_FILES)) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.webm')).length).toBe(30);
    const labels = JSON.parse(await readFile(path.join(dir, SSV2_FILES.labels), 'utf8')) as Record<string, string>;
    expect(Object.keys(labels).sort()).toEqual(TEMPLATES.map(templateKey).sort());
    expect(Object.values(labels).sort()).toEqual(['0', '1', '2']);
    const test = JSON.parse(await readFile(path.join(dir, SSV2_FILES.test), 'utf8')) as object[];
    for (const e of test) expect(Object.keys(e)).toEqual(['id']);
    const train = JSON.parse(await readFile(path.join(dir, SSV2_FILES.train), 'utf8')) as { id: string; label: string; template: string; placeholders: string[] }[];
    for (const e of train) {
      expect(Object.keys(e)).toEqual(['id', 'label', 'template', 'placeholders']);
      expect(TEMPLATES).toContain(e.template);
      expect(e.label).toBe(e.template.replace(/\[something\]/g, () => e.placeholders.shift()!).replace(/^./, (c) => c.toLowerCase()));
    }
  });

  it('is deterministic: the same options give the same lists and the same video bytes', async () => {
    for (const f of [SSV2_FILES.train, SSV2_FILES.validation, SSV2_FILES.test, SSV2_FILES.captions, SSV2_FILES.labels]) {
      expect(await readFile(path.join(dir2, f), 'utf8')).toBe(await readFile(path.join(dir, f), 'utf8'));
    }
    expect(Buffer.compare(await readFile(path.join(dir, '7.webm')), await readFile(path.join(dir2, '7.webm')))).toBe(0);
  });

  it('resumes an interrupted run, keeping finished clips, and refuses to mix recipes in one folder', async () => {
    const kept = await stat(path.join(dir, '3.webm'));
    await rm(path.join(dir, '5.webm'));
    await rm(path.join(dir, '9.webm'));
    await rm(path.join(dir, SSV2_FILES.train));
    const again = await generateDataset({ ...opts, out: dir });
    expect(again.resumed).toBe(28);
    for (const id of ['5', '9']) expect(Buffer.compare(await readFile(path.join(dir, `${id}.webm`)), await readFile(path.join(dir2, `${id}.webm`)))).toBe(0);
    expect((await stat(path.join(dir, '3.webm'))).mtimeMs).toBe(kept.mtimeMs);
    expect(await readFile(path.join(dir, SSV2_FILES.train), 'utf8')).toBe(await readFile(path.join(dir2, SSV2_FILES.train), 'utf8'));
    expect((await readdir(dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
    await expect(generateDataset({ ...opts, seed: '12', out: dir })).rejects.toThrow(/holds a data set made with other options/);
  });

  it('has disjoint splits covering every id, every class in every split, and reports the counts', async () => {
    const ds = await readSsv2Dataset(dir);
    const ids = (s: 'train' | 'validation' | 'test') => ds.records[s].map((r) => r.id);
    const all = [...ids('train'), ...ids('validation'), ...ids('test')];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(30);
    for (const s of ['train', 'validation', 'test'] as const) {
      expect(new Set(ds.records[s].map((r) => r.action)).size).toBe(3);
      const counted = Object.values(report.counts[s]).reduce((a, b) => a + b, 0);
      expect(counted).toBe(ds.records[s].length);
    }
  });

  it('gives every record the four granularities, consistent with each other', async () => {
    const ds = await readSsv2Dataset(dir);
    for (const r of [...ds.records.train, ...ds.records.test]) {
      expect(ds.actions[r.action]).toBe(templateKey(r.template));
      expect(ds.groups[r.group]).toBe(CATALOGUES.something.templates.find((t) => t.template === r.template)!.group);
      // Simplified: the template with bare nouns; full: the same with attributes, longer.
      const nouns = r.simplified.split(' ');
      expect(r.simplified).not.toContain('[');
      expect(r.caption.length).toBeGreaterThan(r.simplified.length);
      expect(nouns[0]).toBe(r.template.split(' ')[0]);
    }
  });
});
