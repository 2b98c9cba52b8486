/**
 * How the server opens each kind of stream, on top of the pipelines' one source builder. Sources
 * decode at `previewScale` × the model's frame size (same aspect), so the dashboard preview and
 * recordings are sharper than the model's input; the pipeline resizes to the model's size.
 */
import { defer, from, switchMap } from 'rxjs';
import { decodeFormat, openSource } from '../pipelines/sources/openSource.js';
import type { ReconnectPolicy } from '../pipelines/sources/reconnect.js';
import type { FrameFormat, LiveSource } from '../pipelines/types.js';

export interface SourceFactory {
  file(streamId: string, path: string, options: { loop: boolean; pace?: 'realtime' | 'max' }): LiveSource;
  rtsp(streamId: string, url: string, options?: RtspOptions): LiveSource;
  v4l2(streamId: string, device: string): LiveSource;
  /** The track arrives after signalling; frames start once it does. */
  webrtc(streamId: string, track: Promise<MediaStreamTrack>): LiveSource;
}

export interface RtspOptions {
  readonly reconnect?: Partial<ReconnectPolicy>;
  /** Each time the stall watchdog drops a live connection. */
  readonly onStall?: () => void;
}

/** The pipelines' policy from the config's keys (maxAttempts is the policy's maxRetries; omitted keys keep their defaults). */
export function reconnectPolicy(...layers: readonly ({ maxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number; connectTimeoutMs?: number; stallTimeoutMs?: number } | undefined)[]): Partial<ReconnectPolicy> {
  const policy: { -readonly [K in keyof ReconnectPolicy]?: ReconnectPolicy[K] } = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.maxAttempts !== undefined) policy.maxRetries = layer.maxAttempts;
    if (layer.initialDelayMs !== undefined) policy.initialDelayMs = layer.initialDelayMs;
    if (layer.maxDelayMs !== undefined) policy.maxDelayMs = layer.maxDelayMs;
    if (layer.connectTimeoutMs !== undefined) policy.connectTimeoutMs = layer.connectTimeoutMs;
    if (layer.stallTimeoutMs !== undefined) policy.stallTimeoutMs = layer.stallTimeoutMs;
  }
  return policy;
}

export function pipelineSources(modelFormat: FrameFormat & { readonly detailSize?: number }, previewScale = 3): SourceFactory {
  const format = decodeFormat(modelFormat, previewScale);
  return {
    file: (streamId, path, { loop, pace = 'realtime' }) => openSource({ kind: 'file', streamId, path, loop, pace }, format),
    rtsp: (streamId, url, options = {}) => openSource({ kind: 'rtsp', streamId, url, ...(options.reconnect ? { reconnect: options.reconnect } : {}) }, format, { onStall: options.onStall }),
    v4l2: (streamId, device) => openSource({ kind: 'v4l2', streamId, device }, format),
    webrtc: (streamId, track) => ({
      streamId,
      frames: defer(() => from(track)).pipe(switchMap((t) => openSource({ kind: 'webrtc', streamId, track: t }, format).frames)),
    }),
  };
}
