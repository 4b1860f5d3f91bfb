/**
 * Whether task code ran in this process's main thread (InProcessExecutor: serial runs, and the
 * thread pool's probes and inline runs). `jug execute --threads` ends the process at once when it
 * is done (src/cli/main.ts, ENDS_AT_ONCE) only if it did not: work a task started here without
 * awaiting it (a write, a request, a timer) is then left to finish, as after a serial run.
 * A module of its own, with no imports, so that the CLI's start-up does not load the executors.
 */
let ran = false;

/** A task function is about to run in this thread. */
export function noteTaskCodeHere(): void {
  ran = true;
}

/** Whether a task function ran in this thread since the process started. */
export function taskCodeRanHere(): boolean {
  return ran;
}
