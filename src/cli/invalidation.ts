/**
 * Invalidation, shared by `jug invalidate` and `jug shell`'s `invalidate()`: the chosen tasks and
 * every task that depends on them, transitively, lose their stored results and failure marks.
 */
import type { TaskGraph } from '../graph.js';
import { compactRunRecords } from '../run-records.js';
import type { Store } from '../store/store.js';

/** What an invalidation did. */
export interface InvalidationResult {
  /** Indices of the tasks invalidated: the roots and all their dependants, in graph order. */
  readonly tasks: readonly number[];
  /** Indices of the tasks whose stored result was removed. */
  readonly removed: readonly number[];
  /** Failure marks (`--keep-failed` locks) removed, so the tasks run again. */
  readonly failureMarksRemoved: number;
  /**
   * Indices of invalidated tasks that a live process is running now: their result will be
   * stored when they finish, computed from the old inputs.
   */
  readonly running: readonly number[];
}

/** `roots` and every task that depends on one of them, transitively, in graph (topological) order. */
export function withDependants(graph: TaskGraph, roots: Iterable<number>): number[] {
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    for (const d of graph.dependants[i]!) stack.push(d);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Removes the results of `roots` and of everything that depends on them. Results are removed
 * dependencies first, so a concurrent `jug execute` never sees a dependant's old result without
 * also seeing it disappear afterwards. Failure marks of these tasks go too (invalidating a task
 * means "compute it again"); locks of running tasks are left alone and reported.
 */
export async function invalidate(graph: TaskGraph, store: Store, roots: Iterable<number>): Promise<InvalidationResult> {
  const tasks = withDependants(graph, roots);
  const [stored, locks] = await Promise.all([store.list(), store.listLocks()]);
  const removed: number[] = [];
  const running: number[] = [];
  let failureMarksRemoved = 0;
  const gone = await removeResults(store, [...tasks].map((i) => graph.tasks[i]!.hash()).filter((h) => stored.has(h)));
  for (const i of tasks) {
    const h = graph.tasks[i]!.hash();
    if (gone.has(h)) removed.push(i);
    const lock = locks.get(h);
    if (lock?.failed) {
      if (await store.removeFailedLock(h)) failureMarksRemoved++;
    } else if (lock !== undefined && !lock.stale) {
      running.push(i);
    }
  }
  return { tasks, removed, failureMarksRemoved, running };
}

/** Counts of task indices per task name. */
export function countNames(graph: TaskGraph, indices: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of indices) {
    const name = graph.tasks[i]!.name;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

/** Warning about invalidated tasks that are running now, or '' if none. */
export function runningWarning(graph: TaskGraph, result: InvalidationResult): string {
  if (result.running.length === 0) return '';
  const names = [...countNames(graph, result.running)].map(([n, k]) => `${n} ×${k}`).join(', ');
  return (
    `jug: warning: ${result.running.length} invalidated task(s) are running in another process now (${names}); ` +
    `they will store results computed from the old inputs. Invalidate again once they finish.\n`
  );
}

/**
 * Removes the results of `hashes`, in their order; returns those that were stored. One call
 * (`Store.removeMany`) where the store has it: the file store then removes packed results under
 * one pack lock and one flush, rather than one each.
 */
export async function removeResults(store: Store, hashes: readonly string[]): Promise<Set<string>> {
  if (store.removeMany !== undefined) return store.removeMany(hashes);
  const removed = new Set<string>();
  for (const h of hashes) if (await store.remove(h)) removed.add(h);
  return removed;
}

/**
 * Compacts the run records (compactRunRecords) after results were removed; returns how many
 * records were dropped. A failure to compact is said on `err` and costs nothing else: the
 * results are removed, and the records left over are only history.
 */
export async function compactQuietly(store: Store, err: (s: string) => void): Promise<number> {
  try {
    return await compactRunRecords(store);
  } catch (e) {
    err(`jug: the run records were not compacted (they are kept as they were): ${e instanceof Error ? e.message : String(e)}\n`);
    return 0;
  }
}
