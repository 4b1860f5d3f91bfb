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
  const index = new Map<string, number>();
  const tasks: Task[] = [];
  const deps: number[][] = [];
  const visiting = new Set<string>();

  // Iterative DFS so that long chains don't overflow the stack.
  const visit = (root: Task): void => {
    if (index.has(root.hash())) return;
    const stack: { task: Task; deps: Task[]; next: number }[] = [{ task: root, deps: root.dependencies(), next: 0 }];
    visiting.add(root.hash());
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.deps.length) {
        const d = top.deps[top.next++]!;
        const h = d.hash();
        if (index.has(h) || visiting.has(h)) continue; // a cycle is impossible: tasks are immutable
        visiting.add(h);
        stack.push({ task: d, deps: d.dependencies(), next: 0 });
        continue;
      }
      stack.pop();
      const h = top.task.hash();
      visiting.delete(h);
      index.set(h, tasks.length);
      tasks.push(top.task);
      deps.push([...new Set(top.deps.map((d) => index.get(d.hash())!))]);
    }
  };
  for (const t of declared) visit(t);

  const dependants: number[][] = tasks.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependants[d]!.push(i)));
  return { tasks, deps, dependants, index };
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
