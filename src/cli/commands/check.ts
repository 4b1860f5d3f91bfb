/** `jug check`: exit 0 if every task is finished, 1 otherwise. Prints nothing. */
import { openProject, type CommonOptions } from '../common.js';

export async function check(jugfile: string | undefined, options: CommonOptions): Promise<number> {
  const { graph, store } = await openProject(jugfile, options);
  const stored = await store.list();
  await store.close();
  return graph.tasks.every((t) => stored.has(t.hash())) ? 0 : 1;
}
