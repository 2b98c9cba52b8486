/**
 * `npm start`: the countertop server. Loads the model, starts the HTTP + WebSocket server and the
 * demo stream (a bundled kitchen session on loop), and shuts everything down on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfigWithMode } from './config.js';
import { DEMO_DIR, findDemoVideo } from './demo.js';
import { REPO_ROOT } from './repoRoot.js';
import { closeOnSignals } from './shutdown.js';

/** A fresh clone has no client/dist: build it once (vite) rather than serve a page that says to. */
async function ensureDashboardBuilt(staticDir: string, log: Logger): Promise<void> {
  if (existsSync(path.join(staticDir, 'index.html'))) return;
  if (path.resolve(staticDir) !== path.join(REPO_ROOT, 'client', 'dist')) {
    log.warn({ staticDir }, 'no index.html in the static folder; the dashboard will not load');
    return;
  }
  log.info('building the dashboard (first start; `npm run build` does the same)');
  const { build } = await import('vite');
  await build({ configFile: path.join(REPO_ROOT, 'client', 'vite.config.ts'), logLevel: 'warn' });
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
  const [{ startServer }, { LiveModel }, { ModelRegistry }, { ClipLibrary }, { TrainingJobs }, { BUNDLED_MODEL_DIR }, { pipelineSources }] = await Promise.all([
    import('./app.js'),
    import('./liveModel.js'),
    import('./modelRegistry.js'),
    import('./clipLibrary.js'),
    import('./trainingJobs.js'),
    import('./model.js'),
    import('./sources.js'),
  ]);
  // The models the dashboard can switch between: the bundled ones, --model, and those it taught.
  const registry = new ModelRegistry({ bundledDir: path.dirname(BUNDLED_MODEL_DIR), modelsDir: config.modelsDir, configured: config.model });
  // The model, its tuned live settings (a bad file is fatal), its engine and the shared inference stage.
  const live = await LiveModel.start(config.model, { where: config.engine, log, registry });
  const { engine, stage, info, settings } = live.current;
  const library = await ClipLibrary.open(config.libraryDir, { maxBytes: config.libraryMaxMb * 1e6, maxClips: config.libraryMaxClips });
  const training = new TrainingJobs({ modelsDir: config.modelsDir, library, registry, log });
  const sources = pipelineSources(engine.input);
  const server = await startServer(config, { stage, model: info, sources, log, pipeline: settings, evaluate: live.current.evaluate, inferenceTimings: live.timings$, live, library, training });
  training.resumeInterrupted();

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

  closeOnSignals(log, async () => {
    await server.close();
    await live.close();
  });
}

main().catch((err: unknown) => {
  // A message says what is wrong (a missing checkpoint, a port in use); the stack only with COUNTERTOP_DEBUG.
  process.stderr.write(`countertop: ${err instanceof Error ? (process.env.COUNTERTOP_DEBUG ? err.stack : err.message) : String(err)}\n`);
  process.exit(1);
});
