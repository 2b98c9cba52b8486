/**
 * StreamRecorder keeps at most maxEntries pipeline outputs in memory and counts the rest, and
 * keeps its ffmpeg child so that stop() kills one that is stuck.
 */
import { spawn, spawnSync } from 'node:child_process';
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
      const recorder = new StreamRecorder(path.join(tmp.dir, 'cam'), frames, outputs, 12, { maxEntries: 3 });
      for (let seq = 0; seq < 6; seq++) {
        frames.next({ streamId: 'cam', seq, capturedAt: seq * 83, width: 16, height: 16, pixels: new Uint8Array(16 * 16 * 3).fill(seq * 40) });
        outputs.next({ type: 'status', status: { streamId: 'cam', state: 'live', at: seq } });
      }
      const result = await recorder.stop();
      const log = JSON.parse(readFileSync(result.events, 'utf8')) as { frames: number; droppedEntries: number; entries: unknown[] };
      expect([log.frames, log.entries.length, log.droppedEntries]).toEqual([6, 3, 3]);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,nb_read_frames', '-of', 'csv=p=0', result.video], { encoding: 'utf8' });
      expect(probe.stdout.trim()).toBe('vp8,16,6');
    } finally {
      tmp.remove();
    }
  });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('StreamRecorder with a stuck ffmpeg', () => {
  it('stop() kills it with SIGKILL after the timeout, still writes the events and says so', async () => {
    const tmp = tempDir('recorder-stuck');
    // Stands in for an ffmpeg that never exits: it ignores the end of its input and SIGTERM.
    const stuck = "process.on('SIGTERM', () => {}); process.stdin.resume(); process.stdin.on('end', () => {}); setInterval(() => {}, 1e6);";
    let spawnedWith: readonly string[] = [];
    try {
      const frames = new Subject<Frame>();
      const outputs = new Subject<PipelineOutput>();
      const recorder = new StreamRecorder(path.join(tmp.dir, 'cam'), frames, outputs, 12, {
        stopTimeoutMs: 400,
        spawnEncoder: (args) => ((spawnedWith = args), spawn(process.execPath, ['-e', stuck], { stdio: ['pipe', 'ignore', 'pipe'] })),
      });
      for (let seq = 0; seq < 3; seq++) frames.next({ streamId: 'cam', seq, capturedAt: seq * 83, width: 16, height: 16, pixels: new Uint8Array(16 * 16 * 3) });
      const pid = recorder.encoderPid!;
      expect(alive(pid)).toBe(true);
      expect(spawnedWith).toContain(path.join(tmp.dir, 'cam.webm'));
      const t0 = Date.now();
      await expect(recorder.stop()).rejects.toThrow('ffmpeg did not finish cam.webm within 0.4 s and was killed; the video may be incomplete');
      const ms = Date.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(390);
      expect(ms).toBeLessThan(5000);
      expect(alive(pid)).toBe(false);
      const log = JSON.parse(readFileSync(path.join(tmp.dir, 'cam.events.json'), 'utf8')) as { frames: number };
      expect(log.frames).toBe(3);
    } finally {
      tmp.remove();
    }
  });
});
