/**
 * The model switch on the bus: whoever switches the model (the dashboard's switch, when a hub has
 * one, or an operator) publishes `{"checkpoint": NAME}` on ct.control.model; every worker loads it
 * (cluster/worker.ts), starts its streams over on it, and announces it in the cluster bucket, from
 * which edges take the input format and hubs the name. A bus message is not trusted with a path:
 * a worker loads only folders inside the roots it was given (its bundled models' folder, and the
 * folder of the model it was started with).
 */
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { MODEL_CONTROL_SUBJECT } from './subjects.js';

/** Asks every worker to load `checkpoint` (a folder name as the workers' roots resolve it). */
export function requestModelSwitch(nc: NatsConnection, checkpoint: string): void {
  nc.publish(MODEL_CONTROL_SUBJECT, JSON.stringify({ checkpoint }));
}

/**
 * The folder a requested checkpoint names, if it lies inside one of `roots`: a name relative to a
 * root ("default", "real-camera") or an absolute path under one. Undefined for anything else
 * (`..`, other folders, odd characters), which the worker refuses.
 */
export function allowedCheckpoint(requested: string, roots: readonly string[]): string | undefined {
  if (!/^[A-Za-z0-9._/-]{1,512}$/.test(requested)) return undefined;
  for (const root of roots) {
    const r = path.resolve(root);
    const full = path.isAbsolute(requested) ? path.resolve(requested) : path.resolve(r, requested);
    if (full === r || full.startsWith(r + path.sep)) return full;
  }
  return undefined;
}
