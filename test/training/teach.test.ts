/**
 * Teach: a tiny encoder trained on four "something" templates is taught three kitchen actions it
 * has never seen, in both modes. Checked: the saved model loads, its head's labels are the new
 * classes, it has no caption decoder, the report's per-class counts and confusion agree with the
 * clips; each kind of bad input is refused with a message naming the class or clip; a cancelled
 * run (in-process abort, and SIGTERM to the CLI) writes no model and leaves the data untouched;
 * a cancelled fine-tuning run resumes at the epoch it had saved.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountertopModel, initBackend, loadCheckpoint, resolveCheckpoint } from '../../model/index.js';
import { templateKey } from '../../data/captions.js';
import { TeachCancelled, TeachInputError, teach, teachMessageSchema, teachOptionsSchema, teachReportSchema, type TeachOptionsInput, type TeachProgress } from '../../training/teach.js';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import { ROOT, TINY_CONFIG, runCli, startCli } from './harness.js';
import { defaultLiveSettings, loadLiveSettings } from '../../pipelines/liveSettings.js';

const SOURCE_TEMPLATES = ['Pushing something from left to right', 'Pushing something from right to left', 'Moving something up', 'Moving something down'];
const TARGET_TEMPLATES = ['Pouring [something] into [something]', 'Stirring [something] with [something]', 'Putting a lid on [something]'];
const TARGET_LABELS = ['Pouring something into something', 'Stirring something with something', 'Putting a lid on something'];
const FILES = {
  labels: 'something-something-v2-labels.json',
  groups: 'template-groups.json',
  train: 'something-something-v2-train.json',
  validation: 'something-something-v2-validation.json',
  test: 'something-something-v2-test.json',
  answers: 'something-something-v2-test-answers.csv',
};

/** Held-out clips of 18 the pretrained-features base's head got right when this test was written. */
const PRETRAINED_HELD_OUT = 13;

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const writeJson = (file: string, v: unknown) => writeFileSync(file, JSON.stringify(v));

/** Every file of a folder with its SHA-256: equal before and after means nothing was touched. */
function folderDigest(dir: string): string {
  return readdirSync(dir).sort().map((f) => `${f}:${createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')}`).join('\n');
}

/** The encoder's weights by name, as plain arrays. */
function encoderOf(m: CountertopModel): Map<string, number[]> {
  const enc = new Set(m.encoderVariables());
  return new Map(m.namedVariables().filter((e) => enc.has(e.variable)).map((e) => [e.name, Array.from(e.variable.dataSync())]));
}

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('teach', () => {
  let tmp: ReturnType<typeof tempDir>;
  const at = (...p: string[]) => path.join(tmp.dir, ...p);
  const opts = (o: Partial<TeachOptionsInput> & { out: string }) => teachOptionsSchema.parse({ base: at('run'), data: at('target'), ...o });
  const quiet = { log: () => {} };

  /** A copy of the target set with its lists edited (to make bad input without touching the original). */
  function variant(name: string, keep: (entry: { id: string; className: string }) => boolean, edit?: (dir: string) => void): string {
    const dir = at(name);
    cpSync(at('target'), dir, { recursive: true });
    const train = readJson<{ id: string; template: string }[]>(path.join(dir, FILES.train));
    const validation = readJson<{ id: string; template: string }[]>(path.join(dir, FILES.validation));
    const answers = readFileSync(path.join(dir, FILES.answers), 'utf8').split('\n').filter(Boolean).map((l) => ({ id: l.split(';')[0]!, className: l.split(';')[1]! }));
    writeJson(path.join(dir, FILES.train), train.filter((e) => keep({ id: e.id, className: templateKey(e.template) })));
    writeJson(path.join(dir, FILES.validation), validation.filter((e) => keep({ id: e.id, className: templateKey(e.template) })));
    const kept = answers.filter(keep);
    writeJson(path.join(dir, FILES.test), kept.map((a) => ({ id: a.id })));
    writeFileSync(path.join(dir, FILES.answers), kept.map((a) => `${a.id};${a.className}\n`).join(''));
    edit?.(dir);
    return dir;
  }

  beforeAll(async () => {
    tmp = tempDir('teach');
    const make = (domain: string, count: number, out: string, seed: number, templates: string[]) =>
      runCli('scripts/data-make.ts', ['--domain', domain, '--count', String(count), '--out', out, '--seed', String(seed), '--width', '64', '--height', '64', '--templates', templates.join('|')]);
    await Promise.all([make('something', 24, at('source'), 1201, SOURCE_TEMPLATES), make('kitchenware', 18, at('target'), 2201, TARGET_TEMPLATES)]);
    await runCli('scripts/train.ts', ['--data', at('source'), '--task', 'actions', '--epochs', '1', '--batch-size', '8', '--out', at('run'), '--config', TINY_CONFIG, '--no-progress']);
    await initBackend({ log: () => {} });
  }, 120_000);
  afterAll(() => tmp?.remove());

  it('transfer: a loadable model of the new classes, with per-class held-out accuracy and a confusion matrix', async () => {
    const progress: TeachProgress[] = [];
    const report = await teach(opts({ out: at('transfer'), epochs: 30 }), { ...quiet, onProgress: (p) => progress.push(p) });
    expect(teachReportSchema.parse(report)).toEqual(report);
    expect(readJson(at('transfer', 'report.json'))).toEqual(report);
    expect([...report.labels].sort()).toEqual([...TARGET_LABELS].sort());
    // 6 clips per class → 5 folds, every clip scored once by a head that never saw it.
    expect(report.heldOut).toMatchObject({ method: 'stratified-k-fold', folds: 5, clips: 18 });
    expect(report.classes.map((c) => [c.clips, c.heldOut])).toEqual([[6, 6], [6, 6], [6, 6]]);
    expect(report.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([6, 6, 6]);
    report.classes.forEach((c, i) => {
      expect(c.correct).toBe(report.confusion[i]![i]);
      expect(c.accuracy).toBeCloseTo(c.correct / 6, 10);
    });
    expect(report.top1).toBeCloseTo(report.classes.reduce((s, c) => s + c.correct, 0) / 18, 10);
    // Progress: every phase, fractions never decreasing, ending at 1; all five folds trained.
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(['check', 'features', 'train', 'evaluate', 'save']));
    expect(progress.every((p, i) => i === 0 || p.fraction >= progress[i - 1]!.fraction)).toBe(true);
    expect(progress.at(-1)!.fraction).toBe(1);
    expect(new Set(progress.filter((p) => p.fold).map((p) => p.fold))).toEqual(new Set([1, 2, 3, 4, 5]));

    const saved = await loadCheckpoint(path.join(at('transfer'), 'checkpoint'));
    const base = await loadCheckpoint(at('run', 'checkpoint'));
    try {
      expect(saved.model.heads.map((h) => [h.name, [...h.labels]])).toEqual([['action', report.labels]]);
      expect(saved.model.vocabulary).toBeNull();
      expect(saved.model.frozenEncoder).toBe(true);
      expect(encoderOf(saved.model)).toEqual(encoderOf(base.model));
      expect(saved.training).toMatchObject({ kind: 'teach', mode: 'transfer', classes: report.labels, top1: report.top1, clips: { total: 18, perClass: [6, 6, 6] } });
    } finally {
      saved.model.dispose();
      base.model.dispose();
    }
    // A base without live settings gives a taught model without them (the defaults apply).
    expect(existsSync(at('transfer', 'checkpoint', 'live-settings.json'))).toBe(false);
    expect(resolveCheckpoint(at('transfer'))).toMatchObject({ dir: at('transfer', 'checkpoint'), kind: 'teach' });
    expect(resolveCheckpoint(at('transfer')).note).toBe(`using ${at('transfer', 'checkpoint')} (taught model (transfer, 3 classes from ${at('run', 'checkpoint')}), output of npm run teach)`);
  });

  it('transfer from the bundled pretrained-features base: no encoder weights to freeze, a head over the raw backbone feature', async () => {
    const base = path.join(ROOT, 'assets', 'model', 'pretrained-features');
    const report = await teach(opts({ base, out: at('pretrained'), epochs: 30 }), quiet);
    expect(report.heldOut).toMatchObject({ method: 'stratified-k-fold', folds: 5, clips: 18 });
    // Three classes: chance is 6 of 18; measured 2 Dec (kept in the docs' teach section).
    expect(report.classes.reduce((s, c) => s + c.correct, 0)).toBeGreaterThanOrEqual(PRETRAINED_HELD_OUT - 2);
    const saved = await loadCheckpoint(path.join(at('pretrained'), 'checkpoint'));
    try {
      expect(saved.model.encoderVariables()).toEqual([]);
      expect(saved.model.config.encoder.kind).toBe('pool');
      expect(saved.model.heads.map((h) => h.name)).toEqual(['action']);
      // The base's stride (1) comes with the taught model, saying where from; score thresholds start at the defaults.
      const live = loadLiveSettings(path.join(at('pretrained'), 'checkpoint'));
      expect(live.settings).toEqual({ ...defaultLiveSettings, stride: 1 });
      expect(live.tuned).toEqual({ from: path.join(base, 'live-settings.json'), kept: ['stride', 'maxFrameGapMs'] });
    } finally {
      saved.model.dispose();
    }
  });

  it('finetune through the CLI (--json): valid wire messages, a trained encoder, no caption decoder', async () => {
    const r = await runCli('scripts/teach.ts', ['--base', at('run'), '--data', at('target'), '--out', at('finetune'), '--mode', 'finetune', '--epochs', '2', '--augment', '1', '--json']);
    const lines = r.stdout.trim().split('\n').map((l) => teachMessageSchema.parse(JSON.parse(l)));
    const done = lines.at(-1)!;
    if (done.type !== 'done') throw new Error(`last line: ${JSON.stringify(done)}`);
    expect(lines.filter((m) => m.type === 'progress').length).toBeGreaterThan(3);
    const report = done.report;
    expect(report.mode).toBe('finetune');
    expect(report.heldOut.method).toBe('stratified-split');
    // ≥ 1 per class held out, and the held-out predictions are exactly the confusion matrix's.
    for (const c of report.classes) expect(c.heldOut).toBeGreaterThanOrEqual(1);
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(report.heldOut.clips);
    expect(existsSync(at('finetune', 'resume'))).toBe(false);

    const saved = await loadCheckpoint(path.join(at('finetune'), 'checkpoint'));
    const base = await loadCheckpoint(at('run', 'checkpoint'));
    try {
      expect(saved.model.heads.map((h) => [...h.labels])).toEqual([report.labels]);
      expect(saved.model.vocabulary).toBeNull();
      expect(saved.model.frozenEncoder).toBe(false);
      // Every encoder weight was trainable: fine-tuning moved them away from the base's.
      const a = encoderOf(saved.model), b = encoderOf(base.model);
      expect([...a.keys()]).toEqual([...b.keys()]);
      expect([...a.keys()].filter((k) => a.get(k)!.some((x, i) => x !== b.get(k)![i])).length).toBeGreaterThan(a.size / 2);
    } finally {
      saved.model.dispose();
      base.model.dispose();
    }
  });

  it('refuses bad input with a message naming the class or clip, before training anything', async () => {
    const refuse = async (data: string, pattern: RegExp) => {
      const out = at(`out-${path.basename(data)}`);
      await expect(teach(opts({ data, out }), quiet)).rejects.toThrow(pattern);
      expect(existsSync(path.join(out, 'checkpoint'))).toBe(false);
      await expect(teach(opts({ data, out }), quiet)).rejects.toBeInstanceOf(TeachInputError);
    };
    // A class in the labels with no clips.
    await refuse(
      variant('empty-class', () => true, (dir) => {
        const labels = readJson<Record<string, string>>(path.join(dir, FILES.labels));
        writeJson(path.join(dir, FILES.labels), { ...labels, 'Measuring flour': String(Object.keys(labels).length) });
        writeJson(path.join(dir, FILES.groups), { ...readJson<Record<string, string>>(path.join(dir, FILES.groups)), 'Measuring flour': 'Measuring' });
      }),
      /class "Measuring flour" has no clips/,
    );
    // A class with one clip: it cannot be held out.
    let kept = '';
    const oneClip = variant('one-clip', (e) => {
      if (e.className !== 'Putting a lid on something') return true;
      if (kept && kept !== e.id) return false;
      kept = e.id;
      return true;
    });
    await refuse(oneClip, new RegExp(`class "Putting a lid on something" \\(clip ${kept}\\) has only one clip: each class needs at least 2`));
    // One class only.
    await refuse(
      variant('one-class', (e) => e.className === 'Pouring something into something', (dir) => {
        writeJson(path.join(dir, FILES.labels), { 'Pouring something into something': '0' });
      }),
      /only one class \("Pouring something into something"\): teaching needs at least 2 classes/,
    );
    // A clip shorter than the model's window (TINY_NET: 8 frames at 12 fps).
    const shortDir = variant('short-clip', () => true);
    const cut = spawnSync(process.env.FFMPEG_PATH || 'ffmpeg', ['-v', 'error', '-y', '-i', path.join(at('target'), '5.webm'), '-frames:v', '4', '-c:v', 'libvpx-vp9', path.join(shortDir, '5.webm')]);
    expect(cut.status, cut.stderr.toString()).toBe(0);
    await refuse(shortDir, /clip 5 \(".*", 5\.webm\) is too short: 4 frames \(0\.33 s at 12 fps\), the model's window needs 8/);
    // A clip that is not a video.
    await refuse(variant('broken-clip', () => true, (dir) => writeFileSync(path.join(dir, '7.webm'), 'not a video')), /clip 7 \(".*", 7\.webm\) cannot be decoded/);
    // A base whose live settings are damaged: refused before training, naming the file (they would be carried over).
    cpSync(at('run'), at('bad-live-base'), { recursive: true });
    writeFileSync(at('bad-live-base', 'checkpoint', 'live-settings.json'), '{"stride": ');
    const out = at('out-bad-live-base');
    await expect(teach(opts({ base: at('bad-live-base'), out }), quiet)).rejects.toThrow(/live-settings\.json: is not valid JSON/);
    expect(existsSync(out)).toBe(false);
  });

  it('a cancelled run writes no model and leaves the data untouched (in-process abort and SIGTERM to the CLI)', async () => {
    const before = folderDigest(at('target'));
    const stop = new AbortController();
    const out = at('cancelled');
    const run = teach(opts({ out, mode: 'finetune', epochs: 6, augment: 1 }), { ...quiet, signal: stop.signal, onProgress: (p) => p.phase === 'train' && (p.epoch ?? 0) >= 2 && stop.abort() });
    await expect(run).rejects.toBeInstanceOf(TeachCancelled);
    expect(existsSync(path.join(out, 'checkpoint'))).toBe(false);
    expect(existsSync(path.join(out, 'report.json'))).toBe(false);

    const cli = startCli('scripts/teach.ts', ['--base', at('run'), '--data', at('target'), '--out', at('sigterm'), '--mode', 'finetune', '--epochs', '20', '--augment', '1', '--json']);
    let sent = false;
    cli.child.stdout!.on('data', (b: Buffer) => {
      if (!sent && b.toString().includes('"phase":"train"')) {
        sent = true;
        cli.child.kill('SIGTERM');
      }
    });
    const r = await cli.done;
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(teachMessageSchema.parse(JSON.parse(r.stdout.trim().split('\n').at(-1)!))).toEqual({ type: 'cancelled' });
    expect(existsSync(at('sigterm', 'checkpoint'))).toBe(false);
    expect(folderDigest(at('target'))).toBe(before);
  });

  it('finetune resumes at the epoch it saved, and refuses a resume with other options', async () => {
    const out = at('resumed');
    const stop = new AbortController();
    // Cancelled once epoch 3 of the held-out model is under way (its state is saved after every epoch).
    await expect(teach(opts({ out, mode: 'finetune', epochs: 4, augment: 1 }), { ...quiet, signal: stop.signal, onProgress: (p) => p.phase === 'train' && (p.epoch ?? 0) >= 3 && stop.abort() })).rejects.toBeInstanceOf(TeachCancelled);
    const saved = readJson<{ training: { resume: { stage: string; epoch: number } } }>(path.join(out, 'resume', 'manifest.json')).training.resume;
    expect(saved.stage).toBe('heldOut');
    expect(saved.epoch).toBeGreaterThanOrEqual(2);
    const next = saved.epoch + 1;
    await expect(teach(opts({ out, mode: 'finetune', epochs: 4, augment: 1 }), quiet)).rejects.toThrow(/holds an unfinished fine-tuning run .*pass --resume/);
    await expect(teach(opts({ out, mode: 'finetune', epochs: 4, augment: 1, lr: 1e-3, resume: true }), quiet)).rejects.toThrow(/was written with other options, data or base model/);

    const logs: string[] = [];
    const progress: TeachProgress[] = [];
    const report = await teach(opts({ out, mode: 'finetune', epochs: 4, augment: 1, resume: true }), { log: (l) => logs.push(l), onProgress: (p) => progress.push(p) });
    expect(logs).toContain(`resuming fine-tuning at epoch ${next} of the held-out model`);
    expect(report.resumedAtEpoch).toBe(next);
    // The held-out model's finished epochs were not trained again; the final model trained all 4.
    const heldOutEpochs = progress.filter((p) => p.phase === 'train' && p.fold === 1).map((p) => p.epoch!);
    expect(Math.min(...heldOutEpochs)).toBe(next);
    expect(progress.some((p) => p.phase === 'train' && !p.fold && p.epoch === 1)).toBe(true);
    expect(existsSync(path.join(out, 'checkpoint', 'manifest.json'))).toBe(true);
    expect(existsSync(path.join(out, 'resume'))).toBe(false);
  });
});
