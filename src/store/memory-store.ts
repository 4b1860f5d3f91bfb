/**
 * In-memory store for tests and scripts: same semantics as the file store (results go through
 * the same encoding, so unstorable values fail the same way), no persistence, one process.
 */
import { CorruptResultError, NotComputedError } from '../errors.js';
import { decodeResult, encodeResult } from './encode.js';
import { checkHash } from './file-store.js';
import type { Lock, LockInfo, Store } from './store.js';

/** A store kept in memory; useful in tests. */
export class MemoryStore implements Store {
  readonly location = ':memory:';
  readonly results = new Map<string, Buffer>();
  readonly locks = new Map<string, LockInfo>();

  async has(hash: string): Promise<boolean> {
    return this.results.has(hash);
  }

  async load(hash: string, taskName?: string): Promise<unknown> {
    const bytes = this.results.get(hash);
    const who = taskName === undefined ? `hash ${hash}` : `task '${taskName}' (hash ${hash})`;
    if (bytes === undefined) throw new NotComputedError(`The result of ${who} is not in the store: run it first.`, hash);
    try {
      return decodeResult(bytes, `of ${who} in memory`);
    } catch (e) {
      if (!(e instanceof CorruptResultError)) throw e;
      throw new CorruptResultError(e.message, e.path, e.reason, hash, taskName);
    }
  }

  /** Drops a corrupt result (there is no place to keep it); returns undefined. */
  async setAsideCorrupt(hash: string): Promise<string | undefined> {
    const bytes = this.results.get(hash);
    if (bytes === undefined) return undefined;
    try {
      decodeResult(bytes, 'in memory');
    } catch {
      this.results.delete(hash);
    }
    return undefined;
  }

  async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    checkHash(hash);
    this.results.set(hash, encodeResult(value, taskName));
  }

  async remove(hash: string): Promise<boolean> {
    return this.results.delete(hash);
  }

  async list(): Promise<Set<string>> {
    return new Set(this.results.keys());
  }

  async listLocks(): Promise<Map<string, LockInfo>> {
    return new Map(this.locks);
  }

  lock(hash: string): Lock {
    checkHash(hash);
    const locks = this.locks;
    let held = false;
    return {
      hash,
      async get() {
        if (held) return true;
        if (locks.has(hash)) return false;
        locks.set(hash, { failed: false, stale: false });
        held = true;
        return true;
      },
      async release() {
        if (!held) return;
        held = false;
        locks.delete(hash);
      },
      async fail() {
        if (!held) return false;
        locks.set(hash, { failed: true, stale: false });
        return true;
      },
      async adopt() {
        held = locks.has(hash);
        return held;
      },
      async isLocked() {
        return locks.has(hash);
      },
      async isFailed() {
        return locks.get(hash)?.failed === true;
      },
    };
  }

  async abandonWrites(): Promise<void> {}

  async clearDeadWrites(): Promise<number> {
    return 0;
  }

  flush(): void {}

  async clearStaleLocks(): Promise<number> {
    return 0; // one process: its locks cannot outlive it
  }

  async close(): Promise<void> {}

  async removeFailedLock(hash: string): Promise<boolean> {
    if (this.locks.get(hash)?.failed !== true) return false;
    return this.locks.delete(hash);
  }
}
