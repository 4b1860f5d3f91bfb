/** `jug check`: exit 0 if every task is finished (past every barrier), 1 otherwise. Prints nothing. */
import { registry } from '../../registry.js';
import { openProject, type CommonOptions } from '../common.js';

export async function check(jugfile: string | undefined, options: CommonOptions): Promise<number> {
  // The answer is 1 at the first task not stored: the tasks declared after it are hashed only when
  // asked for (Registry.hashUntilMissing), so a jugdir missing the first task costs one hash, not one per task.
  const reg = registry();
  reg.hashUntilMissing = true;
  try {
    const project = await openProject(jugfile, options);
    const { store, barrier, stored } = project;
    const declared = project.declared ?? project.graph.tasks;
    await store.close();
    // Stopped at a barrier: the tasks after it are not even declared yet.
    if (barrier !== undefined) return 1;
    // A declared task not stored settles it without building the graph (the common "not done yet").
    if (!declared.every((t) => stored.has(t.hash()))) return 1;
    return project.graph.tasks.every((t) => stored.has(t.hash())) ? 0 : 1;
  } finally {
    reg.hashUntilMissing = false;
    reg.hashWhenAsked = false;
  }
}
