/**
 * `jug sleep-until`: wait until every task of the jugfile is computed (by other processes), past
 * every barrier, then exit 0. A task whose lock is marked failed (--keep-failed) can never finish
 * without intervention: then exit 1 at once, naming it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadProject, openProject, type CommonOptions } from '../common.js';

/** Options of `jug sleep-until`. */
export interface SleepUntilOptions extends CommonOptions {
  /** Seconds between two checks. @default 5 */
  poll?: number;
  /** Print nothing while waiting. @default false */
  quiet?: boolean;
}

export async function sleepUntil(jugfile: string | undefined, options: SleepUntilOptions): Promise<number> {
  const pollMs = (options.poll ?? 5) * 1000;
  let project = await openProject(jugfile, options);
  const { store } = project;
  let last = '';
  try {
    for (;;) {
      const { graph, stored, barrier } = project;
      const done = graph.tasks.filter((t) => stored.has(t.hash())).length;
      if (barrier === undefined && done === graph.tasks.length) return 0;
      const locks = await store.listLocks();
      const failed = graph.tasks.find((t) => !stored.has(t.hash()) && locks.get(t.hash())?.failed);
      if (failed !== undefined) {
        process.stderr.write(
          `jug: task ${failed.name} (${failed.hash().slice(0, 10)}) failed and its lock is marked failed: ` +
            'the tasks cannot all finish. `jug status --failed` shows why; fix it, then `jug execute --retry-failed` runs the failed tasks again.\n',
        );
        return 1;
      }
      const line =
        `jug: waiting: ${done} of ${graph.tasks.length} task(s) computed` +
        (barrier === undefined ? '' : ` (more follow the barrier at ${barrier.where})`);
      if (!options.quiet && line !== last) process.stderr.write(line + '\n');
      last = line;
      await sleep(pollMs);
      project = await loadProject(project.jugfile, options, store);
    }
  } finally {
    await store.close();
  }
}
