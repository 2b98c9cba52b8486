/**
 * Transfer → serve: a tiny encoder trained on a few "something" templates, a new head trained by
 * `npm run transfer` on three kitchen actions it has never seen, and that output folder served as it
 * is by `npm start --model`: the live predictions carry the new labels. The same folder (and the
 * training run's) is accepted by `train --evaluate`, `replay` and `tune`, each saying which
 * checkpoint it chose; a folder without one is a one-line error. An encoder with the perception channel on
 * transfers too (its frozen features need the clips' hand–object vectors).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountertopModel, initBackend, loadCheckpoint, parseModelConfig, resolveCheckpoint, saveCheckpoint } from '../../model/index.js';
import { TINY_NET } from '../../training/experiment/plan.js';
import { openClipData } from '../../training/open-data.js';
import { transfer, transferOptionsSchema } from '../../training/transfer.js';
import type { ServerMessage } from '../../server/protocol.js';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import { TestClient } from '../server/harness.js';
import { TINY_CONFIG, runCli, startCli } from './harness.js';
import { startServerProcess } from '../server/serverProcess.js';

const SOURCE_TEMPLATES = ['Pushing something from left to right', 'Pushing something from right to left', 'Moving something up', 'Moving something down'];
const TARGET_TEMPLATES = ['Pouring [something] into [something]', 'Stirring [something] with [something]', 'Putting a lid on [something]'];
const TARGET_LABELS = ['Pouring something into something', 'Stirring something with something', 'Putting a lid on something'];

/** The data set's class names in class-id order, from its own labels file. */
function labelsOf(dir: string): string[] {
  const ids = JSON.parse(readFileSync(path.join(dir, 'something-something-v2-labels.json'), 'utf8')) as Record<string, string>;
  return Object.entries(ids).sort((a, b) => Number(a[1]) - Number(b[1])).map(([name]) => name);
}

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('transfer → serve', () => {
  let tmp: ReturnType<typeof tempDir>;
  const at = (...p: string[]) => path.join(tmp.dir, ...p);
  const run = () => at('run');
  const xfer = () => at('xfer');

  beforeAll(async () => {
    tmp = tempDir('transfer-serve');
    const make = (domain: string, count: number, out: string, seed: number, templates: string[]) =>
      runCli('scripts/data-make.ts', ['--domain', domain, '--count', String(count), '--out', out, '--seed', String(seed), '--width', '64', '--height', '64', '--templates', templates.join('|')]);
    await Promise.all([make('something', 24, at('source'), 1101, SOURCE_TEMPLATES), make('kitchenware', 18, at('target'), 2101, TARGET_TEMPLATES)]);
    await runCli('scripts/train.ts', ['--data', at('source'), '--task', 'actions', '--epochs', '1', '--batch-size', '8', '--out', run(), '--config', TINY_CONFIG, '--no-progress']);
  });
  afterAll(() => tmp?.remove());

  it('npm run transfer saves the frozen encoder and the new head as a validated checkpoint', async () => {
    const r = await runCli('scripts/transfer.ts', ['--encoder', run(), '--data', at('target'), '--out', xfer(), '--epochs', '8', '--seed', '5']);
    expect(r.stderr).toContain(`using ${path.join(run(), 'checkpoint')} (last checkpoint of run ${run()}, step 2)`);
    expect(r.stdout).toContain(`model saved to ${path.join(xfer(), 'checkpoint')}`);

    await initBackend({ log: () => {} });
    const saved = await loadCheckpoint(path.join(xfer(), 'checkpoint'));
    const source = await loadCheckpoint(path.join(run(), 'checkpoint'));
    try {
      expect(saved.model.frozenEncoder).toBe(true);
      expect(labelsOf(at('target')).sort()).toEqual([...TARGET_LABELS].sort());
      expect(saved.model.heads.map((h) => ({ name: h.name, labels: [...h.labels] }))).toEqual([{ name: 'action', labels: labelsOf(at('target')) }]);
      // The encoder is the source's, bit for bit; only the head is new.
      const encoder = (m: CountertopModel) => new Map(m.namedVariables().filter((e) => m.encoderVariables().includes(e.variable)).map((e) => [e.name, Array.from(e.variable.dataSync())]));
      expect(encoder(saved.model)).toEqual(encoder(source.model));
      const t = saved.training as { encoder: Record<string, unknown>; test: { classification: { top1: number; items: number } } };
      const report = JSON.parse(readFileSync(path.join(xfer(), 'report.json'), 'utf8'));
      expect(t).toMatchObject({ kind: 'transfer', data: at('target'), head: 'linear', epochs: 8, seed: 5, steps: report.steps });
      expect(t.encoder).toMatchObject({ checkpoint: path.join(run(), 'checkpoint'), hash: report.encoderHash, task: 'actions', data: at('source') });
      expect(t.test.classification.top1).toBe(report.test.classification.top1);
      expect(t.test.classification.items).toBe(3);
    } finally {
      saved.model.dispose();
      source.model.dispose();
    }
  });

  it('npm start --model <transfer output> serves it: live predictions carry the new labels', async () => {
    mkdirSync(at('static'), { recursive: true });
    writeFileSync(at('static', 'index.html'), '<title>countertop</title>');
    const server = await startServerProcess(['--port', '0', '--no-history', '--model', xfer(), '--demo-file', at('target', '1.webm'), '--recordings-dir', at('recordings'), '--static-dir', at('static')]);
    const { child, url, exited } = server;
    try {
      expect(server.out()).toContain(`using ${path.join(xfer(), 'checkpoint')} (transfer head (linear) on the frozen encoder of ${path.join(run(), 'checkpoint')}, output of npm run transfer)`);
      const health = (await (await fetch(`${url}/healthz`)).json()) as { model: { trained: boolean; labels: number } };
      expect(health.model).toMatchObject({ trained: true, labels: 3 });
      const client = await TestClient.connect(`${url.replace(/^http/, 'ws')}/ws`);
      client.send({ type: 'subscribe', streams: ['demo'], preview: false });
      const prediction = await client.waitFor<Extract<ServerMessage, { type: 'prediction' }>>((m) => m.type === 'prediction', 60_000, 'a prediction');
      const labels = prediction.heads.action!.map((s) => s.label);
      expect(labels.length).toBeGreaterThan(0);
      for (const l of labels) expect(TARGET_LABELS).toContain(l);
      await client.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('train --evaluate, replay and tune take the transfer output and the run folder, and say which checkpoint', async () => {
    writeFileSync(at('clip.json'), JSON.stringify([{ start: 0, end: 1, template: TARGET_TEMPLATES[0] }]));
    const replay = startCli('scripts/replay.ts', ['--recording', at('target', '1.webm'), '--annotations', at('clip.json'), '--model', xfer()]).done;
    const evaluate = await runCli('scripts/train.ts', ['--evaluate', xfer(), '--data', at('target'), '--out', at('eval')]);
    expect(evaluate.stderr).toContain(`using ${path.join(xfer(), 'checkpoint')} (transfer head`);
    expect(evaluate.stdout).toMatch(/action top-1 [\d.]+%.*\(18 clips, chance 33\.3%\)/);
    const r = await replay;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`using ${path.join(xfer(), 'checkpoint')} (transfer head`);
    expect(r.stderr).toMatch(/model: .*xfer\/checkpoint \(trained, 3 labels/);

    // tune, on the training run's folder: its last checkpoint.
    const tune = await startCli('scripts/tune.ts', ['--recording', at('target', '1.webm'), '--annotations', at('clip.json'), '--model', run(), '--top', '1']).done;
    expect(tune.code, tune.stderr).toBe(0);
    expect(tune.stderr).toContain(`using ${path.join(run(), 'checkpoint')} (last checkpoint of run ${run()}, step 2)`);
    expect(tune.stdout).toContain(`--write would save #1 to ${path.join(run(), 'checkpoint', 'live-settings.json')}`);

    expect(resolveCheckpoint(run()).note).toBe(`using ${path.join(run(), 'checkpoint')} (last checkpoint of run ${run()}, step 2)`);
    expect(resolveCheckpoint(path.join(xfer(), 'checkpoint'))).toMatchObject({ dir: path.join(xfer(), 'checkpoint'), kind: 'transfer' });
    // A folder with no checkpoint: one line, for the server as for the scripts.
    mkdirSync(at('empty'));
    expect(() => resolveCheckpoint(at('empty'))).toThrow(/^checkpoint .*empty: manifest\.json is missing here and in .*empty\/checkpoint\/ \(not a checkpoint, training run or transfer output folder\)$/);
    for (const script of ['scripts/replay.ts', 'scripts/tune.ts']) {
      const bad = await startCli(script, ['--recording', at('target', '1.webm'), '--annotations', at('clip.json'), '--model', at('empty')]).done;
      expect(bad.code, script).toBe(2);
      expect(bad.stderr.trim().split('\n'), script).toHaveLength(1);
      expect(bad.stderr, script).toMatch(/manifest\.json is missing here and in/);
    }
  });

  it('an encoder with the perception channel transfers (its features read the clips’ hand–object vectors)', async () => {
    await initBackend({ log: () => {} });
    const config = parseModelConfig({ ...TINY_NET, dropout: 0, perception: { handObject: true, backbone: false, features: 4 } });
    const encoder = CountertopModel.create(config, [{ name: 'action', labels: ['a', 'b'] }], null, 3);
    await saveCheckpoint(at('perception-encoder'), encoder);
    encoder.dispose();
    const data = await openClipData(at('target'), { cacheDir: at('cache') });
    const opts = transferOptionsSchema.parse({ encoder: at('perception-encoder'), data: at('target'), out: at('perception-xfer'), epochs: 2 });
    const result = await transfer(opts, data, { log: () => {} });
    const saved = await loadCheckpoint(result.checkpoint);
    try {
      expect(saved.model.config.perception).toMatchObject({ handObject: true, features: 4 });
      expect(saved.model.heads[0]!.labels).toEqual(labelsOf(at('target')));
    } finally {
      saved.model.dispose();
    }
  });
});
