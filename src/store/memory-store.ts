/**
 * In-memory store for tests and scripts: same semantics as the file store (results go through
 * the same encoding, so unstorable values fail the same way), no persistence, one process.
 */
import { CorruptResultError, NotComputedError } from '../errors.js';
import { decodeResult, encodeResult } from './encode.js';
import { checkHash } from './file-store.js';
import { boundRecord } from './failure-record.js';
import type { FailureRecord, Lock, LockInfo, RunLogCompaction, Store } from './store.js';
import { recordsToKeep } from '../run-record-lines.js';
import type { RunningNote, RunRecord } from '../run-records-types.js';

/** A store kept in memory; useful in tests. */
export class MemoryStore implements Store {
  readonly location = ':memory:';
  readonly results = new Map<string, Buffer>();
  readonly locks = new Map<string, LockInfo>();
  /** Failure records of failure marks (kept as the file store keeps them: bounded, copied). */
  readonly #records = new Map<string, FailureRecord>();

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
    const records = this.#records;
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
        records.delete(hash);
      },
      async fail(record?: FailureRecord) {
        if (!held) return false;
        locks.set(hash, { failed: true, stale: false });
        if (record === undefined) records.delete(hash);
        else records.set(hash, structuredClone(boundRecord(record)));
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

  /** Run records, in the order they were recorded (copies: records are plain data). */
  readonly #runs: RunRecord[] = [];

  async recordRun(entry: RunRecord): Promise<void> {
    this.#runs.push(structuredClone(entry));
  }

  async runLog(): Promise<RunRecord[]> {
    return structuredClone(this.#runs);
  }

  async compactRunLog(stored: ReadonlySet<string>): Promise<RunLogCompaction> {
    const read = this.#runs.length;
    const kept = recordsToKeep(this.#runs, stored);
    this.#runs.splice(0, read, ...kept);
    return { read, kept: kept.length };
  }

  #running: RunningNote[] = [];

  async noteRunning(running: readonly RunningNote[]): Promise<void> {
    this.#running = structuredClone([...running]);
  }

  async runningNotes(): Promise<RunningNote[]> {
    return structuredClone(this.#running);
  }

  async removeFailedLock(hash: string): Promise<boolean> {
    if (this.locks.get(hash)?.failed !== true) return false;
    this.#records.delete(hash);
    return this.locks.delete(hash);
  }

  async failures(): Promise<Map<string, FailureRecord | undefined>> {
    const out = new Map<string, FailureRecord | undefined>();
    for (const [hash, info] of this.locks) if (info.failed) out.set(hash, await this.failureRecord(hash));
    return out;
  }

  async failureRecord(hash: string): Promise<FailureRecord | undefined> {
    if (this.locks.get(hash)?.failed !== true) return undefined;
    const r = this.#records.get(hash);
    return r === undefined ? undefined : structuredClone(r);
  }
}
