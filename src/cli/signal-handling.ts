/**
 * Signals during `jug execute`.
 *
 * SIGINT (Ctrl-C) and SIGTERM: the first stops dispatching: running tasks finish (their results
 * are stored, their locks released), the summary is printed, and the run exits 130 (SIGINT) or
 * 143 (SIGTERM). A second one aborts at once: running tasks are abandoned, their locks released
 * and their unfinished writes removed, so no partial result remains.
 *
 * SIGUSR1 is the graceful drain: take no new task, let running ones finish, release everything
 * and exit 0 (1 only if a task failed). A batch scheduler sends it ahead of a time limit
 * (`jug submit` asks Slurm for `--signal=B:USR1@<margin>`); anyone may send it to end a worker
 * cleanly. A SIGINT or SIGTERM after it aborts as a second signal does (Slurm's SIGTERM at the
 * time limit, before its SIGKILL); a SIGUSR1 after any first signal changes nothing.
 */

/** Exit codes of a run stopped by a signal (128 + its number); a drain (SIGUSR1) exits 0. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGUSR1: 0 };

/** The graceful-drain signal. */
export const DRAIN_SIGNAL = 'SIGUSR1';

const HANDLED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', DRAIN_SIGNAL];

/**
 * SIGUSR1 for the whole life of the `jug` process (installed first thing by main()). Node's
 * default for it starts the inspector (a debugger port): a listener prevents that, so for every
 * command other than execute it does nothing. One received before `jug execute` installs its
 * run's handlers (while the jugfile loads) drains the run as soon as it starts: no task is started.
 */
export class EarlyDrain {
  #received = false;

  constructor() {
    process.on(DRAIN_SIGNAL, () => (this.#received = true));
  }

  /** True once SIGUSR1 was received. */
  get received(): boolean {
    return this.#received;
  }
}

/**
 * Lets the event loop poll once, so that a signal that came while it was blocked (a jugfile's
 * synchronous top-level code) is handled now: setImmediate runs after the poll phase.
 */
export function takeDelayedSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let early: EarlyDrain | undefined;

/** The process's {@link EarlyDrain}, installed by the first call. */
export function earlyDrain(): EarlyDrain {
  return (early ??= new EarlyDrain());
}

/** Handlers of SIGINT, SIGTERM and SIGUSR1 for the time of one run (see the module comment). */
export class SignalHandling {
  /** Aborted by the first signal: the scheduler stops dispatching. */
  readonly controller = new AbortController();
  /** Resolves on an aborting signal (see the module comment): abandon running tasks now. */
  readonly aborted: Promise<'aborted'>;
  #signal: NodeJS.Signals | undefined;
  #abortedBy: NodeJS.Signals | undefined;
  #abortNow: () => void = () => {};
  #running: () => number = () => 0;
  readonly #onFirst: (sig: NodeJS.Signals) => void;
  readonly #handler = (sig: NodeJS.Signals): void => this.#received(sig);

  /**
   * Installs the handlers; `onFirst` runs after the first signal's message, with that signal.
   * With `early` (see {@link EarlyDrain}) already signalled, the run starts drained.
   */
  constructor(onFirst: (sig: NodeJS.Signals) => void = () => {}, early?: EarlyDrain) {
    this.#onFirst = onFirst;
    this.aborted = new Promise((resolve) => (this.#abortNow = () => resolve('aborted')));
    for (const sig of HANDLED) process.on(sig, this.#handler);
    if (early?.received) this.#first(DRAIN_SIGNAL);
  }

  /** The first signal received, if any. */
  get signal(): NodeJS.Signals | undefined {
    return this.#signal;
  }

  /** True when the first signal was the drain (SIGUSR1). */
  get draining(): boolean {
    return this.#signal === DRAIN_SIGNAL;
  }

  /**
   * The signal that decides how an aborted run exits: the first one, or after a drain the
   * SIGINT / SIGTERM that aborted it.
   */
  get abortSignal(): NodeJS.Signals | undefined {
    return this.draining ? (this.#abortedBy ?? this.#signal) : this.#signal;
  }

  /** The exit code of an aborted run (1 if no signal). */
  get exitCode(): number {
    return SIGNAL_EXIT[this.abortSignal ?? ''] ?? 1;
  }

  /** How to count the running tasks, for the drain's message (the current pass's). */
  countRunning(count: () => number): void {
    this.#running = count;
  }

  /** Removes the handlers (a signal then has its default effect again). */
  dispose(): void {
    for (const sig of HANDLED) process.off(sig, this.#handler);
  }

  #received(sig: NodeJS.Signals): void {
    if (this.#signal === undefined) return this.#first(sig);
    if (sig === DRAIN_SIGNAL) {
      process.stderr.write(`jug: ${sig} received: already ${this.draining ? 'draining' : `stopping (${this.#signal})`}.\n`);
      return;
    }
    if (this.#abortedBy !== undefined) return;
    this.#abortedBy = sig;
    process.stderr.write(`jug: ${this.draining ? `${sig} while draining` : `second ${sig}`}: aborting running tasks now.\n`);
    this.#abortNow();
  }

  #first(sig: NodeJS.Signals): void {
    this.#signal = sig;
    if (sig === DRAIN_SIGNAL) {
      const n = this.#running();
      process.stderr.write(`\njug: ${sig} received: draining: no new task; ${n} running task(s) finish, then exit 0.\n`);
    } else {
      process.stderr.write(`\njug: ${sig} received: finishing running tasks, then stopping (again to abort now).\n`);
    }
    this.controller.abort();
    this.#onFirst(sig);
  }
}
