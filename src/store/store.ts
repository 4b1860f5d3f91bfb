/**
 * The store interface. Nothing outside `src/store/` knows how results and locks are laid out;
 * everything goes through these methods. Keys are 40-hex task hashes.
 *
 * Methods are async so that network stores (Redis) fit; the file store does its work with
 * synchronous system calls inside them, which measured ~3× faster than fs/promises.
 */

import type { RunningNote, RunRecord } from '../run-records-types.js';
import type { PackOptions, PackReport } from './pack.js';

/** State of one lock as seen in a listing. */
export interface LockInfo {
  /** Marked failed (`--keep-failed`): the task failed and is kept out of runs until cleaned up. */
  readonly failed: boolean;
  /**
   * Its holder is gone (a process of this host that no longer runs, or another host's that
   * stopped beating longer than the lease ago): the next `get()` reclaims it.
   */
  readonly stale: boolean;
  /** Who holds it, when the lock names a holder (Jug's `PID <pid> on HOSTNAME <host>`). */
  readonly holder?: { readonly host: string; readonly pid: number };
  /**
   * When its holder last showed it is alive (epoch ms; the file store: the lock's mtime, which the
   * holder's heartbeat refreshes). Absent for failure marks and stores that cannot tell.
   */
  readonly heartbeatAt?: number;
  /**
   * When this lock becomes stale for the reading process if its holder's heartbeat stays stopped
   * (epoch ms): the heartbeat plus the lease. Absent when the lease does not apply (a holder of
   * this host is judged at once; lease 0: never).
   */
  readonly staleAt?: number;
}

/**
 * Why a task failed, stored with its failure mark (`jug execute --keep-failed`) so that every later
 * command, in any process on any host, can show it (`jug status --failed`, `jug execute`). Plain
 * data (JSON-safe).
 */
export interface FailureRecord {
  /** Task name, e.g. `errs.risky`. */
  readonly task: string;
  /** Task hash (40 hex). */
  readonly hash: string;
  /** The task's arguments described in one line (describe() form, truncated). */
  readonly args: string;
  /** The error: name, message and stack (jug's own frames removed). */
  readonly error: { readonly name: string; readonly message: string; readonly stack: string };
  /** Host name of the process the task ran in. */
  readonly host: string;
  /** Process id of that process. */
  readonly pid: number;
  /** Worker thread id (`--threads`); absent when the task ran in the main thread or it is not known. */
  readonly thread?: number;
  /** When the task failed, ISO 8601 (UTC). */
  readonly time: string;
  /** How long the task function ran before it failed, ms; absent if it never started. */
  readonly durationMs?: number;
  /** How many times the task was tried in that run (retries); absent: once. */
  readonly attempts?: number;
}

/** A lock on one task, shared by every process and thread using the store. */
export interface Lock {
  /** Task hash this lock guards. */
  readonly hash: string;
  /**
   * Tries to take the lock, without waiting. True if this caller now holds it. A lock left by a
   * dead process on this host is reclaimed (race-free) rather than reported held.
   */
  get(): Promise<boolean>;
  /** Releases the lock if held by this caller. */
  release(): Promise<void>;
  /**
   * Marks the held lock as failed (it then stays until cleaned up), storing `record` with the mark
   * (atomically: a reader sees the mark with the whole record or without one). False if not locked.
   */
  fail(record?: FailureRecord): Promise<boolean>;
  /**
   * Takes over the lock if this process holds it through another thread (one that died while
   * running the task), so that `release()` / `fail()` work on it. True if taken over.
   */
  adopt(): Promise<boolean>;
  /** Whether a live owner holds the lock (running or failed); a lock left by a dead process on this host does not count. */
  isLocked(): Promise<boolean>;
  /** Whether the lock exists and is marked failed. */
  isFailed(): Promise<boolean>;
}

/**
 * A result written by `Store.prepare()` but not yet committed: plain data, so a worker thread can
 * hand it to the main thread, which commits it (`Store.commitPrepared()`).
 */
export interface PreparedResult {
  readonly hash: string;
  /** Where the encoded result waits (file store: a temporary file in the jugdir). */
  readonly tmp: string;
  readonly taskName?: string | undefined;
  /** Size of the encoded result in bytes (the file store flushes small ones synchronously). */
  readonly bytes?: number;
}

/** Where results live. */
export interface Store {
  /** Human-readable location, e.g. the jugdir path. */
  readonly location: string;
  /** Whether a result is stored under `hash`. */
  has(hash: string): Promise<boolean>;
  /**
   * Reads the result stored under `hash`. Throws NotComputedError if absent, CorruptResultError
   * if it does not decode. `taskName` only improves messages.
   */
  load(hash: string, taskName?: string): Promise<unknown>;
  /**
   * `load()` of several results at once, in order (value() of an array of tasks uses it when the
   * store has it). Optional: for stores where a batch is cheaper than one `load()` each (the file
   * store decodes packed results in one loop). Throws what the first failing `load()` would.
   */
  loadMany?(hashes: readonly string[], taskNames?: readonly (string | undefined)[]): Promise<unknown[]>;
  /** Stores `value` under `hash` atomically (readers see the old state or the whole new one). */
  dump(hash: string, value: unknown, taskName?: string): Promise<void>;
  /**
   * Moves the result under `hash` out of the way if it is corrupt (it no longer counts as stored),
   * so that it can be recomputed; the file store keeps it under `<jugdir>/corrupt/` for inspection.
   * Returns where it was moved, or undefined if nothing was moved (gone, replaced by a good result
   * meanwhile, or a store with nowhere to keep it).
   */
  setAsideCorrupt(hash: string): Promise<string | undefined>;
  /**
   * `dump()` in two halves, for stores where they can happen in different threads (the file
   * store): `prepare()` writes the encoded result where it is not yet visible, `commitPrepared()`
   * makes it durable and visible. Stores without them are only used with `dump()`.
   */
  prepare?(hash: string, value: unknown, taskName?: string): Promise<PreparedResult>;
  /**
   * `release`: the caller's held lock of this task, which the store may release itself once the
   * result is durable and visible, before resolving (the file store does so when it commits in its
   * helper thread, so that the lock goes as soon as it may while the caller runs the next task). A
   * lock the store did not release is still held: the caller releases it as usual (a second
   * `release()` does nothing).
   */
  commitPrepared?(prepared: PreparedResult, urgent?: boolean, release?: Lock): Promise<void>;
  /** Removes the result under `hash`; true if there was one. */
  remove(hash: string): Promise<boolean>;
  /**
   * Removes several results at once; returns the hashes that were stored. Optional: stores where
   * a batch is cheaper than one `remove()` each (the file store: packed results are removed under
   * one pack lock and one flush).
   */
  removeMany?(hashes: Iterable<string>): Promise<Set<string>>;
  /**
   * `jug pack`: moves many small results into a few files (the file store's packs), safely while
   * other processes run. Optional: stores without packs cannot be packed.
   */
  pack?(options?: PackOptions): Promise<PackReport>;
  /** Every stored hash, in one listing. */
  list(): Promise<Set<string>>;
  /** Every lock, in one listing. */
  listLocks(): Promise<Map<string, LockInfo>>;
  /** The lock object for `hash` (not taken until `get()`). */
  lock(hash: string): Lock;
  /**
   * Hint that this process will soon call `lock(hash).get()` (the serial executor and each worker
   * thread say so for each task they are given, in order). Optional: a network store (Redis) takes
   * the locks of several announced tasks in one round trip; a lock taken ahead and never asked for
   * is released at `close()`.
   */
  lockAhead?(hash: string): void;
  /**
   * Hint that the caller has no more results coming for now: commit the pending ones at once
   * (stores that group commits; others do nothing).
   */
  flush(): void;
  /**
   * Removes locks left by processes that no longer run (on this host), race-free; returns how
   * many. A run calls it first, so that tasks whose result such a process had already stored do
   * not keep a dead lock forever.
   */
  clearStaleLocks(): Promise<number>;
  /**
   * Removes temporary writes left by processes that no longer run (on this host), e.g. killed
   * with SIGKILL mid-write; returns how many. A run calls it first, like clearStaleLocks().
   */
  clearDeadWrites(): Promise<number>;
  /**
   * Removes this process's unfinished temporary writes (after its writer threads were killed).
   * Results themselves are never partial: they appear whole or not at all.
   */
  abandonWrites(): Promise<void>;
  /**
   * Keeps this process's locks alive while it runs (stores whose locks expire: the file store
   * refreshes them from a heartbeat thread). `close()` ends it. `mainThread`: the caller never
   * blocks its event loop while it holds locks (task code runs in worker threads), so the beat
   * may run as a timer here instead of in a thread of its own (which would cost a thread start).
   */
  keepAlive?(options?: { readonly mainThread?: boolean }): void;
  /** Releases resources (connections, the heartbeat). */
  close(): Promise<void>;
  /**
   * Removes the lock of `hash` if it is marked failed (a failure mark left by `--keep-failed`),
   * whoever left it; a lock that is not marked failed (a running task's) is never touched. True if
   * a failure mark was removed. Used by `jug cleanup` and `jug invalidate`.
   */
  removeFailedLock(hash: string): Promise<boolean>;
  /**
   * Every failure mark, in one listing, with its failure record: undefined when the mark has none
   * that can be read (left by Python Jug or an older jug, or damaged). Removing the mark
   * (`removeFailedLock`) removes its record.
   */
  failures(): Promise<Map<string, FailureRecord | undefined>>;
  /** The failure record of `hash`'s failure mark; undefined if it is not marked failed or has no readable record. */
  failureRecord(hash: string): Promise<FailureRecord | undefined>;
  /**
   * Appends a run record of this process (see src/run-records-types.ts). Optional: a store
   * without run records has no timing, timeline or outdated detection.
   */
  recordRun?(entry: RunRecord, urgent?: boolean): Promise<void>;
  /** Every readable run record of every process that used this store. */
  runLog?(): Promise<RunRecord[]>;
  /**
   * The run records as stored, unparsed: one JSON-lines text per source (a FileStore: per run-log
   * file), `parseRunLines()` of which gives {@link runLog}. Optional, for cheap scans
   * (src/outdated/quick-check.ts): without it, callers parse the whole log.
   */
  runLogTexts?(): Promise<string[]>;
  /**
   * Replaces this process's notes of its running tasks (see RunningNote); an empty list removes
   * them. Optional, like run records: without it running tasks show no start or thread.
   */
  noteRunning?(running: readonly RunningNote[]): Promise<void>;
  /**
   * Compacts the run records (`jug cleanup`, `jug invalidate`): keeps what recordsToKeep()
   * (src/run-record-lines.ts) keeps given `stored` (a listing of the results taken before the call),
   * safely while other processes run and record. Optional: a store without it keeps every record.
   */
  compactRunLog?(stored: ReadonlySet<string>): Promise<RunLogCompaction>;
  /** Every process's notes of its running tasks (a dead process's may remain: join them with live locks). */
  runningNotes?(): Promise<RunningNote[]>;
}

/** What compacting the run records did (`Store.compactRunLog`). */
export interface RunLogCompaction {
  /** Records read (those that could be compacted: the file store leaves live processes' files alone). */
  readonly read: number;
  /** Records kept of them. */
  readonly kept: number;
}
