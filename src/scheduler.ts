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
  const { tasks, deps, dependants } = graph;
  const keepGoing = options.keepGoing ?? false;
  const maxWaitMs = Math.max(0, (options.waitCycleTime ?? 12) * 1000);
  const nrWaitCycles = options.nrWaitCycles ?? 150;
  const initialWaitMs = Math.min(options.initialWaitMs ?? 50, maxWaitMs);
  const signal = options.signal;
  const emit = options.onEvent ?? (() => {});

  const table = options.table ?? StatusTable.create(tasks.length);
  const selected = options.target
    ? withDependencies(graph, tasks.flatMap((t, i) => (options.target!(t) ? [i] : [])))
    : undefined;

  // Locks and unfinished writes of dead processes go first (their tasks may even be stored
  // already); then one listing of the store tells what is done.
  await store.clearStaleLocks();
  await store.clearDeadWrites();
  const stored = options.stored ?? (await store.list());
  const missingDeps = new Int32Array(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    if (selected !== undefined && !selected.has(i)) table.set(i, TaskState.Excluded);
    else if (stored.has(tasks[i]!.hash())) {
      table.set(i, TaskState.Loaded);
      emit({ type: 'loaded', index: i, task: tasks[i]! });
    }
  }
  const ready: number[] = [];
  for (let i = 0; i < tasks.length; i++) {
    let missing = 0;
    for (const d of deps[i]!) if (!isFinished(table.get(d))) missing++;
    missingDeps[i] = missing;
    if (missing === 0 && table.get(i) === TaskState.Waiting) {
      table.set(i, TaskState.Ready);
      ready.push(i);
    }
  }
  let readyHead = 0;
  /** Selected tasks not finished (executed, loaded or failed) in this run: see Executor.remaining. */
  let unfinished = 0;
  for (let i = 0; i < tasks.length; i++) {
    const s = table.get(i);
    if (s === TaskState.Waiting || s === TaskState.Ready) unfinished++;
  }
  let reportedRemaining = Number.POSITIVE_INFINITY;

  const failures: Failure[] = [];
  const heldElsewhere = new Set<number>();
  let stopping = false;
  let inFlight = 0;
  const completed: { index: number; outcome: TaskOutcome }[] = [];
  let wake: (() => void) | undefined;

  const finish = (i: number, state: TaskState): void => {
    if (!isDone(table.get(i))) unfinished--;
    table.set(i, state);
    for (const j of dependants[i]!) {
      if (--missingDeps[j]! === 0 && table.get(j) === TaskState.Waiting) {
        table.set(j, TaskState.Ready);
        ready.push(j);
      }
    }
  };

  // A dispatched task stays Ready until its executor holds the lock and sets it Running.
  const dispatch = (i: number): void => {
    const task = tasks[i]!;
    inFlight++;
    emit({ type: 'start', index: i, task });
    executor.run(i, task, gateFor(i)).then(
      (outcome) => {
        completed.push({ index: i, outcome });
        wake?.();
      },
      (err: unknown) => {
        // Executors report task errors as outcomes; a rejection is a runner fault.
        const e = err instanceof Error ? err : new Error(String(err));
        completed.push({
          index: i,
          outcome: {
            kind: 'failed',
            keptFailed: false,
            error: { name: e.name, message: e.message, stack: e.stack ?? e.message, internal: true },
          },
        });
        wake?.();
      },
    );
  };

  const settle = ({ index: i, outcome }: { index: number; outcome: TaskOutcome }): void => {
    inFlight--;
    const task = tasks[i]!;
    const wasCounted = counted.delete(i);
    switch (outcome.kind) {
      case 'executed': {
        finish(i, TaskState.Executed);
        if (!wasCounted) countExecuted(task);
        break;
      }
      case 'loaded':
        finish(i, TaskState.Loaded);
        break;
      case 'locked':
        if (outcome.failed) {
          failPreviously(i, outcome.record);
          break;
        }
        table.set(i, TaskState.LockedElsewhere);
        heldElsewhere.add(i);
        break;
      case 'failed':
        recordFailure(i, outcome);
        break;
      case 'cancelled':
        // Not started (the run is stopping), or handed back (its worker died under another task).
        table.set(i, TaskState.Ready);
        if (!stopping) ready.push(i);
        break;
      case 'lostDependency':
        lostDependency(i, outcome);
        break;
    }
    emit({ type: 'done', index: i, task, outcome });
  };

  const recordFailure = (i: number, outcome: Failure['outcome'], earlier = false): void => {
    if (!isDone(table.get(i))) unfinished--;
    table.set(i, TaskState.Failed);
    failures.push({ index: i, task: tasks[i]!, outcome, ...(earlier ? { earlier } : {}) });
    if (!keepGoing) stopping = true;
  };

  /**
   * Task i found the stored result of a dependency corrupt (moved aside) or gone: compute that
   * dependency again, and task i after it. A dependency recomputed MAX_RECOMPUTES times in one run
   * (its results keep coming back corrupt), or MAX_VANISHED times (removed by others), fails task i.
   */
  const lostDependency = (i: number, outcome: Extract<TaskOutcome, { kind: 'lostDependency' }>): void => {
    if (outcome.warning !== undefined) emit({ type: 'warning', message: outcome.warning });
    const d = graph.index.get(outcome.hash);
    const corrupt = outcome.warning !== undefined;
    const limit = corrupt ? MAX_RECOMPUTES : MAX_VANISHED;
    if (d === undefined || !deps[i]!.includes(d) || (isFinished(table.get(d)) && ++recomputed[d]! > limit)) {
      const message =
        `task ${tasks[i]!.name} cannot read its argument: ` +
        (outcome.warning ??
          `the result of hash ${outcome.hash} vanished from the store ${limit} times in this run (removed by another ` +
            'process: `jug invalidate` or `jug cleanup` while it runs?)');
      recordFailure(i, { kind: 'failed', keptFailed: false, error: { name: 'StoreError', message, stack: message, internal: true } });
      return;
    }
    if (isFinished(table.get(d))) {
      // Not finished after all: its dependants wait for it again. (Others already dispatched
      // will report the loss themselves.)
      unfinished++;
      table.set(d, TaskState.Ready);
      ready.push(d);
      for (const j of dependants[d]!) if (table.get(j) === TaskState.Waiting) missingDeps[j]!++;
    }
    let missing = 0;
    for (const k of deps[i]!) if (!isFinished(table.get(k))) missing++;
    missingDeps[i] = missing;
    table.set(i, missing === 0 ? TaskState.Ready : TaskState.Waiting);
    if (missing === 0) ready.push(i);
  };
  const recomputed = new Int32Array(tasks.length);

  /**
   * Task i's lock is a failure mark from an earlier run (--keep-failed): report it as failed, with
   * the failure record stored with the mark (`record`, if it has one).
   */
  const failPreviously = (i: number, record?: FailureRecord): void => {
    const message =
      `task ${tasks[i]!.name} failed earlier (in another process, or an earlier run) and its lock is kept marked failed ` +
      '(--keep-failed); `jug execute --retry-failed` runs it again (stored results are kept).';
    const error = { name: 'PreviouslyFailed', message, stack: message, internal: true };
    recordFailure(i, { kind: 'failed', keptFailed: true, error, ...(record === undefined ? {} : { record }) }, true);
  };

  /** Re-checks tasks held elsewhere; true if any of them changed state. */
  const poll = async (): Promise<boolean> => {
    let progress = false;
    for (const i of [...heldElsewhere]) {
      const hash = tasks[i]!.hash();
      const lock = store.lock(hash);
      if (await store.has(hash)) {
        heldElsewhere.delete(i);
        finish(i, TaskState.Loaded);
        emit({ type: 'loaded', index: i, task: tasks[i]! });
        progress = true;
      } else if (await lock.isFailed()) {
        heldElsewhere.delete(i);
        failPreviously(i, await store.failureRecord(hash));
        progress = true;
      } else if (!(await lock.isLocked())) {
        // Its holder gave up or failed without --keep-failed: try it ourselves.
        heldElsewhere.delete(i);
        table.set(i, TaskState.Ready);
        ready.push(i);
        progress = true;
      }
    }
    return progress;
  };

  let waitMs = initialWaitMs;
  let fruitlessWaits = 0;
  let nextPollAt = Date.now() + waitMs;
  let gaveUp = false;

  let stopped = false;
  const stopExecutor = (): void => {
    if (stopped) return;
    stopped = true;
    executor.stop?.();
  };
  // The one stop path (signal or exit check): stop dispatching, let running tasks finish. Stop the
  // executor at once, not when the loop next wakes: by then a worker pool's queue may already
  // have started tasks that were waiting for a free thread.
  let stoppedBy: string | undefined;
  const stop = (reason?: string): void => {
    if (reason !== undefined && !stopping) stoppedBy = reason;
    stopping = true;
    stopExecutor();
    wake?.();
  };
  const onAbort = (): void => stop();
  const checks = options.checks;
  /** Tasks the exit checks have counted as executed through their gate (before their outcome). */
  const counted = new Set<number>();
  const countExecuted = (task: Task): void => {
    const reason = checks?.taskExecuted(task);
    if (reason !== undefined) stop(reason);
  };
  function gateFor(i: number): StartGate {
    return {
      mayStart: () => {
        if (!stopping && checks !== undefined) {
          const reason = checks.beforeTask();
          if (reason !== undefined) stop(reason);
        }
        return !stopping;
      },
      ran: () => {
        counted.add(i);
        countExecuted(tasks[i]!);
      },
      attemptFailed: (failure) => emit({ type: 'retry', index: i, task: tasks[i]!, failure }),
    };
  }
  /** May another task be dispatched now? (Exit checks: budget of tasks, files, deadline.) */
  const mayDispatch = (): boolean => {
    if (stopping) return false;
    if (checks === undefined) return true;
    const budget = checks.taskBudget();
    return budget === undefined || inFlight < budget;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) stopping = true;
      while (completed.length > 0) settle(completed.shift()!);
      if (!stopping && checks !== undefined) {
        const reason = checks.beforeTask();
        if (reason !== undefined) stop(reason);
      }
      if (stopping) stopExecutor();
      if (unfinished < reportedRemaining) {
        reportedRemaining = unfinished;
        executor.remaining?.(unfinished);
      }
      while (mayDispatch() && inFlight < executor.slots && readyHead < ready.length) {
        dispatch(ready[readyHead++]!);
      }
      if (readyHead > 1024 && readyHead * 2 > ready.length) {
        ready.splice(0, readyHead);
        readyHead = 0;
      }
      if (inFlight > 0) {
        // While our own tasks run, still notice tasks finished elsewhere (not too often).
        if (heldElsewhere.size > 0 && Date.now() >= nextPollAt) {
          if (await poll()) waitMs = initialWaitMs;
          // At least MIN_BUSY_POLL_MS apart: with --wait-cycle-time 0, polling again at once would
          // loop on microtasks only, starving the event loop the running tasks need (a hang).
          nextPollAt = Date.now() + Math.max(waitMs, MIN_BUSY_POLL_MS);
          continue;
        }
        if (completed.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (completed.length > 0) resolve();
          });
          wake = undefined;
        }
        continue;
      }
      if (stopping || heldElsewhere.size === 0) break;
      if (readyHead < ready.length) continue;
      // Idle: only tasks held by other processes (or waiting on them) remain.
      if (fruitlessWaits >= nrWaitCycles) {
        gaveUp = true;
        break;
      }
      emit({ type: 'waiting', ms: waitMs, blocked: heldElsewhere.size });
      await sleep(waitMs, signal);
      if (signal?.aborted) continue;
      if (await poll()) {
        fruitlessWaits = 0;
        waitMs = initialWaitMs;
      } else {
        fruitlessWaits++;
        waitMs = Math.min(maxWaitMs, Math.max(1, Math.round(waitMs * 1.5)));
      }
      nextPollAt = Date.now() + waitMs;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }

  const notRun: number[] = [];
  for (let i = 0; i < tasks.length; i++) {
    const s = table.get(i);
    if (s === TaskState.Waiting || s === TaskState.Ready) notRun.push(i);
  }
  return {
    table,
    failures,
    gaveUpOn: gaveUp ? [...heldElsewhere] : [],
    notRun,
    aborted: signal?.aborted ?? false,
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
  };
}
