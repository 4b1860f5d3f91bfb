/**
 * A store opened on first use. `openStore()` and `setJugdir()` are synchronous, but a network
 * store connects asynchronously, and its client module should only be loaded when it is used: this
 * wrapper has the store's location at once, and imports and connects the real store (e.g.
 * redis-store.ts, with ioredis) when the first method is called. File-store users never load it.
 */
import type { RunningNote, RunRecord } from '../run-records-types.js';
import type { FailureRecord, Lock, LockInfo, RunLogCompaction, Store } from './store.js';

/** A Store whose real store is opened by `open` on the first call. */
export class LazyStore implements Store {
  readonly location: string;
  readonly #open: () => Promise<Store>;
  #opening: Promise<Store> | undefined;
  #store: Store | undefined;
  #keepAlive: { readonly mainThread?: boolean } | undefined;

  constructor(location: string, open: () => Promise<Store>) {
    this.location = location;
    this.#open = open;
  }

  /** The real store, opened (connected) on the first call. */
  opened(): Promise<Store> {
    this.#opening ??= this.#open().then((s) => {
      this.#store = s;
      if (this.#keepAlive !== undefined) s.keepAlive?.(this.#keepAlive);
      return s;
    });
    return this.#opening;
  }

  async has(hash: string): Promise<boolean> {
    return (await this.opened()).has(hash);
  }
  async load(hash: string, taskName?: string): Promise<unknown> {
    return (await this.opened()).load(hash, taskName);
  }
  async loadMany(hashes: readonly string[], taskNames?: readonly (string | undefined)[]): Promise<unknown[]> {
    const store = await this.opened();
    if (store.loadMany !== undefined) return store.loadMany(hashes, taskNames);
    return Promise.all(hashes.map((h, k) => store.load(h, taskNames?.[k])));
  }
  async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    return (await this.opened()).dump(hash, value, taskName);
  }
  async setAsideCorrupt(hash: string): Promise<string | undefined> {
    return (await this.opened()).setAsideCorrupt(hash);
  }
  async remove(hash: string): Promise<boolean> {
    return (await this.opened()).remove(hash);
  }
  async list(): Promise<Set<string>> {
    return (await this.opened()).list();
  }
  async listLocks(): Promise<Map<string, LockInfo>> {
    return (await this.opened()).listLocks();
  }
  lock(hash: string): Lock {
    if (this.#store !== undefined) return this.#store.lock(hash);
    let real: Lock | undefined;
    const get = async (): Promise<Lock> => (real ??= (await this.opened()).lock(hash));
    return {
      hash,
      get: async () => (await get()).get(),
      release: async () => (await get()).release(),
      fail: async (record?: FailureRecord) => (await get()).fail(record),
      adopt: async () => (await get()).adopt(),
      isLocked: async () => (await get()).isLocked(),
      isFailed: async () => (await get()).isFailed(),
    };
  }
  lockAhead(hash: string): void {
    this.#store?.lockAhead?.(hash);
  }
  flush(): void {
    this.#store?.flush();
  }
  async clearStaleLocks(): Promise<number> {
    return (await this.opened()).clearStaleLocks();
  }
  async clearDeadWrites(): Promise<number> {
    return (await this.opened()).clearDeadWrites();
  }
  async abandonWrites(): Promise<void> {
    if (this.#opening !== undefined) await (await this.opened()).abandonWrites();
  }
  keepAlive(options: { readonly mainThread?: boolean } = {}): void {
    if (this.#store !== undefined) this.#store.keepAlive?.(options);
    else this.#keepAlive = options;
  }
  async close(): Promise<void> {
    if (this.#opening === undefined) return;
    let store: Store;
    try {
      store = await this.#opening;
    } catch {
      return; // never opened: nothing to close
    }
    await store.close();
  }
  async removeFailedLock(hash: string): Promise<boolean> {
    return (await this.opened()).removeFailedLock(hash);
  }
  async failures(): Promise<Map<string, FailureRecord | undefined>> {
    return (await this.opened()).failures();
  }
  async failureRecord(hash: string): Promise<FailureRecord | undefined> {
    return (await this.opened()).failureRecord(hash);
  }
  async recordRun(entry: RunRecord, urgent?: boolean): Promise<void> {
    const s = await this.opened();
    await s.recordRun?.(entry, urgent);
  }
  async noteRunning(running: readonly RunningNote[]): Promise<void> {
    // Nothing to remove from a store never opened.
    if (running.length === 0 && this.#opening === undefined) return;
    const s = await this.opened();
    await s.noteRunning?.(running);
  }
  async runningNotes(): Promise<RunningNote[]> {
    const s = await this.opened();
    return s.runningNotes === undefined ? [] : s.runningNotes();
  }
  async runLog(): Promise<RunRecord[]> {
    const s = await this.opened();
    return s.runLog === undefined ? [] : s.runLog();
  }
  async runLogTexts(): Promise<string[]> {
    const s = await this.opened();
    if (s.runLogTexts !== undefined) return s.runLogTexts();
    // A store keeping its records otherwise: the same records, as JSON lines.
    return s.runLog === undefined ? [] : [(await s.runLog()).map((r) => JSON.stringify(r) + '\n').join('')];
  }
  async compactRunLog(stored: ReadonlySet<string>): Promise<RunLogCompaction> {
    const s = await this.opened();
    return s.compactRunLog === undefined ? { read: 0, kept: 0 } : s.compactRunLog(stored);
  }
}
