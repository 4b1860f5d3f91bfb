/**
 * The parent's watch over tasks with a time limit running in worker threads (`--threads` with
 * `--timeout` or a task's `timeoutMs`). A thread busy in a synchronous task cannot stop it
 * itself, so the parent does: it reads, in the shared status table, when each watched task's
 * current attempt started (a thread slot shows the task it runs and since when), and once one has
 * run TIMEOUT_GRACE_MS past its limit it calls that task's `expire` (which terminates the thread).
 * The grace lets an async task honour its aborted signal (taskSignal()) first.
 */
import { TaskTimeoutError, formatSeconds } from '../errors.js';
import { errorInfo, retryDelay, waitBackOff, type AttemptFailure, type RetryPolicy, type TaskOutcome } from '../execute-task.js';
import type { StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';
import { TIMEOUT_GRACE_MS } from '../task-options.js';

interface Watched {
  readonly timeoutMs: number;
  readonly expire: () => void;
}

export class TimeoutWatch {
  /** Watched tasks, by task index in the current pass. */
  readonly #watched = new Map<number, Watched>();
  #timer: NodeJS.Timeout | undefined;

  /** @param table the current pass's status table (read at each look) */
  constructor(
    private readonly table: () => StatusTable,
    private readonly graceMs = TIMEOUT_GRACE_MS,
  ) {}

  /** Watches task `index` until the returned function is called; `expire` is called at most once. */
  watch(index: number, timeoutMs: number, expire: () => void): () => void {
    let fired = false;
    const entry: Watched = {
      timeoutMs,
      expire: () => {
        if (fired) return;
        fired = true;
        expire();
      },
    };
    this.#watched.set(index, entry);
    this.#schedule();
    return () => {
      if (this.#watched.get(index) === entry) this.#watched.delete(index);
      if (this.#watched.size === 0) this.#stop();
    };
  }

  /** Looks often enough for the shortest limit watched: a tenth of it, from 10 ms to 250 ms. */
  #schedule(): void {
    this.#stop();
    let every = 250;
    for (const w of this.#watched.values()) every = Math.min(every, Math.max(10, w.timeoutMs / 10));
    this.#timer = setInterval(() => this.#look(), every);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Expires every watched task whose running attempt has passed its limit and the grace. */
  #look(now = Date.now()): void {
    for (const slot of this.table().threadSlots()) {
      const w = slot.task < 0 ? undefined : this.#watched.get(slot.task);
      if (w !== undefined && now - slot.since >= w.timeoutMs + this.graceMs) w.expire();
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
  let keptFailed = false;
  if (held) keptFailed = killed.keepFailed ? await lock.fail() : (await lock.release(), false);
  return { kind: 'failed', error, keptFailed, ...(policy.attempts > 1 ? { attempts: attempt } : {}) };
}
