/**
 * `jug execute --retry-failed`: before each pass of the run, remove the failure marks
 * (`--keep-failed` locks) of the selected tasks, so that the pass runs them again. Nothing else is
 * touched: no result is removed, and a live lock is never a failure mark (Store.removeFailedLock).
 */
import { withDependencies, type TaskGraph } from '../graph.js';
import type { Store } from '../store/store.js';
import type { TaskSelector } from './common.js';

/** Failure marks removed by one run of `--retry-failed`, across its passes. */
export class FailureMarkClearer {
  /** Hashes whose mark this run removed (each task is retried once per run: a new mark stays). */
  readonly #cleared = new Set<string>();
  #reported = false;

  constructor(
    private readonly store: Store,
    private readonly say: (message: string) => void,
  ) {}

  /**
   * Removes the failure marks of the tasks of `graph` that `target` selects (with what they depend
   * on, as `--target` runs them; all tasks without a target) and whose mark this run has not
   * removed yet. Says how many it removed (and, the first time, if there were none).
   */
  async clear(graph: TaskGraph, target: TaskSelector | undefined): Promise<number> {
    const selected = target === undefined ? undefined : withDependencies(graph, graph.tasks.flatMap((t, i) => (target(t) ? [i] : [])));
    const locks = await this.store.listLocks();
    let removed = 0;
    for (let i = 0; i < graph.tasks.length; i++) {
      const h = graph.tasks[i]!.hash();
      if (this.#cleared.has(h) || locks.get(h)?.failed !== true) continue;
      if (selected !== undefined && !selected.has(i)) continue;
      this.#cleared.add(h);
      if (await this.store.removeFailedLock(h)) removed++;
    }
    if (removed > 0) {
      this.say(`jug: --retry-failed: removed ${removed} failure mark${removed === 1 ? '' : 's'}; running ${removed === 1 ? 'that task' : 'those tasks'} again.\n`);
    } else if (!this.#reported) {
      this.say('jug: --retry-failed: no selected task is marked failed.\n');
    }
    this.#reported = true;
    return removed;
  }
}
