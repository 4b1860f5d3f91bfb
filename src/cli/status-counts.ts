/**
 * Task status as `jug status` shows it, shared by `status` and `graph`: each task of the graph
 * classified from one listing of results and one of locks.
 */
import type { TaskGraph } from '../graph.js';
import type { LockInfo, Store } from '../store/store.js';
import { countByName } from './common.js';

/**
 * Column titles, in the order of {@link StatusColumn} values. `Stale` (a lock whose holder is
 * gone: a dead process on this host, or another host's lock past its lease) is shown only when
 * some task has one.
 */
export const STATUS_COLUMNS = ['Waiting', 'Ready', 'Finished', 'Running', 'Failed', 'Stale'] as const;

/** Index into {@link STATUS_COLUMNS}. */
export type StatusColumn = 0 | 1 | 2 | 3 | 4 | 5;
export const WAITING = 0;
export const READY = 1;
export const FINISHED = 2;
export const RUNNING = 3;
export const FAILED = 4;
export const STALE = 5;

/**
 * Classifies every task from one listing of results and one of locks: stored → Finished;
 * dependencies all stored → Failed / Running (locked) or Ready; otherwise Waiting.
 */
export async function classify(
  graph: TaskGraph,
  store: Store,
  listing?: ReadonlySet<string>,
  lockListing?: ReadonlyMap<string, LockInfo>,
): Promise<StatusColumn[]> {
  // Locks first, then results: a task committed between the two listings then shows as finished
  // (its lock gone, its result there), never as ready. `listing`: the one taken to load the
  // jugfile, when the caller has it (taken before this, so a task finished since shows as ready).
  const locks = lockListing ?? (await store.listLocks());
  const stored = listing ?? (await store.list());
  return graph.tasks.map((t, i): StatusColumn => {
    const h = t.hash();
    if (stored.has(h)) return FINISHED;
    if (!graph.deps[i]!.every((d) => stored.has(graph.tasks[d]!.hash()))) return WAITING;
    const lock = locks.get(h);
    if (lock === undefined) return READY;
    if (lock.stale) return STALE; // the next run (or `jug cleanup --stale`) takes it over
    return lock.failed ? FAILED : RUNNING;
  });
}

/** The locks of the tasks classified as `column` (e.g. RUNNING: who runs what). */
export function locksOf(graph: TaskGraph, classes: readonly StatusColumn[], locks: ReadonlyMap<string, LockInfo>, column: StatusColumn): LockInfo[] {
  const out: LockInfo[] = [];
  graph.tasks.forEach((t, i) => {
    const l = classes[i] === column ? locks.get(t.hash()) : undefined;
    if (l !== undefined) out.push(l);
  });
  return out;
}

/** Counts per task name, one entry per {@link STATUS_COLUMNS} column. */
export function statusByName(graph: TaskGraph, classes: readonly StatusColumn[]): Map<string, number[]> {
  return countByName(graph, (i) => classes[i], STATUS_COLUMNS.length);
}

/** Totals over all tasks, one entry per {@link STATUS_COLUMNS} column. */
export function statusTotals(classes: readonly StatusColumn[]): number[] {
  const counts = new Array<number>(STATUS_COLUMNS.length).fill(0);
  for (const c of classes) counts[c]!++;
  return counts;
}

/** One-line summary, as `jug status --short`. */
export function shortStatus(counts: readonly number[]): string {
  const total = counts.reduce((a, b) => a + b, 0);
  const waiting = counts[WAITING]! + counts[READY]!;
  const stale = counts[STALE] ?? 0;
  if (waiting === 0 && counts[RUNNING] === 0 && counts[FAILED] === 0 && stale === 0) return `All tasks complete (${total} tasks).`;
  const active = counts[RUNNING] === 0 ? 'none active' : `${counts[RUNNING]} active`;
  const staleNote = stale === 0 ? '' : `, ${stale} with a stale lock`;
  return `${waiting} tasks waiting to be run, ${counts[FAILED]} failed${staleNote}, ${counts[FINISHED]} complete, (${active}).`;
}
