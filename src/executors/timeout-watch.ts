/**
 * The parent's watch over tasks with a time limit running in worker threads (`--threads` with
 * `--timeout` or a task's `timeoutMs`). A thread busy in a synchronous task cannot stop it
 * itself, so the parent does: each timed request carries an {@link AttemptClock} in which the
 * worker records when each attempt starts and ends; once an attempt has run TIMEOUT_GRACE_MS past
 * its limit the watch calls that task's `expire` (which terminates the thread). The grace lets an
 * async task honour its aborted signal (taskSignal()) first.
 */
import { makeFailureRecord } from '../failure.js';
import { TaskTimeoutError, formatSeconds } from '../errors.js';
import { errorInfo, retryDelay, waitBackOff, type AttemptFailure, type RetryPolicy, type TaskOutcome } from '../execute-task.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';
import { TIMEOUT_GRACE_MS } from '../task-options.js';

/**
 * Shared between the parent and the worker running a timed request: BigInt64 [0] when the running
 * attempt started (ms since the epoch; 0 while none runs), Int32 [2] that attempt's number.
 */
export type AttemptClock = SharedArrayBuffer;

export function createAttemptClock(): AttemptClock {
  return new SharedArrayBuffer(16);
}

/** The worker's side: attempt `attempt` starts now. */
export function attemptStarted(clock: AttemptClock, attempt: number): void {
  Atomics.store(new Int32Array(clock, 8, 1), 0, attempt);
  Atomics.store(new BigInt64Array(clock, 0, 1), 0, BigInt(Date.now()));
}

/** The worker's side: the running attempt has ended. */
export function attemptEnded(clock: AttemptClock): void {
  Atomics.store(new BigInt64Array(clock, 0, 1), 0, 0n);
}

/** The last attempt started (0: none yet), and when, if it is still running. */
export function readAttemptClock(clock: AttemptClock): { readonly attempt: number; readonly since: number | undefined } {
  const since = Number(Atomics.load(new BigInt64Array(clock, 0, 1), 0));
  return { attempt: Atomics.load(new Int32Array(clock, 8, 1), 0), since: since === 0 ? undefined : since };
}

interface Watched {
  readonly clock: AttemptClock;
  readonly timeoutMs: number;
  readonly expire: () => void;
}

export class TimeoutWatch {
  readonly #watched = new Set<Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly graceMs = TIMEOUT_GRACE_MS) {}

  /** Watches the attempts recorded in `clock` until the returned function is called; `expire` is called at most once. */
  watch(clock: AttemptClock, timeoutMs: number, expire: () => void): () => void {
    let fired = false;
    const entry: Watched = {
      clock,
      timeoutMs,
      expire: () => {
        if (fired) return;
        fired = true;
        expire();
      },
    };
    this.#watched.add(entry);
    this.#schedule();
    return () => {
      this.#watched.delete(entry);
      this.#schedule();
    };
  }

  /** Looks often enough for the shortest limit watched: a tenth of it, from 10 ms to 250 ms. */
  #schedule(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#watched.size === 0) return;
    let every = 250;
    for (const w of this.#watched) every = Math.min(every, Math.max(10, w.timeoutMs / 10));
    this.#timer = setInterval(() => this.#look(), every);
  }

  /** Expires every watched task whose running attempt has passed its limit and the grace. */
  #look(now = Date.now()): void {
    for (const w of this.#watched) {
      const { since } = readAttemptClock(w.clock);
      if (since !== undefined && now - since >= w.timeoutMs + this.graceMs) w.expire();
    }
  }
}

/** What {@link afterTimeoutKill} needs to know. */
export interface KilledAttempt {
  readonly task: Task;
  readonly store: Store;
  readonly policy: RetryPolicy;
  /** The attempt stopped (1-based). */
  readonly attempt: number;
  readonly keepFailed: boolean;
  /** True when the run is stopping: no more attempts. */
  readonly stopping: () => boolean;
  /** Told when another attempt follows (to log it). */
  readonly onAttemptFailed: (failure: AttemptFailure) => void;
}

/**
 * After the thread running `attempt` of a task was terminated at its timeout: if attempts remain
 * (and the run is not stopping), keep the task's lock (this process's; the next attempt's thread
 * adopts it), wait the back-off and return the next attempt's number. Otherwise the task failed:
 * release its lock (or mark it failed with --keep-failed) and return the failed outcome. Whatever
 * the terminated thread had written of a result is a temporary file no one commits; the pool
 * removes it when it closes (store.abandonWrites()).
 */
export async function afterTimeoutKill(
  killed: KilledAttempt,
): Promise<{ readonly kind: 'retry'; readonly attempt: number } | Extract<TaskOutcome, { kind: 'failed' }>> {
  const { task, policy, attempt } = killed;
  const timeoutMs = policy.timeoutMs ?? 0;
  const error = errorInfo(
    new TaskTimeoutError(
      task.name,
      timeoutMs,
      `still running ${formatSeconds(TIMEOUT_GRACE_MS)} after its signal (taskSignal()) was aborted, so its worker thread was terminated`,
    ),
  );
  const lock = killed.store.lock(task.hash());
  const held = await lock.adopt();
  if (held && attempt < policy.attempts && !killed.stopping()) {
    const delayMs = retryDelay(policy, attempt);
    killed.onAttemptFailed({ attempt, attempts: policy.attempts, error, delayMs });
    await waitBackOff(delayMs, killed.stopping);
    if (!killed.stopping()) return { kind: 'retry', attempt: attempt + 1 };
  }
  const attempts = policy.attempts > 1 ? { attempts: attempt } : {};
  const record = makeFailureRecord(task, error, { durationMs: timeoutMs + TIMEOUT_GRACE_MS, ...attempts });
  let keptFailed = false;
  if (held) keptFailed = killed.keepFailed ? await lock.fail(record) : (await lock.release(), false);
  return { kind: 'failed', error, keptFailed, record, ...attempts };
}
