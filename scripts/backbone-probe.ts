/**
 * `npx tsx scripts/backbone-probe.ts`: would the COCO detector's backbone (trained on real photos)
 * tell real kitchen actions apart better than the project's encoder (trained on cartoons)? A
 * measurement for issue 10's next step, on the real clips of ../shared/real-clips read in place
 * (evaluation only: nothing of them is written anywhere; the heads are throwaway).
 *
 * The same protocol as scripts/fewshot.ts's real section: the classes with ≥ 3 clips; each clip is
 * the test clip in turn, with `shots` training clips per class drawn from *other source videos*,
 * 3 repeats. A clip's feature: the backbone's 480 values averaged over 8 frames spread over it
 * (224 px). Two throwaway classifiers: nearest class centroid (cosine) and a linear softmax head
 * (Adam, as teach's linear head). `--motion` adds the mean absolute frame-to-frame change of the
 * feature to its mean (does motion in the pretrained feature help?); `--record N` first shrinks each
 * frame to N px, as the clip library keeps clips of a stream decoded at N (does the recording size matter?).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { decodeVideo } from '../data/decode.js';
import { initBackend } from '../model/index.js';
import { ObjectDetector } from '../perception/objects.js';
import { resizeRgb } from '../pipelines/operators/resizeFrames.js';
import { SeededRandom } from '../training/rng.js';

const REAL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'real-clips');
const FRAMES = 8;
const MOTION = process.argv.includes('--motion');
const SIZE = 224;

interface Entry {
  file: string;
  label: string;
  group: string;
}

/** --record N: the clip as the clip library keeps it from a stream decoded at N px, then scaled up to the backbone's size. */
const RECORD = (() => {
  const i = process.argv.indexOf('--record');
  return i >= 0 ? Number(process.argv[i + 1]) : null;
})();

async function decodeAsRecorded(file: string): Promise<{ frames: number; data: Uint8Array }> {
  if (RECORD === null) return decodeVideo(file, { width: SIZE, height: SIZE });
  const small = await decodeVideo(file, { width: RECORD, height: RECORD });
  const bytes = RECORD * RECORD * 3;
  const data = new Uint8Array(small.frames * SIZE * SIZE * 3);
  for (let f = 0; f < small.frames; f++) data.set(resizeRgb(small.data.subarray(f * bytes, (f + 1) * bytes), RECORD, RECORD, SIZE, SIZE), f * SIZE * SIZE * 3);
  return { frames: small.frames, data };
}

async function clipFeature(detector: ObjectDetector, file: string): Promise<Float32Array> {
  const video = await decodeAsRecorded(file);
  const picks = Array.from({ length: FRAMES }, (_, i) => Math.min(video.frames - 1, Math.round(((i + 0.5) / FRAMES) * video.frames - 0.5)));
  const bytes = SIZE * SIZE * 3;
  // The graph takes one frame at a time (its input is [1, H, W, 3]).
  const feature = tf.tidy(() => {
    const perFrame = tf.concat(picks.map((f) => detector.features(tf.tensor4d(Float32Array.from(video.data.subarray(f * bytes, (f + 1) * bytes)), [1, SIZE, SIZE, 3]))));
    const mean = perFrame.mean(0);
    if (!MOTION) return mean;
    // --motion: beside the mean, the mean absolute change between consecutive sampled frames.
    const change = perFrame.slice(1).sub(perFrame.slice(0, FRAMES - 1)).abs().mean(0);
    return tf.concat([mean, change]);
  });
  const out = (await feature.data()) as Float32Array;
  feature.dispose();
  return out;
}

const norm = (v: Float32Array) => {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
};

function nearestCentroid(features: Float32Array[], labels: number[], train: number[], test: number, classes: number): number {
  const centroids = Array.from({ length: classes }, () => new Float32Array(features[0]!.length));
  for (const i of train) features[i]!.forEach((x, d) => (centroids[labels[i]!]![d]! += x));
  const t = norm(features[test]!);
  let best = -1;
  let bestScore = -Infinity;
  centroids.forEach((c, k) => {
    const s = norm(c).reduce((a, x, d) => a + x * t[d]!, 0);
    if (s > bestScore) [best, bestScore] = [k, s];
  });
  return best;
}

function linearHead(features: Float32Array[], labels: number[], train: number[], test: number, classes: number, seed: number): number {
  return tf.tidy(() => {
    const dims = features[0]!.length;
    // Standardised on the training clips, as a head on frozen features would see them.
    const x = tf.tensor2d(train.map((i) => [...features[i]!]), [train.length, dims]);
    const { mean, variance } = tf.moments(x, 0);
    const scale = variance.sqrt().add(1e-6);
    const xs = x.sub(mean).div(scale);
    const y = tf.oneHot(tf.tensor1d(train.map((i) => labels[i]!), 'int32'), classes);
    const w = tf.variable(tf.randomNormal([dims, classes], 0, 0.01, 'float32', seed));
    const b = tf.variable(tf.zeros([classes]));
    const opt = tf.train.adam(3e-3);
    for (let e = 0; e < 200; e++) opt.minimize(() => tf.losses.softmaxCrossEntropy(y, xs.matMul(w).add(b)).add(w.square().sum().mul(1e-3)) as tf.Scalar);
    const t = tf.tensor2d([[...features[test]!]], [1, dims]).sub(mean).div(scale);
    const p = t.matMul(w).add(b).argMax(1).dataSync()[0]!;
    opt.dispose();
    w.dispose();
    b.dispose();
    return p;
  });
}

async function main(): Promise<void> {
  await initBackend({ log: () => {} });
  const manifest = JSON.parse(readFileSync(path.join(REAL_DIR, 'manifest.json'), 'utf8')) as Entry[];
  const counts = new Map<string, number>();
  for (const e of manifest) if (e.label !== 'unclear') counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const classNames = [...counts].filter(([, n]) => n >= 3).map(([t]) => t).sort();
  const entries = manifest.filter((e) => classNames.includes(e.label));
  const detector = await ObjectDetector.load();
  const started = performance.now();
  const features: Float32Array[] = [];
  for (const e of entries) features.push(await clipFeature(detector, path.join(REAL_DIR, 'clips', e.file)));
  console.log(`${entries.length} real clips of ${classNames.length} classes (${classNames.map((c) => `${c} ${counts.get(c)}`).join(', ')}); backbone features in ${((performance.now() - started) / 1000).toFixed(1)} s; chance ${(100 / classNames.length).toFixed(1)} %`);
  const labels = entries.map((e) => classNames.indexOf(e.label));
  for (const shots of [1, 2]) {
    const results = { centroid: [] as number[], linear: [] as number[] };
    let tested = 0;
    for (let r = 0; r < 3; r++) {
      let hits = { centroid: 0, linear: 0 };
      tested = 0;
      for (let t = 0; t < entries.length; t++) {
        const rng = new SeededRandom(1000 * r + t + 1);
        const train: number[] = [];
        let ok = true;
        for (let k = 0; k < classNames.length; k++) {
          const pool = entries.map((_, i) => i).filter((i) => i !== t && labels[i] === k && entries[i]!.group !== entries[t]!.group);
          if (pool.length < shots) ok = false;
          for (let s = 0; s < shots && pool.length > 0; s++) train.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]!);
        }
        if (!ok) continue;
        tested++;
        if (nearestCentroid(features, labels, train, t, classNames.length) === labels[t]) hits.centroid++;
        if (linearHead(features, labels, train, t, classNames.length, r + 1) === labels[t]) hits.linear++;
      }
      results.centroid.push(hits.centroid / tested);
      results.linear.push(hits.linear / tested);
      hits = { centroid: 0, linear: 0 };
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`${shots} shot(s) per class, ${tested} test clips: nearest centroid ${(median(results.centroid) * 100).toFixed(1)} % (repeats ${results.centroid.map((a) => (a * 100).toFixed(0)).join(', ')}), linear head ${(median(results.linear) * 100).toFixed(1)} % (repeats ${results.linear.map((a) => (a * 100).toFixed(0)).join(', ')})`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`backbone-probe: ${(err as Error).message}\n`);
  process.exit(1);
});
