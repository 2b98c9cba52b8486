/**
 * Teaching over the WebSocket protocol, against the real server process (`server/main.ts`, as
 * `npm start` runs it) on the bundled demo stream: clips taken from the live stream into the clip
 * library (the next and the last seconds), refused labels and classes, a transfer job run as its
 * own process with its progress reaching the client, the live stream switched to the taught model
 * without going down (its predictions then carry the new labels), a corrupt model refused while the
 * running one goes on, rollback, and a cancelled job that loses no clip.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelsView, ServerMessage, TrainingJobView } from '../../server/protocol.js';
import { CountertopModel, initBackend, parseModelConfig, saveCheckpoint } from '../../model/index.js';
import { TINY_NET } from '../../training/experiment/plan.js';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';
import { TestClient } from './harness.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

d('teaching from the dashboard protocol (real server process)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: ServerProcess;
  let client: TestClient;
  let n = 0;
  const req = <T extends ServerMessage = ServerMessage>(m: Parameters<TestClient['request']>[0], timeoutMs = 60_000) => client.request<T>(m, `r${++n}`, timeoutMs);

  const start = async () => {
    server = await startServerProcess([
      '--port', '0', '--no-history', '--engine', 'inline',
      '--recordings-dir', path.join(tmp.dir, 'recordings'),
      '--library-dir', path.join(tmp.dir, 'library'),
      '--models-dir', path.join(tmp.dir, 'models'),
    ]);
    client = await TestClient.connect(`${server.url.replace('http', 'ws')}/ws`);
    client.send({ type: 'subscribe', streams: ['demo'], preview: false });
    await client.waitFor((m) => m.type === 'status' && m.streamId === 'demo' && m.state === 'live', 60_000, 'demo live');
  };

  beforeAll(async () => {
    tmp = tempDir('teach-flow');
    await start();
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
    tmp?.remove();
  });

  it('takes clips from the live stream into the library, and refuses bad labels with a message', async () => {
    const bad = await req<Msg<'error'>>({ type: 'record-clip', streamId: 'demo', seconds: 2, label: { action: 'Cut/slice <b>', objects: [] } });
    expect(bad.type).toBe('error');
    expect(bad.message).toMatch(/letters, digits, spaces/);
    const slots = await req<Msg<'error'>>({ type: 'record-clip', streamId: 'demo', seconds: 2, label: { action: 'Putting [something] into [something]', objects: ['a cup'] } });
    expect(slots.message).toMatch(/2 object slots but 1 object word/);

    const short = await req<Msg<'error'>>({ type: 'record-clip', streamId: 'demo', seconds: 1, label: { action: 'Measuring flour', objects: [] } });
    expect(short.message).toMatch(/a clip needs at least 1\.3 s \(16 frames at 12 fps/);

    const saved: Msg<'clip-saved'>[] = [];
    for (const [action, when] of [['Measuring flour', 'next'], ['Measuring flour', 'last'], ['Wiping the counter', 'next'], ['Wiping the counter', 'last']] as const) {
      const r = await req<Msg<'clip-saved'>>({ type: 'record-clip', streamId: 'demo', seconds: 2, when, label: { action, objects: [] } });
      expect(r.type, JSON.stringify(r)).toBe('clip-saved');
      saved.push(r);
    }
    for (const s of saved) {
      expect(s.clip.frames).toBeGreaterThanOrEqual(16);
      expect(existsSync(path.join(tmp.dir, 'library', `${s.clip.id}.webm`))).toBe(true);
    }
    const listed = await req<Msg<'clips'>>({ type: 'list-clips' });
    expect(listed.library.classes).toEqual([{ name: 'Measuring flour', clips: 2 }, { name: 'Wiping the counter', clips: 2 }]);
    // The folder is an SSv2 set: the train list names every clip with its class.
    const train = JSON.parse(readFileSync(path.join(tmp.dir, 'library', 'something-something-v2-train.json'), 'utf8')) as { id: string; template: string }[];
    expect(train.map((e) => e.template).sort()).toEqual(['Measuring flour', 'Measuring flour', 'Wiping the counter', 'Wiping the counter']);
  }, 120_000);

  it('refuses a class with one clip, and trains a transfer head as a separate process with live progress', async () => {
    await req({ type: 'record-clip', streamId: 'demo', seconds: 2, label: { action: 'Lonely action', objects: [] } });
    const one = await req<Msg<'error'>>({ type: 'start-training', classes: ['Measuring flour', 'Lonely action'], base: 'bundled:default' });
    expect(one.message).toMatch(/"Lonely action" has only one clip/);
    const none = await req<Msg<'error'>>({ type: 'start-training', classes: ['Measuring flour', 'Never recorded'], base: 'bundled:default' });
    expect(none.message).toMatch(/"Never recorded" has no clips/);

    const ack = await req({ type: 'start-training', classes: ['Measuring flour', 'Wiping the counter'], base: 'bundled:default', mode: 'transfer', name: 'My counter' });
    expect(ack.type).toBe('ack');
    const done = await client.waitFor<Msg<'training'>>((m) => m.type === 'training' && m.jobs[0]?.state !== 'running', 240_000, 'training to end');
    const job = done.jobs[0]! as TrainingJobView;
    expect(job.error).toBeNull();
    expect(job.state).toBe('done');
    expect(client.messages.some((m) => m.type === 'training' && m.jobs[0]?.progress?.phase === 'train')).toBe(true);
    expect(job.report!.labels).toEqual(['Measuring flour', 'Wiping the counter']);
    expect(job.report!.perClass.map((c) => c.clips)).toEqual([2, 2]);
    expect(job.report!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(4);
    expect(job.model).toMatch(/^my-counter-/);
  }, 300_000);

  it('switches the live stream to the taught model without stopping it, refuses a corrupt model, and rolls back', async () => {
    const models = await req<Msg<'models'>>({ type: 'list-models' });
    const taught = models.models.items.find((m) => m.origin === 'taught')!;
    expect(taught.classes).toEqual(['Measuring flour', 'Wiping the counter']);
    expect(models.models.active).toBe('bundled:default');
    // Which encoders read the photograph-trained backbone (the Teach view's hint for real cameras).
    const photo = (id: string) => models.models.items.find((m) => m.id === id)?.photoFeatures;
    expect([photo('bundled:default'), photo('bundled:pretrained-features'), taught.photoFeatures]).toEqual([false, true, false]);

    // A folder in modelsDir whose weights are garbage: listed, refused on switch, the old model runs on.
    const broken = path.join(tmp.dir, 'models', 'broken-model');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'manifest.json'), '{"format":"countertop-checkpoint"');
    const refused = await req<Msg<'error'>>({ type: 'switch-model', model: 'broken-model' });
    expect(refused.type).toBe('error');
    expect(refused.message).toMatch(/cannot be used/);

    const from = client.messages.length;
    const switched = await req({ type: 'switch-model', model: taught.id }, 120_000);
    expect(switched.type, JSON.stringify(switched)).toBe('ack');
    const next = await client.next<Msg<'prediction'>>((m) => m.type === 'prediction' && m.streamId === 'demo', 30_000, 'a prediction from the new model');
    expect(next.heads.action!.map((l) => l.label).sort()).toEqual(['Measuring flour', 'Wiping the counter']);
    // The stream never left `live` across the switch.
    const states = client.messages.slice(from).filter((m): m is Msg<'status'> => m.type === 'status' && m.streamId === 'demo').map((m) => m.state);
    expect(states.every((s) => s === 'live')).toBe(true);
    const view = (client.messages.filter((m) => m.type === 'models').at(-1) as Msg<'models'>).models as ModelsView;
    expect(view.active).toBe(taught.id);
    expect(view.previous).toBe('bundled:default');
    const streams = client.messages.filter((m): m is Msg<'streams'> => m.type === 'streams').at(-1)!;
    expect(streams.streams.find((s) => s.id === 'demo')!.model).toBe(view.info.name);

    expect((await req({ type: 'rollback-model' }, 120_000)).type).toBe('ack');
    const back = await client.next<Msg<'prediction'>>((m) => m.type === 'prediction' && m.streamId === 'demo' && m.heads.action!.length === 5, 30_000, 'a prediction from the default model');
    expect(back.heads.action!.some((l) => l.label === 'Measuring flour')).toBe(false);
  }, 300_000);

  it('switches to a model of another input size and frame count: the streams go on at its size', async () => {
    // An (untrained) model of 8 frames at 32×32 with its own two labels, saved where taught models go.
    await initBackend();
    const tiny = CountertopModel.create(parseModelConfig({ ...TINY_NET, sampling: 'window' }), [{ name: 'action', labels: ['Tiny A', 'Tiny B'] }], null, 3);
    await saveCheckpoint(path.join(tmp.dir, 'models', 'tiny-model'), tiny);
    tiny.dispose();
    expect((await req({ type: 'switch-model', model: 'tiny-model' }, 120_000)).type).toBe('ack');
    const p = await client.next<Msg<'prediction'>>((m) => m.type === 'prediction' && m.streamId === 'demo', 30_000, 'a prediction from the 32×32 model');
    expect(p.heads.action!.map((l) => l.label).sort()).toEqual(['Tiny A', 'Tiny B']);
    expect(p.lastSeq - p.firstSeq).toBe(7);
    expect((await req({ type: 'rollback-model' }, 120_000)).type).toBe('ack');
    const back = await client.next<Msg<'prediction'>>((m) => m.type === 'prediction' && m.streamId === 'demo' && m.lastSeq - m.firstSeq === 15, 30_000, 'a 16-frame prediction again');
    expect(back.heads.action!.length).toBe(5);
  }, 240_000);

  it('labels a recording: its annotation file is written from marked segments, and segments become library clips', async () => {
    const name = 'kitchen-session.webm'; // the demo session, seeded into the empty recordings folder
    const read = await req<Msg<'annotations'>>({ type: 'read-annotations', recording: name });
    expect(read.segments.length).toBeGreaterThan(10);
    expect(read.duration).toBeGreaterThan(60);
    const marked = [
      { start: 2, end: 4.5, label: { action: 'Putting [something] into [something]', objects: ['a spoon', 'a bowl'] } },
      { start: 10, end: 12, label: { action: 'Tasting the soup', objects: [] } },
    ];
    expect((await req({ type: 'save-annotations', recording: name, segments: marked })).type).toBe('ack');
    const file = path.join(tmp.dir, 'recordings', 'kitchen-session.annotations.json');
    const written = JSON.parse(readFileSync(file, 'utf8')) as { segments: { template: string; label?: string }[] };
    expect(written.segments.map((x) => x.label ?? x.template)).toEqual(['Putting a spoon into a bowl', 'Tasting the soup']);
    const again = await req<Msg<'annotations'>>({ type: 'read-annotations', recording: name });
    expect(again.segments.map((x) => x.label)).toEqual(marked.map((x) => x.label));
    // Replay evaluation scores against the file just written.
    client.send({ type: 'evaluate', recording: name, id: 'eval-1' });
    const result = await client.waitFor<Msg<'eval-result'>>((m) => (m.type === 'eval-result' || m.type === 'error') && 'id' in m && m.id === 'eval-1', 180_000, 'the evaluation');
    expect(result.result?.truth.map((x) => x.label), JSON.stringify(result)).toEqual(['Putting [something] into [something]', 'Tasting the soup']);

    const tooShort = await req<Msg<'error'>>({ type: 'clips-from-recording', recording: name, segments: [{ start: 1, end: 1.5, label: { action: 'Tasting the soup', objects: [] } }] });
    expect(tooShort.message).toMatch(/shorter than the model's window/);
    const before = (await req<Msg<'clips'>>({ type: 'list-clips' })).library.clips.length;
    const added = await req<Msg<'clips-added'>>({ type: 'clips-from-recording', recording: name, segments: marked });
    expect(added.clips).toBe(2);
    const after = await req<Msg<'clips'>>({ type: 'list-clips' });
    expect(after.library.clips.length).toBe(before + 2);
    const cut = after.library.clips.find((c) => c.className === 'Tasting the soup')!;
    expect(cut.streamName).toBe(name);
    expect(statSync(path.join(tmp.dir, 'library', `${cut.id}.webm`)).size).toBeGreaterThan(1000);

    // The player reads the recording over HTTP with byte ranges; nothing outside the folder.
    const ranged = await fetch(`${server.url}/recordings/${name}`, { headers: { range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
    expect((await fetch(`${server.url}/recordings/..%2Fpackage.json`)).status).toBe(404);
  }, 240_000);

  it('cancels a fine-tuning job: no model, every clip kept', async () => {
    const before = (await req<Msg<'clips'>>({ type: 'list-clips' })).library.clips.length;
    await req({ type: 'start-training', classes: ['Measuring flour', 'Wiping the counter'], base: 'bundled:default', mode: 'finetune' });
    const running = await client.waitFor<Msg<'training'>>((m) => m.type === 'training' && m.jobs[0]?.state === 'running' && m.jobs[0].mode === 'finetune', 60_000, 'the finetune job');
    expect((await req({ type: 'cancel-training', jobId: running.jobs[0]!.id })).type).toBe('ack');
    const ended = await client.waitFor<Msg<'training'>>((m) => m.type === 'training' && m.jobs[0]?.id === running.jobs[0]!.id && m.jobs[0].state !== 'running', 60_000, 'the job to end');
    expect(ended.jobs[0]!.state).toBe('cancelled');
    expect(ended.jobs[0]!.model).toBeNull();
    expect((await req<Msg<'clips'>>({ type: 'list-clips' })).library.clips.length).toBe(before);
    const models = await req<Msg<'models'>>({ type: 'list-models' });
    expect(models.models.items.filter((m) => m.origin === 'taught' && !m.problem).map((m) => m.name).sort()).toEqual(['My counter', 'tiny-model']);
    expect(models.models.items.find((m) => m.id === 'broken-model')!.problem).toMatch(/manifest/);
  }, 180_000);

  it('resumes a fine-tuning job after a server restart, and the library survives it', async () => {
    await req({ type: 'start-training', classes: ['Measuring flour', 'Wiping the counter'], base: 'bundled:default', mode: 'finetune', name: 'Resumed' });
    await client.waitFor<Msg<'training'>>((m) => m.type === 'training' && m.jobs[0]?.name === 'Resumed' && (m.jobs[0].progress?.epoch ?? 0) >= 1, 120_000, 'an epoch of fine-tuning');
    const clips = (await req<Msg<'clips'>>({ type: 'list-clips' })).library.clips.length;
    await client.close();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    await start();
    const resumed = await client.waitFor<Msg<'training'>>((m) => m.type === 'training' && m.jobs[0]?.name === 'Resumed' && m.jobs[0].state !== 'running', 300_000, 'the resumed job to end');
    expect(resumed.jobs[0]!.error).toBeNull();
    expect(resumed.jobs[0]!.state).toBe('done');
    expect(resumed.jobs[0]!.resumes).toBe(1);
    expect((await req<Msg<'clips'>>({ type: 'list-clips' })).library.clips.length).toBe(clips);
    const models = await req<Msg<'models'>>({ type: 'list-models' });
    expect(models.models.items.find((m) => m.name === 'Resumed')?.mode).toBe('finetune');
  }, 480_000);
});
