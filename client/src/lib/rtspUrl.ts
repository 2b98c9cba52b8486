/** The same rule as the server's schema, checked as the user types so mistakes show before sending. */
export function rtspUrlProblem(raw: string): string | null {
  const s = raw.trim();
  if (s.length === 0) return 'Enter the camera URL, e.g. rtsp://192.168.1.20:554/stream1';
  if (/\s/.test(s)) return 'The URL may not contain spaces';
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return 'Not a URL: expected rtsp://host[:port]/path';
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') return 'Only rtsp:// and rtsps:// cameras are supported';
  if (!url.hostname) return 'The URL needs a host';
  return null;
}
