/**
 * Token check for HTTP requests and WebSocket upgrades. The token may come as
 * `Authorization: Bearer <token>`, a `?token=` query parameter (how a person opens the dashboard
 * the first time) or the `countertop_token` cookie the server sets after that, so the page's own
 * asset and WebSocket requests carry it without putting it in every URL.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'countertop_token';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  // Compare fixed-length digests so the comparison time says nothing about the token.
  return timingSafeEqual(digest(expected), digest(given));
}

export function tokenFromRequest(req: IncomingMessage): { token?: string; via?: 'header' | 'query' | 'cookie' } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), via: 'header' };
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams.get('token');
  if (q) return { token: q, via: 'query' };
  const cookie = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${TOKEN_COOKIE}=`));
  if (cookie) return { token: decodeURIComponent(cookie.slice(TOKEN_COOKIE.length + 1)), via: 'cookie' };
  return {};
}

/** ok when no token is configured (loopback) or the request carries the right one. */
export function authorize(expected: string | undefined, req: IncomingMessage): { ok: boolean; via?: 'header' | 'query' | 'cookie' } {
  if (!expected) return { ok: true };
  const { token, via } = tokenFromRequest(req);
  return tokenMatches(expected, token) ? { ok: true, via } : { ok: false };
}

/**
 * The host name a request was addressed to (lowercase, no port, no IPv6 brackets, no trailing
 * dot), or undefined when the Host header is missing or not a plain host[:port].
 */
export function requestHostname(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::\d{1,5})?$/i.exec(hostHeader);
  if (!m) return undefined;
  return (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
}

/**
 * DNS rebinding guard for a server without a token: a page on `rebind.attacker.test` whose name
 * the attacker re-points at 127.0.0.1 reaches this server as a same-origin request, so the Host
 * header (which the browser sets to the attacker's name) must be a loopback name or the bound host.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string): boolean {
  const name = requestHostname(hostHeader);
  if (name === undefined) return false;
  const bound = boundHost.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === bound || name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
