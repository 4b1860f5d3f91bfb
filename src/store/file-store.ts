/**
 * The file store: Python Jug's on-disk layout (docs/store-format.md), so a jugdir can be shared by
 * any number of processes and hosts over a shared filesystem.
 *
 *   <jugdir>/<h[0:2]>/<h[2:]>     result of the task with hash h (framing in encode.ts)
 *   <jugdir>/locks/<h>.lock       lock, created with O_EXCL; mtime = 1 s after the epoch = failed
 *   <jugdir>/tempfiles/<pid>-<host>-<random>  in-flight writes, flushed to disk then renamed into place
 *   <jugdir>/corrupt/<h>.<time>.<random>  corrupt results set aside by `jug execute` (kept for inspection)
 *
 * Directories are created lazily: read-only commands create nothing.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CorruptResultError, NotComputedError, StoreError, describeError } from '../errors.js';
import { decodeResult, encodeResult } from './encode.js';
import { syncFs, syncFsAvailable } from './sync-fs.js';
import { trace } from '../trace.js';
import type { Lock, LockInfo, Store } from './store.js';

/** mtime (seconds) that marks a lock as failed, as in Python Jug. */
export const FAILED_MTIME = 1;

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
}

interface PendingCommit {
  readonly tmp: string;
  readonly final: string;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
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
  #madeDirs = new Set<string>();

  constructor(jugdir: string, options: FileStoreOptions = {}) {
    this.location = jugdir.replace(/\/+$/, '') || '/';
    this.#fsync = options.fsync ?? true;
    this.#commitDelayMs = options.commitDelayMs ?? 0;
    // Learn early whether group commit works, so that the first result does not wait for it.
    if (this.#fsync && this.#commitDelayMs > 0) void syncFsAvailable(this.location);
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
      throw this.#fsError(isCode(e, 'ENOENT') ? (mkdirCause(dir) ?? e) : e, `create directory ${dir}`);
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
    return fs.existsSync(this.resultPath(hash));
  }

  async load(hash: string, taskName?: string): Promise<unknown> {
    const path = this.resultPath(hash);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path);
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) {
        const who = taskName === undefined ? `hash ${hash}` : `task '${taskName}' (hash ${hash})`;
        throw new NotComputedError(`The result of ${who} is not in the store ${this.location}: run \`jug execute\` first.`, hash);
      }
      throw this.#fsError(e, `read ${path}`);
    }
    const who = taskName === undefined ? '' : ` of task '${taskName}'`;
    try {
      return decodeResult(bytes, `${who} at ${path}`.trimStart(), path);
    } catch (e) {
      if (!(e instanceof CorruptResultError)) throw e;
      throw new CorruptResultError(
        `${e.message} It cannot be read: delete the file and run \`jug execute\` to recompute it.`,
        path,
        e.reason,
        hash,
        taskName,
      );
    }
  }

  async setAsideCorrupt(hash: string): Promise<string | undefined> {
    const path = this.resultPath(hash);
    try {
      decodeResult(fs.readFileSync(path), path);
      return undefined; // replaced by a good result meanwhile (another process recomputed it)
    } catch (e) {
      if (!(e instanceof CorruptResultError)) return undefined; // gone already
    }
    const dir = join(this.location, 'corrupt');
    this.#ensureDir(dir);
    const aside = join(dir, `${hash}.${new Date().toISOString().replace(/[:.]/g, '-')}.${randomBytes(4).toString('hex')}`);
    try {
      fs.renameSync(path, aside);
      return aside;
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined; // another process moved it first
      throw this.#fsError(e, `move the corrupt result ${path} aside`);
    }
  }

  async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    checkHash(hash);
    const bytes = encodeResult(value, taskName);
    const tmpDir = join(this.location, 'tempfiles');
    const finalDir = join(this.location, hash.slice(0, 2));
    const final = this.resultPath(hash);
    this.#ensureDir(tmpDir);
    this.#ensureDir(finalDir);
    const tmp = join(tmpDir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const what = `write the result${taskName ? ` of task '${taskName}'` : ''} to ${final}`;
    const grouped = this.#fsync && (await syncFsAvailable(this.location));
    let fd: number | undefined;
    try {
      fd = fs.openSync(tmp, 'wx', 0o644);
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      if (this.#fsync && !grouped) fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
      if (!grouped) fs.renameSync(tmp, final);
    } catch (e) {
      if (fd !== undefined) fs.closeSync(fd);
      removeQuietly(tmp);
      throw this.#fsError(e, what);
    }
    if (grouped) {
      await new Promise<void>((resolve, reject) => {
        this.#pending.push({ tmp, final, resolve, reject: (e) => reject(this.#fsError(e, what)) });
        this.#scheduleCommit();
      });
    } else if (this.#fsync) {
      fsyncDir(finalDir);
    }
  }

  #pending: PendingCommit[] = [];
  #committing = false;
  #commitAgain = false;
  #flushWanted = false;
  #timer: NodeJS.Timeout | undefined;

  /**
   * Group commit: flush (syncfs), rename every pending result into place, flush again, then
   * resolve their dump() calls. A group is committed when the runner says its batch is done
   * (`flush()`), when it reaches MAX_GROUP results, or at the latest `commitDelayMs` after its
   * first result. Committing between batches rather than during them matters: creating files blocks
   * while the filesystem journal commits.
   */
  #scheduleCommit(): void {
    if (this.#pending.length >= MAX_GROUP || this.#flushWanted) this.flush();
    else if (this.#commitDelayMs === 0) this.#timer ??= setTimeout(() => this.flush(), 0);
    else this.#timer ??= setTimeout(() => this.flush(), this.#commitDelayMs);
  }

  /**
   * Commits the pending results now (after the running commit, if any). Called with nothing
   * pending, it applies to the next result instead: the runner said it is idle, so a result that
   * arrives right after (its write was still in progress) must not wait for the timer.
   */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#flushWanted = this.#pending.length === 0;
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
    trace(`commit group of ${group.length}`);
    if (group.length < SYNCFS_MIN_GROUP) return this.#commitEach(group);
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
        fs.renameSync(p.tmp, p.final);
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
    try {
      fs.unlinkSync(this.resultPath(hash));
      return true;
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return false;
      throw this.#fsError(e, `remove ${this.resultPath(hash)}`);
    }
  }

  async list(): Promise<Set<string>> {
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
        const failed = Math.floor(fs.statSync(path).mtimeMs / 1000) === FAILED_MTIME;
        out.set(hash, { failed, stale: !failed && ownerIsDead(fs.readFileSync(path, 'utf8')) });
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw this.#fsError(e, `stat ${join(dir, name)}`);
      }
    }
    return out;
  }

  lock(hash: string): Lock {
    checkHash(hash);
    return new FileLock(hash, this.lockPath(hash), () => this.#ensureDir(join(this.location, 'locks')), (e, w) =>
      this.#fsError(e, w),
    );
  }

  async clearStaleLocks(): Promise<number> {
    let n = 0;
    for (const [hash, info] of await this.listLocks()) {
      if (info.stale && (this.lock(hash) as FileLock).reclaimIfStale()) n++;
    }
    return n;
  }

  /**
   * A small group (tasks that take a while): fsync each file, rename it, fsync each directory —
   * cheaper than two `sync -f` round trips (a fork each) for a few results. Asynchronous (libuv's
   * thread pool), so the commit overlaps the task that runs meanwhile.
   */
  async #commitEach(group: PendingCommit[]): Promise<void> {
    const ok = await Promise.all(
      group.map(async (p) => {
        try {
          await fsyncPath(p.tmp);
          await fsp.rename(p.tmp, p.final);
          return true;
        } catch (e) {
          removeQuietly(p.tmp);
          p.reject(e);
          return false;
        }
      }),
    );
    const dirs = new Set(group.filter((_, i) => ok[i]).map((p) => dirname(p.final)));
    await Promise.all([...dirs].map((d) => fsyncPath(d).catch(() => {}))); // some filesystems refuse directory fsync
    group.forEach((p, i) => ok[i] && p.resolve());
  }

  async abandonWrites(): Promise<void> {
    const dir = join(this.location, 'tempfiles');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      try {
        fs.unlinkSync(join(dir, name));
      } catch {
        // already renamed into place or removed
      }
    }
  }

  async clearDeadWrites(): Promise<number> {
    const dir = join(this.location, 'tempfiles');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return 0;
    }
    let n = 0;
    for (const name of names) {
      const m = TEMP_RE.exec(name);
      // Only this host's processes can be checked; a live PID (even a reused one) keeps its files.
      if (m === null || m[2] !== HOST || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
      try {
        fs.unlinkSync(join(dir, name));
        n++;
      } catch {
        // removed by another process meanwhile
      }
    }
    return n;
  }

  async close(): Promise<void> {}
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await fsp.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
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

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const HOST = hostname();

/**
 * Temporary result files are named `<pid>-<host>-<16 hex>`: the writer can remove its own after an
 * abort, and any process on the same host can tell when the writer is gone (clearDeadWrites).
 */
const TEMP_PREFIX = `${process.pid}-${HOST}-`;
const TEMP_RE = /^(\d+)-(.+)-[0-9a-f]{16}$/;

/** Jug's lock file text: `PID <pid> on HOSTNAME <host>` and the creation time. */
export function lockContent(pid = process.pid, host = HOST, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())} (${p(now.getHours())}h${p(now.getMinutes())}.${p(now.getSeconds())})`;
  return `PID ${pid} on HOSTNAME ${host}\nLock created on ${stamp}\n`;
}

/** Parses the owner out of lock text; undefined if it is not in Jug's format. */
export function parseLockOwner(text: string): { pid: number; host: string } | undefined {
  const m = /^PID (\d+) on HOSTNAME (\S+)/.exec(text);
  return m === null ? undefined : { pid: Number(m[1]), host: m[2]! };
}

/** Whether a process with this pid exists on this host. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isCode(e, 'EPERM');
  }
}

/** Whether lock text names a process of this host that no longer exists (not us). */
function ownerIsDead(text: string): boolean {
  const owner = parseLockOwner(text);
  if (owner === undefined || owner.host !== HOST) return false;
  return owner.pid !== process.pid && !processAlive(owner.pid);
}

/** Groups at least this large are flushed with syncfs; smaller ones with fsync per result. */
const SYNCFS_MIN_GROUP = 16;

/** Largest group of results committed together. */
const MAX_GROUP = 256;

/** How long an empty lock file may exist before it is considered abandoned. */
const EMPTY_LOCK_TTL_MS = 60_000;

/** How long a `.reclaim` marker may exist before it is itself considered abandoned. */
const RECLAIM_MARKER_TTL_MS = 10_000;

class FileLock implements Lock {
  #held = false;

  constructor(
    readonly hash: string,
    readonly path: string,
    private readonly ensureDir: () => void,
    private readonly fsError: (e: unknown, what: string) => StoreError,
  ) {}

  async get(): Promise<boolean> {
    if (this.#held) return true;
    this.ensureDir();
    if (this.#create()) return true;
    // Held by someone. A lock of a dead process on this host is reclaimed, once, race-free.
    if (this.#reclaimIfDead()) return this.#create();
    return false;
  }

  /**
   * Creates the lock with O_EXCL (Jug's protocol) and writes its owner. A crash between the two
   * leaves an empty lock: #abandonedEmpty() reclaims it once it is clearly old.
   */
  #create(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'wx', 0o644);
    } catch (e) {
      if (isCode(e, 'EEXIST')) return false;
      throw this.fsError(e, `create lock ${this.path}`);
    }
    try {
      fs.writeSync(fd, lockContent());
    } catch (e) {
      // E.g. ENOSPC: an empty lock would block the task for everyone; it is ours, remove it.
      fs.closeSync(fd);
      removeQuietly(this.path);
      throw this.fsError(e, `write lock ${this.path}`);
    }
    fs.closeSync(fd);
    this.#held = true;
    return true;
  }

  /** Removes the lock if its owner is gone (see #reclaimIfDead); true if removed. */
  reclaimIfStale(): boolean {
    return this.#reclaimIfDead();
  }

  #reclaimIfDead(): boolean {
    if (!this.#ownerIsDead()) return false;
    const marker = `${this.path}.reclaim`;
    let fd: number;
    try {
      fd = fs.openSync(marker, 'wx', 0o644);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) return false;
      try {
        // A marker left by a reclaimer that died: remove it, then let a later attempt retry.
        if (Date.now() - fs.statSync(marker).mtimeMs > RECLAIM_MARKER_TTL_MS) fs.unlinkSync(marker);
      } catch {
        // gone already
      }
      return false;
    }
    fs.closeSync(fd);
    try {
      if (!this.#ownerIsDead()) return false;
      fs.unlinkSync(this.path);
      return true;
    } catch {
      return false;
    } finally {
      try {
        fs.unlinkSync(marker);
      } catch {
        // already removed
      }
    }
  }

  #ownerIsDead(): boolean {
    let text: string;
    let failed: boolean;
    try {
      text = fs.readFileSync(this.path, 'utf8');
      failed = Math.floor(fs.statSync(this.path).mtimeMs / 1000) === FAILED_MTIME;
    } catch {
      return false;
    }
    if (failed) return false; // failure marks stay until cleaned up
    if (text === '') return this.#abandonedEmpty();
    return ownerIsDead(text);
  }

  /**
   * An empty lock file names no owner: its creator (jug or Python Jug) was killed between creating
   * and filling it. Filling takes microseconds, so one that stays empty for a minute is abandoned.
   */
  #abandonedEmpty(): boolean {
    try {
      return Date.now() - fs.statSync(this.path).mtimeMs > EMPTY_LOCK_TTL_MS;
    } catch {
      return false;
    }
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    try {
      fs.unlinkSync(this.path);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw this.fsError(e, `remove lock ${this.path}`);
    }
  }

  async fail(): Promise<boolean> {
    if (!this.#held) return false;
    try {
      fs.utimesSync(this.path, FAILED_MTIME, FAILED_MTIME);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return false;
      throw this.fsError(e, `mark lock ${this.path} failed`);
    }
    return true;
  }

  async adopt(): Promise<boolean> {
    try {
      const owner = parseLockOwner(fs.readFileSync(this.path, 'utf8'));
      this.#held = owner !== undefined && owner.pid === process.pid && owner.host === HOST;
    } catch {
      this.#held = false;
    }
    return this.#held;
  }

  /** Whether a live owner (or a failure marker) holds the lock; a dead owner's lock counts as free. */
  async isLocked(): Promise<boolean> {
    return fs.existsSync(this.path) && !this.#ownerIsDead();
  }

  async isFailed(): Promise<boolean> {
    try {
      return Math.floor(fs.statSync(this.path).mtimeMs / 1000) === FAILED_MTIME;
    } catch {
      return false;
    }
  }
}
