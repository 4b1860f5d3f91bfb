/**
 * Running one task, the single code path shared by the serial runner and worker threads:
 * take the store lock, re-check the result is not already stored, resolve the arguments from the
 * store, run the function (awaiting a Promise), write the result, release the lock.
 * The outcome is plain data, so it can cross a thread boundary unchanged.
 *
 * The task hooks (src/hooks.ts) fire here, in the thread that runs the task: `task-loadable` when
 * the re-check finds the result stored, `task-pre-execute` with the lock held just before the
 * arguments are loaded, `task-executed` once the result is stored. A hook that throws fails the task.
 */
import { hashValue } from './hash.js';
import { hasHooks, runHooks } from './hooks.js';
import { CorruptResultError, JugError, NotComputedError, TaskTimeoutError, describeThrown } from './errors.js';
import { registry } from './registry.js';
import { makeFailureRecord } from './failure.js';
import type { FailureRecord, Lock, PreparedResult, Store } from './store/store.js';
import type { Task } from './task.js';
import { DEFAULT_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, RunningTaskSignal, TIMEOUT_GRACE_MS } from './task-options.js';
import { resolveWith } from './value.js';
import { userStack } from './stack.js';

/**
 * Commit delay for the runners' stores: they call `store.flush()` after each batch of tasks, so
 * this only bounds how long a result may wait if they don't (see FileStoreOptions.commitDelayMs).
 */
export const RUNNER_COMMIT_DELAY_MS = 1000;

/** A thrown value reduced to data that survives structured clone. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  /** True when the error came from jug itself (store, hashing) rather than the task function. */
  readonly internal: boolean;
}

/** What happened when a runner tried a task. */
export type TaskOutcome =
  /**
   * With `deferCommit`, `prepared` is the written, not yet committed result, and the task's lock
   * is still held: the caller commits it and releases the lock (see {@link commitHandedOver}).
   */
  | {
      readonly kind: 'executed';
      readonly ms: number;
      /** When the (last attempt's) function started, epoch ms. */
      readonly startedAt?: number;
      /** Size of the stored result, bytes (when the store tells). */
      readonly bytes?: number;
      readonly prepared?: PreparedResult;
      /** The worker thread that ran it (its threadId); absent: the main thread. */
      readonly thread?: number;
      /** Attempts it took (set when the task was allowed more than one: --retries, `retries`). */
      readonly attempts?: number;
    }
  /** The result was already stored (another process finished it first). */
  | { readonly kind: 'loaded' }
  /**
   * Another process or thread holds the lock; `failed`: it is a failure mark left by --keep-failed,
   * `record` the failure record stored with it (if it has a readable one).
   */
  | { readonly kind: 'locked'; readonly failed: boolean; readonly record?: FailureRecord }
  | {
      readonly kind: 'failed';
      readonly error: ErrorInfo;
      readonly keptFailed: boolean;
      /** What the failure report prints (and `--keep-failed` stores): task, arguments, where, when. */
      readonly record?: FailureRecord;
      /** A result written before the failure (a throwing `task-executed` hook), handed over as for 'executed'. */
      readonly prepared?: PreparedResult;
      /** When the (last attempt's) function started, epoch ms; absent if it never started. */
      readonly startedAt?: number;
      /** The worker thread that ran it (its threadId); absent: the main thread. */
      readonly thread?: number;
      /** Attempts made (set when the task was allowed more than one: --retries, `retries`). */
      readonly attempts?: number;
    }
  /** Never started: the run was stopping when its turn came, or its worker died under another task. */
  | { readonly kind: 'cancelled' }
  /**
   * Not started: the stored result of dependency `hash` turned out corrupt (it was moved aside) or
   * missing, so the dependency must be computed again first. `warning` says what was found.
   */
  | { readonly kind: 'lostDependency'; readonly hash: string; readonly warning?: string };

/** No run defaults: one attempt, no time limit. */
const NO_DEFAULTS: RunDefaults = Object.freeze({});

/**
 * The run's defaults for tasks that do not set their own retries and time limit
 * (`jug execute --retries`, `--retry-delay`, `--timeout`; see TaskRunOptions).
 */
export interface RunDefaults {
  /** @default 0 */
  readonly retries?: number | undefined;
  /** @default DEFAULT_RETRY_DELAY_MS */
  readonly retryDelayMs?: number | undefined;
  /** @default none */
  readonly timeoutMs?: number | undefined;
}

/**
 * How often a task is tried and for how long. An attempt is retried when the task function threw
 * or rejected (a timeout included) and attempts remain. Never retried: failures of jug itself
 * (reading the arguments or writing the result: the store), a task found changing its arguments
 * (--debug), a failing hook, a worker thread that died under the task (process.exit(), out of
 * memory) — those would fail the same way again, or need the user first.
 */
export interface RetryPolicy {
  /** Attempts allowed: retries + 1. */
  readonly attempts: number;
  /** Wait before the first retry (ms), doubled for each further one. */
  readonly delayMs: number;
  /** Time limit of one attempt (ms), if any. */
  readonly timeoutMs: number | undefined;
}

/** `task`'s own run options over the run's defaults. */
export function retryPolicy(task: Task, defaults: RunDefaults): RetryPolicy {
  const own = task.runOptions;
  return {
    attempts: (own.retries ?? defaults.retries ?? 0) + 1,
    delayMs: own.retryDelayMs ?? defaults.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    timeoutMs: own.timeoutMs ?? defaults.timeoutMs,
  };
}

/** The wait after failed attempt `attempt` (1-based): delayMs · 2^(attempt−1), at most MAX_RETRY_DELAY_MS (or delayMs if larger). */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const cap = Math.max(policy.delayMs, MAX_RETRY_DELAY_MS);
  return Math.min(cap, policy.delayMs * 2 ** Math.max(0, attempt - 1));
}

/** A failed attempt that will be followed by another (after `delayMs`). */
export interface AttemptFailure {
  /** Which attempt failed (1-based). */
  readonly attempt: number;
  /** Attempts allowed in all (retries + 1). */
  readonly attempts: number;
  readonly error: ErrorInfo;
  /** The wait before the next attempt, ms. */
  readonly delayMs: number;
}

/** Options of {@link executeTask}. */
export interface ExecuteTaskOptions {
  /** The run's retries, back-off and time limit, for tasks without their own. @default none */
  readonly defaults?: RunDefaults;
  /** Leave a failed task's lock in place, marked failed (`--keep-failed`). */
  readonly keepFailed: boolean;
  /**
   * Only write the result (`Store.prepare`) and return it with the outcome, lock still held: the
   * caller commits it and releases the lock ({@link commitHandedOver}). Worker threads do this so
   * that the commit — several steps of asynchronous I/O — runs on the main thread's event loop
   * rather than waiting behind the next task, which blocks the worker's. @default false
   */
  readonly deferCommit?: boolean;
  /** Called when the task function starts (lock held, result absent, arguments loaded), with the attempt's number (1-based). */
  readonly onRun?: (attempt: number) => void;
  /** Called when the task function has returned or thrown. */
  readonly onRunEnd?: () => void;
  /** Called when the task function has returned a result (before it is stored). */
  readonly onRan?: () => void;
  /**
   * Called with the task's outcome once its result is written, before it is committed (not with
   * `deferCommit`, where the caller commits): its run record goes to the store first, so that
   * a stored result never lacks its record (src/run-records.ts).
   */
  readonly onResult?: (outcome: Extract<TaskOutcome, { kind: 'executed' }>) => void;
  /**
   * Wraps the exclusive part — take the lock, re-check, load arguments, run the function — so
   * that task functions of one thread never overlap, while their results' durable commits (which
   * the store may group) overlap with the next task. @default runs it directly
   */
  readonly exclusive?: <T>(section: () => Promise<T>) => Promise<T>;
  /** Checked when the exclusive section starts: true means the run is stopping, don't start. */
  readonly cancelled?: () => boolean;
  /** Checked during a retry's back-off and before it runs: true means the run is stopping, don't retry. */
  readonly stopping?: () => boolean;
  /** Called for each failed attempt that another will follow (to log it). */
  readonly onAttemptFailed?: (failure: AttemptFailure) => void;
  /**
   * This call continues a task whose earlier attempts ran elsewhere (a worker thread terminated
   * at the timeout): count attempts from this one. @default 1
   */
  readonly firstAttempt?: number;
  /** This process holds the task's lock already (taken by a thread that was terminated): adopt it. @default false */
  readonly lockHeld?: boolean;
  /**
   * At a timeout, stop waiting for an async task TIMEOUT_GRACE_MS after its signal was aborted,
   * abandoning its promise (the serial runner). Otherwise it is waited for: the thread pool
   * terminates the thread. @default false
   */
  readonly abandonAfterTimeout?: boolean;
  /** Called when the exclusive section starts (the runners use it to commit earlier results). */
  readonly onSectionStart?: () => void;
  /**
   * `--debug`: hash the arguments the function receives before and after it runs; a task that
   * changed one fails, and its result is not stored. @default false
   */
  readonly debug?: boolean;
}

/** Hashes of the arguments as the function receives them (undefined: that one cannot be hashed). */
function argumentHashes(args: readonly unknown[]): (string | undefined)[] {
  return args.map((a) => {
    try {
      return hashValue(a);
    } catch {
      return undefined; // e.g. a stored result holding an Error: not checked
    }
  });
}

/** The `--debug` error for a task that changed its arguments (1-based positions). */
export function mutationError(taskName: string, positions: readonly number[]): Error {
  const which = positions.length === 1 ? `argument ${positions[0]}` : `arguments ${positions.join(', ')}`;
  const e = new Error(
    `task ${taskName} changed its ${which} while running (detected by --debug); its result was not stored. ` +
      `A task function must not modify its arguments in place (sort(), push(), assigning to an element ` +
      `or property, writing into a typed array): under \`jug execute\` without --debug, or in another ` +
      `process, the same task would see different inputs. Copy the argument first ([...a], ` +
      `structuredClone(x), typed.slice()).`,
  );
  e.name = 'ArgumentMutatedError';
  e.stack = `${e.name}: ${e.message}`; // jug's own frames would only distract
  return e;
}

export function errorInfo(e: unknown, internal = false): ErrorInfo {
  // jug's own errors (store, encoding) say all there is to say: no stack of jug's internals.
  if (internal && e instanceof JugError) return { name: e.name, message: e.message, stack: `${e.name}: ${e.message}`, internal };
  if (e instanceof Error) {
    // The user's files and lines, without jug's frames (how jug called the task says nothing).
    return { name: e.name, message: e.message, stack: userStack(e.stack ?? `${e.name}: ${e.message}`), internal };
  }
  const shown = describeThrown(e); // `thrown value: …`, inspected (an object's fields, not [object Object])
  return { name: 'Error', message: shown, stack: shown, internal };
}

/**
 * After the threads running `tasks` were killed (an abort): release the locks this process holds
 * for them and remove its unfinished temporary writes. Results are never partial, so nothing else
 * needs undoing.
 */
export async function releaseAbandoned(store: Store, tasks: readonly Task[]): Promise<void> {
  for (const task of tasks) {
    const lock = store.lock(task.hash());
    if (await lock.adopt()) await lock.release();
  }
  await store.abandonWrites();
}

/**
 * A dependency's result could not be read because it is corrupt (then moved aside, so that it is
 * recomputed) or gone (another process moved it aside): the outcome that has the scheduler
 * compute it again. Undefined for any other error.
 */
async function lostDependency(e: unknown, store: Store): Promise<TaskOutcome | undefined> {
  if (e instanceof CorruptResultError && e.hash !== undefined) {
    const aside = await store.setAsideCorrupt(e.hash);
    const who = e.taskName === undefined ? `hash ${e.hash}` : `task ${e.taskName} (hash ${e.hash})`;
    const where = aside === undefined ? '' : ` (the damaged file is kept as ${aside})`;
    return {
      kind: 'lostDependency',
      hash: e.hash,
      warning: `the stored result of ${who} at ${e.path} is corrupt: ${e.reason}. Recomputing it${where}.`,
    };
  }
  if (e instanceof NotComputedError && e.hash !== undefined) return { kind: 'lostDependency', hash: e.hash };
  return undefined;
}

type Ran = { readonly kind: 'ran'; readonly result: unknown; readonly ms: number };
/** An attempt failed and another is allowed: wait, then run the function again (lock kept). */
type Retry = { readonly kind: 'retry'; readonly error: ErrorInfo };

/** One task's run through {@link executeTask}: its lock, its attempts, and what is left to clean up. */
interface TaskRun {
  readonly task: Task;
  readonly store: Store;
  readonly options: ExecuteTaskOptions;
  readonly lock: Lock;
  readonly policy: RetryPolicy;
  /** The lock is held by this call (release or mark it at the end). */
  held: boolean;
  keptFailed: boolean;
  /** The lock went to the caller with the prepared result (deferCommit). */
  handedOver: boolean;
  /** Number of the attempt running or last run (1-based; 0 before the first). */
  attempt: number;
  /** When the last attempt's function started (performance.now()), and how long it ran once it returned. */
  startedAt?: number;
  /** The same start, epoch ms (for run records). */
  startedEpoch?: number;
  ranMs?: number;
}

/** The outcome for a task whose lock is held elsewhere: with the failure record if it is a failure mark. */
async function lockedOutcome(store: Store, hash: string): Promise<TaskOutcome> {
  if (!(await store.lock(hash).isFailed())) return { kind: 'locked', failed: false };
  const record = await store.failureRecord(hash);
  return record === undefined ? { kind: 'locked', failed: true } : { kind: 'locked', failed: true, record };
}

/**
 * Runs `task` under its lock: lock, re-check the store, load the arguments, run the function
 * (again, after a back-off, while attempts remain: see {@link RetryPolicy}), store the result
 * durably, release. Never throws for task failures: they come back as an outcome.
 */
export async function executeTask(task: Task, store: Store, options: ExecuteTaskOptions): Promise<TaskOutcome> {
  const run: TaskRun = {
    task,
    store,
    options,
    lock: store.lock(task.hash()),
    policy: retryPolicy(task, options.defaults ?? NO_DEFAULTS),
    held: false,
    keptFailed: false,
    handedOver: false,
    attempt: (options.firstAttempt ?? 1) - 1,
  };
  const exclusive = options.exclusive ?? (<T>(f: () => Promise<T>): Promise<T> => f());
  try {
    let ran = await exclusive(() => firstSection(run));
    while (ran.kind === 'retry') {
      await backOff(run, ran.error);
      ran = await exclusive(() => retrySection(run, ran as Retry));
    }
    if (ran.kind !== 'ran') return ran;
    return await storeResult(run, ran);
  } catch (e) {
    // Reading arguments or the store failed: report it against this task.
    return run.held ? await failed(run, e, true) : { kind: 'failed', error: errorInfo(e, true), keptFailed: false };
  } finally {
    if (run.held && !run.keptFailed && !run.handedOver) await run.lock.release();
  }
}

/** Gives the event loop a turn between tasks: earlier commits progress, and the scheduler sees a stop first. */
const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** The exclusive section of the first attempt: take the lock, re-check the store, run the hooks, then the function. */
async function firstSection(run: TaskRun): Promise<TaskOutcome | Ran | Retry> {
  const { task, store, options, lock } = run;
  await nextTurn();
  if (options.cancelled?.()) return { kind: 'cancelled' };
  options.onSectionStart?.();
  // A retry after the thread of an earlier attempt was terminated: this process holds the lock.
  const taken = (options.lockHeld === true && (await lock.adopt())) || (await lock.get());
  if (!taken) return lockedOutcome(store, task.hash());
  run.held = true;
  if (await store.has(task.hash())) {
    try {
      runHooks('execute.task-loadable', task);
    } catch (e) {
      return { kind: 'failed', error: errorInfo(e), keptFailed: false }; // stored: never mark it failed
    }
    return { kind: 'loaded' };
  }
  if (hasHooks('execute.task-pre-execute') && options.lockHeld !== true) {
    try {
      runHooks('execute.task-pre-execute', task);
    } catch (e) {
      return failed(run, e, false);
    }
  }
  return attempt(run);
}

/** The exclusive section of a retry (lock still held): the function again, unless the run is stopping. */
async function retrySection(run: TaskRun, previous: Retry): Promise<TaskOutcome | Ran | Retry> {
  await nextTurn();
  // Stopping (Ctrl-C, an exit check, another task's failure without --keep-going): no more
  // attempts; the task failed as its last attempt did.
  if (run.options.stopping?.()) return failedWith(run, previous.error);
  run.options.onSectionStart?.();
  return attempt(run);
}

/** Tells the caller about the failed attempt, then waits the back-off (cut short when the run stops). */
async function backOff(run: TaskRun, error: ErrorInfo): Promise<void> {
  const delayMs = retryDelay(run.policy, run.attempt);
  run.options.onAttemptFailed?.({ attempt: run.attempt, attempts: run.policy.attempts, error, delayMs });
  await waitBackOff(delayMs, run.options.stopping);
}

/** Waits `ms` (a retry's back-off); with `stop`, looks every 100 ms at most whether to stop waiting. */
export async function waitBackOff(ms: number, stop?: () => boolean): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0 && !(stop?.() ?? false); left = until - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, stop === undefined ? left : Math.min(left, 100)));
  }
}

/** One attempt: load the arguments, run the function (with its time limit), judge what came of it. */
async function attempt(run: TaskRun): Promise<TaskOutcome | Ran | Retry> {
  const { task, store, options, policy } = run;
  let args: unknown[];
  try {
    args = (await resolveWith(task.args, store)) as unknown[];
  } catch (e) {
    const lost = await lostDependency(e, store);
    if (lost !== undefined) return lost;
    throw e;
  }
  const before = options.debug ? argumentHashes(args) : undefined;
  run.attempt++;
  const reg = registry();
  const signal = new RunningTaskSignal();
  options.onRun?.(run.attempt);
  const start = (run.startedAt = performance.now());
  run.startedEpoch = Date.now();
  run.ranMs = undefined;
  reg.runningTask = task.name;
  reg.runningSignal = signal;
  try {
    const result = await callTimed(task, args, signal, policy.timeoutMs, options.abandonAfterTimeout ?? false);
    const ms = (run.ranMs = performance.now() - start);
    if (before !== undefined) {
      const after = argumentHashes(args);
      const changed = before.flatMap((h, i) => (h !== undefined && h !== after[i] ? [i + 1] : []));
      if (changed.length > 0) return failed(run, mutationError(task.name, changed), false); // never retried: it would again
    }
    options.onRan?.();
    return { kind: 'ran', result, ms };
  } catch (e) {
    const thrown = signal.aborted && !(e instanceof TaskTimeoutError) && policy.timeoutMs !== undefined
      ? new TaskTimeoutError(task.name, policy.timeoutMs, `it threw once its signal was aborted: ${firstLine(errorInfo(e).stack)}`)
      : e;
    if (run.attempt < policy.attempts) return { kind: 'retry', error: errorInfo(thrown) };
    return failed(run, thrown, false);
  } finally {
    if (reg.runningSignal === signal) {
      reg.runningTask = undefined;
      reg.runningSignal = undefined;
    }
    options.onRunEnd?.();
  }
}

/**
 * Calls the task function. With a time limit, `signal` is aborted at it; then, with `abandon`
 * (the serial runner), a promise still pending TIMEOUT_GRACE_MS later is abandoned: the attempt
 * fails as timed out and the promise runs on unobserved. A synchronous function cannot be
 * interrupted in its own thread: its result counts, late or not.
 */
async function callTimed(
  task: Task,
  args: unknown[],
  signal: RunningTaskSignal,
  timeoutMs: number | undefined,
  abandon: boolean,
): Promise<unknown> {
  const start = performance.now();
  const value = (task.fn as (...a: unknown[]) => unknown)(...args);
  if (timeoutMs === undefined || !isThenable(value)) return await value;
  return await new Promise<unknown>((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(
      () => {
        signal.abort(new TaskTimeoutError(task.name, timeoutMs, 'taskSignal() was aborted at the limit'));
        if (abandon) {
          grace = setTimeout(
            () =>
              reject(
                new TaskTimeoutError(
                  task.name,
                  timeoutMs,
                  `it had not settled ${TIMEOUT_GRACE_MS / 1000} s after its signal (taskSignal()) was aborted, so it was ` +
                    'abandoned: whatever it still does runs on in this process, unobserved (with --threads its thread is terminated)',
                ),
              ),
            TIMEOUT_GRACE_MS,
          );
        }
      },
      Math.max(0, start + timeoutMs - performance.now()),
    );
    const settle = (): void => {
      clearTimeout(timer);
      clearTimeout(grace);
    };
    value.then(
      (v) => (settle(), resolve(v)),
      (e: unknown) => (settle(), reject(e)),
    );
  });
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** Writes the result: committed here, or prepared and handed to the caller with the lock (deferCommit). */
async function storeResult(run: TaskRun, ran: Ran): Promise<TaskOutcome> {
  const { task } = run;
  let outcome: Extract<TaskOutcome, { kind: 'executed' }>;
  try {
    outcome = await writeResult(run, ran);
  } catch (e) {
    return await failed(run, e, true); // jug's own failure: never retried (see RetryPolicy)
  }
  if (hasHooks('execute.task-executed')) {
    try {
      runHooks('execute.task-executed', task);
    } catch (e) {
      // The result is stored (and stays, lock not marked failed): the run reports the hook's failure.
      const { prepared, startedAt } = outcome;
      return { kind: 'failed', error: errorInfo(e), keptFailed: false, prepared, ...startedField(startedAt), ...attemptsField(run) };
    }
  }
  return outcome;
}

/**
 * Writes the result and returns the outcome: with deferCommit, prepared and handed over with the
 * lock; otherwise committed, after `onResult` (the run record) has seen the outcome.
 */
async function writeResult(run: TaskRun, ran: Ran): Promise<Extract<TaskOutcome, { kind: 'executed' }>> {
  const { task, store, options } = run;
  const hash = task.hash();
  if (store.prepare === undefined || store.commitPrepared === undefined) {
    await store.dump(hash, ran.result, task.name);
    const dumped = executedOutcome(run, ran.ms, undefined, undefined);
    options.onResult?.(dumped);
    return dumped;
  }
  const prepared = await store.prepare(hash, ran.result, task.name);
  if (options.deferCommit) {
    run.handedOver = true; // the lock goes with the prepared result to the caller
    return executedOutcome(run, ran.ms, prepared.bytes, prepared);
  }
  const outcome = executedOutcome(run, ran.ms, prepared.bytes, undefined);
  options.onResult?.(outcome);
  await store.commitPrepared(prepared, false, run.lock); // may release the lock once durable
  return outcome;
}

/** An 'executed' outcome, its optional fields set only when known (built without spreads: once per task). */
function executedOutcome(run: TaskRun, ms: number, bytes: number | undefined, prepared: PreparedResult | undefined): Extract<TaskOutcome, { kind: 'executed' }> {
  const out: { -readonly [K in keyof Extract<TaskOutcome, { kind: 'executed' }>]: Extract<TaskOutcome, { kind: 'executed' }>[K] } = { kind: 'executed', ms };
  if (run.startedEpoch !== undefined) out.startedAt = run.startedEpoch;
  if (run.policy.attempts > 1 && run.attempt > 0) out.attempts = run.attempt;
  if (bytes !== undefined) out.bytes = bytes;
  if (prepared !== undefined) out.prepared = prepared;
  return out;
}

function startedField(startedAt: number | undefined): { startedAt?: number } {
  return startedAt === undefined ? {} : { startedAt };
}

/** `attempts` for an outcome, when the task could have had more than one. */
function attemptsField(run: TaskRun): { attempts?: number } {
  return run.policy.attempts > 1 && run.attempt > 0 ? { attempts: run.attempt } : {};
}

/** The task failed for good: mark its lock with --keep-failed. */
async function failed(run: TaskRun, e: unknown, internal: boolean): Promise<TaskOutcome> {
  return failedWith(run, errorInfo(e, internal));
}

/** As {@link failed}, for an error already reduced to data; the failure record goes with the outcome (and the mark). */
async function failedWith(run: TaskRun, error: ErrorInfo): Promise<TaskOutcome> {
  const attempts = attemptsField(run);
  const { startedAt, ranMs } = run;
  const durationMs = ranMs ?? (startedAt === undefined ? undefined : performance.now() - startedAt);
  const record = makeFailureRecord(run.task, error, { durationMs, ...attempts });
  if (run.options.keepFailed) run.keptFailed = await run.lock.fail(record);
  return { kind: 'failed', error, keptFailed: run.keptFailed, record, ...startedField(run.startedEpoch), ...attempts };
}

/** The first line of a stack or message. */
export function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}

/**
 * The main thread's half of a deferred commit (`deferCommit`): commits the result a worker
 * thread prepared, then releases the task's lock (this process's, taken in the worker). Returns
 * the outcome without the handle; a failed commit fails the task (lock released, or marked
 * failed with `keepFailed`). `urgent` false: the result joins the store's next group commit, which
 * a later urgent commit, `store.flush()` or the store's commit delay starts.
 */
export async function commitHandedOver(
  task: Task,
  outcome: TaskOutcome,
  store: Store,
  keepFailed: boolean,
  urgent = true,
): Promise<TaskOutcome> {
  if ((outcome.kind !== 'executed' && outcome.kind !== 'failed') || outcome.prepared === undefined) return outcome;
  const { prepared, ...rest } = outcome;
  const lock = store.lock(task.hash());
  try {
    await store.commitPrepared!(prepared, urgent);
  } catch (e) {
    let keptFailed = false;
    const error = errorInfo(e, true);
    const record = makeFailureRecord(task, error, { durationMs: outcome.kind === 'executed' ? outcome.ms : undefined });
    if (await lock.adopt()) keptFailed = keepFailed ? await lock.fail(record) : (await lock.release(), false);
    return { kind: 'failed', error, keptFailed, record };
  }
  if (await lock.adopt()) await lock.release();
  return rest;
}
