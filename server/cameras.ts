/**
 * The cameras of the config file, started with the server. Each keeps the id the file gives it
 * (else `cam-N`, its position), so that its event history and metrics stay its own across restarts.
 */
import type { Logger } from 'pino';
import type { CameraConfig, ReconnectConfig } from './config.js';
import { rtspCameraKey } from './protocol.js';
import { reconnectPolicy, type SourceFactory } from './sources.js';
import type { StreamManager } from './streams.js';

/** The URL ffmpeg is given: the configured one with the file's username/password put in (percent-encoded by URL). */
export function cameraUrl(cam: Extract<CameraConfig, { kind: 'rtsp' }>): string {
  if (!cam.username && !cam.password) return cam.url;
  const u = new URL(cam.url);
  if (cam.username) u.username = cam.username;
  if (cam.password) u.password = cam.password;
  return u.toString();
}

/** What the dashboard shows for an RTSP camera without a name: host, port and path, never credentials. */
export function rtspDisplayName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
}

/** Starts every configured camera; one that cannot start is logged and the others still start. Returns the ids started. */
export function startConfiguredCameras(cameras: readonly CameraConfig[], rtspReconnect: ReconnectConfig, streams: StreamManager, sources: SourceFactory, log: Logger): string[] {
  const started: string[] = [];
  cameras.forEach((cam, i) => {
    const spec = typeof cam === 'string' ? { kind: 'v4l2' as const, device: cam } : cam;
    // A bare device (from --camera) has no place in a file to keep an id: it gets the manager's v4l2-N.
    const id = typeof cam === 'string' ? undefined : (cam.id ?? `cam-${i + 1}`);
    try {
      const info =
        spec.kind === 'v4l2'
          ? streams.add({ kind: 'v4l2', id, name: spec.name ?? spec.device, key: spec.device, open: (sid) => ({ source: sources.v4l2(sid, spec.device) }) })
          : streams.add({
              kind: 'rtsp',
              id,
              name: spec.name ?? rtspDisplayName(spec.url),
              key: rtspCameraKey(spec.url),
              open: (sid, events) => ({ source: sources.rtsp(sid, cameraUrl(spec), { reconnect: reconnectPolicy(rtspReconnect, spec.reconnect), onStall: events.stalled }) }),
            });
      started.push(info.id);
    } catch (err) {
      log.error({ camera: i, kind: spec.kind, err: (err as Error).message }, 'cannot start camera');
    }
  });
  return started;
}
