/**
 * One task's lock in the file store: `<jugdir>/locks/<hash>.lock`, in Jug's format.
 *
 * Taking it is `link(owner file, lock)` (see lock-owner.ts): atomic, fails if the lock exists.
 * Where hard links are not supported it falls back to Jug's `open(O_CREAT | O_EXCL)` and writes
 * the owner text into the new file. Marking it failed replaces it (rename) by a copy whose mtime
 * is 1 s, so the owner file the other locks share is untouched.
 *
 * A stale lock (holder gone: lock-owner.ts `isStale`) is reclaimed race-free: the reclaimer
 * creates `<lock>.reclaim` with O_EXCL, checks again that the lock is stale, removes it, and
 * removes the marker; of two reclaimers only one removes it, and a fresh lock taken in between is
 * never removed (the check is repeated under the marker).
 */
import fs from 'node:fs';
import type { StoreError } from '../errors.js';
import { FAILED_MTIME, ensureOwnerFile, isFailedMtime, isStale, isThisProcess, linkedToOwner, lockContent, parseLockOwner } from './lock-owner.js';
import { ownerText, parseFailureRecord, recordLine } from './failure-record.js';
import type { FailureRecord, Lock } from './store.js';

/** How long a `.reclaim` marker may exist before it is itself considered abandoned. */
export const RECLAIM_MARKER_TTL_MS = 10_000;

function isCode(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

/** What a FileLock needs from its store. */
export interface LockContext {
  /** Creates the locks directory if needed. */
  readonly ensureDir: () => void;
  /** This process's owner file (locks are hard links to it). */
  readonly ownerFile: string;
  /** Lease for holders on other hosts, ms (0: never expire). */
  readonly leaseMs: number;
  /** Wraps a filesystem error with the store's hints. */
  readonly fsError: (e: unknown, what: string) => StoreError;
  /** Shared per store: false once `link()` proved unsupported here. */
  linkWorks: boolean;
}

/**
 * Whether the lock file at `path`, which names this process, is one of its locks (a hard link to
 * its owner file) rather than an earlier namesake's; undefined when that cannot be told (no hard
 * links here, or no owner file yet).
 */
export function linkedHere(ctx: LockContext, path: string): boolean | undefined {
  return ctx.linkWorks ? linkedToOwner(path, ctx.ownerFile) : undefined;
}

export class FileLock implements Lock {
  #held = false;
  /** The failure mark this lock wrote (fail()): its own file, no longer a link to the owner file. */
  #mark: { readonly dev: number; readonly ino: number } | undefined;

  constructor(
    readonly hash: string,
    readonly path: string,
    private readonly ctx: LockContext,
  ) {}

  async get(): Promise<boolean> {
    if (this.#held) return true;
    this.ctx.ensureDir();
    if (this.#create()) return true;
    // Held by someone. A stale lock (holder gone) is reclaimed, once, race-free.
    if (this.reclaimIfStale()) return this.#create();
    return false;
  }

  #create(): boolean {
    if (this.ctx.linkWorks) {
      try {
        fs.linkSync(this.ctx.ownerFile, this.path);
        this.#held = true;
        return true;
      } catch (e) {
        if (isCode(e, 'EEXIST')) return false;
        if (isCode(e, 'ENOENT')) {
          // No owner file yet (this process's first lock), or it was removed: make it, retry.
          try {
            ensureOwnerFile(this.ctx.ownerFile);
            fs.linkSync(this.ctx.ownerFile, this.path);
            this.#held = true;
            return true;
          } catch (again) {
            if (isCode(again, 'EEXIST')) return false;
            throw this.ctx.fsError(again, `create lock ${this.path}`);
          }
        }
        if (!isCode(e, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK')) throw this.ctx.fsError(e, `create lock ${this.path}`);
        this.ctx.linkWorks = false; // no hard links here: Jug's O_EXCL create
      }
    }
    return this.#createExclusive();
  }

  /**
   * Jug's protocol: create with O_EXCL, then write the owner. A crash between the two leaves an
   * empty lock, which #abandonedEmpty() reclaims once it is clearly old.
   */
  #createExclusive(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'wx', 0o644);
    } catch (e) {
      if (isCode(e, 'EEXIST')) return false;
      throw this.ctx.fsError(e, `create lock ${this.path}`);
    }
    try {
      fs.writeSync(fd, lockContent());
    } catch (e) {
      // E.g. ENOSPC: an empty lock would block the task for everyone; it is ours, remove it.
      fs.closeSync(fd);
      try {
        fs.unlinkSync(this.path);
      } catch {
        // gone already
      }
      throw this.ctx.fsError(e, `write lock ${this.path}`);
    }
    fs.closeSync(fd);
    this.#held = true;
    return true;
  }

  /** Removes the lock if its holder is gone; true if this call removed it. */
  reclaimIfStale(): boolean {
    return this.#removeUnderMarker(() => this.isStaleNow());
  }

  /**
   * Removes the lock if it is a failure mark, whoever left it (`jug cleanup --failed-only`,
   * `invalidate`); never a live lock. True if this call removed it.
   */
  removeIfFailed(): boolean {
    return this.#removeUnderMarker(() => this.#markedFailed());
  }

  /**
   * Removes a lock this caller does not hold when `removable()` says so, race-free: only the
   * holder of the `.reclaim` marker removes, and only after checking again under it, so a lock
   * taken afresh meanwhile is never deleted.
   */
  #removeUnderMarker(removable: () => boolean): boolean {
    if (!removable()) return false;
    const marker = `${this.path}.reclaim`;
    // Another remover is at work (false), unless its marker is a dead one's: then take it over.
    if (!this.#takeMarker(marker) && !(this.#removeDeadMarker(marker) && this.#takeMarker(marker))) return false;
    try {
      if (!removable()) return false;
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

  /**
   * Creates the reclaim marker with O_EXCL and writes this process's owner text in it (its own
   * inode: its mtime is its age); false if it exists. A marker left empty by a reclaimer killed
   * between the two is removed once older than RECLAIM_MARKER_TTL_MS.
   */
  #takeMarker(marker: string): boolean {
    try {
      fs.writeFileSync(marker, lockContent(), { flag: 'wx', mode: 0o644 });
      return true;
    } catch (e) {
      if (isCode(e, 'EEXIST')) return false;
      fs.rmSync(marker, { force: true }); // e.g. a full disk: nothing half-written
      // Not "held by someone": a stale lock nobody can reclaim would be waited on forever.
      throw this.ctx.fsError(e, `reclaim the stale lock ${this.path} (its holder is gone)`);
    }
  }

  /** Removes this lock's reclaim marker if its reclaimer is gone (see #removeDeadMarker). */
  clearDeadMarker(): void {
    this.#removeDeadMarker(`${this.path}.reclaim`);
  }

  /**
   * A marker left by a reclaimer that died (its owner is gone, as for locks) or that is older
   * than a reclaim can take: take it away under a private name — atomically, so two removers never
   * both remove one — check it really is the dead one, and delete it (true). A live reclaimer's
   * marker taken by mistake (it replaced the dead one in between) is put back.
   */
  #removeDeadMarker(marker: string): boolean {
    const dead = (path: string): boolean => {
      try {
        const { mtimeMs } = fs.statSync(path);
        if (Date.now() - mtimeMs > RECLAIM_MARKER_TTL_MS) return true;
        const text = fs.readFileSync(path, 'utf8');
        return text !== '' && isStale(text, mtimeMs, this.ctx.leaseMs);
      } catch {
        return false;
      }
    };
    if (!dead(marker)) return false;
    const mine = `${marker}.${process.pid}-${Math.random().toString(16).slice(2)}`;
    try {
      fs.renameSync(marker, mine);
    } catch {
      return false; // removed by someone else meanwhile
    }
    if (dead(mine)) {
      fs.rmSync(mine, { force: true });
      return true;
    }
    try {
      fs.linkSync(mine, marker); // a live reclaimer's: give it back
    } catch {
      // a newer marker is there already
    }
    fs.rmSync(mine, { force: true });
    return false;
  }

  /** Whether the lock exists and its holder is gone (see lock-owner.ts), or it is an abandoned empty file. */
  isStaleNow(): boolean {
    let text: string;
    let mtimeMs: number;
    try {
      text = fs.readFileSync(this.path, 'utf8');
      mtimeMs = fs.statSync(this.path).mtimeMs;
    } catch {
      return false;
    }
    if (isFailedMtime(mtimeMs)) return false; // failure marks stay until cleaned up
    // Named after this process: ours if linked to our owner file (or held), else an earlier namesake's.
    // (Without hard links, another thread's lock of this process is a file of its own: can't tell.)
    const ours = this.#held || linkedHere(this.ctx, this.path);
    return isStale(text, mtimeMs, this.ctx.leaseMs, Date.now(), ours);
  }

  /** Whether this object holds the lock (taken by get() or adopt(), not yet released or handed off). */
  get held(): boolean {
    return this.#held;
  }

  /**
   * The lock was released for this object by the store's helper thread (commit-job.ts), which
   * removed the file only while it was still this process's: nothing left to release here.
   */
  releasedElsewhere(): void {
    this.#held = false;
    this.#mark = undefined;
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    // A process frozen past its lease (SIGSTOP, a suspended VM) may find its lock taken over by
    // another host meanwhile: that lock is not ours to remove.
    const ours = this.#stillOurs();
    this.#mark = undefined;
    if (!ours) return;
    try {
      fs.unlinkSync(this.path);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw this.ctx.fsError(e, `remove lock ${this.path}`);
    }
  }

  /**
   * Replaces the held lock by a failure mark: same owner text followed by the failure record
   * (failure-record.ts), its own inode, mtime 1 s. Written under a temporary name, flushed and
   * renamed, so readers see the old lock or the whole mark with its whole record.
   */
  async fail(record?: FailureRecord): Promise<boolean> {
    if (!this.#held) return false;
    const tmp = `${this.path}.${process.pid}-failed`;
    try {
      if (!this.#stillOurs()) return false; // gone, or taken over by another (see release())
      const text = ownerText(fs.readFileSync(this.path, 'utf8')) + (record === undefined ? '' : recordLine(record));
      writeDurably(tmp, text);
      fs.utimesSync(tmp, FAILED_MTIME, FAILED_MTIME);
      fs.renameSync(tmp, this.path);
      const mark = fs.statSync(this.path);
      this.#mark = { dev: mark.dev, ino: mark.ino }; // the mark is its own file, still ours to release
    } catch (e) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // not created
      }
      if (isCode(e, 'ENOENT')) return false;
      throw this.ctx.fsError(e, `mark lock ${this.path} failed`);
    }
    return true;
  }

  /**
   * Whether the lock file is still this process's: a hard link to its owner file or, where the
   * filesystem has no hard links, a file naming this process start (pid, host and token). False when it is gone or
   * another process took it over. (Checked just before the removal: the window left is that
   * of two system calls, not that of a process frozen past its lease.)
   */
  #stillOurs(): boolean {
    if (this.#mark !== undefined) {
      try {
        const now = fs.statSync(this.path);
        return now.ino === this.#mark.ino && now.dev === this.#mark.dev;
      } catch {
        return false;
      }
    }
    const linked = linkedHere(this.ctx, this.path);
    if (linked !== undefined) return linked;
    try {
      return isThisProcess(parseLockOwner(fs.readFileSync(this.path, 'utf8')));
    } catch {
      return false;
    }
  }

  async adopt(): Promise<boolean> {
    try {
      this.#held = isThisProcess(parseLockOwner(fs.readFileSync(this.path, 'utf8')));
    } catch {
      this.#held = false;
    }
    return this.#held;
  }

  /** Whether a live holder (or a failure mark) holds the lock; a stale lock counts as free. */
  async isLocked(): Promise<boolean> {
    return fs.existsSync(this.path) && !this.isStaleNow();
  }

  async isFailed(): Promise<boolean> {
    return this.#markedFailed();
  }

  /** The failure record of this lock if it is a failure mark that carries a readable one. */
  failureRecord(): FailureRecord | undefined {
    if (!this.#markedFailed()) return undefined;
    try {
      return parseFailureRecord(fs.readFileSync(this.path, 'utf8'));
    } catch {
      return undefined; // removed meanwhile
    }
  }

  #markedFailed(): boolean {
    try {
      return isFailedMtime(fs.statSync(this.path).mtimeMs);
    } catch {
      return false;
    }
  }
}

/** Writes `text` to a new file at `path` (mode 0644) and flushes it to disk. */
function writeDurably(path: string, text: string): void {
  const fd = fs.openSync(path, 'w', 0o644);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
