/** `jug check`: exit 0 if every task is finished (past every barrier), 1 otherwise. Prints nothing. */
import { openProject, type CommonOptions } from '../common.js';

export async function check(jugfile: string | undefined, options: CommonOptions): Promise<number> {
  const { graph, store, barrier, stored } = await openProject(jugfile, options);
  await store.close();
  // Stopped at a barrier: the tasks after it are not even declared yet.
  return barrier === undefined && graph.tasks.every((t) => stored.has(t.hash())) ? 0 : 1;
}
