/**
 * The status table: task and thread state in one SharedArrayBuffer, shared by the parent and every
 * worker thread and updated with Atomics. The scheduler, the progress display and the final
 * summary all read it; nothing else keeps a second copy of task state.
 *
 * Layout (little-endian, native):
 *   bytes 0..7                 Float64  time origin (Date.now() when the table was made)
 *   Int32 [0 .. tasks)         state of each task (TaskState), indexed as in the TaskGraph
 *   Int32 [tasks .. +3·threads) per thread slot: claimed (0 = free, else the thread's id), task index + 1 (0 = idle),
 *                              start of that task in ms since the time origin
 */

/** Task states stored in the table. */
export const TaskState = {
  /** Some dependency is not finished. */
  Waiting: 0,
  /** Dependencies finished; queued to run. */
  Ready: 1,
  /** Running in this process (holds the lock). */
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

const N_STATES = 8;
const THREAD_FIELDS = 3;

/** Result stored (loaded or executed). */
export function isFinished(s: TaskState): boolean {
  return s === TaskState.Loaded || s === TaskState.Executed;
}

/** What one worker thread is doing. */
export interface ThreadSlot {
  /** Index of the running task, or -1 when idle. */
  readonly task: number;
  /** When that task started (ms since the epoch). */
  readonly since: number;
  /** The worker thread's id (threadId) holding the slot; 0: free, or not said. */
  readonly thread: number;
}

/** Per-task and per-thread state over shared memory. */
export class StatusTable {
  readonly buffer: SharedArrayBuffer;
  readonly tasks: number;
  readonly threads: number;
  readonly #origin: Float64Array;
  readonly #states: Int32Array;
  readonly #slots: Int32Array;

  /** A new table (all tasks Waiting, all threads idle). */
  static create(tasks: number, threads = 0): StatusTable {
    const buffer = new SharedArrayBuffer(8 + 4 * (tasks + THREAD_FIELDS * threads));
    const table = new StatusTable(buffer, tasks, threads);
    table.#origin[0] = Date.now();
    return table;
  }

  /** A view over an existing table's buffer (in a worker thread). */
  constructor(buffer: SharedArrayBuffer, tasks: number, threads: number) {
    this.buffer = buffer;
    this.tasks = tasks;
    this.threads = threads;
    this.#origin = new Float64Array(buffer, 0, 1);
    this.#states = new Int32Array(buffer, 8, tasks);
    this.#slots = new Int32Array(buffer, 8 + 4 * tasks, THREAD_FIELDS * threads);
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
    for (let i = 0; i < this.tasks; i++) c[Atomics.load(this.#states, i)]!++;
    return c;
  }

  /** Claims a free thread slot for the calling worker (`thread`: its threadId, ≥ 1); -1 if all are taken. */
  claimThreadSlot(thread = 1): number {
    for (let t = 0; t < this.threads; t++) {
      if (Atomics.compareExchange(this.#slots, t * THREAD_FIELDS, 0, Math.max(1, thread)) === 0) return t;
    }
    return -1;
  }

  /** Whether some thread slot shows `task` as the one it is running. */
  isRunningOnThread(task: number): boolean {
    for (let t = 0; t < this.threads; t++) {
      if (Atomics.load(this.#slots, t * THREAD_FIELDS + 1) === task + 1) return true;
    }
    return false;
  }

  /** Frees the slot of a thread that died while running `task`. */
  releaseThreadSlotOf(task: number): void {
    for (let t = 0; t < this.threads; t++) {
      if (Atomics.load(this.#slots, t * THREAD_FIELDS + 1) === task + 1) {
        Atomics.store(this.#slots, t * THREAD_FIELDS + 1, 0);
        Atomics.store(this.#slots, t * THREAD_FIELDS, 0);
      }
    }
  }

  /** Records that thread `slot` runs `task` from now on (-1: idle); `thread`: its threadId (kept in the slot). */
  setThreadTask(slot: number, task: number, thread?: number): void {
    if (slot < 0 || slot >= this.threads) return;
    if (thread !== undefined && thread > 0) Atomics.store(this.#slots, slot * THREAD_FIELDS, thread);
    Atomics.store(this.#slots, slot * THREAD_FIELDS + 2, Math.round(Date.now() - this.#origin[0]!));
    Atomics.store(this.#slots, slot * THREAD_FIELDS + 1, task + 1);
  }

  /** What each thread slot is doing. */
  threadSlots(): ThreadSlot[] {
    const out: ThreadSlot[] = [];
    for (let t = 0; t < this.threads; t++) {
      out.push({
        task: Atomics.load(this.#slots, t * THREAD_FIELDS + 1) - 1,
        since: this.#origin[0]! + Atomics.load(this.#slots, t * THREAD_FIELDS + 2),
        thread: Atomics.load(this.#slots, t * THREAD_FIELDS),
      });
    }
    return out;
  }
}
