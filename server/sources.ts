/**
 * How the server opens each kind of stream, on top of the pipelines' one source builder. Sources
 * decode at `previewScale` × the model's frame size (same aspect), so the dashboard preview and
 * recordings are sharper than the model's input; the pipeline resizes to the model's size.
 */
import { defer, from, switchMap } from 'rxjs';
import { decodeFormat, openSource } from '../pipelines/sources/openSource.js';
import type { FrameFormat, LiveSource } from '../pipelines/types.js';

export interface SourceFactory {
  file(streamId: string, path: string, options: { loop: boolean; pace?: 'realtime' | 'max' }): LiveSource;
  rtsp(streamId: string, url: string): LiveSource;
  v4l2(streamId: string, device: string): LiveSource;
  /** The track arrives after signalling; frames start once it does. */
  webrtc(streamId: string, track: Promise<MediaStreamTrack>): LiveSource;
}

export function pipelineSources(modelFormat: FrameFormat & { readonly detailSize?: number }, previewScale = 3): SourceFactory {
  const format = decodeFormat(modelFormat, previewScale);
  return {
    file: (streamId, path, { loop, pace = 'realtime' }) => openSource({ kind: 'file', streamId, path, loop, pace }, format),
    rtsp: (streamId, url) => openSource({ kind: 'rtsp', streamId, url }, format),
    v4l2: (streamId, device) => openSource({ kind: 'v4l2', streamId, device }, format),
    webrtc: (streamId, track) => ({
      streamId,
      frames: defer(() => from(track)).pipe(switchMap((t) => openSource({ kind: 'webrtc', streamId, track: t }, format).frames)),
    }),
  };
}
