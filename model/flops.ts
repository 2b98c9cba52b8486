/** FLOP counts read off the architecture description, so they follow whatever layers it builds. */
import { convParams, type Architecture, type ConvLayerSpec, type DenseSpec, type LstmSpec } from './architecture.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Per timestep: every output position applies the whole kernel. */
const convFlops = (c: ConvLayerSpec): number => 2 * c.outHeight * c.outWidth * size(convParams(c)[0]!.shape);
const denseFlops = (d: DenseSpec | null): number => (d ? 2 * d.inputs * d.units : 0);
/** Per timestep: input and recurrent projections onto four gates (the gate nonlinearities are left out). */
const lstmFlops = (l: LstmSpec | null): number => (l ? 2 * (l.inputs + l.units) * 4 * l.units : 0);

/**
 * Multiply-adds ×2 for one clip through the channels, the perception projection, the encoder LSTM
 * and the heads (the caption decoder, which runs only when a caption is asked for, is left out).
 */
export function flopsPerClip(a: Architecture): number {
  let perStep = 0;
  for (const channel of [a.spatial, a.spatiotemporal]) {
    if (!channel) continue;
    for (const conv of channel.convs) perStep += convFlops(conv);
    perStep += denseFlops(channel.dense);
  }
  perStep += denseFlops(a.perception);
  perStep += lstmFlops(a.encoder.forward) + lstmFlops(a.encoder.backward);
  for (const h of a.heads) perStep += denseFlops(h.hidden) + denseFlops(h.out);
  return perStep * a.config.frames;
}
