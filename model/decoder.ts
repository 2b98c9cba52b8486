/**
 * The caption decoder: an LSTM whose input at each step is the previous word's embedding and the
 * clip encoding, with a softmax over the vocabulary. Teacher forcing for training; greedy and beam
 * search for inference.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecoderSpec } from './architecture.js';
import { dense, lstmStep, type Dense, type LstmWeights } from './layers.js';
import { END_ID, GO_ID, PAD_ID, UNK_ID, type Vocabulary } from './vocabulary.js';
import type { CaptionWeights } from './weights.js';

export type CaptionDecoderSizes = DecoderSpec;

export class CaptionDecoder {
  /**
   * Training only: the chance that a teacher-forced input word (not <go>, not <pad>) is replaced by
   * <unk>, drawn from Math.random (which the trainer seeds), so that the next word must come from
   * the video more than from the previous word. 0 (the default) is plain teacher forcing.
   */
  wordDropout = 0;
  private readonly embedding: tf.Variable; // [V, E]
  private readonly contextKernel: tf.Variable; // [C, 4U]
  private readonly lstm: LstmWeights; // kernel [E, 4U]
  private readonly out: Dense; // [U, V]

  /** Runs over weights made by weights.ts from the same sizes. */
  constructor(weights: CaptionWeights, readonly sizes: CaptionDecoderSizes) {
    ({ embedding: this.embedding, contextKernel: this.contextKernel, lstm: this.lstm, out: this.out } = weights);
  }

  /** Embedding as a one-hot product (gather's gradient needs a kernel wasm lacks). */
  private embed(tokens: tf.Tensor1D): tf.Tensor2D {
    return tf.matMul(tf.oneHot(tokens, this.sizes.vocabulary).toFloat(), this.embedding as tf.Tensor2D);
  }

  /** One step for N sequences: tokens [N] → next-word logits [N, V] and the new state. */
  step(tokens: tf.Tensor1D, contextProj: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D): { logits: tf.Tensor2D; h: tf.Tensor2D; c: tf.Tensor2D } {
    const xProj = tf.add(tf.matMul(this.embed(tokens), this.lstm.kernel as tf.Tensor2D), contextProj) as tf.Tensor2D;
    const [h2, c2] = lstmStep(xProj, h, c, this.lstm);
    return { logits: dense(h2, this.out), h: h2, c: c2 };
  }

  /**
   * Rescales the context weights so that a context x enters the gates as ((x − mean) / sd)·Kc:
   * Kc ← diag(1/sd)·Kc and b ← b − (mean/sd)·Kc. A data-dependent initialisation: clip encodings
   * that differ little between clips (as a fresh encoder's do) then still move the gates.
   */
  standardiseContext(mean: Float32Array, sd: Float32Array): void {
    const C = this.sizes.context;
    if (mean.length !== C || sd.length !== C) throw new Error(`context statistics have ${mean.length}/${sd.length} values; the decoder's context has ${C}`);
    tf.tidy(() => {
      const inv = tf.tensor2d(Float32Array.from(sd, (v) => 1 / Math.max(v, 1e-6)), [C, 1]);
      const kc = tf.mul(this.contextKernel, inv) as tf.Tensor2D;
      const shift = tf.matMul(tf.tensor2d(mean, [1, C]), kc).reshape([4 * this.sizes.units]);
      this.lstm.bias.assign(tf.sub(this.lstm.bias, shift));
      this.contextKernel.assign(kc);
    });
  }

  /** The context's share of the gates, computed once per clip: pooled·Kc + b. */
  projectContext(pooled: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(pooled, this.contextKernel as tf.Tensor2D), this.lstm.bias) as tf.Tensor2D;
  }

  /**
   * Mean cross-entropy of the next token under teacher forcing, over non-<pad> targets.
   * captions [B, L] int32: <go> w… <end> <pad>…
   */
  loss(pooled: tf.Tensor2D, captions: tf.Tensor2D): tf.Scalar {
    const [B, L] = captions.shape;
    if (L !== this.sizes.length) throw new Error(`captions have length ${L}; the model expects ${this.sizes.length}`);
    const ctx = this.projectContext(pooled);
    const inputs = tf.unstack(this.dropWords(captions.slice([0, 0], [B, L - 1]) as tf.Tensor2D), 1) as tf.Tensor1D[];
    let h = tf.zeros([B, this.sizes.units]) as tf.Tensor2D;
    let c = tf.zeros([B, this.sizes.units]) as tf.Tensor2D;
    const logits: tf.Tensor2D[] = [];
    for (const tokens of inputs) {
      const s = this.step(tokens, ctx, h, c);
      ({ h, c } = s);
      logits.push(s.logits);
    }
    const all = tf.concat(logits.map((l) => l.expandDims(1)), 1).reshape([B * (L - 1), this.sizes.vocabulary]) as tf.Tensor2D;
    const targets = captions.slice([0, 1], [B, L - 1]).reshape([B * (L - 1)]) as tf.Tensor1D;
    const logp = tf.sum(tf.mul(tf.logSoftmax(all), tf.oneHot(targets, this.sizes.vocabulary).toFloat()), 1);
    const mask = tf.notEqual(targets, PAD_ID).toFloat();
    return tf.div(tf.neg(tf.sum(tf.mul(logp, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  }

  private dropWords(inputs: tf.Tensor2D): tf.Tensor2D {
    if (this.wordDropout <= 0) return inputs;
    const ids = inputs.arraySync() as number[][];
    const dropped = ids.map((row) => row.map((id, t) => (t > 0 && id !== PAD_ID && Math.random() < this.wordDropout ? UNK_ID : id)));
    return tf.tensor2d(dropped, inputs.shape, 'int32');
  }

  /** Greedy decoding: the most probable next word at each step until <end>. */
  greedy(pooled: tf.Tensor2D, vocabulary: Vocabulary): string[] {
    const ids = tf.tidy(() => {
      const B = pooled.shape[0];
      const ctx = this.projectContext(pooled);
      let tokens = tf.fill([B], GO_ID, 'int32') as tf.Tensor1D;
      let h = tf.zeros([B, this.sizes.units]) as tf.Tensor2D;
      let c = tf.zeros([B, this.sizes.units]) as tf.Tensor2D;
      const out: tf.Tensor1D[] = [];
      for (let t = 1; t < this.sizes.length; t++) {
        const s = this.step(tokens, ctx, h, c);
        ({ h, c } = s);
        tokens = tf.argMax(s.logits, 1) as tf.Tensor1D;
        out.push(tokens);
      }
      return tf.stack(out, 1);
    });
    const rows = ids.arraySync() as number[][];
    ids.dispose();
    return rows.map((r) => vocabulary.decode(r));
  }

  /**
   * Beam search per clip: keeps the `width` best partial captions; a beam that emits <end> is
   * finished and keeps its score. Beams are ranked by their summed log-probability divided by
   * ((5 + words) / 6)^lengthPenalty (GNMT's length normalisation; 0, the default, ranks by plain
   * probability, which favours short captions).
   */
  beam(pooled: tf.Tensor2D, width: number, vocabulary: Vocabulary, lengthPenalty = 0): string[] {
    if (!Number.isInteger(width) || width < 1) throw new Error(`beam width must be a positive integer, got ${width}`);
    if (!(lengthPenalty >= 0 && lengthPenalty <= 5)) throw new Error(`lengthPenalty must be in [0, 5], got ${lengthPenalty}`);
    const results: string[] = [];
    for (let b = 0; b < pooled.shape[0]; b++) {
      const row = tf.tidy(() => pooled.slice([b, 0], [1, -1]) as tf.Tensor2D);
      results.push(vocabulary.decode(this.beamOne(row, width, lengthPenalty)));
      row.dispose();
    }
    return results;
  }

  private beamOne(pooled: tf.Tensor2D, width: number, lengthPenalty: number): number[] {
    const rank = (bm: { tokens: number[]; score: number }): number =>
      lengthPenalty === 0 ? bm.score : bm.score / ((5 + bm.tokens.length - 1) / 6) ** lengthPenalty;
    interface Beam {
      tokens: number[];
      score: number;
      done: boolean;
      row: number; // index of its state in h/c
    }
    let beams: Beam[] = [{ tokens: [GO_ID], score: 0, done: false, row: 0 }];
    const ctx1 = tf.tidy(() => this.projectContext(pooled));
    let h = tf.zeros([1, this.sizes.units]) as tf.Tensor2D;
    let c = tf.zeros([1, this.sizes.units]) as tf.Tensor2D;
    try {
      for (let t = 1; t < this.sizes.length && beams.some((bm) => !bm.done); t++) {
        const alive = beams.filter((bm) => !bm.done);
        const rows = tf.tensor1d(alive.map((bm) => bm.row), 'int32');
        const { logp, h2, c2 } = tf.tidy(() => {
          const hs = tf.gather(h, rows) as tf.Tensor2D;
          const cs = tf.gather(c, rows) as tf.Tensor2D;
          const ctx = tf.tile(ctx1, [alive.length, 1]) as tf.Tensor2D;
          const last = tf.tensor1d(alive.map((bm) => bm.tokens[bm.tokens.length - 1]!), 'int32');
          const s = this.step(last, ctx, hs, cs);
          return { logp: tf.logSoftmax(s.logits), h2: s.h, c2: s.c };
        });
        rows.dispose();
        const lp = logp.arraySync() as number[][];
        logp.dispose();
        const candidates: Beam[] = beams.filter((bm) => bm.done);
        alive.forEach((bm, i) => {
          // Only the top `width` words of each beam can make the overall top `width`.
          const top = topK(lp[i]!, width);
          for (const w of top) {
            candidates.push({ tokens: [...bm.tokens, w], score: bm.score + lp[i]![w]!, done: w === END_ID, row: i });
          }
        });
        candidates.sort((a, b) => rank(b) - rank(a));
        beams = candidates.slice(0, width);
        h.dispose();
        c.dispose();
        h = h2;
        c = c2;
      }
    } finally {
      h.dispose();
      c.dispose();
      ctx1.dispose();
    }
    return beams[0]!.tokens;
  }
}

function topK(values: number[], k: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, i]) => i);
}
