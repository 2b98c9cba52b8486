/**
 * The inference thread behind WorkerEngine: loads the model from a checkpoint, keeps the frames the
 * main thread sent (a bounded FIFO per stream, mirrored on the main side) and runs a ModelEngine —
 * caches included — on the windows it is asked to score.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, loadCheckpoint } from '../model/index.js';
import { ModelEngine } from './modelEngine.js';
import type { Frame, FrameWindow } from './types.js';
import type { FromWorker, ToWorker, WorkerSetup } from './workerProtocol.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  await initBackend({ log: () => {} });
  const { model } = await loadCheckpoint(setup.checkpoint);
  const engine = await ModelEngine.create(model, setup.engine);
  const frames = new Map<string, Map<number, Frame>>();

  port.on('message', async (msg: ToWorker) => {
    try {
      if (msg.type === 'forget') {
        frames.delete(msg.streamId);
        engine.forgetStream(msg.streamId);
      } else if (msg.type === 'caption') {
        post({ type: 'caption', id: msg.id, text: (await engine.caption?.(msg.encoding)) ?? '' });
      } else {
        for (const f of msg.frames) {
          let stream = frames.get(f.streamId);
          if (!stream) frames.set(f.streamId, (stream = new Map()));
          stream.set(f.id, { streamId: f.streamId, seq: f.seq, capturedAt: f.capturedAt, width: f.width, height: f.height, pixels: f.pixels, ...(f.detail ? { detail: f.detail } : {}) });
          for (const id of stream.keys()) {
            if (stream.size <= setup.frameCapacity) break;
            stream.delete(id);
          }
        }
        const windows: FrameWindow[] = msg.windows.map((w) => ({
          streamId: w.streamId,
          readyAt: w.readyAt,
          frames: w.frameIds.map((id) => {
            const frame = frames.get(w.streamId)?.get(id);
            if (!frame) throw new Error(`inference worker lost frame ${id} of stream ${w.streamId}`);
            return frame;
          }),
        }));
        const results = await engine.inferBatch(windows);
        post({ type: 'result', id: msg.id, results }, results.flatMap((r) => [r.encoding.buffer as ArrayBuffer, ...Object.values(r.probabilities).map((p) => p.buffer as ArrayBuffer)]));
      }
    } catch (err) {
      post({ type: 'error', id: 'id' in msg ? msg.id : undefined, message: err instanceof Error ? err.message : String(err) });
    }
  });
  post({ type: 'ready', input: engine.input, heads: engine.heads, captions: engine.caption !== undefined });
} catch (err) {
  post({ type: 'error', message: `inference worker could not start: ${err instanceof Error ? err.message : String(err)}` });
}
