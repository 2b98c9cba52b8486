/**
 * Checkpoint folder, written with plain fs (tfjs's file:// handlers need tfjs-node):
 *   model.json     topology: config, head sizes, head type, frozen flag, and every weight's name,
 *                  shape and byte range in weights.bin
 *   weights.bin    float32 little-endian, in model.json's order
 *   optimizer.bin  the optimiser's state (optional), described in the manifest
 *   manifest.json  format version, config, label sets, vocabulary, training metadata, backend,
 *                  and each other file's size and SHA-256
 * Written to a temporary sibling folder and renamed into place, so a crash never leaves a
 * half-written checkpoint under the final name.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { modelConfigSchema, type ModelConfig } from './config.js';
import { CountertopModel } from './network.js';
import { Vocabulary } from './vocabulary.js';

export const CHECKPOINT_FORMAT_VERSION = 1;
const FORMAT = 'countertop-checkpoint';
const ADAM_ACC_BETA1 = 'adam.accBeta1';
const ADAM_ACC_BETA2 = 'adam.accBeta2';
export const CHECKPOINT_FILES = { manifest: 'manifest.json', topology: 'model.json', weights: 'weights.bin', optimizer: 'optimizer.bin' } as const;

export interface SaveExtra {
  /** Saved so that training resumes exactly (Adam's moments and iteration count). */
  readonly optimizer?: tf.Optimizer;
  /** Free-form training metadata (epoch, step, λ, data set, metrics…), stored in the manifest. Must be JSON. */
  readonly training?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  readonly model: CountertopModel;
  /** The optimiser's weights, renamed to this model's variables; pass to restoreAdam. */
  readonly optimizerWeights?: { name: string; tensor: tf.Tensor }[];
  /** The optimiser's class name and config (e.g. Adam's learning rate and betas). */
  readonly optimizerConfig?: { className: string; config: Record<string, unknown> };
  readonly training?: Record<string, unknown>;
  /** The backend that wrote the checkpoint. */
  readonly savedOnBackend: string;
}

const weightSpecSchema = z.strictObject({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.literal('float32'),
  offset: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
type WeightSpec = z.infer<typeof weightSpecSchema>;

const topologySchema = z.strictObject({
  format: z.literal(FORMAT),
  formatVersion: z.number().int(),
  config: z.unknown(),
  heads: z.array(z.strictObject({ name: z.string(), classes: z.number().int().positive() })),
  headHidden: z.number().int().nonnegative(),
  frozenEncoder: z.boolean(),
  vocabularySize: z.number().int().nonnegative(),
  weights: z.array(weightSpecSchema),
});

const fileEntrySchema = z.strictObject({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const manifestSchema = z.strictObject({
  format: z.literal(FORMAT),
  formatVersion: z.number().int(),
  createdAt: z.string(),
  backend: z.string(),
  config: z.unknown(),
  heads: z.array(z.strictObject({ name: z.string(), labels: z.array(z.string()) })),
  vocabulary: z.unknown().nullable(),
  training: z.record(z.string(), z.unknown()).optional(),
  optimizer: z
    .strictObject({
      className: z.string(),
      config: z.record(z.string(), z.unknown()),
      weights: z.array(weightSpecSchema),
    })
    .optional(),
  files: z.record(z.string(), fileEntrySchema),
});
type Manifest = z.infer<typeof manifestSchema>;

const sha256 = (buf: Uint8Array): string => createHash('sha256').update(buf).digest('hex');

/** Packs tensors into one float32 buffer with their specs. */
async function pack(named: { name: string; tensor: tf.Tensor }[]): Promise<{ specs: WeightSpec[]; data: Buffer }> {
  const specs: WeightSpec[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const { name, tensor } of named) {
    if (tensor.dtype !== 'float32') throw new Error(`cannot save ${name}: dtype ${tensor.dtype} (float32 only)`);
    const values = (await tensor.data()) as Float32Array;
    const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    chunks.push(Buffer.from(buf)); // copy: data() may return a view the backend reuses
    specs.push({ name, shape: [...tensor.shape], dtype: 'float32', offset, bytes: buf.byteLength });
    offset += buf.byteLength;
  }
  return { specs, data: Buffer.concat(chunks) };
}

/** Writes `model` (and optionally its optimiser and training metadata) to the folder `dir`, atomically. */
export async function saveCheckpoint(dir: string, model: CountertopModel, extra: SaveExtra = {}): Promise<void> {
  const named = model.namedVariables();
  const { specs, data: weights } = await pack(named.map((e) => ({ name: e.name, tensor: e.variable })));
  const topology = {
    format: FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    config: model.config,
    heads: model.heads.map((h) => ({ name: h.name, classes: h.labels.length })),
    headHidden: model.headHidden,
    frozenEncoder: model.frozenEncoder,
    vocabularySize: model.vocabulary?.size ?? 0,
    weights: specs,
  };
  const files: Record<string, Buffer> = {
    [CHECKPOINT_FILES.topology]: Buffer.from(JSON.stringify(topology, null, 1)),
    [CHECKPOINT_FILES.weights]: weights,
  };

  let optimizer: Manifest['optimizer'];
  if (extra.optimizer) {
    // Rename the optimiser's per-variable state from tfjs's global variable names to checkpoint names.
    const logical = new Map(named.map((e) => [e.variable.name, e.name]));
    const state = await extra.optimizer.getWeights();
    // Adam recomputes β^t with pow() on setWeights, which differs in the last bits from the running
    // product it keeps while training; saving the products makes a resumed run bit-identical.
    const adam = extra.optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
    if (extra.optimizer.getClassName() === 'Adam' && adam.accBeta1 && adam.accBeta2) {
      state.push({ name: ADAM_ACC_BETA1, tensor: adam.accBeta1 }, { name: ADAM_ACC_BETA2, tensor: adam.accBeta2 });
    }
    const renamed = state.map(({ name, tensor }) => {
      const slash = name.lastIndexOf('/');
      const base = slash >= 0 ? name.slice(0, slash) : name;
      const mapped = logical.get(base);
      if (slash >= 0 && mapped === undefined) throw new Error(`optimizer state "${name}" belongs to a variable not in this model`);
      return { name: mapped === undefined ? name : `${mapped}${name.slice(slash)}`, tensor: tensor.dtype === 'float32' ? tensor : tensor.toFloat() };
    });
    const packed = await pack(renamed);
    renamed.forEach((r, i) => r.tensor !== state[i]!.tensor && r.tensor.dispose());
    optimizer = {
      className: extra.optimizer.getClassName(),
      config: extra.optimizer.getConfig() as Record<string, unknown>,
      weights: packed.specs,
    };
    files[CHECKPOINT_FILES.optimizer] = packed.data;
  }

  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    backend: tf.getBackend(),
    config: model.config,
    heads: model.heads.map((h) => ({ name: h.name, labels: [...h.labels] })),
    vocabulary: model.vocabulary?.toJSON() ?? null,
    ...(extra.training ? { training: JSON.parse(JSON.stringify(extra.training)) as Record<string, unknown> } : {}),
    ...(optimizer ? { optimizer } : {}),
    files: Object.fromEntries(Object.entries(files).map(([name, buf]) => [name, { bytes: buf.byteLength, sha256: sha256(buf) }])),
  };

  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, buf] of Object.entries(files)) await writeFile(path.join(tmp, name), buf);
    // The manifest last: a folder with a manifest is complete.
    await writeFile(path.join(tmp, CHECKPOINT_FILES.manifest), JSON.stringify(manifest, null, 1));
    const old = `${target}.old-${process.pid}-${Date.now()}`;
    const exists = await stat(target).then(() => true, () => false);
    if (exists) await rename(target, old);
    await rename(tmp, target);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

class CheckpointError extends Error {
  constructor(dir: string, file: string, problem: string) {
    super(`checkpoint ${dir}: ${file} ${problem}`);
    this.name = 'CheckpointError';
  }
}

async function readChecked(dir: string, file: string, entry: { bytes: number; sha256: string } | undefined): Promise<Buffer> {
  if (!entry) throw new CheckpointError(dir, CHECKPOINT_FILES.manifest, `does not list ${file}`);
  let buf: Buffer;
  try {
    buf = await readFile(path.join(dir, file));
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CheckpointError(dir, file, code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(err)})`);
  }
  if (buf.byteLength < entry.bytes) throw new CheckpointError(dir, file, `is truncated: ${buf.byteLength} bytes, the manifest says ${entry.bytes}`);
  if (buf.byteLength !== entry.bytes) throw new CheckpointError(dir, file, `has ${buf.byteLength} bytes, the manifest says ${entry.bytes}`);
  if (sha256(buf) !== entry.sha256) throw new CheckpointError(dir, file, 'is corrupt: its SHA-256 does not match the manifest');
  return buf;
}

function parseJson<T>(dir: string, file: string, buf: Buffer, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new CheckpointError(dir, file, 'is not valid JSON');
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new CheckpointError(dir, file, `is malformed: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  return result.data;
}

function checkVersion(dir: string, file: string, version: number): void {
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(dir, file, `has format version ${version}; this build reads version ${CHECKPOINT_FORMAT_VERSION}`);
  }
}

/** Float32 views of each spec's byte range, checked against the file's size. */
function unpack(dir: string, file: string, buf: Buffer, specs: readonly WeightSpec[]): Map<string, { spec: WeightSpec; values: Float32Array }> {
  const out = new Map<string, { spec: WeightSpec; values: Float32Array }>();
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.bytes !== count * 4) throw new CheckpointError(dir, file, `entry ${spec.name}: ${spec.bytes} bytes do not fit shape [${spec.shape}]`);
    if (spec.offset + spec.bytes > buf.byteLength) throw new CheckpointError(dir, file, `is too short for ${spec.name}`);
    // Copy into an aligned buffer (Buffer slices need not be 4-byte aligned).
    const values = new Float32Array(count);
    new Uint8Array(values.buffer).set(buf.subarray(spec.offset, spec.offset + spec.bytes));
    out.set(spec.name, { spec, values });
  }
  return out;
}

/**
 * Reads a checkpoint folder. Checks the format version, every file's presence, size and hash, and
 * every weight's shape against the model its config builds; any failure throws an Error whose
 * message names the offending file.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const manifestBuf = await readFile(path.join(dir, CHECKPOINT_FILES.manifest)).catch((err: { code?: string }) => {
    throw new CheckpointError(dir, CHECKPOINT_FILES.manifest, err.code === 'ENOENT' ? 'is missing (not a checkpoint folder, or an interrupted save)' : `cannot be read (${err.code})`);
  });
  // Check the version before the full schema, so an old or future format gets the version message.
  const version = parseJson(dir, CHECKPOINT_FILES.manifest, manifestBuf, z.looseObject({ formatVersion: z.number().int() })).formatVersion;
  checkVersion(dir, CHECKPOINT_FILES.manifest, version);
  const manifest = parseJson(dir, CHECKPOINT_FILES.manifest, manifestBuf, manifestSchema);

  const topologyBuf = await readChecked(dir, CHECKPOINT_FILES.topology, manifest.files[CHECKPOINT_FILES.topology]);
  const topology = parseJson(dir, CHECKPOINT_FILES.topology, topologyBuf, topologySchema);
  checkVersion(dir, CHECKPOINT_FILES.topology, topology.formatVersion);
  const weightsBuf = await readChecked(dir, CHECKPOINT_FILES.weights, manifest.files[CHECKPOINT_FILES.weights]);

  let config: ModelConfig;
  try {
    config = modelConfigSchema.parse(topology.config);
  } catch (err) {
    throw new CheckpointError(dir, CHECKPOINT_FILES.topology, `has an invalid config: ${(err as Error).message}`);
  }
  if (JSON.stringify(config) !== JSON.stringify(modelConfigSchema.parse(manifest.config))) {
    throw new CheckpointError(dir, CHECKPOINT_FILES.topology, 'config differs from the one in manifest.json');
  }
  const heads = manifest.heads;
  if (heads.length !== topology.heads.length || heads.some((h, i) => h.name !== topology.heads[i]!.name || h.labels.length !== topology.heads[i]!.classes)) {
    throw new CheckpointError(dir, CHECKPOINT_FILES.topology, 'heads differ from the label sets in manifest.json');
  }
  let vocabulary: Vocabulary | null = null;
  if (manifest.vocabulary !== null) {
    try {
      vocabulary = Vocabulary.fromJSON(manifest.vocabulary);
    } catch (err) {
      throw new CheckpointError(dir, CHECKPOINT_FILES.manifest, `has an invalid vocabulary: ${(err as Error).message}`);
    }
  }
  if ((vocabulary?.size ?? 0) !== topology.vocabularySize) {
    throw new CheckpointError(dir, CHECKPOINT_FILES.topology, `expects a vocabulary of ${topology.vocabularySize} words, manifest.json has ${vocabulary?.size ?? 0}`);
  }

  const stored = unpack(dir, CHECKPOINT_FILES.weights, weightsBuf, topology.weights);
  const model = CountertopModel.skeleton(config, heads, vocabulary, topology.headHidden, topology.frozenEncoder);
  try {
    const expected = model.namedVariables();
    for (const { name, variable } of expected) {
      const entry = stored.get(name);
      if (!entry) throw new CheckpointError(dir, CHECKPOINT_FILES.topology, `has no weight ${name}, which the config builds`);
      if (!tf.util.arraysEqual(entry.spec.shape, variable.shape)) {
        throw new CheckpointError(dir, CHECKPOINT_FILES.topology, `gives ${name} shape [${entry.spec.shape}], but the config builds [${variable.shape}]`);
      }
    }
    if (stored.size !== expected.length) {
      const extra = [...stored.keys()].filter((n) => !expected.some((e) => e.name === n));
      throw new CheckpointError(dir, CHECKPOINT_FILES.topology, `has weights the config does not build: ${extra.join(', ')}`);
    }
    for (const { name, variable } of expected) {
      const t = tf.tensor(stored.get(name)!.values, variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
    }
  } catch (err) {
    model.dispose();
    throw err;
  }

  let optimizerWeights: { name: string; tensor: tf.Tensor }[] | undefined;
  if (manifest.optimizer) {
    const optBuf = await readChecked(dir, CHECKPOINT_FILES.optimizer, manifest.files[CHECKPOINT_FILES.optimizer]).catch((err) => {
      model.dispose();
      throw err;
    });
    const tfName = new Map(model.namedVariables().map((e) => [e.name, e.variable.name]));
    const entries = unpack(dir, CHECKPOINT_FILES.optimizer, optBuf, manifest.optimizer.weights);
    optimizerWeights = manifest.optimizer.weights.map((spec) => {
      const slash = spec.name.lastIndexOf('/');
      const base = slash >= 0 ? tfName.get(spec.name.slice(0, slash)) : undefined;
      return {
        name: base ? `${base}${spec.name.slice(slash)}` : spec.name,
        tensor: tf.tensor(entries.get(spec.name)!.values, spec.shape, 'float32'),
      };
    });
  }

  return {
    model,
    ...(optimizerWeights ? { optimizerWeights } : {}),
    ...(manifest.optimizer ? { optimizerConfig: { className: manifest.optimizer.className, config: manifest.optimizer.config } } : {}),
    ...(manifest.training ? { training: manifest.training } : {}),
    savedOnBackend: manifest.backend,
  };
}

/**
 * An Adam optimiser in the state a checkpoint saved (hyper-parameters, iteration count, moments),
 * ordered to match `loaded.model.trainableVariables()` as `model.trainStep` uses them. Without saved
 * state, a fresh Adam with `fallbackLearningRate`. Frees `loaded.optimizerWeights`.
 */
export async function restoreAdam(loaded: LoadedCheckpoint, fallbackLearningRate = 1e-3): Promise<tf.AdamOptimizer> {
  const cfg = loaded.optimizerConfig;
  if (!cfg || !loaded.optimizerWeights) return tf.train.adam(fallbackLearningRate);
  if (cfg.className !== 'Adam') throw new Error(`checkpoint holds a ${cfg.className} optimiser, not Adam`);
  const c = cfg.config as { learningRate: number; beta1: number; beta2: number; epsilon: number };
  const optimizer = tf.train.adam(c.learningRate, c.beta1, c.beta2, c.epsilon);
  const byName = new Map(loaded.optimizerWeights.map((w) => [w.name, w.tensor]));
  const accBeta1 = byName.get(ADAM_ACC_BETA1);
  const accBeta2 = byName.get(ADAM_ACC_BETA2);
  const iterations = loaded.optimizerWeights[0];
  if (!iterations || iterations.name.includes('/')) throw new Error('checkpoint optimiser state lacks its iteration count');
  const restoreProducts = (): void => {
    const adam = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    if (accBeta1) adam.accBeta1.assign(accBeta1);
    if (accBeta2) adam.accBeta2.assign(accBeta2);
    tf.dispose(loaded.optimizerWeights!.map((w) => w.tensor));
  };
  if (!loaded.optimizerWeights.some((w) => w.name.includes('/'))) {
    // Saved before its first step: no moments yet.
    restoreProducts();
    return optimizer;
  }
  const vars = loaded.model.trainableVariables();
  const moment = (suffix: 'm' | 'v') =>
    vars.map((v) => {
      const tensor = byName.get(`${v.name}/${suffix}`);
      if (!tensor) throw new Error(`checkpoint optimiser state has no ${suffix} for ${v.name}`);
      return { name: `${v.name}/${suffix}`, tensor };
    });
  await optimizer.setWeights([{ name: iterations.name, tensor: iterations.tensor }, ...moment('m'), ...moment('v')]);
  restoreProducts();
  return optimizer;
}
