/**
 * npx tsx scripts/experiment-diagnose.ts --run RUN --data DIR [--split validation]
 * Does a caption decoder use the video? Teacher-forced caption cross-entropy per word on a split
 * with each clip's own encoding and with the encodings shuffled across clips (same words, wrong
 * video), the first word's accuracy both ways, the number of distinct greedy captions and the share
 * naming the right action. A decoder that ignores its context scores the same both ways.
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { TemplateMatcher, actionCorrect } from '../eval/caption.js';
import { initBackend, loadCheckpoint, resolveCheckpoint } from '../model/index.js';
import type { CaptionDecoder } from '../model/decoder.js';
import { PAD_ID } from '../model/vocabulary.js';
import { clipShapeOf, clipTensor, encodeInputs } from '../training/batches.js';
import { openClipData } from '../training/open-data.js';
import { SeededRandom } from '../training/rng.js';

const program = new Command()
  .requiredOption('--run <dir>', 'a training run with a caption decoder')
  .requiredOption('--data <dir>', 'its data set')
  .option('--split <split>', 'validation | test', 'validation')
  .action(async (o: { run: string; data: string; split: 'validation' | 'test' }) => {
    await initBackend({ log: () => {} });
    const loaded = await loadCheckpoint(resolveCheckpoint(o.run).dir);
    const model = loaded.model;
    const vocab = model.vocabulary;
    // The decoder is private to the model; this diagnostic reads it directly.
    const decoder = (model as unknown as { decoder: CaptionDecoder | null }).decoder;
    if (!vocab || !decoder) throw new Error(`${o.run} has no caption decoder`);
    const source = (loaded.training as { task?: string } | undefined)?.task === 'simplified' ? 'simplified' : 'caption';
    const data = await openClipData(o.data);
    const shape = clipShapeOf(model.config);
    const pooled: Float32Array[] = [];
    const refs: string[] = [];
    for await (const b of data.batches(o.split, { shape, batchSize: 16, training: false, seed: 0, epoch: 0 })) {
      const p = tf.tidy(() => model.encode(clipTensor(b, shape), encodeInputs(b, shape)).pooled);
      pooled.push(...Array.from({ length: b.records.length }, (_, i) => (p.dataSync() as Float32Array).slice(i * p.shape[1]!, (i + 1) * p.shape[1]!)));
      p.dispose();
      refs.push(...b.records.map((r) => (source === 'simplified' ? r.simplified : r.caption)));
    }
    const n = refs.length;
    const U = pooled[0]!.length;
    // How much the clip encodings differ between clips, against their size.
    let spread = 0;
    let size = 0;
    for (let u = 0; u < U; u++) {
      const col = pooled.map((p) => p[u]!);
      const m = col.reduce((a, b) => a + b, 0) / n;
      spread += Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)) / U;
      size += col.reduce((a, b) => a + Math.abs(b), 0) / n / U;
    }
    const rng = new SeededRandom(7);
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const ids = tf.tensor2d(refs.map((r) => vocab.encode(r)), [n, vocab.length], 'int32');
    const score = (order: readonly number[]) =>
      tf.tidy(() => {
        const ctx = tf.tensor2d(Float32Array.from(order.flatMap((k) => [...pooled[k]!])), [n, U]);
        const ce = (decoder.loss(ctx, ids).dataSync() as Float32Array)[0]!;
        // First word: one step from <go>.
        const proj = decoder.projectContext(ctx);
        const zeros = tf.zeros([n, decoder.sizes.units]) as tf.Tensor2D;
        const first = decoder.step(ids.slice([0, 0], [n, 1]).reshape([n]) as tf.Tensor1D, proj, zeros, zeros);
        const want = ids.slice([0, 1], [n, 1]).reshape([n]);
        const firstAcc = (tf.mean(tf.equal(tf.argMax(first.logits, 1), want).toFloat()).dataSync() as Float32Array)[0]!;
        return { ce, firstAcc };
      });
    const own = score(perm.map((_, i) => i));
    const shuffled = score(perm);
    const ctxAll = tf.tensor2d(Float32Array.from(pooled.flatMap((p) => [...p])), [n, U]);
    const greedy = model.captionGreedy(ctxAll);
    ctxAll.dispose();
    ids.dispose();
    const matcher = new TemplateMatcher(data.actionTemplates);
    const pairs = greedy.map((c, i) => ({ candidate: c, references: [refs[i]!] }));
    const words = refs.reduce((s, r) => s + vocab.encode(r).filter((t) => t !== PAD_ID).length - 1, 0) / n;
    process.stdout.write(
      JSON.stringify({
        run: o.run,
        split: o.split,
        clips: n,
        wordsPerCaption: Number(words.toFixed(2)),
        encoding: { meanAbs: Number(size.toFixed(4)), betweenClipSd: Number(spread.toFixed(4)) },
        captionCE: { ownVideo: Number(own.ce.toFixed(4)), shuffledVideo: Number(shuffled.ce.toFixed(4)) },
        firstWordAccuracy: { ownVideo: Number(own.firstAcc.toFixed(4)), shuffledVideo: Number(shuffled.firstAcc.toFixed(4)) },
        distinctGreedyCaptions: new Set(greedy).size,
        actionCorrect: Number(actionCorrect(pairs, matcher).toFixed(4)),
        examples: greedy.slice(0, 3).map((c, i) => ({ caption: c, reference: refs[i] })),
      }) + '\n',
    );
    model.dispose();
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`experiment-diagnose: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
