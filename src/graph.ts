/**
 * The task graph of a jugfile: unique tasks (by hash) in a topological order, with dependency and
 * dependant edges as indices. Built once per load; the scheduler, `status` and `check` use it.
 */
import { graphBuild, graphDependencies, graphIndex, type Task } from './task.js';

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

/**
 * Builds the graph from tasks in declaration order (dependencies found on the way are included).
 *
 * A task can only be declared with tasks that exist already, so declaration order is nearly always
 * a topological order: each root whose dependencies are all placed is placed at once (one hash
 * lookup, no stack); only a dependency not declared (or declared later) starts a depth-first walk.
 */
export function buildGraph(declared: readonly Task[]): TaskGraph {
  const b = new GraphBuilder(++builds);
  for (const root of declared) {
    if (b.known(root) !== undefined) continue;
    const ds = graphDependencies(root);
    const placed = b.tasks.length;
    const indices = b.marks.indicesOf(ds, b);
    if (indices !== undefined) b.place(root, indices, placed);
    else b.walk(root, ds);
  }
  const { tasks, deps, index } = b;
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

/** The state of one buildGraph() call. */
class GraphBuilder {
  readonly index = new Map<string, number>();
  readonly tasks: Task[] = [];
  readonly deps: (readonly number[])[] = [];
  readonly marks = new Marks();
  constructor(readonly build: number) {}

  /**
   * Index of a task object already met in this build (VISITING while it is on the walk's stack),
   * or undefined; a twin (another object with the same hash, met first) gets its twin's slot here.
   */
  known(t: Task): number | undefined {
    if (t[graphBuild] === this.build) return t[graphIndex];
    const at = this.index.get(t.hash());
    if (at !== undefined) setSlot(t, this.build, at);
    return at;
  }

  /**
   * Places `task` after its dependencies (`depIndices`, all placed). `placedBefore`: how many tasks
   * were placed when its hash was last looked up; a twin placed since (only possible with forced
   * hashes, while it was on the walk's stack) makes it share that entry.
   */
  place(task: Task, depIndices: readonly number[], placedBefore: number): void {
    const hash = task.hash();
    const twin = this.tasks.length === placedBefore ? undefined : this.index.get(hash);
    if (twin !== undefined) return setSlot(task, this.build, twin);
    setSlot(task, this.build, this.tasks.length);
    this.index.set(hash, this.tasks.length);
    this.tasks.push(task);
    this.deps.push(depIndices);
  }

  /**
   * Places `root` and, first, the dependencies not placed yet: an iterative depth-first walk, so
   * that long chains don't overflow the stack. Parallel arrays of the tasks on the stack, their
   * dependencies, which dependency each looks at next, and how many tasks were placed at its push.
   */
  walk(root: Task, rootDeps: readonly Task[]): void {
    const onStack: Task[] = [];
    const stackDeps: (readonly Task[])[] = [];
    const stackNext: number[] = [];
    const stackPlaced: number[] = [];
    const push = (task: Task, ds: readonly Task[]): void => {
      setSlot(task, this.build, VISITING);
      onStack.push(task);
      stackDeps.push(ds);
      stackNext.push(0);
      stackPlaced.push(this.tasks.length);
    };
    push(root, rootDeps);
    while (onStack.length > 0) {
      const top = onStack.length - 1;
      const ds = stackDeps[top]!;
      const next = stackNext[top]!;
      if (next < ds.length) {
        stackNext[top] = next + 1;
        // Placed, or on the stack (a dependency of itself is impossible: tasks are immutable).
        const d = ds[next]!;
        if (this.known(d) === undefined) push(d, graphDependencies(d));
        continue;
      }
      const task = onStack.pop()!;
      stackDeps.pop();
      stackNext.pop();
      this.place(task, this.marks.indicesOf(ds, this)!, stackPlaced.pop()!);
    }
  }
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

  /** Indices of `ds` in the build, each once (two Task objects may share a hash), or undefined if one is not placed yet. */
  indicesOf(ds: readonly Task[], b: GraphBuilder): readonly number[] | undefined {
    // Tasks without dependencies (most leaves) share one empty list: 50,000 arrays fewer that live to the end.
    if (ds.length === 0) return NO_DEPS;
    const out: number[] = [];
    const stamp = ++this.#stamp;
    for (let i = 0; i < ds.length; i++) {
      const j = b.known(ds[i]!);
      if (j === undefined) return undefined;
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
