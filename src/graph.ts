/**
 * The task graph of a jugfile: unique tasks (by hash) in a topological order, with dependency and
 * dependant edges as indices. Built once per load; the scheduler, `status` and `check` use it.
 */
import { graphBuild, graphIndex, type Task } from './task.js';

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

/**
 * Where a Task object sits in the graph being built: `graphBuild` names the build (a number per
 * call), `graphIndex` its index there, or VISITING while on the stack. Kept on the objects
 * themselves (fields every Task has: task.ts) so that a task is looked up in the hash map once
 * (large graphs are built at every start-up: a million tasks spend most of their time in map
 * operations otherwise).
 */
let builds = 0;
const VISITING = -1;

/** Builds the graph from tasks in declaration order (dependencies found on the way are included). */
export function buildGraph(declared: readonly Task[]): TaskGraph {
  const build = ++builds;
  const index = new Map<string, number>();
  const tasks: Task[] = [];
  const deps: number[][] = [];
  const marks = new Marks();
  // Index of a task object already met in this build, or undefined; a twin (another object with
  // the same hash, met first) gets its twin's slot here.
  const known = (t: Task): number | undefined => {
    if (t[graphBuild] === build) return t[graphIndex];
    const at = index.get(t.hash());
    if (at !== undefined) setSlot(t, build, at);
    return at;
  };
  // Iterative DFS so that long chains don't overflow the stack: parallel arrays of the tasks on
  // the stack, their dependencies, and which dependency each looks at next.
  const onStack: Task[] = [];
  const stackDeps: Task[][] = [];
  const stackNext: number[] = [];
  // How many tasks were placed when each task on the stack was pushed.
  const stackPlaced: number[] = [];
  const push = (task: Task): void => {
    setSlot(task, build, VISITING);
    onStack.push(task);
    stackDeps.push(task.dependencies());
    stackNext.push(0);
    stackPlaced.push(tasks.length);
  };
  const place = (task: Task, ds: readonly Task[], placedBefore: number): void => {
    const hash = task.hash();
    // A twin placed while this one was on the stack (only possible with forced hashes): one entry.
    // None can be if nothing was placed since its push (known() had looked its hash up then).
    const twin = tasks.length === placedBefore ? undefined : index.get(hash);
    if (twin !== undefined) return setSlot(task, build, twin);
    setSlot(task, build, tasks.length);
    index.set(hash, tasks.length);
    tasks.push(task);
    deps.push(marks.indicesOf(ds, known));
  };
  for (const root of declared) {
    if (known(root) !== undefined) continue;
    push(root);
    while (onStack.length > 0) {
      const top = onStack.length - 1;
      const ds = stackDeps[top]!;
      const next = stackNext[top]!;
      if (next < ds.length) {
        stackNext[top] = next + 1;
        // Placed, or on the stack (a dependency of itself is impossible: tasks are immutable).
        if (known(ds[next]!) === undefined) push(ds[next]!);
        continue;
      }
      const task = onStack.pop()!;
      stackDeps.pop();
      stackNext.pop();
      place(task, ds, stackPlaced.pop()!);
    }
  }
  // The dependants are made when first asked for: `jug status` and `jug check` never need them.
  let dependants: number[][] | undefined;
  return {
    tasks,
    deps,
    get dependants(): readonly (readonly number[])[] {
      return (dependants ??= dependantsOf(deps));
    },
    index,
  };
}

/** `dependants[i]`: the indices of the tasks whose `deps` hold i. */
function dependantsOf(deps: readonly (readonly number[])[]): number[][] {
  const dependants: number[][] = new Array<number[]>(deps.length);
  for (let i = 0; i < deps.length; i++) dependants[i] = [];
  for (let i = 0; i < deps.length; i++) for (const d of deps[i]!) dependants[d]!.push(i);
  return dependants;
}

function setSlot(t: Task, build: number, at: number): void {
  t[graphBuild] = build;
  t[graphIndex] = at;
}

/** The `deps` entry of every task without dependencies (never modified). */
const NO_DEPS: number[] = [];

/** De-duplication of dependency indices without a Set: a stamp per index, one array per build. */
class Marks {
  #stamp = 0;
  #marks = new Uint32Array(1024);

  /** Indices of `ds` (all placed), each once: two Task objects may share a hash. */
  indicesOf(ds: readonly Task[], known: (t: Task) => number | undefined): number[] {
    // Tasks without dependencies (most leaves) share one empty list: 50,000 arrays fewer that live to the end.
    if (ds.length === 0) return NO_DEPS;
    const out: number[] = [];
    const stamp = ++this.#stamp;
    for (const d of ds) {
      const j = known(d)!;
      if (j >= this.#marks.length) this.#grow(j);
      if (this.#marks[j] === stamp) continue;
      this.#marks[j] = stamp;
      out.push(j);
    }
    return out;
  }

  #grow(j: number): void {
    const bigger = new Uint32Array(Math.max(j + 1, this.#marks.length * 2));
    bigger.set(this.#marks);
    this.#marks = bigger;
  }
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
