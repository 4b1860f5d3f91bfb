/** `jug status`: how many tasks of each name are waiting, ready, finished, running or failed. */
import type { TaskGraph } from '../../graph.js';
import type { Store } from '../../store/store.js';
import { barrierNote, countByName, openProject, type CommonOptions } from '../common.js';
import { renderTable } from '../table.js';

/** Options of `jug status`. */
export interface StatusOptions extends CommonOptions {
  /** One line instead of the table. @default false */
  short?: boolean;
}

export const STATUS_COLUMNS = ['Waiting', 'Ready', 'Finished', 'Running', 'Failed'] as const;
const [WAITING, READY, FINISHED, RUNNING, FAILED] = [0, 1, 2, 3, 4] as const;
type Column = 0 | 1 | 2 | 3 | 4;

/**
 * Classifies every task from one listing of results and one of locks: stored → Finished;
 * dependencies all stored → Failed / Running (locked) or Ready; otherwise Waiting.
 */
export async function classify(graph: TaskGraph, store: Store): Promise<Column[]> {
  const [stored, locks] = await Promise.all([store.list(), store.listLocks()]);
  return graph.tasks.map((t, i): Column => {
    const h = t.hash();
    if (stored.has(h)) return FINISHED;
    if (!graph.deps[i]!.every((d) => stored.has(graph.tasks[d]!.hash()))) return WAITING;
    const lock = locks.get(h);
    if (lock === undefined || lock.stale) return READY; // a dead process's lock is reclaimed by the next run
    return lock.failed ? FAILED : RUNNING;
  });
}

/** One-line summary, as `jug status --short`. */
export function shortStatus(counts: readonly number[]): string {
  const total = counts.reduce((a, b) => a + b, 0);
  const waiting = counts[WAITING]! + counts[READY]!;
  if (waiting === 0 && counts[RUNNING] === 0 && counts[FAILED] === 0) return `All tasks complete (${total} tasks).`;
  const active = counts[RUNNING] === 0 ? 'none active' : `${counts[RUNNING]} active`;
  return `${waiting} tasks waiting to be run, ${counts[FAILED]} failed, ${counts[FINISHED]} complete, (${active}).`;
}

export async function status(jugfile: string | undefined, options: StatusOptions): Promise<number> {
  const { graph, store, barrier } = await openProject(jugfile, options);
  const cls = await classify(graph, store);
  if (options.short) {
    const counts = [0, 0, 0, 0, 0];
    for (const c of cls) counts[c]!++;
    process.stdout.write(shortStatus(counts) + '\n');
  } else {
    process.stdout.write(renderTable(STATUS_COLUMNS, countByName(graph, (i) => cls[i], STATUS_COLUMNS.length)));
  }
  if (barrier !== undefined) process.stdout.write(barrierNote(barrier));
  await store.close();
  return 0;
}
