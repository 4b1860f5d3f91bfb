/**
 * Store URLs: `redis://[user:password@]host[:port][/db][?prefix=NAME]` and `rediss://…` (TLS).
 * Parsing and password masking only — no client is loaded here, so that file-store users pay
 * nothing for the Redis store (the client is imported by redis-store.ts, on first use).
 */
import { basename, extname } from 'node:path';
import { UsageError } from '../errors.js';

/** Where a Redis store lives and how to reach it (the parsed form of its URL). */
export interface RedisConfig {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** Key prefix of this store's keys (`<prefix>:results`, `<prefix>:lock:<hash>`, …). */
  readonly prefix: string;
  /** The URL with the password masked: what every message and `Store.location` show. */
  readonly location: string;
  /** `host:port`, for messages. */
  readonly address: string;
}

/** The jugdir forms jug accepts, for messages. */
export const SUPPORTED_FORMS =
  'a directory path, `:memory:`, `redis://[user:password@]host[:port][/db][?prefix=NAME]` or `rediss://…` (Redis over TLS)';

/** Whether a jugdir string names a store by URL (`scheme://…`), rather than a directory path. */
export function isStoreUrl(jugdir: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(jugdir);
}

/** Whether a jugdir string is a Redis URL. */
export function isRedisUrl(jugdir: string): boolean {
  return /^rediss?:\/\//i.test(jugdir);
}

/** `text` with the password of every `scheme://user:password@` in it replaced by `***`. */
export function maskSecrets(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

/**
 * A Redis jugdir with the default prefix `jug:<jugfile name>` added when it has none (so that
 * several projects can share one Redis); other jugdirs unchanged.
 */
export function withDefaultPrefix(jugdir: string, jugfile: string): string {
  if (!isRedisUrl(jugdir) || /[?&]prefix=/.test(jugdir)) return jugdir;
  const name = basename(jugfile, extname(jugfile));
  return `${jugdir}${jugdir.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(`jug:${name}`)}`;
}

/**
 * Parses a Redis URL. The password comes from the URL or, when it has none, from
 * `JUG_REDIS_PASSWORD`. Throws a UsageError (exit 2) naming what is wrong, password masked.
 */
export function parseRedisUrl(jugdir: string, env: NodeJS.ProcessEnv = process.env): RedisConfig {
  const shown = maskSecrets(jugdir);
  const bad = (why: string): UsageError =>
    new UsageError(`jugdir ${shown}: ${why}. Expected redis://[user:password@]host[:port][/db][?prefix=NAME] (or rediss:// for TLS).`);
  let url: URL;
  try {
    url = new URL(jugdir);
  } catch {
    throw bad('not a valid URL');
  }
  const tls = url.protocol.toLowerCase() === 'rediss:';
  if (url.hostname === '') throw bad('no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${url.port} is not valid`);
  const path = url.pathname.replace(/^\/+/, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw bad(`the database "${path}" is not a number (redis://host:port/<db>, db 0 by default)`);
  const db = path === '' ? 0 : Number(path);
  let prefix = 'jug';
  for (const [k, v] of url.searchParams) {
    if (k !== 'prefix') throw bad(`unknown parameter "${k}" (only prefix=NAME is known)`);
    if (v === '' || /\s/.test(v)) throw bad('the prefix must be a non-empty name without spaces');
    prefix = v;
  }
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw bad('the user name or password is not validly %-encoded');
    }
  };
  const username = url.username === '' ? undefined : decode(url.username);
  const password = url.password !== '' ? decode(url.password) : env['JUG_REDIS_PASSWORD'] || undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const address = `${url.hostname}:${port}`;
  const auth = username === undefined && password === undefined ? '' : `${username ?? ''}${password === undefined ? '' : ':***'}@`;
  const location = `${tls ? 'rediss' : 'redis'}://${auth}${address}/${db}?prefix=${prefix}`;
  return {
    tls,
    host,
    port,
    db,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    prefix,
    location,
    address,
  };
}

/** The UsageError for a `scheme://` jugdir that is no store jug knows. */
export function unsupportedStore(jugdir: string): UsageError {
  const scheme = jugdir.slice(0, jugdir.indexOf('://'));
  return new UsageError(
    `jugdir ${maskSecrets(jugdir)}: "${scheme}://" is not a store jug supports. A jugdir is ${SUPPORTED_FORMS}.`,
  );
}
