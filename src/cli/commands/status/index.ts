/**
 * `jug status`: how many tasks of each name are waiting, ready, finished, running or failed.
 *
 * One concern per module of this folder: the table and its notes (table.ts), the failed tasks
 * (`--failed`: ../../failed-list.ts), the JSON document (`--json`: snapshot.ts), the durations
 * from the run records (`--timing`: timing.ts), the outdated results (`--outdated`:
 * ../../status-outdated.ts, also the table's Outdated columns and the JSON's `outdated`).
 */
import { readRunLog } from '../../../run-records.js';
import { barrierNote, openProject, type CommonOptions } from '../../common.js';
import { codeState } from '../../outdated-state.js';
import { outdatedListing } from '../../status-outdated.js';
import { failedList } from '../../failed-list.js';
import { statusSnapshot } from './snapshot.js';
import { statusTable } from './table.js';
import { formatTiming, timingSnapshot } from './timing.js';

export { statusSnapshot, type FailureEntry, type RunningTask, type SnapshotInput, type StatusCounts, type StatusSnapshot } from './snapshot.js';
export { formatTiming, timingSnapshot, type HostTiming, type NameTiming, type SlowTask, type TimingSnapshot } from './timing.js';

/** Options of `jug status`. */
export interface StatusOptions extends CommonOptions {
  /** One line instead of the table. @default false */
  short?: boolean;
  /** List the failed tasks (failure marks with their records) instead of the table. @default false */
  failed?: boolean;
  /** One JSON document (statusSnapshot; with `timing`: timingSnapshot) instead of the table. @default false */
  json?: boolean;
  /** How long tasks took, from the run records. @default false */
  timing?: boolean;
  /** List, per changed function, its outdated results and where the change is, instead of the table. @default false */
  outdated?: boolean;
}

export async function status(jugfile: string | undefined, options: StatusOptions): Promise<number> {
  const project = await openProject(jugfile, options);
  const { graph, store, stored } = project;
  try {
    if (options.timing) {
      const timing = timingSnapshot(await readRunLog(store), stored);
      process.stdout.write(options.json ? `${JSON.stringify(timing, null, 2)}\n` : formatTiming(timing));
    } else if (options.outdated && !options.json) {
      const { analysis } = await codeState(graph, store, stored);
      process.stdout.write(outdatedListing(analysis) + (project.barrier === undefined ? '' : barrierNote(project.barrier)));
    } else if (options.json) {
      process.stdout.write(`${JSON.stringify(await statusSnapshot(project), null, 2)}\n`);
    } else if (options.failed) {
      process.stdout.write(await failedList(graph, store));
    } else {
      process.stdout.write(await statusTable(project, options.short ?? false));
    }
  } finally {
    await store.close();
  }
  return 0;
}
