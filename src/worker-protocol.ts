/**
 * What the parent and the pool's worker threads (worker.ts) send each other: the data each thread
 * starts with, and the requests. Its own module, so that the parent never loads worker.ts.
 */
import type { BundleSlot } from './executors/bundle-slot.js';
import type { BootedThreads } from './executors/booted-threads.js';
import type { LoadGateBuffer } from './executors/load-gate.js';
import type { AttemptFailure } from './execute-task.js';

/** What the parent passes to each worker at start-up. */
export interface WorkerData {
  /** Where the parent publishes the file:// URL of the bundled jugfile (bundle-slot.ts). */
  readonly bundle: BundleSlot;
  /** The threads that have loaded the jugfile (each adds itself): threads start in waves. */
  readonly booted: BootedThreads;
  /**
   * Int32 [count, last exit code]: threads that ended (process.exit()) while loading the jugfile,
   * before they could run a task. The parent reports it (Piscina does not replace such a thread).
   */
  readonly loadExits: SharedArrayBuffer;
  /** When to load the jugfile: the main thread's verdict (load-gate.ts). */
  readonly loadGate: LoadGateBuffer;
  /** The jugfile's path and its command-line arguments: its `process.argv` in the thread (see setJugfileArgv). */
  readonly jugfile: string;
  readonly jugfileArgs: readonly string[] | undefined;
  /** The jugdir (store location) string. */
  readonly jugdir: string;
  /**
   * The jugdir was given on the command line (`--jugdir`): it wins over the jugfile's own
   * `setJugdir()`. Otherwise a jugfile choosing its jugdir is followed, as in the parent.
   */
  readonly jugdirFixed: boolean;
  readonly fsync: boolean;
  readonly keepFailed: boolean;
  /** Lease of other hosts' locks, ms (as the parent's store). */
  readonly leaseMs: number | undefined;
  /** `--debug`: fail tasks that change their arguments (see ExecuteTaskOptions.debug). */
  readonly debug: boolean;
  /** `--retries`, `--retry-delay`, `--timeout` (ms), for tasks without their own (see RunDefaults). */
  readonly retries: number | undefined;
  readonly retryDelayMs: number | undefined;
  readonly timeoutMs: number | undefined;
}

/** One request: run task `index` (identified by `hash`), with the shared status table. */
export interface WorkerRequest {
  readonly index: number;
  readonly hash: string;
  readonly table: SharedArrayBuffer;
  readonly tasks: number;
  readonly threads: number;
  /** Which load of the jugfile the task comes from: a worker behind it loads the jugfile again. */
  readonly generation: number;
  /** The listing of stored results the parent loaded that generation against (stored-snapshot.ts). */
  readonly stored: SharedArrayBuffer;
  /** Number of hashes in `stored`. */
  readonly storedCount: number;
  /** Int32 flag set to 1 by the parent when the run stops: tasks not yet started resolve `cancelled`. */
  readonly stop: SharedArrayBuffer;
  /** The pass's claims (executors/claims.ts): a task sent to two threads runs in one. */
  readonly claims: SharedArrayBuffer;
  /** This dispatch's token in `claims`. */
  readonly token: number;
  /** This copy's id: what it writes in `claims` when it starts the task. */
  readonly copy: number;
  /**
   * Tasks with a time limit: where the worker records each attempt's start and end
   * (executors/timeout-watch.ts), so that the parent terminates the thread of one past its time
   * and knows which attempt it stopped. The task is then sent again, at `firstAttempt` with `lockHeld`.
   */
  readonly attempt?: SharedArrayBuffer;
  /** Number of this request's first attempt (after attempts stopped by terminating their thread). */
  readonly firstAttempt?: number;
  /** This process holds the task's lock already (its thread was terminated at the timeout): adopt it. */
  readonly lockHeld?: boolean;
}

/** What a worker posts to the parent (outside the answers) when an attempt of a task failed and is retried. */
export interface AttemptFailedMessage {
  readonly jugAttemptFailed: {
    readonly index: number;
    readonly token: number;
    readonly failure: AttemptFailure;
  };
}

/**
 * What the parent hands a thread: one request, or several (short tasks), run as if sent one by
 * one; the answer is then the array of their outcomes, in order. Fewer, larger messages: a message
 * costs the parent more than a short task costs a thread.
 */
export type WorkerCall = WorkerRequest | { readonly batch: readonly WorkerRequest[] };

/** A thread's message to the parent: it has loaded the jugfile (the pool may start more threads). */
export interface ThreadLoadedMessage {
  readonly jugThreadLoaded: number;
}
