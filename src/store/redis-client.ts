/**
 * The Redis client class (ioredis), loaded from the one-file bundle the build makes of it
 * (dist/vendor/ioredis.cjs: much cheaper to load than its ~57 modules, see scripts/build.mjs), or
 * from node_modules when running from source. Imported only by the Redis store.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Redis as RedisClass } from 'ioredis';

const require = createRequire(import.meta.url);

/** Path of the module that exports the client: the bundle next to dist/, else the package. */
function clientPath(): string {
  for (const rel of ['../vendor/ioredis.cjs', './vendor/ioredis.cjs']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return require.resolve('ioredis');
}

/** Where the client module is (a worker thread of its own, the heartbeat, requires it too). */
export const IOREDIS_PATH = clientPath();

/** ioredis's Redis class. */
export const Redis = (require(IOREDIS_PATH) as { Redis: typeof RedisClass }).Redis;
export type Redis = RedisClass;
