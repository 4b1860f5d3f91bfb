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
    // The client (ioredis) is imported only now, on first use of a Redis store.
    return new LazyStore(config.location, async () => {
      const { RedisStore } = await import('./redis-store.js');
      return RedisStore.open(config, { leaseMs: options.leaseMs });
    });
  }
  if (isStoreUrl(jugdir)) throw unsupportedStore(jugdir);
  return new FileStore(jugdir, options);
}
