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
import { CorruptResultError, JugError, NotComputedError, describeThrown } from './errors.js';
import { registry } from './registry.js';
import { makeFailureRecord } from './failure.js';
import type { FailureRecord, PreparedResult, Store } from './store/store.js';
import type { Task } from './task.js';
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
      readonly prepared?: PreparedResult;
      /** The worker thread that ran it (its threadId); absent: the main thread. */
      readonly thread?: number;
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
      /** The worker thread that ran it (its threadId); absent: the main thread. */
      readonly thread?: number;
    }
  /** Never started: the run was stopping when its turn came, or its worker died under another task. */
  | { readonly kind: 'cancelled' }
  /**
   * Not started: the stored result of dependency `hash` turned out corrupt (it was moved aside) or
   * missing, so the dependency must be computed again first. `warning` says what was found.
   */
  | { readonly kind: 'lostDependency'; readonly hash: string; readonly warning?: string };

/** Options of {@link executeTask}. */
export interface ExecuteTaskOptions {
  /** Leave a failed task's lock in place, marked failed (`--keep-failed`). */
  readonly keepFailed: boolean;
  /**
   * Only write the result (`Store.prepare`) and return it with the outcome, lock still held: the
   * caller commits it and releases the lock ({@link commitHandedOver}). Worker threads do this so
   * that the commit — several steps of asynchronous I/O — runs on the main thread's event loop
   * rather than waiting behind the next task, which blocks the worker's. @default false
   */
  readonly deferCommit?: boolean;
  /** Called when the task function starts (lock held, result absent, arguments loaded). */
  readonly onRun?: () => void;
  /** Called when the task function has returned or thrown. */
  readonly onRunEnd?: () => void;
  /** Called when the task function has returned a result (before it is stored). */
  readonly onRan?: () => void;
  /**
   * Wraps the exclusive part — take the lock, re-check, load arguments, run the function — so
   * that task functions of one thread never overlap, while their results' durable commits (which
   * the store may group) overlap with the next task. @default runs it directly
   */
  readonly exclusive?: <T>(section: () => Promise<T>) => Promise<T>;
  /** Checked when the exclusive section starts: true means the run is stopping, don't start. */
  readonly cancelled?: () => boolean;
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

/** The outcome for a task whose lock is held elsewhere: with the failure record if it is a failure mark. */
async function lockedOutcome(store: Store, hash: string): Promise<TaskOutcome> {
  if (!(await store.lock(hash).isFailed())) return { kind: 'locked', failed: false };
  const record = await store.failureRecord(hash);
  return record === undefined ? { kind: 'locked', failed: true } : { kind: 'locked', failed: true, record };
}

/**
 * Runs `task` under its lock: lock, re-check the store, load the arguments, run the function,
 * store the result durably, release. Never throws for task failures: they come back as an outcome.
 */
export async function executeTask(task: Task, store: Store, options: ExecuteTaskOptions): Promise<TaskOutcome> {
  const hash = task.hash();
  const lock = store.lock(hash);
  const exclusive = options.exclusive ?? (<T>(f: () => Promise<T>): Promise<T> => f());
  let held = false;
  let keptFailed = false;
  let handedOver = false;
  let startedAt: number | undefined;
  let ranMs: number | undefined;
  const failed = async (e: unknown, internal: boolean): Promise<TaskOutcome> => {
    const error = errorInfo(e, internal);
    const durationMs = ranMs ?? (startedAt === undefined ? undefined : performance.now() - startedAt);
    const record = makeFailureRecord(task, error, { durationMs });
    if (options.keepFailed) keptFailed = await lock.fail(record);
    return { kind: 'failed', error, keptFailed, record };
  };
  try {
    const ran = await exclusive(async (): Promise<TaskOutcome | Ran> => {
      // Give the event loop a turn between tasks: commits of earlier results (I/O callbacks)
      // progress, and the scheduler sees an earlier failure or signal before this task starts.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.cancelled?.()) return { kind: 'cancelled' };
      options.onSectionStart?.();
      if (!(await lock.get())) return lockedOutcome(store, hash);
      held = true;
      if (await store.has(hash)) {
        try {
          runHooks('execute.task-loadable', task);
        } catch (e) {
          return { kind: 'failed', error: errorInfo(e), keptFailed: false }; // stored: never mark it failed
        }
        return { kind: 'loaded' };
      }
      if (hasHooks('execute.task-pre-execute')) {
        try {
          runHooks('execute.task-pre-execute', task);
        } catch (e) {
          return failed(e, false);
        }
      }
      let args: unknown[];
      try {
        args = (await resolveWith(task.args, store)) as unknown[];
      } catch (e) {
        const lost = await lostDependency(e, store);
        if (lost !== undefined) return lost;
        throw e;
      }
      const before = options.debug ? argumentHashes(args) : undefined;
      const reg = registry();
      options.onRun?.();
      const start = (startedAt = performance.now());
      reg.runningTask = task.name;
      try {
        const result = await (task.fn as (...a: unknown[]) => unknown)(...args);
        const ms = (ranMs = performance.now() - start);
        if (before !== undefined) {
          const after = argumentHashes(args);
          const changed = before.flatMap((h, i) => (h !== undefined && h !== after[i] ? [i + 1] : []));
          if (changed.length > 0) return failed(mutationError(task.name, changed), false);
        }
        options.onRan?.();
        return { kind: 'ran', result, ms };
      } catch (e) {
        return failed(e, false);
      } finally {
        reg.runningTask = undefined;
        options.onRunEnd?.();
      }
    });
    if (ran.kind !== 'ran') return ran;
    let prepared: PreparedResult | undefined;
    try {
      if (options.deferCommit && store.prepare !== undefined) {
        prepared = await store.prepare(hash, ran.result, task.name);
        handedOver = true; // the lock goes with the prepared result to the caller
      } else {
        await store.dump(hash, ran.result, task.name);
      }
    } catch (e) {
      return await failed(e, true);
    }
    if (hasHooks('execute.task-executed')) {
      try {
        runHooks('execute.task-executed', task);
      } catch (e) {
        // The result is stored (and stays, lock not marked failed): the run reports the hook's failure.
        return { kind: 'failed', error: errorInfo(e), keptFailed: false, prepared };
      }
    }
    return { kind: 'executed', ms: ran.ms, prepared };
  } catch (e) {
    // Reading arguments or the store failed: report it against this task.
    return held ? await failed(e, true) : { kind: 'failed', error: errorInfo(e, true), keptFailed: false };
  } finally {
    if (held && !keptFailed && !handedOver) await lock.release();
  }
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
