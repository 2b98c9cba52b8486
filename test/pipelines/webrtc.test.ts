/**
 * The WebRTC source with real @roamhq/wrtc peers: a second peer in this process sends I420 frames
 * through an RTCVideoSource (VP8 over a real loopback connection) and the source must deliver them
 * as RGB frames at the model's size, then close its peer on unsubscribe.
 */
import wrtc from '@roamhq/wrtc';
import { afterEach, describe, expect, it } from 'vitest';
import { openSource } from '../../pipelines/sources/openSource.js';
import { i420ToRgb } from '../../pipelines/sources/i420ToRgb.js';
import type { Frame, StreamStatus, WindowPrediction } from '../../pipelines/types.js';
import { InferenceStage } from '../../pipelines/inferenceStage.js';
import { createLivePipeline } from '../../pipelines/livePipeline.js';
import { ModelEngine } from '../../pipelines/modelEngine.js';
import { smallModel } from './smallModel.js';
import { until } from './tools.js';

const { RTCPeerConnection } = wrtc;
const { RTCVideoSource } = wrtc.nonstandard;

/** A solid-colour I420 frame (BT.601 limited range). */
function solidI420(width: number, height: number, [y, u, v]: [number, number, number]): Uint8Array {
  const data = new Uint8Array(width * height * 1.5);
  data.fill(y, 0, width * height);
  data.fill(u, width * height, width * height * 1.25);
  data.fill(v, width * height * 1.25);
  return data;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/**
 * Two connected in-process peers: `send` pushes I420 frames through the sender's video track,
 * `track` is what the receiver got. Everything is closed after the test.
 */
async function loopbackPeers(): Promise<{ receiver: RTCPeerConnection; track: MediaStreamTrack; send: (frame: { width: number; height: number; data: Uint8Array }) => void }> {
  const sender = new RTCPeerConnection();
  const receiver = new RTCPeerConnection();
  const video = new RTCVideoSource();
  const outgoing = video.createTrack();
  sender.addTrack(outgoing);
  cleanups.push(() => outgoing.stop(), () => sender.close(), () => receiver.close());
  const incoming = new Promise<MediaStreamTrack>((resolve) => (receiver.ontrack = (e) => resolve(e.track)));
  sender.onicecandidate = (e) => e.candidate && receiver.addIceCandidate(e.candidate);
  receiver.onicecandidate = (e) => e.candidate && sender.addIceCandidate(e.candidate);
  const offer = await sender.createOffer();
  await sender.setLocalDescription(offer);
  await receiver.setRemoteDescription(offer);
  const answer = await receiver.createAnswer();
  await receiver.setLocalDescription(answer);
  await sender.setRemoteDescription(answer);
  return { receiver, track: await incoming, send: (frame) => video.onFrame(frame) };
}


describe('WebRTC source (real @roamhq/wrtc peers)', () => {
  it('receives frames a second peer sends, as RGB at the model size, and closes its peer on unsubscribe', async () => {
    const { receiver, track, send } = await loopbackPeers();
    // Red in BT.601 limited range: Y 81, U 90, V 240.
    const red = solidI420(320, 240, [81, 90, 240]);
    const pump = setInterval(() => send({ width: 320, height: 240, data: red }), 33);
    cleanups.push(() => clearInterval(pump));
    const source = openSource({ kind: 'webrtc', streamId: 'browser', track, peer: receiver }, { width: 32, height: 24, fps: 12 });
    const statuses: StreamStatus[] = [];
    source.status!.subscribe((s) => statuses.push(s));
    const frames: Frame[] = [];
    const sub = source.frames.subscribe((f) => frames.push(f));
    await until(() => frames.length >= 10, '10 frames over WebRTC');

    expect(frames.map((f) => f.seq).slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const last = frames.at(-1)!;
    expect([last.streamId, last.width, last.height, last.pixels.length]).toEqual(['browser', 32, 24, 32 * 24 * 3]);
    // The colour survives VP8 and the I420 → RGB conversion (codec noise allowed).
    const mid = (12 * 32 + 16) * 3;
    expect(last.pixels[mid]).toBeGreaterThan(190);
    expect(last.pixels[mid + 1]).toBeLessThan(60);
    expect(last.pixels[mid + 2]).toBeLessThan(60);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'live']);

    sub.unsubscribe();
    expect(receiver.connectionState).toBe('closed');
    const count = frames.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(frames.length).toBe(count); // nothing after unsubscribe
  });

  it('refuses an audio track with a clear error', async () => {
    const { RTCAudioSource } = wrtc.nonstandard;
    const track = new RTCAudioSource().createTrack();
    cleanups.push(() => track.stop());
    const source = openSource({ kind: 'webrtc', streamId: 'mic', track }, { width: 32, height: 24, fps: 12 });
    await expect(new Promise((resolve, reject) => source.frames.subscribe({ next: resolve, error: reject }))).rejects.toThrow(/needs a video track, got a audio track/);
  });
});

describe('WebRTC into the live pipeline (real peers, real small model)', () => {
  it('frames from the browser peer are resampled to the model fps, windowed and scored; unsubscribe closes the peer', async () => {
    const model = await smallModel();
    const engine = new ModelEngine(model);
    cleanups.push(() => engine.dispose());
    const { receiver, track, send } = await loopbackPeers();
    let n = 0;
    const pump = setInterval(() => send({ width: 320, height: 240, data: solidI420(320, 240, [(n++ * 7) % 200 + 16, 128, 128]) }), 33);
    cleanups.push(() => clearInterval(pump));
    const source = openSource({ kind: 'webrtc', streamId: 'cam', track, peer: receiver }, engine.input);
    const predictions: WindowPrediction[] = [];
    const sub = createLivePipeline(source, new InferenceStage(engine), { stride: 2, statsIntervalMs: 0 }).subscribe((o) => {
      if (o.type === 'prediction') predictions.push(o.prediction);
    });
    await until(() => predictions.length >= 3, 'three predictions from WebRTC frames');
    sub.unsubscribe();
    // adaptFrameRate renumbers the thinned frames: windows of T consecutive model-rate frames.
    for (const p of predictions) expect(p.lastSeq - p.firstSeq).toBe(model.config.frames - 1);
    expect(predictions[1]!.firstSeq - predictions[0]!.firstSeq).toBe(2);
    expect(predictions[0]!.heads.action).toHaveLength(4);
    expect(receiver.connectionState).toBe('closed');
    expect(engine.cache.size('cam')).toBe(0);
  });
});

describe('i420ToRgb', () => {
  it('converts limited-range YUV colours to RGB and resamples to the target size', () => {
    const cases: [[number, number, number], [number, number, number]][] = [
      [[16, 128, 128], [0, 0, 0]],
      [[235, 128, 128], [255, 255, 255]],
      [[81, 90, 240], [255, 0, 0]],
      [[145, 54, 34], [0, 255, 0]],
      [[41, 240, 110], [0, 0, 255]],
    ];
    for (const [yuv, rgb] of cases) {
      const out = i420ToRgb(solidI420(8, 6, yuv), 8, 6, 4, 3);
      expect(out.length).toBe(4 * 3 * 3);
      for (let c = 0; c < 3; c++) expect(Math.abs(out[c]! - rgb[c]!)).toBeLessThanOrEqual(3);
    }
  });

  it('keeps left/right halves in place when downscaling', () => {
    // Left half black, right half white (luma only).
    const w = 8;
    const h = 4;
    const data = solidI420(w, h, [16, 128, 128]);
    for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) data[y * w + x] = 235;
    const out = i420ToRgb(data, w, h, 2, 1);
    expect(out[0]).toBeLessThan(10);
    expect(out[3]).toBeGreaterThan(245);
  });
});
