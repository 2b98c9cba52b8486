/** StreamRecorder keeps at most maxEntries pipeline outputs in memory and counts the rest. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Frame, PipelineOutput } from '../../pipelines/types.js';
import { StreamRecorder } from '../../server/recorder.js';
import { hasFfmpeg, need, tempDir } from '../pipelines/tools.js';

const d = need(hasFfmpeg, 'ffmpeg') ? describe : describe.skip;

d('StreamRecorder', () => {
  it('writes the video and at most maxEntries events, counting the ones it dropped', async () => {
    const tmp = tempDir('recorder');
    try {
      const frames = new Subject<Frame>();
      const outputs = new Subject<PipelineOutput>();
      const recorder = new StreamRecorder(path.join(tmp.dir, 'cam'), frames, outputs, 12, 3);
      for (let seq = 0; seq < 6; seq++) {
        frames.next({ streamId: 'cam', seq, capturedAt: seq * 83, width: 16, height: 16, pixels: new Uint8Array(16 * 16 * 3).fill(seq * 40) });
        outputs.next({ type: 'status', status: { streamId: 'cam', state: 'live', at: seq } });
      }
      const result = await recorder.stop();
      const log = JSON.parse(readFileSync(result.events, 'utf8')) as { frames: number; droppedEntries: number; entries: unknown[] };
      expect([log.frames, log.entries.length, log.droppedEntries]).toEqual([6, 3, 3]);
    } finally {
      tmp.remove();
    }
  });
});
