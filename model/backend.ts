/**
 * Chooses the tensor backend at start-up: tfjs-node-gpu, tfjs-node, wasm (SIMD), cpu — the first
 * that loads wins. COUNTERTOP_BACKEND (or `force`) picks one and fails loudly if it cannot load.
 * One log line says what runs and why the ones before it were skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface SkippedBackend {
  readonly name: BackendName;
  readonly reason: string;
}

export interface BackendChoice {
  /** The backend now running. 'tensorflow-gpu' and 'tensorflow' both run as tfjs's 'tensorflow' backend. */
  readonly name: BackendName;
  /** Backends tried before it, in chain order, with why each was passed over. */
  readonly skipped: readonly SkippedBackend[];
  /** Details worth logging, e.g. "SIMD, single-threaded". */
  readonly detail: string;
}

export interface InitBackendOptions {
  /** Use exactly this backend (overrides COUNTERTOP_BACKEND); throws if it cannot load. */
  readonly force?: BackendName;
  /** Where the one log line goes; default stderr. */
  readonly log?: (line: string) => void;
}

export const BACKEND_ENV = 'COUNTERTOP_BACKEND';

const cache = new Map<string, Promise<BackendChoice>>();

/**
 * Selects and initialises the backend. Idempotent: the same request returns the same choice (and
 * logs once); a different `force` switches backend.
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendChoice> {
  const envValue = process.env[BACKEND_ENV]?.trim();
  let force = opts.force;
  if (!force && envValue) {
    if (!(BACKEND_NAMES as readonly string[]).includes(envValue)) {
      return Promise.reject(new Error(`${BACKEND_ENV}=${envValue} is not one of ${BACKEND_NAMES.join(', ')}`));
    }
    force = envValue as BackendName;
  }
  const key = force ?? 'auto';
  let pending = cache.get(key);
  if (!pending) {
    pending = choose(force, force ? (opts.force ? 'forced by caller' : `forced by ${BACKEND_ENV}`) : 'first in chain that loads');
    pending.then(
      (choice) => (opts.log ?? defaultLog)(describeChoice(choice, key === 'auto' ? 'auto' : `forced ${key}`)),
      () => cache.delete(key),
    );
    cache.set(key, pending);
  } else {
    // Another request may have switched the backend since; bring this one back.
    pending = pending.then(async (choice) => {
      await tf.setBackend(tfBackendName(choice.name));
      return choice;
    });
  }
  return pending;
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function describeChoice(choice: BackendChoice, how: string): string {
  const skipped = choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  return `[countertop] tensor backend: ${choice.name} (${choice.detail}; ${how})${skipped ? ` — skipped ${skipped}` : ''}`;
}

/** The name tfjs itself registers the backend under. */
export function tfBackendName(name: BackendName): string {
  return name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

async function choose(force: BackendName | undefined, why: string): Promise<BackendChoice> {
  const chain = force ? [force] : BACKEND_NAMES;
  const skipped: SkippedBackend[] = [];
  for (const name of chain) {
    try {
      const detail = await load(name);
      return { name, skipped, detail: `${detail}, ${why}` };
    } catch (err) {
      const reason = shortReason(err);
      if (force) throw new Error(`backend ${name} (${why}) failed to load: ${reason}`);
      skipped.push({ name, reason });
    }
  }
  throw new Error(`no tensor backend loads: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

function shortReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'package not installed';
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}

async function load(name: BackendName): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      // Optional dependencies: absent where libtensorflow could not be downloaded at install time.
      // The package registers the 'tensorflow' backend with the tfjs-core it imports.
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ pkg);
      if (!tf.findBackend('tensorflow') && !tf.engine().registryFactory['tensorflow']) {
        throw new Error(`${pkg} registered its backend with another copy of @tensorflow/tfjs-core (version mismatch with @tensorflow/tfjs ${tf.version.tfjs})`);
      }
      await setOrThrow('tensorflow');
      return `libtensorflow via ${pkg}`;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // The .wasm binaries ship inside the package; point the loader at them (no fetch, no download).
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
      await setOrThrow('wasm');
      registerWasmTrainingKernels();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded (tfjs disables wasm threads in Node)'}`;
    }
    case 'cpu':
      await setOrThrow('cpu');
      return 'pure JavaScript';
  }
}

async function setOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') failed to initialise`);
  await tf.ready();
}

/** The backend currently running, in the chain's terms. */
export function currentBackend(): string {
  return tf.getBackend();
}
