/**
 * Faults outside any task during `jug execute`: an exception or a rejection that escapes in the
 * main thread (code a task started and did not await, or a bug in jug), a worker thread that dies
 * between tasks or while it loads the jugfile. Node's default would end the process on the spot,
 * with locks held and no summary. Instead each is reported (`jug: error: …`), the run stops as
 * after a first Ctrl-C (running tasks finish, locks are released, the summary is printed) and
 * `jug execute` exits with 1.
 */
import { UNAWAITED_WORK_HINT, describeThrown } from '../errors.js';

export class RunFaults {
  /** The faults reported so far (the run exits with 1 if there is any). */
  readonly messages: string[] = [];
  #stop: (() => void) | undefined;

  /** Reports a fault and stops the run (now, or as soon as it has started). */
  report(message: string): void {
    this.#stop?.();
    if (this.messages.includes(message)) return; // the same fault in several threads: said once
    this.messages.push(message);
    process.stderr.write(`jug: error: ${message}\n`);
  }

  /** How to stop the run; a fault reported before the run started stops it at once. */
  onStop(stop: () => void): void {
    this.#stop = stop;
    if (this.messages.length > 0) stop();
  }

  /**
   * Catches exceptions and rejections escaping in this thread until the returned function is
   * called. With task code running here (serial runs) they come from a task's leftovers.
   */
  watchProcess(): () => void {
    const onException = (e: unknown): void =>
      this.report(`an exception escaped outside any task (${describeThrown(e)}). ${UNAWAITED_WORK_HINT}`);
    const onRejection = (e: unknown): void =>
      this.report(`a promise was rejected and nothing handled it (${describeThrown(e)}). ${UNAWAITED_WORK_HINT}`);
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    return () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    };
  }
}
