/** `jug status`: how many tasks of each name are waiting, ready, finished, running or failed. */
import { barrierNote, openProject, type CommonOptions } from '../common.js';
import { STATUS_COLUMNS, classify, shortStatus, statusByName, statusTotals } from '../status-counts.js';
import { renderTable } from '../table.js';

/** Options of `jug status`. */
export interface StatusOptions extends CommonOptions {
  /** One line instead of the table. @default false */
  short?: boolean;
}

export async function status(jugfile: string | undefined, options: StatusOptions): Promise<number> {
  const { graph, store, barrier } = await openProject(jugfile, options);
  const cls = await classify(graph, store);
  if (options.short) {
    process.stdout.write(shortStatus(statusTotals(cls)) + '\n');
  } else {
    process.stdout.write(renderTable(STATUS_COLUMNS, statusByName(graph, cls)));
  }
  if (barrier !== undefined) process.stdout.write(barrierNote(barrier));
  await store.close();
  return 0;
}
