/**
 * `npm start`: the countertop server. Loads the model, starts the HTTP + WebSocket server and the
 * demo stream (a bundled kitchen session on loop), and shuts everything down on SIGINT/SIGTERM.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfigWithMode } from './config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_DIR = path.join(repoRoot, 'assets', 'demo');

function findDemoVideo(): string | undefined {
  if (!existsSync(DEMO_DIR)) return undefined;
  const video = readdirSync(DEMO_DIR).find((f) => /\.(webm|mp4|mkv)$/i.test(f));
  return video ? path.join(DEMO_DIR, video) : undefined;
}

/** A fresh clone has no client/dist: build it once (vite) rather than serve a page that says to. */
async function ensureDashboardBuilt(staticDir: string, log: Logger): Promise<void> {
  if (existsSync(path.join(staticDir, 'index.html'))) return;
  if (path.resolve(staticDir) !== path.join(repoRoot, 'client', 'dist')) {
    log.warn({ staticDir }, 'no index.html in the static folder; the dashboard will not load');
    return;
  }
  log.info('building the dashboard (first start; `npm run build` does the same)');
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'client', 'vite.config.ts'), logLevel: 'warn' });
}

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfigWithMode(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line per problem, each on its own so that a script can count or grep them.
      for (const problem of err.problems) process.stderr.write(`countertop: ${problem}\n`);
      process.exit(2);
    }
    // commander already printed --help / --version or a usage error
    const code = (err as { exitCode?: number }).exitCode;
    process.exit(typeof code === 'number' ? code : 2);
  }
  const { config } = loaded;
  if (loaded.validateOnly) {
    const cameras = config.cameras.length;
    process.stdout.write(`countertop: configuration valid${loaded.file ? ` (${loaded.file})` : ''}: ${cameras} camera${cameras === 1 ? '' : 's'}, ${config.host}:${config.port}${config.token ? ', token set' : ''}\n`);
    process.exit(0);
  }
  const log = pino({ level: config.logLevel, base: { app: 'countertop' } });
  if (config.role !== 'all') {
    // edge, worker or hub on the NATS bus (cluster/, docs/SCALE.md); `all` goes on below as always.
    if (config.role === 'hub') await ensureDashboardBuilt(config.staticDir, log);
    const { runRole } = await import('../cluster/roles.js');
    await runRole(config, log);
    return;
  }
  await ensureDashboardBuilt(config.staticDir, log);
  // Loaded only after the config is valid, so --help and configuration errors answer at once.
  const [{ InferenceStage, loadLiveSettings }, { startServer }, { evaluator }, { loadServingModel, servingEngine }, { pipelineSources }, { timedEngine }] = await Promise.all([
    import('../pipelines/index.js'),
    import('./app.js'),
    import('./evaluation.js'),
    import('./model.js'),
    import('./sources.js'),
    import('./inferenceTiming.js'),
  ]);
  const served = await loadServingModel(config.model, log);
  const { info } = served;
  // The checkpoint's tuned live settings (stride, smoothing, segmenter…), else the defaults; a bad file is fatal.
  const live = loadLiveSettings(served.checkpoint);
  log.info({ from: live.file && live.source === 'file' ? live.file : 'defaults', settings: live.settings }, 'live settings');
  const engine = await servingEngine(config.engine, served, log);
  // The stage's engine calls are timed for /metrics; replay evaluations use the engine directly.
  const timed = timedEngine(engine);
  const stage = new InferenceStage(timed.engine, { maxBatch: 8, queueCapacity: 2 });
  stage.drops$.subscribe(({ streamId, drops }) => {
    if (drops === 1 || drops % 100 === 0) log.warn({ stream: streamId, drops }, 'inference stage dropping windows (overloaded)');
  });
  const sources = pipelineSources(engine.input);
  const server = await startServer(config, { stage, model: info, sources, log, pipeline: live.settings, evaluate: evaluator(engine, live.settings), inferenceTimings: timed.timings$ });

  const seeded = server.recordings.seedFrom(DEMO_DIR);
  if (seeded.length > 0) log.info({ files: seeded, into: server.recordings.dir }, 'recordings folder was empty: copied the demo session in, for replay and evaluation');

  if (config.demo) {
    const demo = config.demoFile ?? findDemoVideo();
    if (demo) {
      try {
        server.streams.add({ id: 'demo', kind: 'demo', name: `Demo kitchen (${path.basename(demo)}, loop)`, open: (id) => ({ source: sources.file(id, demo, { loop: true }) }) });
      } catch (err) {
        // e.g. --demo-file names a file that does not exist: say so and stop, rather than run without it.
        process.stderr.write(`countertop: cannot start the demo stream: ${(err as Error).message}\n`);
        await server.close();
        process.exit(2);
      }
    } else {
      log.warn({ looked: DEMO_DIR }, 'no demo recording found; starting without the demo stream');
    }
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    server
      .close()
      .then(() => engine.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  // A message says what is wrong (a missing checkpoint, a port in use); the stack only with COUNTERTOP_DEBUG.
  process.stderr.write(`countertop: ${err instanceof Error ? (process.env.COUNTERTOP_DEBUG ? err.stack : err.message) : String(err)}\n`);
  process.exit(1);
});
