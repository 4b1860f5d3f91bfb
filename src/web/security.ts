/**
 * What keeps the page safe: read-only methods, the Host header checked against the address the
 * server is bound to (a page of another site whose DNS name is rebound to 127.0.0.1 sends its
 * own name), and response headers that allow only the server's own scripts, styles, images and
 * connections (no inline script, no framing, no referrer).
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/** Methods the server answers; any other gets 405. */
export const READ_METHODS: readonly string[] = ['GET', 'HEAD'];

/** The Content-Security-Policy of every response. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers sent with every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const LOOPBACK = new Set(['127.0.0.1', '::1']);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** `[::1]:8080` → `{ host: '::1', port: 8080 }`; undefined when it does not parse. */
export function parseHostHeader(value: string): { host: string; port: number | undefined } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(value.trim());
  if (m === null) return undefined;
  return { host: (m[1] ?? m[2]!).toLowerCase(), port: m[3] === undefined ? undefined : Number(m[3]) };
}

/**
 * Whether a request's Host header names this server: its port, and as host the bound address
 * itself; for a loopback address also `localhost`; for a wildcard address (`0.0.0.0`, `::`) any
 * IP address, `localhost` and this machine's host name. Any other name (a rebound DNS name) is
 * refused.
 */
export function hostAllowed(header: string | undefined, bound: { readonly address: string; readonly port: number }, machine = hostname()): boolean {
  if (header === undefined) return false;
  const parsed = parseHostHeader(header);
  if (parsed === undefined || parsed.port !== bound.port) return false;
  const { host } = parsed;
  const address = bound.address.toLowerCase();
  if (host === address) return true;
  const loopback = LOOPBACK.has(address) || WILDCARD.has(address);
  if (host === 'localhost' && loopback) return true;
  if (WILDCARD.has(address)) {
    if (isIP(host) !== 0) return true;
    const name = machine.toLowerCase();
    return host === name || host.startsWith(`${name}.`);
  }
  return false;
}
