/**
 * The file store: Python Jug's on-disk layout (docs/store-format.md), so a jugdir can be shared by
 * any number of processes and hosts over a shared filesystem.
 *
 *   <jugdir>/<h[0:2]>/<h[2:]>     result of the task with hash h (framing in encode.ts)
 *   <jugdir>/locks/<h>.lock       lock, created with O_EXCL; mtime = 1 s after the epoch = failed
 *   <jugdir>/tempfiles/<pid>-<host>-<random>  in-flight writes, flushed to disk then renamed into place
 *   <jugdir>/corrupt/<h>.<time>.<random>  corrupt results set aside by `jug execute` (kept for inspection)
 *   <jugdir>/runs/<pid>-<token>-<host>.jsonl  run records of one process (run-log-file.ts)
 *   <jugdir>/packs/                many small results in a few files, written by `jug pack` (pack.ts);
 *                                  consulted when a loose result file is missing (a loose file wins)
 *
 * Directories are created lazily: read-only commands create nothing.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CorruptResultError, NotComputedError, StoreError, describeError } from '../errors.js';
import { decodeResult, decodeResultFile, encodeResultParts } from './encode.js';
import { isLargeTypedArray, readAheadInPool } from './read-ahead.js';
import { fsyncDir, fsyncDirInPool, syncFs, syncFsAvailable } from './sync-fs.js';
import { writeEncoded } from './background-write.js';
import { ResultHandoff } from './handoff.js';
import { trace, tracing } from '../trace.js';
import type { FailureRecord, Lock, LockInfo, PreparedResult, RunLogCompaction, Store } from './store.js';
import { parseFailureRecord } from './failure-record.js';
import { FileLock, RECLAIM_MARKER_TTL_MS, linkedHere, type LockContext } from './file-lock.js';
import {
  DEFAULT_LEASE_MS,
  HEARTBEAT_MS,
  HOST,
  HOST_SAFE,
  isFailedMtime,
  isStale,
  isThisHost,
  localOwnerGone,
  OWNER_TOKEN,
  ownerFilePath,
  parseLockOwner,
  parseOwnerFileName,
  parseOwnerTmpName,
} from './lock-owner.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import type { CommitReply } from './commit-job.js';
import { compactRunFiles, RunLogFile, RUNS_DIR } from './run-log-file.js';
import type { RunningNote, RunRecord } from '../run-records-types.js';
import { PACK_MISS, PackReader, packLooseResults, removePacked, type PackHost, type PackOptions, type PackReport } from './pack.js';

export { FAILED_MTIME } from './lock-owner.js';

/** The names in `dir`, or none if it cannot be read (best-effort cleanups: nothing there to clean). */
function namesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

const HASH_RE = /^[0-9a-f]{40}$/;
const SHARD_RE = /^[0-9a-f]{2}$/;
const REST_RE = /^[0-9a-f]{38}$/;

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /**
   * Make each result durable (on disk, surviving power loss) before `dump()` resolves. Results
   * are flushed in groups with syncfs where available (see sync-fs.ts), else with fsync per file
   * and its directory. `false` skips flushing (results still appear atomically).
   * @default true
   */
  fsync?: boolean;
  /**
   * How long a stored result may wait for more results to be committed with it, unless `flush()`
   * or a full group commits it sooner. 0 commits at the next turn of the event loop. The runners
   * set a long delay and call `flush()` after each batch of tasks.
   * @default 0
   */
  commitDelayMs?: number;
  /**
   * Lease of locks held by processes on other hosts, ms: a lock whose heartbeat (mtime) is older
   * than this is stale and may be reclaimed. 0: never (e.g. for holders that do not beat).
   * @default 300000 (5 minutes)
   */
  leaseMs?: number;
  /**
   * Keep a large typed array a task returned (prepare() in the main thread) in memory after it is
   * stored, for its first reader in this process (handoff.ts), instead of reading it back. `false`
   * (`jug execute --aggressive-unload`): every read loads from the file, nothing is kept.
   * @default true
   */
  keepReturned?: boolean;
}

interface PendingCommit {
  readonly tmp: string;
  readonly final: string;
  /** Size of the result (unknown: treated as large). */
  readonly bytes: number;
  /** The task's lock, to release once the result is durable where the commit runs in the helper thread. */
  readonly lock?: FileLock | undefined;
  /** When its dump() or prepare() began (FileStore's counter): a flush() after that commits it at once. */
  readonly begun: number;
  /** From dump(): its caller waits for the commit, so nothing overlaps a flush in libuv's pool. */
  readonly waited: boolean;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** This process's pid (`process.pid` is a system call each time). */
/** Start of this process's temporary writes' names: `<pid>-<token>-<host>-` (then 16 hex). */
const WRITE_PREFIX = `${process.pid}-${OWNER_TOKEN}-${HOST_SAFE}-`;

/** Writer of an unfinished write named `<pid>-<token>-<host>-<16 hex>` (an older jug's has no token). */
function parseWriteName(name: string): { pid: number; host: string; token?: string } | undefined {
  const m = /^(\d+)-(?:([sr][0-9a-f]+)-)?(.+)-[0-9a-f]{16}$/.exec(name);
  if (m === null) return undefined;
  return m[2] === undefined ? { pid: Number(m[1]), host: m[3]! } : { pid: Number(m[1]), host: m[3]!, token: m[2] };
}

/** Identifies one process start of one host in file names. */
function writerKey(w: { pid: number; host: string; token?: string }): string {
  return `${w.pid}-${w.token ?? ''}-${w.host}`;
}

/**
 * Whether an owner file of this host belongs to a process that is gone: another start of this
 * process's pid (any owner file of our pid but our own), or a process no longer there.
 */
function ownerFileGone(path: string, ownFile: string, owner: { pid: number; token?: string }): boolean {
  if (owner.pid === process.pid) return path !== ownFile;
  return localOwnerGone(owner);
}

function isCode(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

/** Throws a StoreError unless `hash` is 40 lowercase hex characters (shared with MemoryStore). */
export function checkHash(hash: string): void {
  if (!HASH_RE.test(hash)) throw new StoreError(`Invalid task hash '${hash}': expected 40 lowercase hex characters.`);
}

/** Jug's file store. */
export class FileStore implements Store {
  readonly location: string;
  readonly #fsync: boolean;
  readonly #commitDelayMs: number;
  readonly #leaseMs: number;
  readonly #lockContext: LockContext;
  #heartbeat: Heartbeat | undefined;
  /** What keepAlive() asked for; the heartbeat starts with the first lock (#firstLock). */
  #keepAlive: { readonly mainThread?: boolean } | undefined;
  /** Whether a lock was taken (or tried) through this store: #firstLock() has run. */
  #locking = false;
  #madeDirs = new Set<string>();
  /** This process's run records, written with the commits of results (see #writeRuns). */
  readonly #runs: RunLogFile;
  /** The packs (`jug pack`): consulted when a loose result is missing. */
  readonly #packs: PackReader;

  constructor(jugdir: string, options: FileStoreOptions = {}) {
    this.location = jugdir.replace(/\/+$/, '') || '/';
    this.#fsync = options.fsync ?? true;
    this.#commitDelayMs = options.commitDelayMs ?? 0;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#handoff = new ResultHandoff(options.keepReturned === false ? 0 : undefined);
    this.#lockContext = {
      ensureDir: () => {
        this.#ensureDir(join(this.location, 'locks'));
        this.#ensureDir(join(this.location, 'tempfiles'));
        if (!this.#locking) this.#firstLock();
      },
      ownerFile: ownerFilePath(this.location),
      leaseMs: this.#leaseMs,
      fsError: (e, what) => this.#fsError(e, what),
      linkWorks: true,
    };
    this.#runs = new RunLogFile(this.location, (d) => this.#ensureDir(d), (e, what) => this.#fsError(e, what));
    this.#packs = new PackReader(this.location);
  }

  /**
   * At this store's first lock (a task about to run): learn whether group commit works, so that
   * the first result does not wait for it, and start the heartbeat keepAlive() asked for. Not
   * earlier: a run with nothing to do (a no-op re-execute, ~5,000 tasks all done) spent ~20 ms
   * spawning the sync helper and ~10 ms starting the heartbeat's thread, for nothing to flush and
   * no lock to keep alive (docs/design.md, "Start-up").
   */
  #firstLock(): void {
    this.#locking = true;
    if (this.#fsync && this.#commitDelayMs > 0) void syncFsAvailable(this.location);
    if (this.#keepAlive !== undefined) this.#startHeartbeat(this.#keepAlive);
  }

  /** Path of the result file for `hash`. */
  resultPath(hash: string): string {
    return join(this.location, hash.slice(0, 2), hash.slice(2));
  }

  /** Path of the lock file for `hash`. */
  lockPath(hash: string): string {
    return join(this.location, 'locks', `${hash}.lock`);
  }

  #ensureDir(dir: string): void {
    if (this.#madeDirs.has(dir)) return;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw this.#fsError(e, `create directory ${dir}`);
      // Either a real cause Node's recursive mkdir reports as ENOENT (mkdirCause finds it), or a
      // race with `jug pack` removing the shard it emptied between mkdir's EEXIST and its stat:
      // then the directory can simply be made again.
      const cause = mkdirCause(dir);
      if (cause !== undefined && !isCode(cause, 'EEXIST')) throw this.#fsError(cause, `create directory ${dir}`);
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (again) {
        throw this.#fsError(again, `create directory ${dir}`);
      }
    }
    this.#madeDirs.add(dir);
  }

  #fsError(e: unknown, what: string): StoreError {
    const code = (e as NodeJS.ErrnoException).code;
    let hint = '';
    if (code === 'ENOTDIR' || code === 'EEXIST') hint = ` Is the jugdir '${this.location}' (or a parent) a file? Use --jugdir to choose another.`;
    else if (code === 'EROFS') hint = ` The jugdir '${this.location}' is on a read-only filesystem: use --jugdir to choose a writable one.`;
    else if (code === 'EACCES' || code === 'EPERM') hint = ` Check the permissions of '${this.location}', or use --jugdir to choose another.`;
    else if (code === 'ENOSPC' || code === 'EDQUOT') hint = ' The disk is full: free space and run again; nothing was lost.';
    return new StoreError(`Could not ${what}: ${describeError(e)}.${hint}`);
  }

  async has(hash: string): Promise<boolean> {
    if (this.#packs.mayHold(hash) && this.#packs.find(hash, false) !== undefined) return true;
    return fs.existsSync(this.resultPath(hash)) || this.#packs.find(hash) !== undefined;
  }

  async load(hash: string, taskName?: string): Promise<unknown> {
    // A hash the cached pack index holds is read from the pack (see #readResult); any other is
    // read loose, straight into the value's memory (decodeResultFile), and from the pack only if
    // the loose file is missing. First the hot path of packed results: bytes held in memory,
    // decoded; any trouble (damage included) is left to the full path, which reports it.
    const cached = this.#packs.decodeCached(hash);
    return cached !== PACK_MISS ? cached : this.#loadSlow(hash, taskName);
  }

  /** Large typed arrays this process just stored, handed to their first reader (handoff.ts). */
  readonly #handoff: ResultHandoff;

  /**
   * load() of many results at once (value() of an array of tasks): the packed ones decoded in one
   * loop (PackReader.decodeManyCached), the others one by one as load() reads them. Fails, like
   * the first failing load() in order would, on the first result that cannot be loaded.
   */
  async loadMany(hashes: readonly string[], taskNames?: readonly (string | undefined)[]): Promise<unknown[]> {
    const out = new Array<unknown>(hashes.length);
    if (this.#packs.decodeManyCached(hashes, out) === 0) return out;
    let ahead: Map<number, Promise<unknown>> | undefined;
    for (let k = 0; k < hashes.length; k++) {
      if (out[k] !== PACK_MISS) continue;
      const early = ahead?.get(k);
      const value = early === undefined ? undefined : await early;
      out[k] = value !== undefined ? value : this.#loadSlow(hashes[k]!, taskNames?.[k]);
      if (ahead === undefined && isLargeTypedArray(out[k])) ahead = this.#readAhead(hashes, out, k + 1);
    }
    return out;
  }

  /**
   * Once loadMany() met one large typed array, the loose results after it (from `from`) are read
   * in libuv's pool (read-ahead.ts), handed-over arrays taken first. A promise per index; its
   * undefined means "load it the ordinary way" (which then reports any error, in order).
   */
  #readAhead(hashes: readonly string[], out: readonly unknown[], from: number): Map<number, Promise<unknown>> {
    const ahead = new Map<number, Promise<unknown>>();
    const at: number[] = [];
    const paths: string[] = [];
    for (let k = from; k < hashes.length; k++) {
      const hash = hashes[k]!;
      if (out[k] !== PACK_MISS || this.#packs.mayHold(hash)) continue;
      const path = this.resultPath(hash);
      const handed = this.#handoff.take(hash, path);
      if (handed !== undefined) {
        ahead.set(k, Promise.resolve(handed));
        continue;
      }
      at.push(k);
      paths.push(path);
    }
    readAheadInPool(paths).forEach((p, j) => ahead.set(at[j]!, p));
    return ahead;
  }

  /** load() of a result not decoded from the cached pack: loose, or packed and read afresh. Kept apart so that the hot path above stays small (cheap to compile). */
  #loadSlow(hash: string, taskName: string | undefined): unknown {
    let found = this.#packs.mayHold(hash) ? this.#packedBytes(hash) : undefined;
    if (found === undefined) {
      const path = this.resultPath(hash);
      const handed = this.#handoff.take(hash, path);
      if (handed !== undefined) return handed;
      const who = taskName === undefined ? '' : ` of task '${taskName}'`;
      try {
        return decodeResultFile(path, `${who} at ${path}`.trimStart());
      } catch (e) {
        if (e instanceof CorruptResultError) throw this.#corrupt(e, hash, taskName, path, path);
        if (!isCode(e, 'ENOENT', 'ENOTDIR')) {
          if (typeof (e as { code?: unknown } | null)?.code === 'string') throw this.#fsError(e, `read ${path}`);
          throw e;
        }
      }
      found = this.#packedBytes(hash);
    }
    if (found === undefined) {
      const who = taskName === undefined ? `hash ${hash}` : `task '${taskName}' (hash ${hash})`;
      throw new NotComputedError(`The result of ${who} is not in the store ${this.location}: run \`jug execute\` first.`, hash);
    }
    try {
      return this.#decode(hash, taskName, found);
    } catch (e) {
      // A damaged packed entry whose result is also a loose file (computed again): the loose one.
      const loose = e instanceof CorruptResultError ? this.#readResult(hash, false) : undefined;
      if (loose === undefined || 'packed' in loose) throw e;
      return this.#decode(hash, taskName, loose);
    }
  }

  /** A CorruptResultError that says how to recover. */
  #corrupt(e: CorruptResultError, hash: string, taskName: string | undefined, where: string, path: string): CorruptResultError {
    const fix = where === path ? 'delete the file' : `run \`jug invalidate\` on the task`;
    return new CorruptResultError(
      `${e.message} It cannot be read: ${fix} and run \`jug execute\` to recompute it (\`jug execute\` does both by itself when it needs the result).`,
      path,
      e.reason,
      hash,
      taskName,
    );
  }

  #decode(hash: string, taskName: string | undefined, found: { bytes: Buffer; where: string; path: string }): unknown {
    const { bytes, where, path } = found;
    const who = taskName === undefined ? '' : ` of task '${taskName}'`;
    try {
      return decodeResult(bytes, `${who} at ${where}`.trimStart(), path);
    } catch (e) {
      if (e instanceof CorruptResultError) throw this.#corrupt(e, hash, taskName, where, path);
      throw e;
    }
  }

  /**
   * The bytes of `hash`'s result, loose or packed, with where they were read (`where`, for
   * messages) and the file (`path`); undefined if it is not stored. A loose file wins over a
   * packed entry, but they never differ (a pack run removes an entry whose loose file changed):
   * so a hash the cached pack index holds is read from the pack without looking for a loose file
   * first (looking costs more than the packed read). Any other hash is read loose, and from the
   * pack, its index read again, only if the loose file is missing.
   */
  #readResult(hash: string, packedFirst = true): { bytes: Buffer; where: string; path: string } | undefined {
    const path = this.resultPath(hash);
    if (packedFirst && this.#packs.mayHold(hash)) {
      const packed = this.#packedBytes(hash);
      if (packed !== undefined) return packed;
    }
    try {
      return { bytes: fs.readFileSync(path), where: path, path };
    } catch (e) {
      if (!isCode(e, 'ENOENT', 'ENOTDIR')) throw this.#fsError(e, `read ${path}`);
    }
    // Not loose: packed (`jug pack` unlinks a loose file only once its packed copy is durable).
    return this.#packedBytes(hash);
  }

  #packedBytes(hash: string): { bytes: Buffer; where: string; path: string; packed: true } | undefined {
    const packed = this.#packs.read(hash);
    return packed === undefined ? undefined : { bytes: packed.bytes, where: packed.where, path: packed.path, packed: true };
  }

  async setAsideCorrupt(hash: string): Promise<string | undefined> {
    this.#handoff.drop(hash);
    const path = this.resultPath(hash);
    try {
      decodeResult(fs.readFileSync(path), path);
      return undefined; // replaced by a good result meanwhile (another process recomputed it)
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return this.#setAsidePacked(hash);
      if (!(e instanceof CorruptResultError)) return undefined; // gone already
    }
    const aside = this.#asidePath(hash);
    try {
      fs.renameSync(path, aside);
      return aside;
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined; // another process moved it first
      throw this.#fsError(e, `move the corrupt result ${path} aside`);
    }
  }

  /** Where a corrupt result of `hash` is kept (`corrupt/<h>.<time>.<8 hex>`); creates `corrupt/`. */
  #asidePath(hash: string): string {
    const dir = join(this.location, 'corrupt');
    this.#ensureDir(dir);
    return join(dir, `${hash}.${new Date().toISOString().replace(/[:.]/g, '-')}.${randomBytes(4).toString('hex')}`);
  }

  /** setAsideCorrupt() of a packed result: its bytes copied to `corrupt/`, its entry removed (tombstone). */
  async #setAsidePacked(hash: string): Promise<string | undefined> {
    const packed = this.#packs.read(hash);
    if (packed === undefined) return undefined;
    try {
      decodeResult(packed.bytes, packed.where);
      return undefined; // not corrupt
    } catch (e) {
      if (!(e instanceof CorruptResultError)) return undefined;
    }
    const aside = this.#asidePath(hash);
    try {
      fs.writeFileSync(aside, packed.bytes, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      throw this.#fsError(e, `copy the corrupt packed result of ${hash} (${packed.where}) aside`);
    }
    const removed = await removePacked(this.#packHost, [hash]);
    return removed.has(hash) ? aside : undefined;
  }

  /** This store's random prefix (8 hex) for temporary names; a counter makes the other 8. */
  readonly #tempPrefix = randomBytes(4).toString('hex');
  #tempCount = 0;

  /** 16 hex characters, unique among this process's temporary files (a random per-store prefix, then a counter). */
  #tempName(): string {
    return this.#tempPrefix + (this.#tempCount++ % 0x1_0000_0000).toString(16).padStart(8, '0');
  }

  async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    const begun = ++this.#begun;
    // The caller keeps its value, and may change it: it is never handed to a reader (handoff.ts).
    const prepared = await this.#prepare(hash, value, taskName, false);
    this.#begunAt.set(prepared, begun);
    this.#waited.add(prepared);
    await this.commitPrepared(prepared);
  }

  /** Results of dump(), whose callers wait for the commit (see #commitEach). */
  #waited = new WeakSet<PreparedResult>();

  /**
   * Results are numbered when their dump() or prepare() begins; flush() commits at once every
   * result begun before it, also those still being encoded or written when it is called (their
   * commit would otherwise wait for the commit delay, up to a minute with a long one).
   */
  #begun = 0;
  #flushedUpTo = 0;
  #begunAt = new WeakMap<PreparedResult, number>();

  /**
   * The first half of `dump()`: encodes the result and writes it to a temporary file, not yet
   * visible as a result. Worker threads do this half, and hand the returned (plain-data) handle to
   * the main thread, whose event loop — never blocked by task code — runs the commit. Called by
   * jug for a task's result: in the main thread, a large typed array may then be handed, once
   * committed and if unchanged, to the first load() of it in this process instead of a copy read
   * from the file (src/store/handoff.ts); dump() never does that.
   */
  async prepare(hash: string, value: unknown, taskName?: string): Promise<PreparedResult> {
    const begun = ++this.#begun;
    const prepared = await this.#prepare(hash, value, taskName, true);
    this.#begunAt.set(prepared, begun);
    return prepared;
  }

  /**
   * prepare(); `handOver`: a large typed array may be kept in memory for its first reader in this
   * process (handoff.ts) — for results of task functions, which jug runs and nothing else holds.
   */
  async #prepare(hash: string, value: unknown, taskName: string | undefined, handOver: boolean): Promise<PreparedResult> {
    checkHash(hash);
    const encoded = encodeResultParts(value, taskName);
    const tmpDir = join(this.location, 'tempfiles');
    const final = this.resultPath(hash);
    this.#ensureDir(tmpDir);
    // The shard directory: made by the rename's retry (renameIntoPlace, commit-job.ts) if missing,
    // in the helper thread where commits run there (a directory created costs ~0.1–0.4 ms here).
    if (this.#heartbeat?.commit === undefined) this.#ensureDir(dirname(final));
    const tmp = join(tmpDir, `${WRITE_PREFIX}${this.#tempName()}`);
    let fd: number | undefined;
    try {
      fd = fs.openSync(tmp, 'wx', 0o644);
      // A task's large result: in libuv's pool, the next task running meanwhile (dump(): synchronously, as its caller waits).
      const background = writeEncoded(fd, encoded, handOver);
      if (background !== undefined) await background;
      fs.closeSync(fd);
      fd = undefined;
    } catch (e) {
      if (fd !== undefined) fs.closeSync(fd);
      removeQuietly(tmp);
      throw this.#fsError(e, `write the result${taskName ? ` of task '${taskName}'` : ''} to ${final}`);
    }
    if (handOver && encoded.kept !== undefined) this.#handoff.keep(hash, encoded.kept, encoded.length);
    return { hash, tmp, taskName, bytes: encoded.length };
  }


  /**
   * The second half of `dump()`: makes a prepared result durable and visible — flushed, renamed
   * into place, the rename flushed — in a group with other pending results (see flush()).
   * Resolves once it is durable. `urgent`: commit now, with whatever else is pending (or once the
   * commit in progress ends), rather than after the commit delay.
   */
  async commitPrepared(prepared: PreparedResult, urgent = false, release?: Lock): Promise<void> {
    try {
      // A result prepared elsewhere (a worker thread) counts as begun when it reaches this store.
      const begun = this.#begunAt.get(prepared) ?? ++this.#begun;
      await this.#commitLoose(prepared, begun, urgent, this.#releasable(release));
    } catch (e) {
      this.#handoff.drop(prepared.hash);
      throw e;
    }
    this.#handoff.committed(prepared.hash);
    // A loose file wins over a packed entry: an older packed copy of this hash (rare: the task
    // computed again without being removed) is removed, so that the two never differ.
    if (this.#packs.mayHold(prepared.hash)) await removePacked(this.#packHost, [prepared.hash]);
  }

  /**
   * The lock the helper thread may release with the result (commit-job.ts): a held lock of this
   * store that is a hard link to this process's owner file, and only where the commit runs there.
   */
  #releasable(lock: Lock | undefined): FileLock | undefined {
    if (!(lock instanceof FileLock) || !lock.held || this.#heartbeat?.commit === undefined || !this.#lockContext.linkWorks) return undefined;
    return lock;
  }

  async #commitLoose(prepared: PreparedResult, begun: number, urgent: boolean, lock?: FileLock): Promise<void> {
    const { tmp, hash, taskName } = prepared;
    const bytes = prepared.bytes ?? Number.POSITIVE_INFINITY;
    const final = this.resultPath(hash);
    const what = `write the result${taskName ? ` of task '${taskName}'` : ''} to ${final}`;
    const grouped = this.#fsync && (await syncFsAvailable(this.location));
    if (grouped) {
      await new Promise<void>((resolve, reject) => {
        this.#pending.push({ tmp, final, bytes, lock, begun, waited: this.#waited.has(prepared), resolve, reject: (e) => reject(this.#fsError(e, what)) });
        if (urgent || begun <= this.#flushedUpTo) this.flush();
        else this.#scheduleCommit();
      });
      return;
    }
    this.#writeRuns(this.#fsync);
    try {
      if (this.#fsync) await flushAndRename(tmp, final, bytes);
      else renameIntoPlace(tmp, final);
    } catch (e) {
      removeQuietly(tmp);
      throw this.#fsError(e, what);
    }
    if (this.#fsync) fsyncDir(dirname(final));
  }

  #pending: PendingCommit[] = [];
  #committing = false;
  #commitAgain = false;
  #flushWanted = false;
  /** The scheduled commit (a timer, or an immediate without a delay): how to cancel it. */
  #timer: (() => void) | undefined;

  /**
   * Group commit: flush (syncfs), rename every pending result into place, flush again, then
   * resolve their dump() calls. A group is committed when the runner says its batch is done
   * (`flush()`), when it reaches MAX_GROUP results, or at the latest `commitDelayMs` after its
   * first result. Committing between batches rather than during them matters: creating files blocks
   * while the filesystem journal commits.
   */
  #scheduleCommit(): void {
    if (this.#pending.length >= MAX_GROUP || this.#flushWanted) this.flush();
    // No delay: once the results begun in this turn of the event loop are pending (a 0-ms timer waits ~1 ms).
    else this.#timer ??= this.#commitDelayMs === 0 ? atNextTurn(() => this.flush()) : after(this.#commitDelayMs, () => this.flush());
  }

  /**
   * Commits the pending results now (after the running commit, if any). Called with nothing
   * pending, it applies to the next result instead: the runner said it is idle, so a result that
   * arrives right after (its write was still in progress) must not wait for the timer.
   */
  flush(): void {
    this.#flushedUpTo = this.#begun;
    if (this.#timer !== undefined) {
      this.#timer();
      this.#timer = undefined;
    }
    // Results whose dump()/prepare() began before this call (still being encoded or written, in
    // this thread or in libuv's pool) are committed as soon as they arrive (#flushedUpTo). Nothing
    // pending and no group committing: the runner's last result may also come from a worker thread
    // (begun when it reaches this store), so the next result to arrive is committed at once too.
    this.#flushWanted = this.#pending.length === 0 && !this.#committing;
    if (this.#pending.length === 0) return;
    if (this.#committing) {
      this.#commitAgain = true;
      return;
    }
    this.#committing = true;
    const group = this.#pending;
    this.#pending = [];
    void this.#commit(group).finally(() => {
      this.#committing = false;
      if (this.#commitAgain || this.#pending.length >= MAX_GROUP) {
        this.#commitAgain = false;
        this.flush();
      } else if (this.#pending.length > 0) {
        this.#scheduleCommit();
      }
    });
  }

  async #commit(group: PendingCommit[]): Promise<void> {
    const start = tracing ? performance.now() : 0;
    try {
      await this.#commitGroup(group);
    } finally {
      if (tracing) trace(`commit group of ${group.length}: ${(performance.now() - start).toFixed(1)} ms`);
    }
  }

  /**
   * Writes the buffered run records before results are committed, so that a result made visible
   * never lacks its record (a crash loses only the records of tasks not stored). `sync`: flush the
   * file too (commits that flush file by file; a group's syncfs flushes it with the results).
   * A record that cannot be written never fails the results.
   */
  #writeRuns(sync: boolean): void {
    if (!this.#runs.pending) return;
    try {
      this.#runs.write();
      if (sync) this.#runs.sync();
    } catch {
      // the records are lost (a full disk?), the results are not
    }
  }

  async #commitGroup(group: PendingCommit[]): Promise<void> {
    if (group.length < SYNCFS_MIN_GROUP) return this.#commitEach(group);
    this.#writeRuns(false); // flushed by the syncfs that flushes the results
    try {
      await syncFs(this.location);
    } catch (e) {
      for (const p of group) {
        removeQuietly(p.tmp);
        p.reject(e);
      }
      return;
    }
    const renamed: PendingCommit[] = [];
    for (const p of group) {
      try {
        renameIntoPlace(p.tmp, p.final);
        renamed.push(p);
      } catch (e) {
        removeQuietly(p.tmp);
        p.reject(e);
      }
    }
    try {
      await syncFs(this.location);
      for (const p of renamed) p.resolve();
    } catch (e) {
      for (const p of renamed) p.reject(e);
    }
  }

  async remove(hash: string): Promise<boolean> {
    return (await this.removeMany([hash])).has(hash);
  }

  /**
   * Removes several results: the loose files, then the packed entries (tombstones, written once
   * for all under the pack lock). Loose first: a pack run that packed one meanwhile finds the
   * loose file gone and removes its entry, or published it before, and then it is removed here.
   */
  async removeMany(hashes: Iterable<string>): Promise<Set<string>> {
    const removed = new Set<string>();
    for (const hash of hashes) {
      this.#handoff.drop(hash);
      const path = this.resultPath(hash);
      try {
        fs.unlinkSync(path);
        removed.add(hash);
      } catch (e) {
        if (!isCode(e, 'ENOENT', 'ENOTDIR')) throw this.#fsError(e, `remove ${path}`);
      }
    }
    for (const h of await removePacked(this.#packHost, hashes)) removed.add(h);
    return removed;
  }

  /** `jug pack`: moves small loose results into the pack (pack.ts, docs/store-format.md "Packs"). */
  async pack(options: PackOptions = {}): Promise<PackReport> {
    return packLooseResults(this.#packHost, options);
  }

  /** What pack.ts needs of this store. */
  get #packHost(): PackHost {
    return {
      location: this.location,
      fsync: this.#fsync,
      reader: this.#packs,
      packLock: () => new FileLock('pack', join(this.location, 'locks', 'pack.lock'), this.#lockContext),
      listLoose: () => this.#listLoose(),
      resultPath: (hash) => this.resultPath(hash),
      fsError: (e, what) => this.#fsError(e, what),
    };
  }

  /** Every stored hash: the loose files, then the pack (read after, so a result packed meanwhile is seen). */
  async list(): Promise<Set<string>> {
    const out = this.#listLoose();
    this.#packs.addLive(out);
    return out;
  }

  #listLoose(): Set<string> {
    const out = new Set<string>();
    let shards: string[];
    try {
      shards = fs.readdirSync(this.location);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return out;
      throw this.#fsError(e, `list ${this.location}`);
    }
    for (const shard of shards) {
      if (!SHARD_RE.test(shard)) continue;
      let names: string[];
      try {
        names = fs.readdirSync(join(this.location, shard));
      } catch (e) {
        if (isCode(e, 'ENOENT', 'ENOTDIR')) continue;
        throw this.#fsError(e, `list ${join(this.location, shard)}`);
      }
      for (const name of names) if (REST_RE.test(name)) out.add(shard + name);
    }
    return out;
  }

  async listLocks(): Promise<Map<string, LockInfo>> {
    const out = new Map<string, LockInfo>();
    const dir = join(this.location, 'locks');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return out;
      throw this.#fsError(e, `list ${dir}`);
    }
    for (const name of names) {
      if (!name.endsWith('.lock')) continue;
      const hash = name.slice(0, -5);
      if (!HASH_RE.test(hash)) continue;
      try {
        const path = join(dir, name);
        const { mtimeMs } = fs.statSync(path);
        const failed = isFailedMtime(mtimeMs);
        const text = fs.readFileSync(path, 'utf8');
        out.set(hash, this.#lockInfo(path, text, mtimeMs, failed));
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw this.#fsError(e, `stat ${join(dir, name)}`);
      }
    }
    return out;
  }

  /** What listLocks() says of one lock file (its text and mtime). */
  #lockInfo(path: string, text: string, mtimeMs: number, failed: boolean): LockInfo {
    const owner = parseLockOwner(text);
    // Naming this process: ours if linked to our owner file (unknowable without hard links).
    const ours = owner?.pid === process.pid ? linkedHere(this.#lockContext, path) : undefined;
    const stale = !failed && isStale(text, mtimeMs, this.#leaseMs, Date.now(), ours);
    if (owner === undefined) return { failed, stale };
    const holder = { host: owner.host, pid: owner.pid };
    if (failed) return { failed, stale, holder };
    const leased = owner.host !== HOST && this.#leaseMs > 0;
    return leased ? { failed, stale, holder, heartbeatAt: mtimeMs, staleAt: mtimeMs + this.#leaseMs } : { failed, stale, holder, heartbeatAt: mtimeMs };
  }

  lock(hash: string): Lock {
    checkHash(hash);
    return new FileLock(hash, this.lockPath(hash), this.#lockContext);
  }

  async clearStaleLocks(): Promise<number> {
    let n = 0;
    for (const [hash, info] of await this.listLocks()) {
      if (info.stale && (this.lock(hash) as FileLock).reclaimIfStale()) n++;
    }
    this.#clearDeadMarkers();
    return n;
  }

  /**
   * Reclaim markers (`<hash>.lock.reclaim`) whose reclaimer died between removing the stale lock
   * and removing its marker, and private copies (`….reclaim.<pid>-<random>`) of a remover killed
   * mid-way: nothing else would ever remove them (the lock listing ignores them).
   */
  #clearDeadMarkers(): void {
    const dir = join(this.location, 'locks');
    for (const name of namesIn(dir)) {
      const m = /^([0-9a-f]{40})\.lock\.reclaim(\..+)?$/.exec(name);
      if (m === null) continue;
      if (m[2] === undefined) {
        (this.lock(m[1]!) as FileLock).clearDeadMarker();
        continue;
      }
      try {
        if (Date.now() - fs.statSync(join(dir, name)).mtimeMs > RECLAIM_MARKER_TTL_MS) fs.rmSync(join(dir, name), { force: true });
      } catch {
        // removed meanwhile
      }
    }
  }

  /** See {@link clearDeadWrites}. */
  #removeLeftovers(): number {
    const dir = join(this.location, 'tempfiles');
    const names = namesIn(dir);
    const now = Date.now();
    const expired = (path: string): boolean => this.#leaseMs > 0 && now - fs.statSync(path).mtimeMs > this.#leaseMs;
    // Writers of other hosts whose owner file still beats: their unfinished writes are kept.
    const beating = new Set<string>();
    let removed = 0;
    const remove = (path: string): void => {
      fs.unlinkSync(path);
      removed++;
    };
    for (const name of names) {
      const owner = parseOwnerFileName(name);
      if (owner === undefined) continue;
      const path = join(dir, name);
      try {
        // A dead owner's file goes even if locks still link to it: they keep its text and mtime.
        if (isThisHost(owner.host) ? ownerFileGone(path, this.#lockContext.ownerFile, owner) : expired(path)) remove(path);
        else beating.add(writerKey(owner));
      } catch {
        // removed meanwhile
      }
    }
    for (const name of names) {
      // A result being written (`<pid>-<token>-<host>-<16 hex>`), or an owner file being made
      // (`.owner-tmp-<pid>-<host>.<random>`: this pid's may be one of our threads' at work).
      const write = parseWriteName(name);
      const writer = write ?? parseOwnerTmpName(name);
      if (writer === undefined) continue;
      const path = join(dir, name);
      try {
        const gone = isThisHost(writer.host)
          ? writer.pid === process.pid
            ? write !== undefined && write.token !== OWNER_TOKEN // an earlier start of this pid
            : localOwnerGone(writer)
          : !beating.has(writerKey(writer)) && expired(path);
        if (gone) remove(path);
      } catch {
        // removed meanwhile
      }
    }
    return removed;
  }

  /**
   * Keeps this process's locks alive while it runs: a heartbeat thread refreshes their shared
   * owner file every HEARTBEAT_MS, so other hosts never take them for stale (see lock-owner.ts).
   * `close()` stops it. Called by `jug execute`.
   */
  keepAlive(options: { readonly mainThread?: boolean } = {}): void {
    if (this.#heartbeat !== undefined) return;
    this.#keepAlive = options;
    // With --threads (`mainThread`) the threads' own stores take the locks, which this process's
    // owner file keeps alive: beat now (a timer, cheap). Else this store takes every lock of the
    // run: its first lock starts the heartbeat's thread (before it, no owner file to beat).
    if (this.#locking || options.mainThread === true) this.#startHeartbeat(options);
  }

  #startHeartbeat(options: { readonly mainThread?: boolean }): void {
    if (this.#heartbeat !== undefined) return;
    this.#lockContext.ensureDir(); // may start it itself (#firstLock)
    if (this.#heartbeat !== undefined) return;
    // Every HEARTBEAT_MS whatever this process's own lease: others judge its locks with theirs.
    this.#heartbeat = startHeartbeat(this.#lockContext.ownerFile, HEARTBEAT_MS, {
      thread: options.mainThread !== true,
    });
  }

  /**
   * A small group (tasks that take a while): fsync each file, rename it, fsync each directory —
   * cheaper than two `sync -f` round trips (a fork each) for a few results. Small results are
   * flushed with synchronous calls: through `fs/promises` they took seven round trips through
   * libuv's pool each, for no gain (see docs/design.md, "Durable results at a useful rate"). A
   * large one is flushed in libuv's pool, so that writing it out overlaps the task running meanwhile.
   */
  async #commitEach(group: PendingCommit[]): Promise<void> {
    const heartbeat = this.#heartbeat;
    if (heartbeat?.commit !== undefined) return this.#commitInThread(group, heartbeat);
    // With a large result, every flush of the group happens in the pool (the main thread runs the
    // next task meanwhile): the run records' too, finished before any result is renamed. Not for
    // dump()'s results alone: their callers wait, and each step through the pool costs a round trip.
    const inPool = group.some((p) => p.bytes > SYNC_FLUSH_MAX_BYTES && !p.waited);
    this.#writeRuns(!inPool);
    const recordsDurable = inPool ? this.#runs.syncInPool() : undefined;
    const dirs = new Set<string>();
    const done: PendingCommit[] = [];
    await Promise.all(
      group.map(async (p) => {
        try {
          await flushAndRename(p.tmp, p.final, p.bytes, recordsDurable, inPool);
          dirs.add(dirname(p.final));
          done.push(p);
        } catch (e) {
          removeQuietly(p.tmp);
          p.reject(e);
        }
      }),
    );
    if (inPool) await Promise.all([...dirs].map(fsyncDirInPool));
    else for (const d of dirs) fsyncDir(d);
    for (const p of done) p.resolve();
  }

  /**
   * #commitEach in the helper thread (serial runs: heartbeat.ts, commit-job.ts): the main thread
   * goes on with the next task while the thread flushes, renames, flushes the directories and
   * releases the locks. If the thread is gone, the group is committed here after all.
   */
  async #commitInThread(group: PendingCommit[], heartbeat: Heartbeat): Promise<void> {
    let syncFd: number | undefined;
    try {
      syncFd = this.#runs.writeForSync();
    } catch {
      // the records are lost (a full disk?), the results are not
    }
    const items = group.map((p) => ({ tmp: p.tmp, final: p.final, lock: p.lock?.path }));
    let reply: CommitReply;
    try {
      reply = await heartbeat.commit!({ syncFd, ownerFile: this.#lockContext.ownerFile, items });
    } catch {
      if (syncFd !== undefined) this.#runs.syncLater();
      this.#heartbeat = undefined; // the thread is gone: commit in this one from now on
      return this.#commitEach(group);
    }
    group.forEach((p, i) => {
      const error = reply.errors[i];
      if (error !== null && error !== undefined) {
        removeQuietly(p.tmp);
        p.reject(Object.assign(new Error(error.message), { code: error.code }));
        return;
      }
      if (reply.released[i] === true) p.lock?.releasedElsewhere();
      p.resolve();
    });
  }

  async abandonWrites(): Promise<void> {
    const dir = join(this.location, 'tempfiles');
    for (const name of namesIn(dir)) {
      if (!name.startsWith(WRITE_PREFIX)) continue;
      try {
        fs.unlinkSync(join(dir, name));
      } catch {
        // already renamed into place or removed
      }
    }
  }

  /** Not `async`: called for every task, so it costs no promise of its own (a record that cannot be written is lost, see RunLogFile). */
  recordRun(entry: RunRecord, urgent = false): Promise<void> {
    try {
      this.#runs.append(entry, urgent);
      return DONE;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async runLog(): Promise<RunRecord[]> {
    return RunLogFile.read(this.location);
  }

  async runLogTexts(): Promise<string[]> {
    return RunLogFile.readTexts(this.location);
  }

  /**
   * Compacts the run records under the lock `locks/runs.lock` (one compaction at a time; if
   * another holds it, nothing is done): see compactRunFiles. A records file's writer counts as
   * live on this host while its process runs; on another host while its owner file beats or the
   * file itself changed within the lease.
   */
  async compactRunLog(stored: ReadonlySet<string>): Promise<RunLogCompaction> {
    this.#writeRuns(true);
    const lock = new FileLock('runs', join(this.location, 'locks', 'runs.lock'), this.#lockContext);
    if (!(await lock.get())) return { read: 0, kept: 0 };
    try {
      const beating = this.#beatingOwners();
      const fresh = (path: string): boolean => {
        try {
          return this.#leaseMs <= 0 || Date.now() - fs.statSync(path).mtimeMs <= this.#leaseMs;
        } catch {
          return false;
        }
      };
      return compactRunFiles(this.location, stored, (w) =>
        isThisHost(w.host) ? !localOwnerGone(w) : beating.has(writerKey(w)) || fresh(w.path),
      );
    } catch (e) {
      throw this.#fsError(e, `compact the run records in ${join(this.location, RUNS_DIR)}`);
    } finally {
      await lock.release();
    }
  }

  /** Writers (writerKey) whose owner file in tempfiles/ changed within the lease. */
  #beatingOwners(): Set<string> {
    const dir = join(this.location, 'tempfiles');
    const out = new Set<string>();
    const now = Date.now();
    for (const name of namesIn(dir)) {
      const owner = parseOwnerFileName(name);
      if (owner === undefined) continue;
      try {
        if (this.#leaseMs <= 0 || now - fs.statSync(join(dir, name)).mtimeMs <= this.#leaseMs) out.add(writerKey(owner));
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  async noteRunning(running: readonly RunningNote[]): Promise<void> {
    // In a serial run the helper thread writes them: a file created per task, off the main thread.
    const heartbeat = this.#heartbeat;
    this.#runs.noteRunning(running, heartbeat?.writeNote === undefined ? undefined : (path, text) => heartbeat.writeNote!(path, text));
  }

  async runningNotes(): Promise<RunningNote[]> {
    return RunLogFile.readRunning(this.location);
  }

  async close(): Promise<void> {
    this.#handoff.clear();
    await this.#heartbeat?.idle?.(); // commits in its thread use the run records' file
    this.#runs.close();
    this.#packs.close();
    this.#keepAlive = undefined;
    await this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    // This process's owner file goes when no lock links to it any more. Not judged by its link
    // count: FUSE and NFS clients cache it, and it stays high after the locks are removed.
    try {
      const path = this.#lockContext.ownerFile;
      const owner = fs.statSync(path);
      if (!this.#anyLockIs(owner)) fs.unlinkSync(path);
    } catch {
      // never created, or removed already
    }
  }

  /** Whether some file in locks/ is the file `of` (a hard link to it): one listing, a stat per lock. */
  #anyLockIs(of: fs.Stats): boolean {
    const dir = join(this.location, 'locks');
    for (const name of namesIn(dir)) {
      if (!name.endsWith('.lock')) continue;
      try {
        const st = fs.statSync(join(dir, name));
        if (st.ino === of.ino && st.dev === of.dev) return true;
      } catch {
        // removed meanwhile
      }
    }
    return false;
  }

  /** Every failure mark with its record (read from the mark's lock file: failure-record.ts). */
  async failures(): Promise<Map<string, FailureRecord | undefined>> {
    const out = new Map<string, FailureRecord | undefined>();
    const dir = join(this.location, 'locks');
    for (const name of namesIn(dir)) {
      const hash = name.endsWith('.lock') ? name.slice(0, -5) : '';
      if (!HASH_RE.test(hash)) continue;
      const path = join(dir, name);
      try {
        if (!isFailedMtime(fs.statSync(path).mtimeMs)) continue;
        out.set(hash, parseFailureRecord(fs.readFileSync(path, 'utf8')));
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw this.#fsError(e, `read ${path}`);
      }
    }
    return out;
  }

  async failureRecord(hash: string): Promise<FailureRecord | undefined> {
    return (this.lock(hash) as FileLock).failureRecord();
  }

  /** Removes a failure mark, race-free (see FileLock.removeIfFailed); never a live lock. */
  async removeFailedLock(hash: string): Promise<boolean> {
    return (this.lock(hash) as FileLock).removeIfFailed();
  }

  /**
   * Removes what dead processes left in tempfiles/, and returns how many files: of this host,
   * owner files and unfinished writes of processes that are gone (or were an earlier start of
   * this pid); of other hosts, owner files whose heartbeat is older than the lease, and unfinished
   * writes older than the lease whose writer has no beating owner file (their pids mean nothing
   * here). Locks still linked to a removed owner file keep its text and mtime, so they are
   * judged as before.
   */
  async clearDeadWrites(): Promise<number> {
    RunLogFile.removeDeadNotes(this.location); // not counted: the count is of tempfiles/
    return this.#removeLeftovers();
  }
}

/**
 * Node's recursive mkdir reports ENOENT when the real cause is elsewhere (a read-only filesystem
 * gives ENOENT, not EROFS): create the first missing directory alone to get the real error.
 */
function mkdirCause(dir: string): unknown {
  let missing = dir;
  while (dirname(missing) !== missing && !fs.existsSync(dirname(missing))) missing = dirname(missing);
  try {
    fs.mkdirSync(missing);
    return undefined;
  } catch (e) {
    return e;
  }
}

function removeQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Flushes a written result (`bytes` long) to disk, then renames it into place: synchronously when
 * small, in libuv's pool when large (see SYNC_FLUSH_MAX_BYTES) or when `beforeRename` is given (the
 * rename then waits for it: the run records' flush). The directory is flushed by the caller.
 */
async function flushAndRename(tmp: string, final: string, bytes: number, beforeRename?: Promise<void>, inPool = bytes > SYNC_FLUSH_MAX_BYTES): Promise<void> {
  if (!inPool && beforeRename === undefined) {
    const fd = fs.openSync(tmp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    renameIntoPlace(tmp, final);
    return;
  }
  const fh = await fsp.open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await beforeRename;
  try {
    await fsp.rename(tmp, final);
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw e;
    renameIntoPlace(tmp, final);
  }
}

/**
 * Renames a written result into place. Its shard directory may have been removed since it was
 * made (`jug pack` removes the shards it emptied): then it is made again and the rename retried.
 */
function renameIntoPlace(tmp: string, final: string): void {
  try {
    fs.renameSync(tmp, final);
  } catch (e) {
    if (!isCode(e, 'ENOENT') || !fs.existsSync(tmp)) throw e;
    fs.mkdirSync(dirname(final), { recursive: true });
    fs.renameSync(tmp, final);
  }
}

/**
 * Results up to this size are flushed with synchronous calls (a few hundred microseconds); larger
 * ones in libuv's pool, overlapping the task that runs meanwhile (a 2 MiB result: ~25 ms here).
 */
const SYNC_FLUSH_MAX_BYTES = 64 * 1024;

/** Runs `f` in `ms` milliseconds; returns how to cancel it. */
function after(ms: number, f: () => void): () => void {
  const t = setTimeout(f, ms);
  return () => clearTimeout(t);
}

/** Runs `f` once this turn of the event loop is over (a 0-ms timer would wait ~1 ms); returns how to cancel it. */
function atNextTurn(f: () => void): () => void {
  const t = setImmediate(f);
  return () => clearImmediate(t);
}

/** A settled promise, returned by calls that finished synchronously. */
const DONE: Promise<void> = Promise.resolve();

/** Groups at least this large are flushed with syncfs; smaller ones with fsync per result. */
const SYNCFS_MIN_GROUP = 16;

/** Largest group of results committed together. */
const MAX_GROUP = 256;
