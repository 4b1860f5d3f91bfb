/**
 * Ctrl-C and SIGTERM during `jug execute`. The first signal stops dispatching: running tasks
 * finish (their results are stored, their locks released), the summary is printed, and the run
 * exits 130 (SIGINT) or 143 (SIGTERM). A second one aborts at once: running tasks are abandoned,
 * their locks released and their unfinished writes removed, so no partial result remains.
 */

/** Exit codes of a run stopped by a signal (128 + its number). */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Handlers of SIGINT and SIGTERM for the time of one run (see the module comment). */
export class SignalHandling {
  /** Aborted by the first signal: the scheduler stops dispatching. */
  readonly controller = new AbortController();
  /** Resolves on the second signal: abandon running tasks now. */
  readonly aborted: Promise<'aborted'>;
  #signal: NodeJS.Signals | undefined;
  #abortNow: () => void = () => {};
  readonly #onFirst: () => void;
  readonly #handler = (sig: NodeJS.Signals): void => this.#received(sig);

  /** Installs the handlers; `onFirst` runs after the first signal's message. */
  constructor(onFirst: () => void = () => {}) {
    this.#onFirst = onFirst;
    this.aborted = new Promise((resolve) => (this.#abortNow = () => resolve('aborted')));
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  /** The first signal received, if any. */
  get signal(): NodeJS.Signals | undefined {
    return this.#signal;
  }

  /** The exit code for the signal received (1 if none). */
  get exitCode(): number {
    return SIGNAL_EXIT[this.#signal ?? ''] ?? 1;
  }

  /** Removes the handlers (a signal then has its default effect again). */
  dispose(): void {
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }

  #received(sig: NodeJS.Signals): void {
    if (this.#signal !== undefined) {
      process.stderr.write(`jug: second ${sig}: aborting running tasks now.\n`);
      this.#abortNow();
      return;
    }
    this.#signal = sig;
    process.stderr.write(`\njug: ${sig} received: finishing running tasks, then stopping (again to abort now).\n`);
    this.controller.abort();
    this.#onFirst();
  }
}
