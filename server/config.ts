/**
 * Server configuration: defaults < config file (JSON) < environment (COUNTERTOP_*) < command-line flags,
 * validated once by one zod schema. A non-loopback bind without a token is a configuration error,
 * so the server refuses to start rather than expose cameras to the network.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { MAX_CLIENT_MESSAGES_PER_SECOND } from './protocol.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A STUN or TURN server for "Use my webcam" across NAT, as RTCPeerConnection takes it. Only
 * stun:/turn:/turns: URLs of a host (name, IPv4 or bracketed IPv6), an optional port and transport.
 */
const iceUrl = z
  .string()
  .regex(/^(stun|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?(\?transport=(udp|tcp))?$/, 'expected stun:HOST[:PORT] or turn(s):HOST[:PORT][?transport=udp|tcp]');
const iceServerSchema = z.strictObject({
  urls: z.union([iceUrl, z.array(iceUrl).min(1)]),
  username: z.string().max(256).optional(),
  credential: z.string().max(256).optional(),
});

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Required for any bind other than loopback; checked on HTTP (Authorization: Bearer or ?token=) and WebSocket. */
    token: z.string().min(16, 'the token must be at least 16 characters').optional(),
    /** PEM certificate and key: serve HTTPS/WSS. Browsers allow the camera only on https:// or localhost. */
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    /** Checkpoint folder; when absent the bundled default model, else a fresh default-config model. */
    model: z.string().optional(),
    /**
     * Where the model runs: `worker`, a worker thread, so that a batch being scored never holds up
     * reading frames or serving clients; `inline`, on the main thread (no copy of frames, one core).
     */
    engine: z.enum(['worker', 'inline']).default('worker'),
    recordingsDir: z.string().default(path.join(repoRoot, 'recordings')),
    staticDir: z.string().default(path.join(repoRoot, 'client', 'dist')),
    /** The demo stream: a bundled kitchen session played on loop; `false` to start without it. */
    demo: z.boolean().default(true),
    demoFile: z.string().optional(),
    /** V4L2 cameras on this machine to start with the server, e.g. ["/dev/video0"]. */
    cameras: z.array(z.string().regex(/^\/dev\/video\d{1,3}$/, 'expected a V4L2 device such as /dev/video0')).default([]),
    /**
     * STUN/TURN servers for the webcam's WebRTC connection, used by the server's peer and sent to
     * the dashboard (TURN credentials included: they reach only clients that passed the token).
     * Empty: host candidates only, which covers loopback and a LAN.
     */
    iceServers: z.array(iceServerSchema).max(8).default([]),
    /** `relay`: connect through TURN only (no direct path; hides addresses). */
    iceTransportPolicy: z.enum(['all', 'relay']).default('all'),
    maxStreams: z.coerce.number().int().min(1).max(64).default(8),
    maxClients: z.coerce.number().int().min(1).max(10_000).default(200),
    /**
     * WebSocket heartbeat: a ping every this many ms; a client that leaves two in a row unanswered
     * (a suspended laptop, a dropped network) is terminated so that it stops holding a client slot.
     */
    heartbeatMs: z.coerce.number().int().min(50).max(600_000).default(15_000),
    /** Messages per second one WebSocket client may send (bursts of twice that); beyond, they are dropped with an error. */
    clientMessageRate: z.coerce.number().int().min(1).max(100_000).default(MAX_CLIENT_MESSAGES_PER_SECOND),
    previewFps: z.coerce.number().min(0).max(15).default(3),
    previewWidth: z.coerce.number().int().min(32).max(640).default(240),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: [c.tlsCert ? 'tlsKey' : 'tlsCert'], message: 'HTTPS needs both --tls-cert and --tls-key' });
    }
    if (c.iceTransportPolicy === 'relay' && !c.iceServers.some((server) => [server.urls].flat().some((u) => u.startsWith('turn')))) {
      ctx.addIssue({ code: 'custom', path: ['iceTransportPolicy'], message: 'relay-only WebRTC needs a TURN server in iceServers' });
    }
    if (!isLoopback(c.host) && !c.token) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: `binding to ${c.host} (not loopback) requires a token: pass --token or set COUNTERTOP_TOKEN`,
      });
    }
  });

export type ServerConfig = z.infer<typeof configSchema>;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const ENV_KEYS: Record<string, keyof z.input<typeof configSchema>> = {
  COUNTERTOP_HOST: 'host',
  COUNTERTOP_PORT: 'port',
  COUNTERTOP_TOKEN: 'token',
  COUNTERTOP_MODEL: 'model',
  COUNTERTOP_ENGINE: 'engine',
  COUNTERTOP_TLS_CERT: 'tlsCert',
  COUNTERTOP_TLS_KEY: 'tlsKey',
  COUNTERTOP_RECORDINGS_DIR: 'recordingsDir',
  COUNTERTOP_STATIC_DIR: 'staticDir',
  COUNTERTOP_DEMO: 'demo',
  COUNTERTOP_DEMO_FILE: 'demoFile',
  COUNTERTOP_CAMERAS: 'cameras',
  COUNTERTOP_ICE_SERVERS: 'iceServers',
  COUNTERTOP_ICE_TRANSPORT_POLICY: 'iceTransportPolicy',
  COUNTERTOP_MAX_STREAMS: 'maxStreams',
  COUNTERTOP_MAX_CLIENTS: 'maxClients',
  COUNTERTOP_HEARTBEAT_MS: 'heartbeatMs',
  COUNTERTOP_CLIENT_MESSAGE_RATE: 'clientMessageRate',
  COUNTERTOP_PREVIEW_FPS: 'previewFps',
  COUNTERTOP_LOG_LEVEL: 'logLevel',
};

export class ConfigError extends Error {}

/** Builds the config from argv, env and the optional config file; throws ConfigError with every problem listed. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const program = new Command()
    .name('countertop')
    .description('Serve the countertop dashboard: live kitchen actions and captions over WebSockets.')
    .option('-c, --config <file>', 'JSON config file (same keys as the flags, camelCase)', env.COUNTERTOP_CONFIG)
    .option('--host <host>', 'address to bind (default 127.0.0.1; anything else requires --token)')
    .option('-p, --port <port>', 'port (0 picks a free one)')
    .option('--token <token>', 'access token for HTTP and WebSocket (required off loopback)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (needed for "Use my webcam" from another machine)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--model <dir>', 'checkpoint folder (default: the bundled model, else an untrained default-config model)')
    .addOption(new Option('--engine <where>', 'run the model on a worker thread or inline on the main thread').choices(['worker', 'inline']))
    .option('--recordings-dir <dir>', 'folder of recordings that can be replayed and where recordings are saved')
    .option('--static-dir <dir>', 'built dashboard (npm run build)')
    .option('--demo-file <file>', 'video played on loop as the demo stream')
    .addOption(new Option('--no-demo', 'do not start the demo stream'))
    .option('--camera <device...>', 'V4L2 camera(s) on this machine to start with the server, e.g. /dev/video0')
    .option('--ice-server <url...>', 'STUN/TURN server(s) for the webcam over WebRTC, e.g. stun:stun.example.org:3478 (TURN credentials: config file or COUNTERTOP_ICE_SERVERS)')
    .addOption(new Option('--ice-transport-policy <policy>', 'relay: WebRTC through TURN only').choices(['all', 'relay']))
    .option('--max-streams <n>', 'most concurrent streams')
    .option('--max-clients <n>', 'most concurrent WebSocket clients')
    .option('--heartbeat-ms <ms>', 'WebSocket ping interval; a client missing two pongs is dropped (default 15000)')
    .option('--client-message-rate <n>', `messages per second a WebSocket client may send, bursts of twice that (default ${MAX_CLIENT_MESSAGES_PER_SECOND})`)
    .option('--preview-fps <n>', 'preview JPEGs per second per stream (0 = none)')
    .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(false);
  program.parse(argv as string[], { from: 'user' });
  const flags = program.opts<Record<string, unknown>>();

  let fileValues: Record<string, unknown> = {};
  if (typeof flags.config === 'string') {
    try {
      fileValues = JSON.parse(readFileSync(flags.config, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read config file ${flags.config}: ${(err as Error).message}`);
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError(`config file ${flags.config} must hold a JSON object`);
    }
  }
  const envValues: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (key === 'iceServers') {
      try {
        envValues[key] = JSON.parse(v);
      } catch {
        throw new ConfigError(`${name} must be a JSON array of {urls, username?, credential?}`);
      }
      continue;
    }
    envValues[key] = key === 'demo' ? v !== '0' && v !== 'false' : key === 'cameras' ? v.split(',').map((d) => d.trim()) : v;
  }
  const flagValues: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    // commander sets demo=true unless --no-demo was given; only an explicit --no-demo overrides.
    if (k === 'demo' && v === true) continue;
    if (k === 'iceServer') flagValues.iceServers = (v as string[]).map((urls) => ({ urls }));
    else flagValues[k === 'camera' ? 'cameras' : k] = v;
  }
  const parsed = configSchema.safeParse({ ...fileValues, ...envValues, ...flagValues });
  if (!parsed.success) {
    throw new ConfigError(
      'invalid configuration:\n' + parsed.error.issues.map((i) => `  ${i.path.join('.') || 'config'}: ${i.message}`).join('\n'),
    );
  }
  return parsed.data;
}
