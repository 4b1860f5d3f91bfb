/**
 * The scheduler: runs a task graph through an Executor, dependencies first, sharing the work with
 * any other process or thread on the same store through its locks. It is the one loop behind
 * `jug execute`, serial or threaded; only the Executor differs (in-process, or a worker pool).
 *
 * - Tasks already stored are Loaded from one listing of the store.
 * - Ready tasks (dependencies finished) are dispatched in graph order, up to `executor.slots`
 *   at once.
 * - A task whose lock another process holds is set aside (LockedElsewhere) and polled with
 *   back-off: when its result appears it is Loaded, when its lock vanishes it is tried again.
 * - When nothing is runnable and only tasks held elsewhere remain, the scheduler waits with
 *   exponential back-off (capped at `waitCycleTime`) and gives up after `nrWaitCycles` waits that
 *   saw no progress.
 * - A run stops early (stop dispatching, let running tasks finish) when its AbortSignal fires
 *   (Ctrl-C) or one of its StopChecks (exit checks) says so; both go through one stop path.
 */
import { withDependencies, type TaskGraph } from './graph.js';
import type { AttemptFailure, TaskOutcome } from './execute-task.js';
import { StatusTable, TaskState, isFinished } from './status-table.js';
import type { FailureRecord, Store } from './store/store.js';
import type { Task } from './task.js';

/** Runs single tasks for the scheduler: in this thread, or in a worker pool. */
export interface Executor {
  /** How many tasks may run at once. */
  readonly slots: number;
  /**
   * Runs task `index` of the graph; resolves with its outcome (never rejects for task errors).
   * An executor that starts tasks in this thread calls `gate` as each starts and as each has run,
   * so that exit checks take effect between two tasks (see {@link StartGate}).
   */
  run(index: number, task: Task, gate: StartGate): Promise<TaskOutcome>;
  /** The run is stopping: tasks not yet started should resolve as `cancelled`. */
  stop?(): void;
  /**
   * At most `tasks` tasks of this pass remain to be run (running, ready or waiting): an executor
   * with more threads than that may stop the idle ones. Called whenever the number goes down.
   */
  remaining?(tasks: number): void;
  /** Abort at once (second Ctrl-C): kill the `running` tasks if possible and release their locks. */
  abort(running: readonly Task[]): Promise<void>;
}

/**
 * Conditions that end a run early (`jug execute`'s exit checks, src/exit-checks.ts), consulted by
 * the scheduler in the main thread from the outcomes of all the process's tasks.
 */
export interface StopChecks {
  /** How many more tasks this process may execute (undefined: no limit); never more are in flight. */
  taskBudget(): number | undefined;
  /** Checked before dispatching tasks and whenever tasks finish: why to stop now, or undefined. */
  beforeTask(): string | undefined;
  /** Called for each task this process executed: why to stop now (task counts, predicates), or undefined. */
  taskExecuted(task: Task): string | undefined;
}

/**
 * The scheduler's say over a task at the moment it starts, for executors that start tasks in the
 * main thread: there the exit checks can be applied exactly between two tasks, as Python Jug
 * does, rather than when outcomes reach the scheduler (which, for short tasks committed in groups,
 * may be hundreds of tasks later). Worker threads cannot call it; their tasks stop at the stop flag.
 */
export interface StartGate {
  /** Just before the task starts (lock not taken yet): false means the run is stopping, don't start. */
  mayStart(): boolean;
  /** The task's function has returned (its result is being stored): counts it for the exit checks. */
  ran(): void;
  /** An attempt of the task failed and it will be tried again (reported as a `retry` event). */
  attemptFailed?(failure: AttemptFailure): void;
}

/** A failed task, as reported at the end of a run. */
export interface Failure {
  readonly index: number;
  readonly task: Task;
  readonly outcome: Extract<TaskOutcome, { kind: 'failed' }>;
  /**
   * The task was not run: its lock is a failure mark left earlier (`--keep-failed`, another process
   * or an earlier run); `outcome.record` is the record stored with the mark, if it has one.
   */
  readonly earlier?: boolean;
}

/** Events the scheduler reports while it runs (for progress displays and logs). */
export type SchedulerEvent =
  | { readonly type: 'start'; readonly index: number; readonly task: Task }
  | { readonly type: 'done'; readonly index: number; readonly task: Task; readonly outcome: TaskOutcome }
  /** The scheduler found the task's result stored (its listing at the start, or a poll). */
  | { readonly type: 'loaded'; readonly index: number; readonly task: Task }
  | { readonly type: 'waiting'; readonly ms: number; readonly blocked: number }
  /** An attempt of the task failed; it runs again after `failure.delayMs` (still holding its lock). */
  | { readonly type: 'retry'; readonly index: number; readonly task: Task; readonly failure: AttemptFailure }
  /** Something the user should know that does not stop the run (e.g. a corrupt result recomputed). */
  | { readonly type: 'warning'; readonly message: string };

/** Options of {@link runGraph}. */
export interface SchedulerOptions {
  /** The status table to keep task state in (shared with worker threads). @default a new one */
  table?: StatusTable;
  /** Continue with independent tasks after a failure. @default false */
  keepGoing?: boolean;
  /** Only run the tasks it selects (by name or hash: see the CLI's --target) and what they depend on. @default all tasks */
  target?: (task: Task) => boolean;
  /** Longest back-off between two polls for tasks held elsewhere, in seconds. @default 12 */
  waitCycleTime?: number;
  /** Give up after this many consecutive polls without progress. @default 150 */
  nrWaitCycles?: number;
  /** First back-off interval in milliseconds. @default 50 */
  initialWaitMs?: number;
  /**
   * A listing of the store taken just before (the one the jugfile was loaded against), to use
   * instead of listing again. A result stored since is still found: each task re-checks the store
   * once it holds the lock. @default one listing at the start
   */
  stored?: ReadonlySet<string>;
  /** Aborting stops dispatching; running tasks finish. */
  signal?: AbortSignal;
  /** Exit checks: stop like an abort when one fires (RunResult.stoppedBy says which). */
  checks?: StopChecks;
  /** Progress callback. */
  onEvent?: (event: SchedulerEvent) => void;
}

/** How a run ended. */
export interface RunResult {
  /** Task states at the end (indices as in the graph). */
  readonly table: StatusTable;
  readonly failures: readonly Failure[];
  /** Tasks still held by other processes when this one gave up waiting. */
  readonly gaveUpOn: readonly number[];
  /** Tasks not run because a dependency failed (or the run stopped early). */
  readonly notRun: readonly number[];
  /** True when the signal stopped the run. */
  readonly aborted: boolean;
  /** The exit check that stopped the run, if one did. */
  readonly stoppedBy?: string;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Finished one way or the other (counted out of `unfinished`). */
const isDone = (s: TaskState): boolean => isFinished(s) || s === TaskState.Failed;

/** Shortest interval between two polls of tasks held elsewhere while this run's own tasks run. */
const MIN_BUSY_POLL_MS = 10;

/** How often one run recomputes a dependency whose stored result turned out corrupt. */
const MAX_RECOMPUTES = 2;
/**
 * How often one run recomputes a dependency whose result vanished: another process removed it
 * (`jug invalidate` or `jug cleanup` while this run goes on), which is no fault of the result.
 */
const MAX_VANISHED = 20;

/** Runs every selected task of `graph` whose result is not in `store`. */
export async function runGraph(
  graph: TaskGraph,
  store: Store,
  executor: Executor,
  options: SchedulerOptions = {},
): Promise<RunResult> {
  // Locks and unfinished writes of dead processes go first (their tasks may even be stored
  // already); then one listing of the store tells what is done.
  await store.clearStaleLocks();
  await store.clearDeadWrites();
  const stored = options.stored ?? (await store.list());
  return new GraphRun(graph, store, executor, options).run(stored);
}

/** An outcome as it comes back from the executor, waiting to be settled by the loop. */
interface Completed {
  readonly index: number;
  readonly outcome: TaskOutcome;
}

/**
 * One run of {@link runGraph}: the task states, the ready queue, the tasks held elsewhere, the
 * stop state, and the steps of the loop (dispatch, settle, poll, wait), each a method.
 */
class GraphRun {
  readonly #graph: TaskGraph;
  readonly #tasks: readonly Task[];
  readonly #store: Store;
  readonly #executor: Executor;
  readonly #keepGoing: boolean;
  readonly #maxWaitMs: number;
  readonly #nrWaitCycles: number;
  readonly #initialWaitMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #checks: StopChecks | undefined;
  readonly #emit: (event: SchedulerEvent) => void;
  readonly #table: StatusTable;
  readonly #target: ((task: Task) => boolean) | undefined;

  /** Dependencies of each task not finished yet. */
  readonly #missingDeps: Int32Array;
  /** Tasks to dispatch, in order; `#readyHead` is the next one. */
  readonly #ready: number[] = [];
  #readyHead = 0;
  /** Selected tasks not finished (executed, loaded or failed) in this run: see Executor.remaining. */
  #unfinished = 0;
  #reportedRemaining = Number.POSITIVE_INFINITY;
  readonly #failures: Failure[] = [];
  /** Tasks whose lock another process holds: re-checked by {@link GraphRun.poll}. */
  readonly #heldElsewhere = new Set<number>();
  /** How often each task was recomputed because a dependant found its result corrupt or gone. */
  readonly #recomputed: Int32Array;
  /** Tasks the exit checks have counted as executed through their gate (before their outcome). */
  readonly #counted = new Set<number>();
  #inFlight = 0;
  readonly #completed: Completed[] = [];
  #wake: (() => void) | undefined;

  #stopping = false;
  #executorStopped = false;
  #stoppedBy: string | undefined;
  #gaveUp = false;
  /** Back-off state of the polls for tasks held elsewhere. */
  #waitMs: number;
  #fruitlessWaits = 0;
  #nextPollAt: number;

  constructor(graph: TaskGraph, store: Store, executor: Executor, options: SchedulerOptions) {
    this.#graph = graph;
    this.#tasks = graph.tasks;
    this.#store = store;
    this.#executor = executor;
    this.#keepGoing = options.keepGoing ?? false;
    this.#maxWaitMs = Math.max(0, (options.waitCycleTime ?? 12) * 1000);
    this.#nrWaitCycles = options.nrWaitCycles ?? 150;
    this.#initialWaitMs = Math.min(options.initialWaitMs ?? 50, this.#maxWaitMs);
    this.#signal = options.signal;
    this.#checks = options.checks;
    this.#emit = options.onEvent ?? (() => {});
    this.#table = options.table ?? StatusTable.create(graph.tasks.length);
    this.#target = options.target;
    this.#missingDeps = new Int32Array(graph.tasks.length);
    this.#recomputed = new Int32Array(graph.tasks.length);
    this.#waitMs = this.#initialWaitMs;
    this.#nextPollAt = Date.now() + this.#waitMs;
  }

  /** Classifies the tasks from the listing `stored`, then loops until nothing more can be done. */
  async run(stored: ReadonlySet<string>): Promise<RunResult> {
    this.#classify(stored);
    const onAbort = (): void => this.#stop();
    this.#signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#loop();
    } finally {
      this.#signal?.removeEventListener('abort', onAbort);
    }
    return this.#result();
  }

  /** Excluded (not selected), Loaded (stored), Ready (no missing dependency) or Waiting. */
  #classify(stored: ReadonlySet<string>): void {
    const tasks = this.#tasks;
    const table = this.#table;
    const target = this.#target;
    const selected = target ? withDependencies(this.#graph, tasks.flatMap((t, i) => (target(t) ? [i] : []))) : undefined;
    for (let i = 0; i < tasks.length; i++) {
      if (selected !== undefined && !selected.has(i)) table.set(i, TaskState.Excluded);
      else if (stored.has(tasks[i]!.hash())) {
        table.set(i, TaskState.Loaded);
        this.#emit({ type: 'loaded', index: i, task: tasks[i]! });
      }
    }
    const { deps } = this.#graph;
    for (let i = 0; i < tasks.length; i++) {
      let missing = 0;
      for (const d of deps[i]!) if (!isFinished(table.get(d))) missing++;
      this.#missingDeps[i] = missing;
      if (missing === 0 && table.get(i) === TaskState.Waiting) {
        table.set(i, TaskState.Ready);
        this.#ready.push(i);
      }
    }
    for (let i = 0; i < tasks.length; i++) {
      const s = table.get(i);
      if (s === TaskState.Waiting || s === TaskState.Ready) this.#unfinished++;
    }
  }

  /** The loop: settle outcomes, dispatch ready tasks, then wait for our tasks or for others'. */
  async #loop(): Promise<void> {
    for (;;) {
      if (this.#signal?.aborted) this.#stopping = true;
      while (this.#completed.length > 0) this.#settle(this.#completed.shift()!);
      this.#consultChecks();
      if (this.#stopping) this.#stopExecutor();
      this.#reportRemaining();
      this.#dispatchReady();
      if (this.#inFlight > 0) {
        await this.#whileBusy();
        continue;
      }
      if (this.#stopping || this.#heldElsewhere.size === 0) break;
      if (this.#readyHead < this.#ready.length) continue;
      // Idle: only tasks held by other processes (or waiting on them) remain.
      if (this.#fruitlessWaits >= this.#nrWaitCycles) {
        this.#gaveUp = true;
        break;
      }
      await this.#whileIdle();
    }
  }

  /** Exit checks consulted between dispatches (files, deadline): stop when one fires. */
  #consultChecks(): void {
    if (this.#stopping || this.#checks === undefined) return;
    const reason = this.#checks.beforeTask();
    if (reason !== undefined) this.#stop(reason);
  }

  #reportRemaining(): void {
    if (this.#unfinished >= this.#reportedRemaining) return;
    this.#reportedRemaining = this.#unfinished;
    this.#executor.remaining?.(this.#unfinished);
  }

  /** Dispatches ready tasks while slots (and the exit checks' budget) allow. */
  #dispatchReady(): void {
    while (this.#mayDispatch() && this.#inFlight < this.#executor.slots && this.#readyHead < this.#ready.length) {
      this.#dispatch(this.#ready[this.#readyHead++]!);
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready.splice(0, this.#readyHead);
      this.#readyHead = 0;
    }
  }

  /** May another task be dispatched now? (Exit checks: budget of tasks, files, deadline.) */
  #mayDispatch(): boolean {
    if (this.#stopping) return false;
    if (this.#checks === undefined) return true;
    const budget = this.#checks.taskBudget();
    return budget === undefined || this.#inFlight < budget;
  }

  /**
   * Our tasks run: wait for one to finish or, while tasks are held elsewhere, for their next
   * re-check (on its own back-off, as when idle), whichever comes first: a result or a lock
   * released elsewhere is noticed while our tasks still run, and a free slot takes up what it
   * unblocks.
   */
  async #whileBusy(): Promise<void> {
    if (this.#heldElsewhere.size > 0 && Date.now() >= this.#nextPollAt) {
      if (await this.#poll()) this.#waitMs = this.#initialWaitMs;
      else this.#waitMs = this.#backedOff(this.#waitMs);
      // At least MIN_BUSY_POLL_MS apart: with --wait-cycle-time 0, polling again at once would
      // loop on microtasks only, starving the event loop the running tasks need (a hang).
      this.#nextPollAt = Date.now() + Math.max(this.#waitMs, MIN_BUSY_POLL_MS);
      return;
    }
    if (this.#completed.length > 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (this.#heldElsewhere.size > 0) timer = setTimeout(resolve, Math.max(0, this.#nextPollAt - Date.now()));
      if (this.#completed.length > 0) resolve();
    });
    clearTimeout(timer);
    this.#wake = undefined;
  }

  /** The next back-off interval after a re-check that found nothing new. */
  #backedOff(ms: number): number {
    return Math.min(this.#maxWaitMs, Math.max(1, Math.round(ms * 1.5)));
  }

  /** Nothing of ours runs: wait with back-off, then re-check the tasks held elsewhere. */
  async #whileIdle(): Promise<void> {
    this.#emit({ type: 'waiting', ms: this.#waitMs, blocked: this.#heldElsewhere.size });
    await sleep(this.#waitMs, this.#signal);
    if (this.#signal?.aborted) return;
    if (await this.#poll()) {
      this.#fruitlessWaits = 0;
      this.#waitMs = this.#initialWaitMs;
    } else {
      this.#fruitlessWaits++;
      this.#waitMs = this.#backedOff(this.#waitMs);
    }
    this.#nextPollAt = Date.now() + this.#waitMs;
  }

  /** A dispatched task stays Ready until its executor holds the lock and sets it Running. */
  #dispatch(i: number): void {
    const task = this.#tasks[i]!;
    this.#inFlight++;
    this.#emit({ type: 'start', index: i, task });
    this.#executor.run(i, task, this.#gateFor(i)).then(
      (outcome) => this.#complete({ index: i, outcome }),
      (err: unknown) => {
        // Executors report task errors as outcomes; a rejection is a runner fault.
        const e = err instanceof Error ? err : new Error(String(err));
        const error = { name: e.name, message: e.message, stack: e.stack ?? e.message, internal: true };
        this.#complete({ index: i, outcome: { kind: 'failed', keptFailed: false, error } });
      },
    );
  }

  #complete(done: Completed): void {
    this.#completed.push(done);
    this.#wake?.();
  }

  /** The scheduler's say over task i as it starts and as it has run (executors in this thread). */
  #gateFor(i: number): StartGate {
    return {
      mayStart: () => {
        this.#consultChecks();
        return !this.#stopping;
      },
      ran: () => {
        this.#counted.add(i);
        this.#countExecuted(this.#tasks[i]!);
      },
      attemptFailed: (failure) => this.#emit({ type: 'retry', index: i, task: this.#tasks[i]!, failure }),
    };
  }

  #countExecuted(task: Task): void {
    const reason = this.#checks?.taskExecuted(task);
    if (reason !== undefined) this.#stop(reason);
  }

  /** Applies the outcome of a dispatched task to the table. */
  #settle({ index: i, outcome }: Completed): void {
    this.#inFlight--;
    const task = this.#tasks[i]!;
    const wasCounted = this.#counted.delete(i);
    switch (outcome.kind) {
      case 'executed':
        this.#finish(i, TaskState.Executed);
        if (!wasCounted) this.#countExecuted(task);
        break;
      case 'loaded':
        this.#finish(i, TaskState.Loaded);
        break;
      case 'locked':
        if (outcome.failed) {
          this.#failPreviously(i, outcome.record);
          break;
        }
        this.#table.set(i, TaskState.LockedElsewhere);
        this.#heldElsewhere.add(i);
        break;
      case 'failed':
        this.#recordFailure(i, outcome);
        break;
      case 'cancelled':
        // Not started (the run is stopping), or handed back (its worker died under another task).
        this.#table.set(i, TaskState.Ready);
        if (!this.#stopping) this.#ready.push(i);
        break;
      case 'lostDependency':
        this.#lostDependency(i, outcome);
        break;
    }
    this.#emit({ type: 'done', index: i, task, outcome });
  }

  /** Task i is finished: its dependants with no other missing dependency become ready. */
  #finish(i: number, state: TaskState): void {
    const table = this.#table;
    if (!isDone(table.get(i))) this.#unfinished--;
    table.set(i, state);
    for (const j of this.#graph.dependants[i]!) {
      if (--this.#missingDeps[j]! === 0 && table.get(j) === TaskState.Waiting) {
        table.set(j, TaskState.Ready);
        this.#ready.push(j);
      }
    }
  }

  #recordFailure(i: number, outcome: Failure['outcome'], earlier = false): void {
    if (!isDone(this.#table.get(i))) this.#unfinished--;
    this.#table.set(i, TaskState.Failed);
    this.#failures.push({ index: i, task: this.#tasks[i]!, outcome, ...(earlier ? { earlier } : {}) });
    if (!this.#keepGoing) this.#stopping = true;
  }

  /**
   * Task i found the stored result of a dependency corrupt (moved aside) or gone: compute that
   * dependency again, and task i after it. A dependency recomputed MAX_RECOMPUTES times in one run
   * (its results keep coming back corrupt), or MAX_VANISHED times (removed by others), fails task i.
   */
  #lostDependency(i: number, outcome: Extract<TaskOutcome, { kind: 'lostDependency' }>): void {
    const { deps, dependants } = this.#graph;
    const table = this.#table;
    if (outcome.warning !== undefined) this.#emit({ type: 'warning', message: outcome.warning });
    const d = this.#graph.index.get(outcome.hash);
    const limit = outcome.warning !== undefined ? MAX_RECOMPUTES : MAX_VANISHED;
    if (d === undefined || !deps[i]!.includes(d) || (isFinished(table.get(d)) && ++this.#recomputed[d]! > limit)) {
      const message =
        `task ${this.#tasks[i]!.name} cannot read its argument: ` +
        (outcome.warning ??
          `the result of hash ${outcome.hash} vanished from the store ${limit} times in this run (removed by another ` +
            'process: `jug invalidate` or `jug cleanup` while it runs?)');
      const error = { name: 'StoreError', message, stack: message, internal: true };
      this.#recordFailure(i, { kind: 'failed', keptFailed: false, error });
      return;
    }
    if (isFinished(table.get(d))) {
      // Not finished after all: its dependants wait for it again. (Others already dispatched
      // will report the loss themselves.)
      this.#unfinished++;
      table.set(d, TaskState.Ready);
      this.#ready.push(d);
      for (const j of dependants[d]!) if (table.get(j) === TaskState.Waiting) this.#missingDeps[j]!++;
    }
    let missing = 0;
    for (const k of deps[i]!) if (!isFinished(table.get(k))) missing++;
    this.#missingDeps[i] = missing;
    table.set(i, missing === 0 ? TaskState.Ready : TaskState.Waiting);
    if (missing === 0) this.#ready.push(i);
  }

  /**
   * Task i's lock is a failure mark from an earlier run (--keep-failed): report it as failed, with
   * the failure record stored with the mark (`record`, if it has one).
   */
  #failPreviously(i: number, record?: FailureRecord): void {
    const message =
      `task ${this.#tasks[i]!.name} failed earlier (in another process, or an earlier run) and its lock is kept marked failed ` +
      '(--keep-failed); `jug execute --retry-failed` runs it again (stored results are kept).';
    const error = { name: 'PreviouslyFailed', message, stack: message, internal: true };
    this.#recordFailure(i, { kind: 'failed', keptFailed: true, error, ...(record === undefined ? {} : { record }) }, true);
  }

  /** Re-checks tasks held elsewhere; true if any of them changed state. */
  async #poll(): Promise<boolean> {
    let progress = false;
    for (const i of [...this.#heldElsewhere]) {
      const task = this.#tasks[i]!;
      const hash = task.hash();
      const lock = this.#store.lock(hash);
      if (await this.#store.has(hash)) {
        this.#heldElsewhere.delete(i);
        this.#finish(i, TaskState.Loaded);
        this.#emit({ type: 'loaded', index: i, task });
        progress = true;
      } else if (await lock.isFailed()) {
        this.#heldElsewhere.delete(i);
        this.#failPreviously(i, await this.#store.failureRecord(hash));
        progress = true;
      } else if (!(await lock.isLocked())) {
        // Its holder gave up or failed without --keep-failed: try it ourselves.
        this.#heldElsewhere.delete(i);
        this.#table.set(i, TaskState.Ready);
        this.#ready.push(i);
        progress = true;
      }
    }
    return progress;
  }

  /**
   * The one stop path (signal or exit check): stop dispatching, let running tasks finish. Stop the
   * executor at once, not when the loop next wakes: by then a worker pool's queue may already
   * have started tasks that were waiting for a free thread.
   */
  #stop(reason?: string): void {
    if (reason !== undefined && !this.#stopping) this.#stoppedBy = reason;
    this.#stopping = true;
    this.#stopExecutor();
    this.#wake?.();
  }

  #stopExecutor(): void {
    if (this.#executorStopped) return;
    this.#executorStopped = true;
    this.#executor.stop?.();
  }

  #result(): RunResult {
    const notRun: number[] = [];
    for (let i = 0; i < this.#tasks.length; i++) {
      const s = this.#table.get(i);
      if (s === TaskState.Waiting || s === TaskState.Ready) notRun.push(i);
    }
    return {
      table: this.#table,
      failures: this.#failures,
      gaveUpOn: this.#gaveUp ? [...this.#heldElsewhere] : [],
      notRun,
      aborted: this.#signal?.aborted ?? false,
      ...(this.#stoppedBy === undefined ? {} : { stoppedBy: this.#stoppedBy }),
    };
  }
}
