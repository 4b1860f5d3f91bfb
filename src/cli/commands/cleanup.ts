/**
 * `jug cleanup`: removes stored results that no task of the jugfile uses (left by tasks that were
 * changed or deleted), and locks that no running process holds (failure marks, locks of dead
 * processes). It never deletes anything but jug's own hash-named result and lock files, and never
 * a lock a live process holds.
 */
import type { TaskGraph } from '../../graph.js';
import { UsageError } from '../../errors.js';
import { openProject, taskMatcher, taskTarget, type CommonOptions, type Project, type TaskSelector } from '../common.js';
import { silentHolderLines, silentHolders } from '../lock-holders.js';
import { plural } from '../table.js';
import { compactQuietly, removeResults } from '../invalidation.js';

/** Options of `jug cleanup` (the first four are mutually exclusive). */
export interface CleanupOptions extends CommonOptions {
  /** Only locks (failure marks and stale locks); keep every result. @default false */
  locksOnly?: boolean;
  /** Only failure marks (`--keep-failed` locks). @default false */
  failedOnly?: boolean;
  /** Only results; keep every lock. @default false */
  keepLocks?: boolean;
  /** Only stale locks (holder gone). @default false */
  stale?: boolean;
  /** With `failedOnly`: only the failure marks of the tasks this selects (name pattern, hash or hash prefix, as `execute --target`). */
  target?: string;
  /** List what would be removed; remove nothing. @default false */
  dryRun?: boolean;
}

export async function cleanup(jugfile: string | undefined, options: CleanupOptions): Promise<number> {
  if (options.target !== undefined) {
    if (!options.failedOnly) {
      throw new UsageError(
        'cleanup --target selects the failure marks to remove: use it with --failed-only ' +
          '(results no task uses belong to no task, and stale locks are removed all at once with --stale).',
      );
    }
    taskMatcher(options.target); // a bad regular expression is reported before the jugfile loads
  }
  const project = await openProject(jugfile, options);
  try {
    return await cleanupProject(project, options);
  } finally {
    await project.store.close();
  }
}


/** The command on an opened project (unit-testable with a MemoryStore). */
export async function cleanupProject(
  project: Project,
  options: Omit<CleanupOptions, keyof CommonOptions>,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const dry = options.dryRun === true;
  const selected = failedSelection(project, options.target);
  const lockOnly = options.locksOnly || options.failedOnly || options.stale;
  const doFailed = !options.keepLocks && !options.stale;
  const doStale = !options.keepLocks && !options.failedOnly;
  const io = { out, err, dry };
  const code = lockOnly ? 0 : await cleanResults(project, io, doFailed || doStale);
  if (doFailed || doStale) {
    await cleanLocks(project, io, { failed: doFailed ? selected : undefined, stale: doStale });
  }
  if (doStale && !dry) {
    const n = await project.store.clearDeadWrites();
    if (n > 0) out(`Removed ${plural(n, 'file')} left in tempfiles/ by processes that are gone\n`);
  }
  if (dry) out('Dry run: nothing was removed.\n');
  return code;
}

/** Where cleanup's steps write, and whether they only say what they would do. */
interface CleanupIo {
  out: (s: string) => void;
  err: (s: string) => void;
  dry: boolean;
}

/** Removes (or lists) the results no task of the jugfile uses; 1 when a barrier makes that unknowable. */
async function cleanResults(project: Project, { out, err, dry }: CleanupIo, locksToo: boolean): Promise<number> {
  const { graph, store } = project;
  if (project.barrier !== undefined) {
    err(
      `jug: no results removed: the jugfile stops at barrier() (${project.barrier.where}) because tasks ` +
        `before it are not all computed, so the tasks declared after it are not known and their results ` +
        `would look unused. Run \`jug execute\` until the barrier is passed, then \`jug cleanup\` again` +
        (locksToo ? ' (locks were still cleaned up).\n' : '.\n'),
    );
    return 1;
  }
  const unused = await unusedResults(graph, store);
  if (dry) {
    for (const h of unused) out(`would remove result ${shownHash(graph, h)}\n`);
    out(`Would remove ${plural(unused.length, 'result')}\n`);
    return 0;
  }
  const n = (await removeResults(store, unused)).size;
  out(`Removed ${plural(n, 'result')}\n`);
  const dropped = await compactQuietly(store, err);
  if (dropped > 0) out(`Compacted the run records: ${plural(dropped, 'record')} of removed results or older runs dropped\n`);
  return 0;
}

/**
 * Removes (or lists) failure marks (`which.failed`: those of the selected hashes; undefined: none)
 * and stale locks (`which.stale`), and says which locks it kept because their holders live.
 */
async function cleanLocks(
  project: Project,
  { out, dry }: CleanupIo,
  which: { failed: ((hash: string) => boolean) | undefined; stale: boolean },
): Promise<void> {
  const { graph, store } = project;
  const locks = await store.listLocks();
  const selected = which.failed;
  const failed = selected !== undefined ? [...locks].filter(([h, l]) => l.failed && selected(h)).map(([h]) => h) : [];
  const stale = which.stale ? [...locks].filter(([, l]) => l.stale).map(([h]) => h) : [];
  const held = [...locks.values()].filter((l) => !l.failed && !l.stale);
  const silent = silentHolders(held);
  const live = held.length - silent.reduce((n, h) => n + h.count, 0);
  let nFailed = failed.length;
  let nStale = stale.length;
  if (dry) {
    for (const h of failed) out(`would remove failure mark ${shownHash(graph, h)}\n`);
    for (const h of stale) out(`would remove stale lock ${shownHash(graph, h)}\n`);
  } else {
    nFailed = 0;
    for (const h of failed) if (await store.removeFailedLock(h)) nFailed++;
    nStale = stale.length > 0 ? await store.clearStaleLocks() : 0;
  }
  const parts = [
    ...(selected !== undefined ? [plural(nFailed, 'failure mark')] : []),
    ...(which.stale ? [plural(nStale, 'stale lock')] : []),
  ];
  out(`${dry ? 'Would remove' : 'Removed'} ${parts.join(' and ')}\n`);
  if (live > 0) out(`Kept ${plural(live, 'lock')} held by running processes\n`);
  if (silent.length > 0) out(`Kept, not stale yet:\n${silentHolderLines(silent)}`);
}

/** Which hashes' failure marks cleanup may remove: all, or (`--target`) those of the selected tasks. */
function failedSelection(project: Project, target: string | undefined): (hash: string) => boolean {
  if (target === undefined) return () => true;
  const { graph } = project;
  const select: TaskSelector = taskTarget(target, graph.tasks);
  return (h) => {
    const i = graph.index.get(h);
    return i !== undefined && select(graph.tasks[i]!);
  };
}

/**
 * A hash as a dry run lists it: `primes.isPrime (1a2b3c4d5e)` for a task of the jugfile, else
 * `1a2b3c4d5e (not in the jugfile)` (the short hash starts the file's name in the jugdir).
 */
function shownHash(graph: TaskGraph, hash: string): string {
  const i = graph.index.get(hash);
  const short = hash.slice(0, 10);
  return i === undefined ? `${short} (not in the jugfile)` : `${graph.tasks[i]!.name} (${short})`;
}

/** Stored results whose hash is not a task of the graph, sorted. */
async function unusedResults(graph: TaskGraph, store: Project['store']): Promise<string[]> {
  const stored = await store.list();
  return [...stored].filter((h) => !graph.index.has(h)).sort();
}
