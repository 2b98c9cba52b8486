/**
 * `npm start -- --role edge|worker|hub`: connects to the bus and runs one role until SIGINT/SIGTERM
 * (a clean stop: a worker gives its leases back, an edge says its streams ended). server/main.ts
 * calls this for every role but `all`, which stays the single process and never loads this file.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { throwError } from 'rxjs';
import type { ServerConfig } from '../server/config.js';
import { findDemoVideo } from '../server/demo.js';
import { REPO_ROOT } from '../server/repoRoot.js';
import { closeOnSignals } from '../server/shutdown.js';
import type { ModelInfo } from '../server/protocol.js';
import { clusterBucket, ensureEventStream, leaseBucket, openBus, type Bus } from './bus.js';
import { allowedCheckpoint } from './modelControl.js';
import { MODEL_KEY } from './subjects.js';
import { decodeModelAnnouncement, type ModelAnnouncement } from './wire.js';
import type { WorkerModel } from './worker.js';

/** Runs `close` once on SIGINT/SIGTERM, then exits; with the bus away, giving leases back and draining can only time out, so not for ever. */
function onSignals(log: Logger, close: () => Promise<void>): void {
  closeOnSignals(log, close, { forceExitAfterMs: 15_000, forceExitMessage: 'shutdown took over 15 s (the bus unreachable?); exiting' });
}

async function loadWorkerModel(config: ServerConfig, checkpoint: string | undefined, log: Logger): Promise<WorkerModel> {
  const [{ loadServingModel, servingEngine }, { loadLiveSettings }] = await Promise.all([import('../server/model.js'), import('../pipelines/index.js')]);
  const served = await loadServingModel(checkpoint, log);
  const live = loadLiveSettings(served.checkpoint);
  const engine = await servingEngine(config.engine, served, log);
  return { engine, info: served.info, ...(served.checkpoint ? { checkpoint: served.checkpoint } : {}), pipeline: live.settings };
}

/** The workers' model, as announced in the cluster bucket; waits up to `waitMs` for a first worker. */
async function announcedModel(bus: Bus, waitMs: number, log: Logger): Promise<ModelAnnouncement | undefined> {
  const kv = await clusterBucket(bus);
  const until = Date.now() + waitMs;
  let said = false;
  while (Date.now() < until) {
    const e = await kv.get(MODEL_KEY);
    if (e && e.operation === 'PUT') return decodeModelAnnouncement(e.value);
    if (!said) log.info({ waitMs }, 'waiting for a worker to announce the model');
    said = true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

export async function runRole(config: ServerConfig, log: Logger): Promise<void> {
  const role = config.role;
  const rlog = log.child({ role });
  const bus = await openBus(config.bus, role, rlog);
  await ensureEventStream(bus, { retentionHours: config.bus.eventRetentionHours, maxMb: config.bus.eventMaxMb }, rlog);

  if (role === 'worker') {
    const { Worker } = await import('./worker.js');
    const model = await loadWorkerModel(config, config.model, rlog);
    const kv = await leaseBucket(bus, config.bus.leaseTtlMs, rlog);
    // A model switch from the bus may name only checkpoints in these folders.
    const modelRoots = [path.join(REPO_ROOT, 'assets', 'model'), ...(config.model ? [path.dirname(path.resolve(config.model))] : [])];
    const worker = await Worker.start(
      bus,
      model,
      kv,
      {
        partitions: config.bus.partitions,
        leaseTtlMs: config.bus.leaseTtlMs,
        loadModel: (requested) => {
          const dir = allowedCheckpoint(requested, modelRoots);
          if (!dir) throw new Error(`"${requested.slice(0, 200)}" is not a checkpoint inside ${modelRoots.join(' or ')}`);
          return loadWorkerModel(config, dir, rlog);
        },
        // One line per stored event: what the multi-process test compares with what the hubs kept.
        onStored: (e) => rlog.info({ subject: e.subject, msgId: e.msgId, seq: e.seq }, 'event stored'),
      },
      rlog,
    );
    rlog.info({ worker: bus.id, partitions: config.bus.partitions }, 'worker ready');
    onSignals(rlog, async () => {
      await worker.close();
      await bus.close();
      await model.engine.close();
    });
    return;
  }

  if (role === 'edge') {
    const { Edge, edgeStreams } = await import('./edge.js');
    const specs = edgeStreams(config, config.demo ? (config.demoFile ?? findDemoVideo()) : undefined);
    if (specs.length === 0) rlog.warn('this edge has no streams: give cameras, bus.files or the demo');
    const edge = await Edge.start(bus, specs, config.bus.partitions, rlog, { fps: config.previewFps, width: config.previewWidth });
    rlog.info({ edge: bus.id, streams: specs.length }, 'edge ready');
    onSignals(rlog, async () => {
      await edge.close();
      await bus.close();
    });
    return;
  }

  // hub: the dashboard, WebSocket fan-out, event history and API of app.ts, fed from the bus.
  const [{ startServer }, { InferenceStage }, { HubIntake }, { pipelineSources }] = await Promise.all([import('../server/app.js'), import('../pipelines/index.js'), import('./hubIntake.js'), import('../server/sources.js')]);
  const announced = await announcedModel(bus, 15_000, rlog);
  const input = announced?.input ?? { width: 48, height: 48, fps: 12, frames: 16 };
  const infoOf = (a: ModelAnnouncement): ModelInfo => ({ name: a.name, trained: a.trained, backend: `${a.backend} (on the workers)`, labels: a.labels, note: `${a.note} — run by the workers on the bus` });
  const info: ModelInfo = announced ? infoOf(announced) : { name: 'not announced yet', trained: false, backend: 'none (hub)', labels: 0, note: 'No worker had announced its model when this hub started.' };
  // The hub runs no model: a camera added from its dashboard fails with this, saying where cameras go.
  const noModel = {
    input,
    heads: [{ name: 'action', labels: [] as string[] }],
    inferBatch: () => throwError(() => new Error('this hub runs no model: cameras are added to an edge (docs/SCALE.md)')),
  };
  const stage = new InferenceStage(noModel, { maxBatch: 1, queueCapacity: 1 });
  // Cameras and the demo belong to the edges; this process only shows them.
  const [{ HubModelControl }, { ModelRegistry }, { BUNDLED_MODEL_DIR }] = await Promise.all([import('./hubModels.js'), import('../server/modelRegistry.js'), import('../server/model.js')]);
  // The dashboard's model switch asks the workers over the bus (the bundled models only: those every worker has).
  const modelControl = new HubModelControl(bus.nc, new ModelRegistry({ bundledDir: path.dirname(BUNDLED_MODEL_DIR), modelsDir: config.modelsDir }), info);
  const server = await startServer({ ...config, cameras: [], demo: false }, { stage, model: info, sources: pipelineSources(input), log: rlog, modelControl });
  // The model the workers announce later (a model switch, the first worker) is what /healthz and new dashboards show.
  const models = await (await clusterBucket(bus)).watch({ key: MODEL_KEY });
  void (async () => {
    for await (const e of models) {
      if (e.operation !== 'PUT') continue;
      try {
        Object.assign(info, infoOf(decodeModelAnnouncement(e.value)));
        modelControl.announced();
      } catch (err) {
        rlog.warn({ err: (err as Error).message }, 'model announcement ignored');
      }
    }
  })();
  const intake = new HubIntake(bus, server.streams, rlog, { show: config.bus.show, clients: server.hub });
  await intake.start();
  rlog.info({ hub: bus.id, consumer: intake.consumerName }, 'hub ready');
  onSignals(rlog, async () => {
    models.stop();
    await intake.close();
    await server.close();
    await bus.close();
  });
}
