/**
 * The status table: one Int32 slot per task holding its state, in a SharedArrayBuffer so worker
 * threads and the parent see one copy (updated with Atomics). The scheduler, the progress display
 * and the final summary all read it; nothing else keeps task state.
 */

/** Task states stored in the table. */
export const TaskState = {
  /** Some dependency is not finished. */
  Waiting: 0,
  /** Dependencies finished; queued to run. */
  Ready: 1,
  /** Running in this process. */
  Running: 2,
  /** Result was already stored, or stored by another process. */
  Loaded: 3,
  /** Executed by this process in this run. */
  Executed: 4,
  /** Failed in this run. */
  Failed: 5,
  /** Locked by another process or host; polled until it finishes or its lock goes away. */
  LockedElsewhere: 6,
  /** Not selected by --target. */
  Excluded: 7,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** Result stored (loaded or executed). */
export function isFinished(s: TaskState): boolean {
  return s === TaskState.Loaded || s === TaskState.Executed;
}

const N_STATES = 8;

/** Per-task state over shared memory. */
export class StatusTable {
  readonly buffer: SharedArrayBuffer;
  readonly #states: Int32Array;

  /** A new table of `size` tasks (all Waiting), or a view over an existing buffer. */
  constructor(size: number | SharedArrayBuffer) {
    this.buffer = typeof size === 'number' ? new SharedArrayBuffer(4 * size) : size;
    this.#states = new Int32Array(this.buffer);
  }

  get size(): number {
    return this.#states.length;
  }

  get(i: number): TaskState {
    return Atomics.load(this.#states, i) as TaskState;
  }

  set(i: number, state: TaskState): void {
    Atomics.store(this.#states, i, state);
  }

  /** Number of tasks in each state, indexed by TaskState. */
  counts(): number[] {
    const c = new Array<number>(N_STATES).fill(0);
    for (let i = 0; i < this.#states.length; i++) c[Atomics.load(this.#states, i)]!++;
    return c;
  }
}
