/**
 * Who holds a lock, and whether that holder is still alive.
 *
 * Every lock a process takes is a hard link to one *owner file* of that process,
 * `<jugdir>/tempfiles/owner-<pid>-<host>`, which holds Jug's lock text (`PID <pid> on HOSTNAME
 * <host>` and the time it was created). Taking a lock is then one `link()` — atomic, fails if the
 * lock exists, safe on NFS — and creates no inode (creating and deleting an inode per task is the
 * dominant cost of small tasks on ext4). Lock files keep Jug's format, so Python Jug and older
 * tools read them as before.
 *
 * Because all of a process's locks share the owner file's inode, one `utimes()` on it refreshes
 * the mtime of every lock the process holds: that is the heartbeat (heartbeat.ts), run from a
 * thread of its own so that it keeps beating while task code blocks the others.
 *
 * A lock is stale when its holder is gone:
 * - same host: the process named in it no longer exists (known at once);
 * - another host: its mtime is older than the lease (the holder stopped beating).
 * A failure mark (mtime 1 s, `--keep-failed`) is never stale: it stays until cleaned up.
 */
import fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** mtime (seconds) that marks a lock as failed, as in Python Jug. */
export const FAILED_MTIME = 1;

/** Default lease: a lock from another host not refreshed for this long is stale. */
export const DEFAULT_LEASE_MS = 5 * 60_000;

export const HOST = hostname();

/** Jug's lock text: `PID <pid> on HOSTNAME <host>` and the creation time. */
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
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock's mtime marks it failed. */
export function isFailedMtime(mtimeMs: number): boolean {
  return Math.floor(mtimeMs / 1000) === FAILED_MTIME;
}

/**
 * Whether a lock (its text and mtime) is held by nobody alive: a process of this host that no
 * longer exists (never this process), or another host's holder whose heartbeat is older than
 * `leaseMs` (0: never, for holders that do not beat). Failure marks are never stale.
 */
export function isStale(text: string, mtimeMs: number, leaseMs: number, now = Date.now()): boolean {
  if (isFailedMtime(mtimeMs)) return false;
  const owner = parseLockOwner(text);
  if (owner === undefined) return false;
  if (owner.host === HOST) return owner.pid !== process.pid && !processAlive(owner.pid);
  return leaseMs > 0 && now - mtimeMs > leaseMs;
}

/** File-name-safe form of the host name. */
export const HOST_SAFE = HOST.replace(/[^A-Za-z0-9._-]/g, '_');

/** Prefix of owner files in `tempfiles/`. */
export const OWNER_PREFIX = 'owner-';

/** Path of this process's owner file in a jugdir (the same for every thread of the process). */
export function ownerFilePath(jugdir: string, pid = process.pid): string {
  return join(jugdir, 'tempfiles', `${OWNER_PREFIX}${pid}-${HOST_SAFE}`);
}

/** The pid and (file-safe) host named by an owner file name, if it is one. */
export function parseOwnerFileName(name: string): { pid: number; host: string } | undefined {
  const m = /^owner-(\d+)-(.+)$/.exec(name);
  return m === null ? undefined : { pid: Number(m[1]), host: m[2]! };
}

/** Whether an owner file name is of this host (compared in file-safe form). */
export function isThisHost(safeHost: string): boolean {
  return safeHost === HOST_SAFE;
}

/**
 * Makes sure this process's owner file exists. Threads of one process race to create it: each
 * writes a temporary file and links it to the owner name, which fails if another thread was first
 * — so there is only ever one owner inode, the one every lock links to and the heartbeat refreshes
 * (a rename would replace it, leaving earlier locks linked to an inode nobody refreshes). The file
 * is never seen empty.
 */
export function ensureOwnerFile(path: string): void {
  if (fs.existsSync(path)) return;
  const tmp = `${path}.${process.pid}-${Math.random().toString(16).slice(2)}`;
  try {
    fs.writeFileSync(tmp, lockContent(), { mode: 0o644 });
    fs.linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK'].includes(code)) {
      fs.renameSync(tmp, path); // no hard links here: locks fall back to O_EXCL files anyway
    } else if (code !== 'EEXIST') {
      fs.rmSync(tmp, { force: true }); // e.g. a full disk: leave nothing half-written
      throw e;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
