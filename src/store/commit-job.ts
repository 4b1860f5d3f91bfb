/**
 * A commit job: the part of storing results that waits on the disk, run in the file store's
 * helper thread (heartbeat.ts) for serial runs, so that the main thread starts the next task
 * meanwhile. For each result, in order: flush the written temporary file, rename it into place
 * (its shard directory made again if `jug pack` removed it), then flush each directory renamed
 * into, then release the task's lock — only now, so that no other process can take the task
 * again before its result is durable and visible (exactly once). The run records written for
 * these results are flushed first (`syncFd`): a stored result never lacks its record.
 *
 * The thread runs plain CommonJS (no loaders, no jug modules): {@link COMMIT_JOB_SOURCE} is the
 * job's code as source text, evaluated in that thread.
 */

/** What the main thread sends. Plain data (structured clone). */
export interface CommitJob {
  readonly id: number;
  /** A file descriptor of this process to fdatasync first (the run records' file), if any. */
  readonly syncFd?: number | undefined;
  /** This process's owner file: a lock is released only while it is still a hard link to it. */
  readonly ownerFile: string;
  readonly items: readonly CommitItem[];
}

export interface CommitItem {
  /** The written, not yet flushed result. */
  readonly tmp: string;
  /** Where it goes. */
  readonly final: string;
  /** The task's lock to release once the result is durable (absent: the caller releases it). */
  readonly lock?: string | undefined;
}

/** What the thread answers, item by item. */
export interface CommitReply {
  readonly id: number;
  /** null: committed; else why not (the temporary file is left for the caller to remove). */
  readonly errors: readonly ({ readonly code?: string; readonly message: string } | null)[];
  /** Whether the item's lock was released (false: not asked, or not ours, or the unlink failed). */
  readonly released: readonly boolean[];
}

/**
 * `runCommitJob(job)`, `writeNote({ note, text })` (the running notes: see Heartbeat.writeNote)
 * and their helpers, as CommonJS source for the helper thread (needs `fs` and `dirname` in scope).
 */
export const COMMIT_JOB_SOURCE = `
function runCommitJob(job) {
  if (job.syncFd !== undefined) {
    try { fs.fdatasyncSync(job.syncFd); } catch {} // records: a hint, never fail the results
  }
  const errors = job.items.map((it) => {
    try {
      flushAndRename(it.tmp, it.final);
      return null;
    } catch (e) {
      return { code: e && e.code, message: String(e && e.message !== undefined ? e.message : e) };
    }
  });
  const dirs = new Set();
  job.items.forEach((it, i) => { if (errors[i] === null) dirs.add(dirname(it.final)); });
  for (const d of dirs) fsyncDir(d);
  const released = job.items.map((it, i) => errors[i] === null && it.lock !== undefined && releaseOurLock(it.lock, job.ownerFile));
  return { id: job.id, errors, released };
}
function flushAndRename(tmp, final) {
  const fd = fs.openSync(tmp, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  try {
    fs.renameSync(tmp, final);
  } catch (e) {
    if (!e || e.code !== 'ENOENT' || !fs.existsSync(tmp)) throw e;
    fs.mkdirSync(dirname(final), { recursive: true });
    fs.renameSync(tmp, final);
  }
}
function fsyncDir(dir) {
  let fd;
  try { fd = fs.openSync(dir, 'r'); fs.fsyncSync(fd); } catch {} finally { if (fd !== undefined) fs.closeSync(fd); }
}
function writeNote(job) {
  try {
    if (job.text === undefined) {
      fs.rmSync(job.note, { force: true });
    } else {
      fs.writeFileSync(job.note + '.tmp', job.text, { mode: 0o644 });
      fs.renameSync(job.note + '.tmp', job.note);
    }
  } catch {}
  return { id: job.id };
}
function releaseOurLock(lock, ownerFile) {
  try {
    const owner = fs.statSync(ownerFile);
    const held = fs.statSync(lock);
    if (owner.ino !== held.ino || owner.dev !== held.dev) return false;
    fs.unlinkSync(lock);
    return true;
  } catch {
    return false;
  }
}
`;
