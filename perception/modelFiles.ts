/**
 * Loads the pretrained TensorFlow.js graph models that ship inside the `@vladmandic/human` npm
 * package (no download: the files are on disk after `npm ci`). tfjs's own `file://` loader needs
 * tfjs-node, so a small IO handler reads `model.json` and its weight files with `fs`, as the
 * checkpoint loader does. Every failure names the file it is about.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';

/** The graph models countertop uses, by their file name in the package's `models/` folder. */
export const PERCEPTION_MODELS = {
  /** COCO object detector, MobileNetV3 CenterNet; its backbone also gives the per-frame feature. */
  objects: 'centernet',
  /** Hand detector (SSD, trained on EgoHands), used when the tracker has no hand to follow. */
  handDetector: 'handtrack',
  /** 21 hand keypoints in a 224×224 crop (MediaPipe hand landmarks, lite). */
  handLandmarks: 'handlandmark-lite',
} as const;
export type PerceptionModelName = (typeof PERCEPTION_MODELS)[keyof typeof PERCEPTION_MODELS];

const require = createRequire(import.meta.url);

/** The folder holding the package's graph models, or an error saying how to get it. */
export function humanModelsDir(): string {
  try {
    // The package's "exports" hide package.json; its entry point sits in dist/ under the package root.
    let dir = path.dirname(require.resolve('@vladmandic/human'));
    while (path.basename(dir) !== 'human' && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return path.join(dir, 'models');
  } catch {
    throw new Error('the pretrained perception models come from the npm package @vladmandic/human, which is not installed: run npm ci');
  }
}

const weightsManifestSchema = z.array(z.object({ paths: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'weight file names must be plain names')).min(1), weights: z.array(z.unknown()) }));
const modelJsonSchema = z.object({ format: z.string().optional(), modelTopology: z.record(z.string(), z.unknown()), weightsManifest: weightsManifestSchema });

/** Reads a graph model's artifacts from `jsonFile` and the weight files next to it. */
export async function readGraphArtifacts(jsonFile: string): Promise<tf.io.ModelArtifacts> {
  let json: z.infer<typeof modelJsonSchema>;
  try {
    const parsed = modelJsonSchema.safeParse(JSON.parse(await readFile(jsonFile, 'utf8')));
    if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
    json = parsed.data;
  } catch (e) {
    throw new Error(`perception model ${jsonFile}: not a readable TensorFlow.js graph model (${firstLine(e)})`);
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const buffers: Buffer[] = [];
  for (const file of json.weightsManifest.flatMap((g) => g.paths)) {
    const full = path.join(path.dirname(jsonFile), file);
    try {
      buffers.push(await readFile(full));
    } catch (e) {
      throw new Error(`perception model ${jsonFile}: weight file ${full} cannot be read (${firstLine(e)})`);
    }
  }
  const expected = weightSpecs.reduce((n, w) => n + byteSize(w), 0);
  const got = buffers.reduce((n, b) => n + b.length, 0);
  if (expected !== got) throw new Error(`perception model ${jsonFile}: its weight files hold ${got} bytes, the manifest describes ${expected} (truncated or wrong file)`);
  const joined = Buffer.concat(buffers);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    weightSpecs,
    weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.length) as ArrayBuffer,
  };
}

function byteSize(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const q = w.quantization;
  if (q) return n * ({ uint8: 1, uint16: 2, float16: 2 } as Record<string, number>)[q.dtype]!;
  return n * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : 4);
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Loads one graph model. `dir` defaults to the installed package's models folder. `freeInput`
 * rewrites the image Placeholder's shape so that a graph exported for one size and a batch of one
 * takes other sizes and batches.
 */
export async function loadPerceptionModel(name: PerceptionModelName, opts: { dir?: string; freeInput?: boolean } = {}): Promise<tf.GraphModel> {
  const file = path.join(opts.dir ?? humanModelsDir(), `${name}.json`);
  const artifacts = await readGraphArtifacts(file);
  if (opts.freeInput) freePlaceholderShape(artifacts);
  try {
    return await tf.loadGraphModel({ load: async () => artifacts });
  } catch (e) {
    throw new Error(`perception model ${file}: TensorFlow.js could not build it (${firstLine(e)})`);
  }
}

/** Sets the batch, H and W of every 4-D Placeholder to -1 (free). */
function freePlaceholderShape(artifacts: tf.io.ModelArtifacts): void {
  const nodes = (artifacts.modelTopology as { node?: { op: string; attr?: { shape?: { shape?: { dim?: { size: string }[] } } } }[] }).node ?? [];
  for (const n of nodes) {
    const dims = n.op === 'Placeholder' ? n.attr?.shape?.shape?.dim : undefined;
    if (dims?.length === 4) {
      // The batch too: the backbone's convolutions take any batch (batched features equal per-frame ones, test/perception/backbone.test.ts).
      dims[0]!.size = '-1';
      dims[1]!.size = '-1';
      dims[2]!.size = '-1';
    }
  }
}
