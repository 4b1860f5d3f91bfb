/**
 * Large typed-array results this process has just stored, kept in memory to be handed to the first
 * reader in this process (the task that depends on it, usually) instead of being read back from
 * the file: reading 2 MiB into a new array costs ~4–8 ms on this project's VM, nearly all of it
 * page faults of the new memory (docs/design.md, "Big results: what bounds them on this VM").
 *
 * What a reader gets is what it would have read: the array is handed over only when
 *  - its result was committed (durable, visible) by this store, and its file is still there with
 *    the size written (not removed, invalidated or packed away meanwhile, by any process);
 *  - it still holds the bytes it was encoded from (one CRC-32 pass: a task that changed the array
 *    it returned, or refilled it for its next result, is caught);
 * and only once: the second reader reads the file, so two readers never share one array, as with
 * loads from the file. Anything else (not kept, evicted, changed) falls back to reading the file.
 *
 * Bounded: at most KEEP_MAX_BYTES (256 MiB, or 1/16 of the machine's memory if less) are kept;
 * the oldest go first. Only the main thread keeps results: a worker thread's results are committed
 * by the main thread, which reads them from the files.
 */
import fs from 'node:fs';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { keptUnchanged, type KeptValue } from './encode.js';

/** Results smaller than this are not kept: reading them back is cheap. */
export const KEEP_MIN_BYTES = 64 * 1024;
/** Bytes of results kept at most. */
export const KEEP_MAX_BYTES = Math.min(256 * 1024 * 1024, Math.floor(os.totalmem() / 16));

interface Entry {
  readonly kept: KeptValue;
  /** Size of the result's file. */
  readonly size: number;
  committed: boolean;
}

export class ResultHandoff {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(private readonly maxBytes = isMainThread ? KEEP_MAX_BYTES : 0) {}

  /** Keeps `kept` (the result of `hash`, `size` bytes in its file) until it is committed, then read. */
  keep(hash: string, kept: KeptValue, size: number): void {
    this.drop(hash);
    if (kept.length < KEEP_MIN_BYTES || kept.length > this.maxBytes) return;
    for (const [oldest] of this.#entries) {
      if (this.#bytes + kept.length <= this.maxBytes) break;
      this.drop(oldest);
    }
    this.#entries.set(hash, { kept, size, committed: false });
    this.#bytes += kept.length;
  }

  /** The result of `hash` is committed: from now on it may be handed over. */
  committed(hash: string): void {
    const e = this.#entries.get(hash);
    if (e !== undefined) e.committed = true;
  }

  drop(hash: string): void {
    const e = this.#entries.get(hash);
    if (e === undefined) return;
    this.#entries.delete(hash);
    this.#bytes -= e.kept.length;
  }

  /**
   * The kept value of `hash`, whose file is at `path`, when it may be handed over (see above);
   * undefined otherwise (read the file). Either way it is no longer kept.
   */
  take(hash: string, path: string): unknown {
    const e = this.#entries.get(hash);
    if (e === undefined) return undefined;
    this.drop(hash);
    if (!e.committed || fs.statSync(path, { throwIfNoEntry: false })?.size !== e.size) return undefined;
    return keptUnchanged(e.kept) ? e.kept.value : undefined;
  }

  /** Whether the result of `hash` is kept now (for tests). */
  holds(hash: string): boolean {
    return this.#entries.has(hash);
  }

  /** Bytes kept now (for tests). */
  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
