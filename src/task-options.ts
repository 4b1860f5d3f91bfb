/**
 * How a task is run, apart from what it computes: retries, back-off and a time limit
 * (`TaskGenerator(fn, { retries, retryDelayMs, timeoutMs })`, `task.setRunOptions(...)`), and the
 * AbortSignal a running task reads with {@link taskSignal}. None of this is part of a task's hash:
 * changing a retry count or a timeout never makes a stored result look out of date.
 */
import { TaskDefinitionError } from './errors.js';
import { registry, type TaskFunction } from './registry.js';

/** Options of how a task runs (see the README, "Retries" and "Timeouts"); not part of its hash. */
export interface TaskRunOptions {
  /**
   * Run the task again, up to this many more times in the same run, when its function throws (or
   * times out); the task keeps its lock meanwhile. Overrides `jug execute --retries` for this task.
   * @default --retries, else 0
   */
  readonly retries?: number;
  /**
   * Wait before the first retry, in milliseconds; each further retry waits twice as long as the
   * one before (at most {@link MAX_RETRY_DELAY_MS}, or retryDelayMs itself if larger).
   * @default --retry-delay, else 1000
   */
  readonly retryDelayMs?: number;
  /**
   * Time limit of one attempt, in milliseconds (from the call of the function). At the limit
   * {@link taskSignal} is aborted; with `--threads` a task still running {@link TIMEOUT_GRACE_MS}
   * later is stopped by terminating its worker thread. Without threads a synchronous task cannot
   * be stopped; an async one that has not settled by then is abandoned. The attempt fails (and is
   * retried if retries remain). Overrides `jug execute --timeout` for this task.
   * @default --timeout, else none
   */
  readonly timeoutMs?: number;
}

/** Longest wait between two attempts that the doubling reaches (unless retryDelayMs is larger). */
export const MAX_RETRY_DELAY_MS = 600_000;
/**
 * How long after its timeout (and its signal's abort) a task still running is stopped: its thread
 * terminated (`--threads`), or, in the serial runner, an async task abandoned.
 */
export const TIMEOUT_GRACE_MS = 1000;
/** Default wait before the first retry. */
export const DEFAULT_RETRY_DELAY_MS = 1000;

const NONE: TaskRunOptions = Object.freeze({});

/** Checks `options` (a TaskDefinitionError naming `what` for a bad value); returns a frozen copy. */
export function checkRunOptions(options: TaskRunOptions, what: string): TaskRunOptions {
  const { retries, retryDelayMs, timeoutMs } = options;
  const bad = (key: string, value: unknown, expected: string): never => {
    throw new TaskDefinitionError(`${what}: ${key} must be ${expected}, got ${String(value)}.`);
  };
  if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0)) bad('retries', retries, 'an integer ≥ 0');
  if (retryDelayMs !== undefined && !(Number.isFinite(retryDelayMs) && retryDelayMs >= 0)) {
    bad('retryDelayMs', retryDelayMs, 'a number of milliseconds ≥ 0');
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) bad('timeoutMs', timeoutMs, 'a number of milliseconds > 0');
  const out: { retries?: number; retryDelayMs?: number; timeoutMs?: number } = {};
  if (retries !== undefined) out.retries = retries;
  if (retryDelayMs !== undefined) out.retryDelayMs = retryDelayMs;
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  return Object.keys(out).length === 0 ? NONE : Object.freeze(out);
}

/** Records the run options a TaskGenerator gives every task of `fn` (shared by every copy of the library). */
export function setFunctionRunOptions(fn: TaskFunction, options: TaskRunOptions): void {
  if (options !== NONE) registry().runOptions.set(fn, options);
}

/** The run options tasks of `fn` start with (a TaskGenerator's), or none. */
export function functionRunOptions(fn: TaskFunction): TaskRunOptions {
  return registry().runOptions.get(fn) ?? NONE;
}

/**
 * The signal of the task running in this thread: made when first asked for (most tasks never
 * ask), aborted at the task's timeout or when the run is aborted.
 */
export class RunningTaskSignal {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

const idle = new AbortController().signal;

/**
 * The AbortSignal of the task function running now: it is aborted when the task's time is up
 * (`jug execute --timeout`, or the task's `timeoutMs`) and when the run is aborted (a second
 * Ctrl-C). An async task honours it by passing it on (`fetch(url, { signal: taskSignal() })`,
 * `setTimeout` of node:timers/promises) or by checking `signal.aborted` / `signal.throwIfAborted()`
 * between steps, and then throwing; the attempt then fails as timed out (and is retried if
 * retries remain).
 *
 * Read it at the start of the task function, before its first `await`, and keep it: it belongs
 * to the task that is running when it is called (the tasks of one thread never overlap, but an
 * async task abandoned at its timeout in the serial runner would see the next task's). Outside a
 * running task (at the jugfile's top level, or calling the function directly) it returns a signal
 * that never aborts.
 *
 * @example
 * export const fetchPage = TaskGenerator(async function fetchPage(url: string) {
 *   const signal = taskSignal();
 *   const res = await fetch(url, { signal });
 *   return res.text();
 * }, { timeoutMs: 30_000, retries: 2 });
 */
export function taskSignal(): AbortSignal {
  return registry().runningSignal?.signal ?? idle;
}
