/**
 * The task graph of a jugfile: unique tasks (by hash) in a topological order, with dependency and
 * dependant edges as indices. Built once per load; the scheduler, `status` and `check` use it.
 */
import type { Task } from './task.js';

/** Tasks in topological order with edges as indices into `tasks`. */
export interface TaskGraph {
  /** Unique tasks (first declaration wins for duplicates), dependencies before dependants. */
  readonly tasks: readonly Task[];
  /** `deps[i]`: indices of the tasks task i needs. */
  readonly deps: readonly (readonly number[])[];
  /** `dependants[i]`: indices of the tasks that need task i. */
  readonly dependants: readonly (readonly number[])[];
  /** Hash → index. */
  readonly index: ReadonlyMap<string, number>;
}

/** Builds the graph from tasks in declaration order (dependencies found on the way are included). */
export function buildGraph(declared: readonly Task[]): TaskGraph {
  // Hash → index once placed, VISITING while on the stack below. Large graphs are built at every
  // start-up in cold code, so this stays with plain arrays and one map.
  const index = new Map<string, number>();
  const tasks: Task[] = [];
  const deps: number[][] = [];
  // Iterative DFS so that long chains don't overflow the stack: parallel arrays of the tasks on
  // the stack, their dependencies, and which dependency each looks at next.
  const onStack: Task[] = [];
  const stackDeps: Task[][] = [];
  const stackNext: number[] = [];
  const push = (task: Task, hash: string): void => {
    index.set(hash, VISITING);
    onStack.push(task);
    stackDeps.push(task.dependencies());
    stackNext.push(0);
  };
  for (const root of declared) {
    const rootHash = root.hash();
    if (index.has(rootHash)) continue;
    push(root, rootHash);
    while (onStack.length > 0) {
      const top = onStack.length - 1;
      const ds = stackDeps[top]!;
      const next = stackNext[top]!;
      if (next < ds.length) {
        stackNext[top] = next + 1;
        const d = ds[next]!;
        const h = d.hash();
        // Placed, or on the stack: a dependency of itself is impossible (tasks are immutable), so
        // that is another Task object with the same hash, placed once its twin is.
        if (!index.has(h)) push(d, h);
        continue;
      }
      const task = onStack.pop()!;
      stackDeps.pop();
      stackNext.pop();
      index.set(task.hash(), tasks.length);
      tasks.push(task);
      deps.push(indicesOf(ds, index));
    }
  }
  const dependants: number[][] = new Array<number[]>(tasks.length);
  for (let i = 0; i < tasks.length; i++) dependants[i] = [];
  for (let i = 0; i < deps.length; i++) for (const d of deps[i]!) dependants[d]!.push(i);
  return { tasks, deps, dependants, index };
}

const VISITING = -1;

/** Indices of `ds` (all placed), each once: two Task objects may share a hash. */
function indicesOf(ds: readonly Task[], index: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  if (ds.length <= 16) {
    for (const d of ds) {
      const j = index.get(d.hash())!;
      if (!out.includes(j)) out.push(j);
    }
    return out;
  }
  const seen = new Set<number>();
  for (const d of ds) {
    const j = index.get(d.hash())!;
    if (!seen.has(j)) {
      seen.add(j);
      out.push(j);
    }
  }
  return out;
}

/** Indices of `roots` and everything they depend on, transitively. */
export function withDependencies(graph: TaskGraph, roots: Iterable<number>): Set<number> {
  const out = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (out.has(i)) continue;
    out.add(i);
    for (const d of graph.deps[i]!) stack.push(d);
  }
  return out;
}
