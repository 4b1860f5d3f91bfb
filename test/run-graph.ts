/**
 * Unit-test helper: runs every declared task of the current load in graph order through
 * executeTask (the real per-task code path), against a given store.
 */
import { executeTask, type TaskOutcome } from '../src/execute-task.js';
import { buildGraph } from '../src/graph.js';
import { beginLoad, registry } from '../src/registry.js';
import type { Store } from '../src/store/store.js';
import { Task } from '../src/task.js';

/** Resets the registry as a fresh jugfile load would, with `stored` as the pre-load listing. */
export function freshLoad(store: Store | undefined, stored?: ReadonlySet<string>): void {
  beginLoad();
  const reg = registry();
  reg.store = store;
  reg.stored = stored;
}

/** The tasks declared since the last freshLoad(), as a graph's task list. */
export function declared(): Task[] {
  return buildGraph(registry().tasks.filter((t): t is Task => t instanceof Task)).tasks as Task[];
}

/** Whether every dependency of `t` is stored. */
export async function canRun(t: { dependencies(): readonly Task[] }, store: Store): Promise<boolean> {
  for (const d of t.dependencies()) if (!(await store.has(d.hash()))) return false;
  return true;
}

/** Runs every declared task (or only `only`) in dependency order; returns the outcomes by task. */
export async function runAll(store: Store, only?: (t: Task) => boolean): Promise<Map<Task, TaskOutcome>> {
  const out = new Map<Task, TaskOutcome>();
  for (const t of declared()) {
    if (only !== undefined && !only(t)) continue;
    out.set(t, await executeTask(t, store, { keepFailed: false }));
  }
  return out;
}

/** The messages of the failed outcomes. */
export function failures(outcomes: Map<Task, TaskOutcome>): string[] {
  return [...outcomes.values()].flatMap((o) => (o.kind === 'failed' ? [o.error.message] : []));
}
