/**
 * Who holds a lock, and whether that holder is still alive.
 *
 * Every lock a process takes is a hard link to one *owner file* of that process,
 * `<jugdir>/tempfiles/owner-<pid>-<token>-<host>`, which holds Jug's lock text (`PID <pid> on
 * HOSTNAME <host>` and the time it was created) and a third line, `Owner <token>`. Taking a lock
 * is then one `link()` — atomic, fails if the lock exists, safe on NFS — and creates no inode
 * (creating and deleting an inode per task is the dominant cost of small tasks on ext4). Lock
 * files keep Jug's format, so Python Jug and older tools read them as before.
 *
 * The token makes an owner unique per *process start*, not only per pid and host: a restarted
 * container runs jug with the same hostname and pid (often 1) as the one that was killed, and
 * must see that one's locks as a dead predecessor's, not as its own. On Linux it is the process's
 * start time (`s<clock ticks since boot>`, field 22 of /proc/<pid>/stat), which every thread of
 * the process reads alike and which other processes of the host can check too (a pid reused by
 * an unrelated process then does not keep a dead holder's locks alive); elsewhere a random one.
 *
 * Because all of a process's locks share the owner file's inode, one `utimes()` on it refreshes
 * the mtime of every lock the process holds: that is the heartbeat (heartbeat.ts), run from a
 * thread of its own so that it keeps beating while task code blocks the others.
 *
 * A lock is stale when its holder is gone:
 * - same host: the process named in it no longer exists, or it is another start of that pid
 *   (its token differs: known at once);
 * - another host: its mtime is older than the lease (the holder stopped beating).
 * A failure mark (mtime 1 s, `--keep-failed`) is never stale: it stays until cleaned up.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/** mtime (seconds) that marks a lock as failed, as in Python Jug. */
export const FAILED_MTIME = 1;

/** Default lease: a lock from another host not refreshed for this long is stale. */
export const DEFAULT_LEASE_MS = 5 * 60_000;

/** Shortest lease other than 0 (never): several heartbeats must fit in it, whatever the holder's own lease. */
export const MIN_LEASE_MS = 10_000;

/**
 * How often a running `jug execute` refreshes its owner file (and so all its locks). Fixed, not
 * derived from the process's own lease: other hosts judge its locks with *their* lease, which may
 * be shorter (down to MIN_LEASE_MS), and a process that itself never expires others' locks
 * (lease 0) must still beat for theirs.
 */
export const HEARTBEAT_MS = 2000;

/** An empty lock older than this is abandoned (a holder died between creating and writing it). */
export const EMPTY_LOCK_TTL_MS = 60_000;

export const HOST = hostname();

/** Start time of process `pid` (`s<clock ticks since boot>`), or undefined where /proc cannot tell. */
export function startToken(pid: number | 'self'): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return ticks !== undefined && /^\d+$/.test(ticks) ? `s${ticks}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * This process's token (see the module comment). Without /proc, a random one, kept in the
 * environment under this pid so that the process's worker threads (which inherit it) share it.
 */
function ownToken(): string {
  const fromProc = startToken('self');
  if (fromProc !== undefined) return fromProc;
  const saved = /^(\d+):(r[0-9a-f]+)$/.exec(process.env['JUG_OWNER_TOKEN'] ?? '');
  if (saved !== null && Number(saved[1]) === process.pid) return saved[2]!;
  const token = `r${randomBytes(6).toString('hex')}`;
  process.env['JUG_OWNER_TOKEN'] = `${process.pid}:${token}`;
  return token;
}

/** This process start's token: the same in all its threads, different after a restart with the same pid. */
export const OWNER_TOKEN = ownToken();

/** Who a lock names: Jug's pid and host, and our token when a jug of this version wrote it. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token?: string;
}

/** Jug's lock text: `PID <pid> on HOSTNAME <host>`, the creation time, and `Owner <token>`. */
export function lockContent(pid = process.pid, host = HOST, now = new Date(), token = OWNER_TOKEN): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())} (${p(now.getHours())}h${p(now.getMinutes())}.${p(now.getSeconds())})`;
  return `PID ${pid} on HOSTNAME ${host}\nLock created on ${stamp}\nOwner ${token}\n`;
}

/** Parses the owner out of lock text; undefined if it is not in Jug's format. */
export function parseLockOwner(text: string): LockOwner | undefined {
  const m = /^PID (\d+) on HOSTNAME (\S+)/.exec(text);
  if (m === null) return undefined;
  const t = /\nOwner ([sr][0-9a-f]+)\n/.exec(text);
  return t === null ? { pid: Number(m[1]), host: m[2]! } : { pid: Number(m[1]), host: m[2]!, token: t[1]! };
}

/** Whether a lock names this very process start (pid, host and, when the lock has one, token). */
export function isThisProcess(owner: LockOwner | undefined): boolean {
  return owner !== undefined && owner.pid === process.pid && owner.host === HOST && (owner.token ?? OWNER_TOKEN) === OWNER_TOKEN;
}

/**
 * Whether the owner `{ pid, token }`, of this host, is gone: another start of this process's pid
 * (a restarted container), a process that no longer exists, or a pid since reused by a process
 * started at another time. An owner without token (older jug, Python Jug) naming this process's
 * pid cannot be told apart from this process: `ours` (whether the lock is linked to this
 * process's owner file) decides, and undefined counts as alive.
 */
export function localOwnerGone(owner: { readonly pid: number; readonly token?: string | undefined }, ours?: boolean): boolean {
  if (owner.pid === process.pid) return owner.token !== undefined ? owner.token !== OWNER_TOKEN : ours === false;
  if (!processAlive(owner.pid)) return true;
  if (owner.token === undefined || !owner.token.startsWith('s')) return false;
  const now = startToken(owner.pid);
  return now !== undefined && now !== owner.token;
}

/**
 * Whether a process with this pid exists on this host and has not exited: a zombie (killed, not yet
 * reaped by its parent) answers `kill(pid, 0)` but holds nothing any more (Linux: its state in
 * /proc/<pid>/stat is `Z`).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux), or gone this instant: trust kill()
  }
}

/** Whether a lock's mtime marks it failed. */
export function isFailedMtime(mtimeMs: number): boolean {
  return Math.floor(mtimeMs / 1000) === FAILED_MTIME;
}

/**
 * Whether a lock (its text and mtime) is held by nobody alive: a process of this host that no
 * longer exists, or another host's holder whose heartbeat is older than `leaseMs` (0: never), or
 * an empty lock older than EMPTY_LOCK_TTL_MS. A lock naming this process's pid is stale when its
 * token is another's (an earlier process with the same pid: a restarted container) or, for a lock
 * without token, when `ours` is false (see localOwnerGone). Failure marks are never stale.
 */
export function isStale(text: string, mtimeMs: number, leaseMs: number, now = Date.now(), ours?: boolean): boolean {
  if (isFailedMtime(mtimeMs)) return false;
  if (text === '') return now - mtimeMs > EMPTY_LOCK_TTL_MS;
  const owner = parseLockOwner(text);
  if (owner === undefined) return false;
  if (owner.host === HOST) return localOwnerGone(owner, ours);
  return leaseMs > 0 && now - mtimeMs > leaseMs;
}

/**
 * Whether the lock file at `lockPath` is a hard link to this process's owner file (so, one of its
 * locks); undefined when that cannot be told (no owner file: this process holds no lock yet).
 */
export function linkedToOwner(lockPath: string, ownerFile: string): boolean | undefined {
  try {
    const owner = fs.statSync(ownerFile);
    const lock = fs.statSync(lockPath);
    return owner.ino === lock.ino && owner.dev === lock.dev;
  } catch {
    return undefined;
  }
}

/** File-name-safe form of the host name. */
export const HOST_SAFE = HOST.replace(/[^A-Za-z0-9._-]/g, '_');

/** Prefix of owner files in `tempfiles/`. */
export const OWNER_PREFIX = 'owner-';

/** Prefix of the temporary file an owner file is made from: `.owner-tmp-<pid>-<host>.<random>`. */
export const OWNER_TMP_PREFIX = '.owner-tmp-';

/** Path of this process's owner file in a jugdir (the same for every thread of the process). */
export function ownerFilePath(jugdir: string, pid = process.pid, token = OWNER_TOKEN): string {
  return join(jugdir, 'tempfiles', `${OWNER_PREFIX}${pid}-${token}-${HOST_SAFE}`);
}

/**
 * The pid, token and (file-safe) host named by an owner file name, if it is one
 * (`owner-<pid>-<token>-<host>`; an older jug's `owner-<pid>-<host>` has no token).
 */
export function parseOwnerFileName(name: string): { pid: number; host: string; token?: string } | undefined {
  const m = /^owner-(\d+)-(?:([sr][0-9a-f]+)-)?(.+)$/.exec(name);
  if (m === null) return undefined;
  return m[2] === undefined ? { pid: Number(m[1]), host: m[3]! } : { pid: Number(m[1]), host: m[3]!, token: m[2] };
}

/** `{ pid, host }` of an owner file being made (`.owner-tmp-<pid>-<host>.<random>`, see ensureOwnerFile). */
export function parseOwnerTmpName(name: string): { pid: number; host: string } | undefined {
  if (!name.startsWith(OWNER_TMP_PREFIX)) return undefined;
  const m = /^(\d+)-(.+)\.[0-9a-f]+$/.exec(name.slice(OWNER_TMP_PREFIX.length));
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
  // Not named like an owner file (owner-<pid>-<host>), so a copy left by a process killed right
  // here is never taken for one of another host; leftovers of dead processes are removed by name.
  const tmp = join(dirname(path), `${OWNER_TMP_PREFIX}${process.pid}-${HOST_SAFE}.${Math.random().toString(16).slice(2)}`);
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
