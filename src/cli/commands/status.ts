/** `jug status`: how many tasks of each name are waiting, ready, finished, running or failed. */
import { barrierNote, openProject, type CommonOptions } from '../common.js';
import { FAILED, RUNNING, STALE, STATUS_COLUMNS, classify, locksOf, shortStatus, statusByName, statusTotals } from '../status-counts.js';
import { renderTable } from '../table.js';
import { failedList } from '../failed-list.js';
import { codeState } from '../outdated-state.js';
import { OUTDATED_COLUMNS, outdatedByName, outdatedListing, outdatedNote } from '../status-outdated.js';
import { runningHostsLine, silentHolderLines, silentHolders } from '../lock-holders.js';

/** Options of `jug status`. */
export interface StatusOptions extends CommonOptions {
  /** One line instead of the table. @default false */
  short?: boolean;
  /** List the failed tasks (failure marks with their records) instead of the table. @default false */
  failed?: boolean;
  /** List, per changed function, its outdated results and where the change is, instead of the table. @default false */
  outdated?: boolean;
}

export async function status(jugfile: string | undefined, options: StatusOptions): Promise<number> {
  const { graph, store, barrier, stored } = await openProject(jugfile, options);
  if (options.failed) {
    try {
      process.stdout.write(await failedList(graph, store));
    } finally {
      await store.close();
    }
    return 0;
  }
  const locks = await store.listLocks();
  const cls = await classify(graph, store, stored, locks);
  const { analysis } = await codeState(graph, store, stored);
  if (options.outdated) {
    process.stdout.write(outdatedListing(analysis));
    if (barrier !== undefined) process.stdout.write(barrierNote(barrier));
    await store.close();
    return 0;
  }
  const totals = statusTotals(cls);
  const stale = totals[STALE]!;
  if (options.short) {
    process.stdout.write(shortStatus(totals) + '\n');
  } else {
    // The Stale column only when some lock is stale: otherwise the table is Jug's.
    const rows = statusByName(graph, cls);
    if (stale === 0) for (const [k, r] of rows) rows.set(k, r.slice(0, STALE));
    const columns: string[] = stale === 0 ? STATUS_COLUMNS.slice(0, STALE) : [...STATUS_COLUMNS];
    // Outdated and Downstream only when some result is outdated (then the note names the functions).
    if (analysis.outdated > 0) {
      const extra = outdatedByName(graph, analysis);
      for (const [k, r] of rows) rows.set(k, [...r, ...extra.get(k)!]);
      columns.push(...OUTDATED_COLUMNS);
    }
    process.stdout.write(renderTable(columns, rows));
    process.stdout.write(outdatedNote(analysis));
  }
  if (!options.short) process.stdout.write(runningHostsLine(locksOf(graph, cls, locks, RUNNING)));
  process.stdout.write(silentHolderLines(silentHolders(locksOf(graph, cls, locks, RUNNING))));
  if (stale > 0) {
    process.stdout.write(
      `${stale} task(s) have a stale lock (its holder is gone: a dead process on this host, or another host ` +
        'past --lock-lease): the next `jug execute` takes them over; `jug cleanup --stale` removes them now.\n',
    );
  }
  if (totals[FAILED]! > 0 && !options.short) {
    process.stdout.write('`jug status --failed` shows why tasks failed; `jug execute --retry-failed` runs them again (stored results are kept).\n');
  }
  if (barrier !== undefined) process.stdout.write(barrierNote(barrier));
  await store.close();
  return 0;
}
