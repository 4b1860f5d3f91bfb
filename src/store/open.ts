/**
 * Chooses a store for a jugdir string: `:memory:` for an in-memory store, `redis://…` /
 * `rediss://…` for a Redis store (opened on first use: see lazy-store.ts), any other `scheme://…`
 * is an error, anything else is a file store path.
 */
import { FileStore, type FileStoreOptions } from './file-store.js';
import { LazyStore } from './lazy-store.js';
import { MemoryStore } from './memory-store.js';
import { isRedisUrl, isStoreUrl, parseRedisUrl, unsupportedStore } from './redis-url.js';
import type { Store } from './store.js';

/** Opens the store a jugdir string names. Throws a UsageError for a URL it cannot use. */
export function openStore(jugdir: string, options: FileStoreOptions = {}): Store {
  if (jugdir === ':memory:') return new MemoryStore();
  if (isRedisUrl(jugdir)) {
    const config = parseRedisUrl(jugdir);
    // The client (ioredis) is imported only for a Redis store, starting now: its loading overlaps
    // with the jugfile's bundling; the connection is made on first use.
    const module = import('./redis-store.js');
    module.catch(() => {}); // reported on first use
    return new LazyStore(config.location, async () => (await module).RedisStore.open(config, { leaseMs: options.leaseMs, groupMs: options.commitDelayMs }));
  }
  if (isStoreUrl(jugdir)) throw unsupportedStore(jugdir);
  return new FileStore(jugdir, options);
}
