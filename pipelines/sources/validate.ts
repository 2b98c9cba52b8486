/**
 * Checks for everything a user may type into a source config (camera URLs, file names, device
 * paths). Each returns the value to hand to ffmpeg or throws a SourceConfigError whose message says
 * what is wrong without echoing secrets. Values are later passed as single argv entries (no
 * shell), and these checks also make sure none can be read by ffmpeg as an option or a protocol.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export class SourceConfigError extends Error {
  override readonly name = 'SourceConfigError';
}

// C0/C1 control characters, DEL, and any whitespace (a newline would split an ffmpeg log line; a
// space never belongs in a URL).
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\u2028\u2029]/u;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
// RFC 3986 path / query characters (unreserved, sub-delims, ':' '@' '/' '?', percent escapes).
const PATH_AND_QUERY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/;
// Every character RFC 3986 allows anywhere in a URI (brackets for IPv6 hosts).
const URL_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%?#[\]]+$/;
const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const V4L2_DEVICE = /^\/dev\/video(?:0|[1-9][0-9]{0,2})$/;

/** Shows a URL with its credentials masked, for error messages and status details. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

export function validateStreamId(id: unknown): string {
  if (typeof id !== 'string' || !STREAM_ID.test(id)) {
    throw new SourceConfigError('stream id must be 1–64 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit');
  }
  return id;
}

/** Accepts rtsp:// and rtsps:// URLs with a plain host name or IP, an optional port and a path. */
export function validateRtspUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new SourceConfigError('RTSP URL must be a non-empty string');
  if (raw.length > 2048) throw new SourceConfigError('RTSP URL is longer than 2048 characters');
  const shown = JSON.stringify(redactUrl(raw).slice(0, 200));
  if (CONTROL_OR_SPACE.test(raw)) throw new SourceConfigError(`RTSP URL ${shown} contains whitespace or control characters`);
  if (raw.startsWith('-')) throw new SourceConfigError(`RTSP URL ${shown} starts with "-"`);
  if (!URL_CHARS.test(raw)) throw new SourceConfigError(`RTSP URL ${shown} has characters a URL may not contain (percent-encode them)`);
  if (!/^rtsps?:\/\//i.test(raw)) throw new SourceConfigError(`RTSP URL ${shown} must start with rtsp:// or rtsps://`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SourceConfigError(`RTSP URL ${shown} is not a valid URL`);
  }
  const host = url.hostname;
  if (!host) throw new SourceConfigError(`RTSP URL ${shown} has no host`);
  if (!HOSTNAME.test(host) && !IPV6.test(host)) throw new SourceConfigError(`RTSP URL ${shown} has an invalid host name`);
  // WHATWG URL drops a scheme-default port and rejects > 65535; an explicit port 0 remains.
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) throw new SourceConfigError(`RTSP URL ${shown} has an invalid port`);
  const portText = /^rtsps?:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*)(?::([^/]*))?/i.exec(raw)?.[1];
  if (portText !== undefined && !/^[1-9][0-9]{0,4}$/.test(portText)) throw new SourceConfigError(`RTSP URL ${shown} has an invalid port`);
  if (url.hash) throw new SourceConfigError(`RTSP URL ${shown} must not contain a "#" fragment`);
  if (!PATH_AND_QUERY.test(url.pathname + url.search)) throw new SourceConfigError(`RTSP URL ${shown} has characters not allowed in a path`);
  return raw;
}

/**
 * Accepts an existing, readable regular file and returns it as an absolute `file:` URL-style
 * input, so that ffmpeg can never read it as an option ("-…") or another protocol ("concat:…").
 */
export function validateVideoFile(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new SourceConfigError('video file path must be a non-empty string');
  if (raw.length > 4096) throw new SourceConfigError('video file path is longer than 4096 characters');
  const shown = JSON.stringify(raw.slice(0, 200));
  if (CONTROL.test(raw)) throw new SourceConfigError(`video file path ${shown} contains control characters`);
  if (raw.startsWith('-')) throw new SourceConfigError(`video file path ${shown} starts with "-"`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[a-z]:[\\/]/i.test(raw)) {
    throw new SourceConfigError(`video file path ${shown} looks like a URL or protocol ("${raw.split(':')[0]}:"); give a path to a local file`);
  }
  const absolute = path.resolve(raw);
  let stat;
  try {
    stat = statSync(absolute);
  } catch {
    throw new SourceConfigError(`video file ${shown} does not exist`);
  }
  if (!stat.isFile()) throw new SourceConfigError(`video file ${shown} is not a regular file`);
  try {
    accessSync(absolute, constants.R_OK);
  } catch {
    throw new SourceConfigError(`video file ${shown} is not readable`);
  }
  return `file:${absolute}`;
}

/** Accepts /dev/videoN (N ≤ 999) naming an existing character device. */
export function validateV4l2Device(raw: unknown): string {
  if (typeof raw !== 'string' || !V4L2_DEVICE.test(raw)) throw new SourceConfigError(`V4L2 device must look like /dev/video0, got ${JSON.stringify(String(raw).slice(0, 100))}`);
  let stat;
  try {
    stat = statSync(raw);
  } catch {
    throw new SourceConfigError(`V4L2 device ${raw} does not exist`);
  }
  if (!stat.isCharacterDevice()) throw new SourceConfigError(`${raw} is not a character device`);
  return raw;
}
