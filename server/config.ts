/**
 * Server configuration: defaults < config file (JSON) < environment (COUNTERTOP_*) < command-line flags,
 * validated once by one zod schema (unknown keys refused). A non-loopback bind without a token is a
 * configuration error, so the server refuses to start rather than expose cameras to the network.
 * Secrets need not be on the command line (where `ps` shows them): the file may say `${ENV_NAME}`
 * in any string, and the token may come from `tokenFile`. docs/config.schema.json is generated
 * from `configFileSchema` (scripts/config-schema.ts; a test checks it is current).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { MAX_CLIENT_MESSAGES_PER_SECOND, rtspCameraKey, rtspUrl } from './protocol.js';
import { BUS_KEY_HELP, ROLES, busHost, busSchema } from '../cluster/busConfig.js';
import { REPO_ROOT } from './repoRoot.js';

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

const v4l2Device = z.string().regex(/^\/dev\/video\d{1,3}$/, 'expected a V4L2 device such as /dev/video0');
/** A stream id fixed by the config, so that a camera keeps its id (and its event history) across restarts. */
const cameraId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'camera ids are lowercase letters, digits and dashes');
const cameraName = z.string().min(1).max(80);

/**
 * How an RTSP camera reconnects: capped exponential backoff, forever unless maxAttempts is set, and
 * a stall watchdog. Omitted values take the pipelines' defaults (docs/SERVER.md lists them).
 */
export const reconnectSchema = z.strictObject({
  /** Reconnection attempts in a row before the stream fails for good; omitted: forever. */
  maxAttempts: z.coerce.number().int().min(1).max(1_000_000).optional(),
  initialDelayMs: z.coerce.number().int().min(10).max(60_000).optional(),
  maxDelayMs: z.coerce.number().int().min(10).max(600_000).optional(),
  connectTimeoutMs: z.coerce.number().int().min(100).max(120_000).optional(),
  /** No frame for this long on a live connection: the watchdog drops it and reconnects (counted as a stall). */
  stallTimeoutMs: z.coerce.number().int().min(100).max(120_000).optional(),
});
export type ReconnectConfig = z.output<typeof reconnectSchema>;

/** A camera declared in the config: a bare V4L2 device path, or an object naming its kind. */
export const cameraSchema = z.union([
  v4l2Device,
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('v4l2'), device: v4l2Device, id: cameraId.optional(), name: cameraName.optional() }),
    z.strictObject({
      kind: z.literal('rtsp'),
      /** Without credentials, preferably: give them as username/password (e.g. "${CAM_PASSWORD}"). */
      url: rtspUrl,
      username: z.string().min(1).max(256).optional(),
      password: z.string().min(1).max(256).optional(),
      /** Over the server-wide rtspReconnect, key by key. */
      reconnect: reconnectSchema.optional(),
      id: cameraId.optional(),
      name: cameraName.optional(),
    }),
  ]),
]);
export type CameraConfig = z.output<typeof cameraSchema>;

export const configSchema = z
  .strictObject({
    /** An editor's pointer to docs/config.schema.json; ignored. */
    $schema: z.string().max(2048).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Required for any bind other than loopback; checked on HTTP (Authorization: Bearer or ?token=) and WebSocket. */
    token: z.string().min(16, 'the token must be at least 16 characters').optional(),
    /** A file holding the token (first line; at most 4 kB), so that it is in neither argv nor the config file. */
    tokenFile: z.string().min(1).optional(),
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
    recordingsDir: z.string().default(path.join(REPO_ROOT, 'recordings')),
    /** The clip library: labelled clips for teaching new actions, in the SSv2 layout (server/clipLibrary.ts). */
    libraryDir: z.string().default(path.join(REPO_ROOT, 'library')),
    /** The library refuses clips beyond this size (its videos together) and this count. */
    libraryMaxMb: z.coerce.number().min(1).max(1_000_000).default(2000),
    libraryMaxClips: z.coerce.number().int().min(1).max(100_000).default(2000),
    /** Seconds of each live stream kept in memory for "keep the last N seconds" (0: none). */
    clipBufferSeconds: z.coerce.number().min(0).max(60).default(10),
    /** Models taught from the dashboard, one folder each (server/modelRegistry.ts). */
    modelsDir: z.string().default(path.join(REPO_ROOT, 'models')),
    staticDir: z.string().default(path.join(REPO_ROOT, 'client', 'dist')),
    /** The demo stream: a bundled kitchen session played on loop; `false` to start without it. */
    demo: z.boolean().default(true),
    demoFile: z.string().optional(),
    /** Cameras started with the server: V4L2 devices ("/dev/video0") or {kind: "rtsp", url, …}. */
    cameras: z.array(cameraSchema).max(64).default([]),
    /**
     * STUN/TURN servers for the webcam's WebRTC connection, used by the server's peer and sent to
     * the dashboard (TURN credentials included: they reach only clients that passed the token).
     * Empty: host candidates only, which covers loopback and a LAN.
     */
    iceServers: z.array(iceServerSchema).max(8).default([]),
    /** `relay`: connect through TURN only (no direct path; hides addresses). */
    iceTransportPolicy: z.enum(['all', 'relay']).default('all'),
    /** Reconnection of every RTSP camera (the config file's cameras may override it each). */
    rtspReconnect: reconnectSchema.default({}),
    /** The event history (SQLite): every action and caption with a snapshot, kept across restarts. */
    history: z.boolean().default(true),
    historyFile: z.string().min(1).default(path.join(REPO_ROOT, 'runs', 'history.sqlite')),
    historyMaxAgeDays: z.coerce.number().min(0.001).max(3650).default(30),
    historyMaxMb: z.coerce.number().min(1).max(1_000_000).default(500),
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
    /** Which part this process runs (docs/SCALE.md); `all`, the default, needs no bus. */
    role: z.enum(ROLES).default('all'),
    bus: busSchema.default(busSchema.parse({})),
  })
  .superRefine((c, ctx) => {
    const keys = new Map<string, number>();
    const ids = new Map<string, number>();
    c.cameras.forEach((cam, i) => {
      const key = typeof cam === 'string' ? cam : cam.kind === 'v4l2' ? cam.device : rtspCameraKey(cam.url);
      if (keys.has(key)) ctx.addIssue({ code: 'custom', path: ['cameras', i], message: `the same camera as cameras.${keys.get(key)} (${key})` });
      else keys.set(key, i);
      const id = typeof cam === 'string' ? undefined : cam.id;
      if (id && ids.has(id)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `id "${id}" is already cameras.${ids.get(id)}'s` });
      else if (id) ids.set(id, i);
      if (typeof cam !== 'string' && cam.kind === 'rtsp' && cam.password && !cam.username && !new URL(cam.url).username) {
        ctx.addIssue({ code: 'custom', path: ['cameras', i, 'password'], message: 'a password needs a username (here or in the URL)' });
      }
    });
    if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: [c.tlsCert ? 'tlsKey' : 'tlsCert'], message: 'HTTPS needs both --tls-cert and --tls-key' });
    }
    if (c.iceTransportPolicy === 'relay' && !c.iceServers.some((server) => [server.urls].flat().some((u) => u.startsWith('turn')))) {
      ctx.addIssue({ code: 'custom', path: ['iceTransportPolicy'], message: 'relay-only WebRTC needs a TURN server in iceServers' });
    }
    // As an open HTTP port needs a token, a bus beyond this machine needs credentials.
    if (c.role !== 'all') {
      const remote = c.bus.servers.find((u) => !isLoopback(busHost(u)));
      if (remote && !c.bus.nkeySeedFile && !(c.bus.user && c.bus.password)) {
        ctx.addIssue({ code: 'custom', path: ['bus'], message: `the bus ${remote} is not on loopback: set bus.user and bus.password (or bus.nkeySeedFile)` });
      }
      if (Boolean(c.bus.user) !== Boolean(c.bus.password)) ctx.addIssue({ code: 'custom', path: ['bus', c.bus.user ? 'password' : 'user'], message: 'bus.user and bus.password go together' });
      if (c.bus.nkeySeedFile && c.bus.user) ctx.addIssue({ code: 'custom', path: ['bus', 'nkeySeedFile'], message: 'give bus.user/password or bus.nkeySeedFile, not both' });
      if (Boolean(c.bus.tls?.certFile) !== Boolean(c.bus.tls?.keyFile)) ctx.addIssue({ code: 'custom', path: ['bus', 'tls'], message: 'a client certificate needs both certFile and keyFile' });
    }
    if (!isLoopback(c.host) && !c.token) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: `binding to ${c.host} (not loopback) requires a token: set COUNTERTOP_TOKEN, tokenFile (--token-file) or --token`,
      });
    }
  });

export type ServerConfig = Omit<z.infer<typeof configSchema>, 'tokenFile' | '$schema'>;

/** What a config file may hold: the same keys (the JSON schema in docs/ is generated from this). */
export const configFileSchema = configSchema;

/** What each key means, for editors that show the schema's descriptions (docs/SERVER.md has the full table). */
const KEY_HELP: Record<string, string> = {
  host: 'address to bind; anything but loopback requires a token',
  port: 'TCP port; 0 picks a free one',
  token: 'access token (at least 16 characters) for HTTP and WebSocket; e.g. "${COUNTERTOP_SECRET}"',
  tokenFile: 'a file whose first line is the token (instead of token)',
  tlsCert: 'PEM certificate: serve HTTPS and WSS',
  tlsKey: 'PEM private key for tlsCert',
  model: 'checkpoint, training run or transfer output folder (default: the bundled model)',
  engine: 'where the model runs: a worker thread or inline',
  recordingsDir: 'folder of recordings (default: recordings/ in the checkout)',
  libraryDir: 'the clip library for teaching new actions, SSv2 layout (default: library/ in the checkout)',
  libraryMaxMb: 'the clip library refuses new clips beyond this many megabytes',
  libraryMaxClips: 'the clip library refuses new clips beyond this many',
  clipBufferSeconds: 'seconds of each live stream kept in memory for "keep the last N seconds" (0: off)',
  modelsDir: 'folder of models taught from the dashboard (default: models/ in the checkout)',
  staticDir: 'the built dashboard (default: client/dist in the checkout)',
  demo: 'start the looping demo stream',
  demoFile: 'video played on loop as the demo stream',
  cameras: 'cameras started with the server: "/dev/videoN", {"kind":"v4l2","device":…} or {"kind":"rtsp","url":…,"username"?,"password"?}; optional id (kept across restarts, default cam-N) and name',
  iceServers: 'STUN/TURN servers for the webcam over WebRTC',
  iceTransportPolicy: 'relay: WebRTC through TURN only',
  rtspReconnect: 'how RTSP cameras reconnect: maxAttempts in a row (omitted: forever), initialDelayMs, maxDelayMs (backoff cap), connectTimeoutMs, stallTimeoutMs (watchdog)',
  history: 'keep the event history (every action and caption with a snapshot) in SQLite',
  historyFile: 'the SQLite file of the event history (default: runs/history.sqlite in the checkout)',
  historyMaxAgeDays: 'events older than this many days are deleted',
  historyMaxMb: 'the history is kept under this many megabytes, oldest events deleted first',
  maxStreams: 'most concurrent streams',
  maxClients: 'most concurrent WebSocket clients',
  heartbeatMs: 'WebSocket ping interval in ms; a client missing two pongs is dropped',
  clientMessageRate: 'messages per second one WebSocket client may send (bursts of twice that)',
  previewFps: 'preview JPEGs per second per stream (0 = none)',
  previewWidth: 'preview width in pixels',
  logLevel: 'pino log level',
  ...BUS_KEY_HELP,
};

/** The JSON schema of the config file, for editors and for checking files outside the server. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configFileSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  for (const [key, prop] of Object.entries(schema.properties)) {
    // Defaults that are absolute paths of this checkout would make the published file differ per machine.
    if (key === 'recordingsDir' || key === 'staticDir' || key === 'historyFile' || key === 'libraryDir' || key === 'modelsDir') delete prop.default;
    if (KEY_HELP[key]) prop.description = KEY_HELP[key];
  }
  return {
    ...schema,
    title: 'countertop server configuration',
    description: 'npm start -- --config FILE. Any string may contain "${ENV_NAME}", read from the environment at start ("$${" is a literal "${"); unknown keys are refused.',
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const ENV_KEYS: Record<string, keyof z.input<typeof configSchema>> = {
  COUNTERTOP_HOST: 'host',
  COUNTERTOP_PORT: 'port',
  COUNTERTOP_TOKEN: 'token',
  COUNTERTOP_TOKEN_FILE: 'tokenFile',
  COUNTERTOP_MODEL: 'model',
  COUNTERTOP_ENGINE: 'engine',
  COUNTERTOP_TLS_CERT: 'tlsCert',
  COUNTERTOP_TLS_KEY: 'tlsKey',
  COUNTERTOP_RECORDINGS_DIR: 'recordingsDir',
  COUNTERTOP_LIBRARY_DIR: 'libraryDir',
  COUNTERTOP_MODELS_DIR: 'modelsDir',
  COUNTERTOP_STATIC_DIR: 'staticDir',
  COUNTERTOP_DEMO: 'demo',
  COUNTERTOP_DEMO_FILE: 'demoFile',
  COUNTERTOP_CAMERAS: 'cameras',
  COUNTERTOP_ICE_SERVERS: 'iceServers',
  COUNTERTOP_ICE_TRANSPORT_POLICY: 'iceTransportPolicy',
  COUNTERTOP_HISTORY: 'history',
  COUNTERTOP_HISTORY_FILE: 'historyFile',
  COUNTERTOP_HISTORY_MAX_AGE_DAYS: 'historyMaxAgeDays',
  COUNTERTOP_HISTORY_MAX_MB: 'historyMaxMb',
  COUNTERTOP_MAX_STREAMS: 'maxStreams',
  COUNTERTOP_MAX_CLIENTS: 'maxClients',
  COUNTERTOP_HEARTBEAT_MS: 'heartbeatMs',
  COUNTERTOP_CLIENT_MESSAGE_RATE: 'clientMessageRate',
  COUNTERTOP_PREVIEW_FPS: 'previewFps',
  COUNTERTOP_LOG_LEVEL: 'logLevel',
  COUNTERTOP_ROLE: 'role',
};

/** Environment variables for keys of `bus` (merged key by key over the file's bus, like the flags). */
const BUS_ENV_KEYS: Record<string, string> = {
  COUNTERTOP_BUS: 'servers',
  COUNTERTOP_BUS_ID: 'id',
  COUNTERTOP_BUS_USER: 'user',
  COUNTERTOP_BUS_PASSWORD: 'password',
  COUNTERTOP_BUS_NKEY_SEED_FILE: 'nkeySeedFile',
};

/** A configuration that cannot be used; `problems` holds one line per problem ("path: message"). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? problems[0]! : `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const ENV_REF = /\$(\$)?\{([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Replaces `${NAME}` in every string of the config file with the environment's value; `$${` is a
 * literal `${`. A reference to an unset variable is a problem at its path, never an empty secret.
 */
export function expandEnvRefs(value: unknown, env: NodeJS.ProcessEnv, problems: string[], at: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      const where = at.join('.') || 'config';
      if (!ENV_NAME.test(name)) problems.push(`${where}: "\${${name.slice(0, 40)}}" is not an environment variable name`);
      else if (env[name] === undefined) problems.push(`${where}: environment variable ${name} is not set`);
      return env[name] ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnvRefs(v, env, problems, [...at, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnvRefs(v, env, problems, [...at, k])]));
  }
  return value;
}

/** zod's issues as one line each; for a camera that is an object, the object branch's reasons rather than "Invalid input". */
function issueLines(issues: readonly z.core.$ZodIssue[], prefix: (string | number | symbol)[] = []): string[] {
  return issues.flatMap((i) => {
    const where = [...prefix, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length > 0) {
      // Keep the branches that got past the type check: a camera object is not told it should be a string.
      const relevant = i.errors.filter((branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (relevant.length > 0) return relevant.flatMap((branch) => issueLines(branch, where));
    }
    return [`${where.map(String).join('.') || 'config'}: ${i.message}`];
  });
}

/** The token in a file: its first line, trimmed; a regular file of at most 4 kB, opened without following a symlink swap. */
function readTokenFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new ConfigError([`tokenFile: cannot open ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError([`tokenFile: ${file} is not a regular file`]);
    if (st.size > 4096) throw new ConfigError([`tokenFile: ${file} is larger than 4 kB; it should hold only the token`]);
    const token = readFileSync(fd, 'utf8').split(/\r?\n/)[0]!.trim();
    if (!token) throw new ConfigError([`tokenFile: ${file} is empty`]);
    return token;
  } finally {
    closeSync(fd);
  }
}

export interface LoadedConfig {
  readonly config: ServerConfig;
  /** `--validate-config`: check, report and exit instead of starting. */
  readonly validateOnly: boolean;
  /** The config file read, if any. */
  readonly file?: string;
}

/** Builds the config from argv, env and the optional config file; throws ConfigError with every problem listed. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return loadConfigWithMode(argv, env).config;
}

export function loadConfigWithMode(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const program = new Command()
    .name('countertop')
    .description('Serve the countertop dashboard: live kitchen actions and captions over WebSockets.')
    .option('-c, --config <file>', 'JSON config file (same keys as the flags, camelCase; schema: docs/config.schema.json)', env.COUNTERTOP_CONFIG)
    .option('--validate-config', 'check the configuration (file, environment, flags), print one line per problem, exit 0 if valid, 2 if not')
    .option('--host <host>', 'address to bind (default 127.0.0.1; anything else requires a token)')
    .option('-p, --port <port>', 'port (0 picks a free one)')
    .option('--token <token>', 'access token for HTTP and WebSocket (required off loopback); visible in ps: prefer --token-file or COUNTERTOP_TOKEN')
    .option('--token-file <file>', 'file whose first line is the access token')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (needed for "Use my webcam" from another machine)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--model <dir>', 'checkpoint, training run or transfer output folder (default: the bundled model, else an untrained default-config model)')
    .addOption(new Option('--engine <where>', 'run the model on a worker thread or inline on the main thread').choices(['worker', 'inline']))
    .option('--recordings-dir <dir>', 'folder of recordings that can be replayed and where recordings are saved')
    .option('--library-dir <dir>', 'the clip library for teaching new actions (default library/)')
    .option('--library-max-mb <mb>', 'the clip library refuses new clips beyond this size (default 2000)')
    .option('--models-dir <dir>', 'where models taught from the dashboard are kept (default models/)')
    .option('--static-dir <dir>', 'built dashboard (npm run build)')
    .option('--demo-file <file>', 'video played on loop as the demo stream')
    .addOption(new Option('--no-demo', 'do not start the demo stream'))
    .option('--camera <device...>', 'V4L2 camera(s) on this machine to start with the server, e.g. /dev/video0 (RTSP cameras: the config file)')
    .option('--ice-server <url...>', 'STUN/TURN server(s) for the webcam over WebRTC, e.g. stun:stun.example.org:3478 (TURN credentials: config file or COUNTERTOP_ICE_SERVERS)')
    .addOption(new Option('--ice-transport-policy <policy>', 'relay: WebRTC through TURN only').choices(['all', 'relay']))
    .option('--rtsp-max-attempts <n>', 'RTSP reconnection attempts in a row before a camera fails (default: forever)')
    .option('--rtsp-stall-timeout-ms <ms>', 'RTSP stall watchdog: no frame for this long on a live camera → reconnect (default 5000)')
    .addOption(new Option('--no-history', 'do not keep the event history'))
    .option('--history-file <file>', 'SQLite file of the event history (default runs/history.sqlite)')
    .option('--history-max-age-days <days>', 'delete history events older than this (default 30)')
    .option('--history-max-mb <mb>', 'keep the history under this size, oldest deleted first (default 500)')
    .option('--max-streams <n>', 'most concurrent streams')
    .option('--max-clients <n>', 'most concurrent WebSocket clients')
    .option('--heartbeat-ms <ms>', 'WebSocket ping interval; a client missing two pongs is dropped (default 15000)')
    .option('--client-message-rate <n>', `messages per second a WebSocket client may send, bursts of twice that (default ${MAX_CLIENT_MESSAGES_PER_SECOND})`)
    .option('--preview-fps <n>', 'preview JPEGs per second per stream (0 = none)')
    .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .addOption(new Option('--role <role>', 'which part this process runs: all (default, no bus), edge, worker or hub (docs/SCALE.md)').choices([...ROLES]))
    .option('--bus <url...>', 'NATS server(s) of the bus, e.g. nats://10.0.0.5:4222 (credentials: config file or COUNTERTOP_BUS_USER/COUNTERTOP_BUS_PASSWORD)')
    .option('--bus-id <id>', "this process's name on the bus (a hub's durable event consumer is named after it)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(false);
  program.parse(argv as string[], { from: 'user' });
  const flags = program.opts<Record<string, unknown>>();
  const file = typeof flags.config === 'string' && flags.config !== '' ? flags.config : undefined;
  const problems: string[] = [];

  let fileValues: Record<string, unknown> = {};
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError([`config file ${file} must hold a JSON object`]);
    fileValues = expandEnvRefs(raw, env, problems) as Record<string, unknown>;
  }
  const envValues: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (key === 'iceServers') {
      try {
        envValues[key] = JSON.parse(v);
      } catch {
        problems.push(`${name} must be a JSON array of {urls, username?, credential?}`);
      }
      continue;
    }
    envValues[key] = key === 'demo' || key === 'history' ? v !== '0' && v !== 'false' : key === 'cameras' ? v.split(',').map((d) => d.trim()) : v;
  }
  const flagValues: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || k === 'validateConfig' || v === undefined) continue;
    // commander sets demo=true unless --no-demo was given; only an explicit --no-demo overrides.
    if ((k === 'demo' || k === 'history') && v === true) continue;
    if (k === 'iceServer') flagValues.iceServers = (v as string[]).map((urls) => ({ urls }));
    else if (k === 'rtspMaxAttempts' || k === 'rtspStallTimeoutMs' || k === 'bus' || k === 'busId') continue; // merged key by key below
    else flagValues[k === 'camera' ? 'cameras' : k] = v;
  }
  const merged: Record<string, unknown> = { ...fileValues, ...envValues, ...flagValues };
  // The two reconnect flags override their keys of the file's rtspReconnect, not the whole object.
  if (flags.rtspMaxAttempts !== undefined || flags.rtspStallTimeoutMs !== undefined) {
    const base = typeof merged.rtspReconnect === 'object' && merged.rtspReconnect !== null ? merged.rtspReconnect : {};
    merged.rtspReconnect = {
      ...base,
      ...(flags.rtspMaxAttempts !== undefined ? { maxAttempts: flags.rtspMaxAttempts } : {}),
      ...(flags.rtspStallTimeoutMs !== undefined ? { stallTimeoutMs: flags.rtspStallTimeoutMs } : {}),
    };
  }
  // The bus's keys from the environment and flags override the file's bus key by key.
  const busLayers: Record<string, unknown>[] = [typeof merged.bus === 'object' && merged.bus !== null ? (merged.bus as Record<string, unknown>) : {}];
  const busEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(BUS_ENV_KEYS)) if (env[name]) busEnv[key] = key === 'servers' ? env[name]!.split(',').map((u) => u.trim()) : env[name];
  busLayers.push(busEnv, { ...(flags.bus !== undefined ? { servers: flags.bus } : {}), ...(flags.busId !== undefined ? { id: flags.busId } : {}) });
  if (busLayers.some((l) => Object.keys(l).length > 0)) merged.bus = Object.assign({}, ...busLayers);
  // The token comes from the highest level that gives one, as itself or as a file: a --token-file
  // replaces the config file's token, and so on; both at one level is a mistake.
  delete merged.token;
  delete merged.tokenFile;
  const top = [flagValues, envValues, fileValues].find((l) => l.token !== undefined || l.tokenFile !== undefined);
  if (top?.token !== undefined && top.tokenFile !== undefined) problems.push('tokenFile: give the token or a tokenFile, not both');
  else if (top?.tokenFile !== undefined) {
    if (typeof top.tokenFile !== 'string' || top.tokenFile === '') problems.push('tokenFile: expected a file name');
    else {
      try {
        merged.token = readTokenFile(top.tokenFile);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
    }
  } else if (top) merged.token = top.token;
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    // An unset ${VAR} was already reported at its path; its empty stand-in's "too small" would only repeat it.
    const reported = new Set(problems.map((p) => p.slice(0, p.indexOf(': '))));
    problems.push(...issueLines(parsed.error.issues).filter((line) => !reported.has(line.slice(0, line.indexOf(': ')))));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const { tokenFile: _tokenFile, $schema: _schema, ...config } = parsed.data;
  return { config, validateOnly: flags.validateConfig === true, ...(file ? { file } : {}) };
}
