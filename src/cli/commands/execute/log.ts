/** What `jug execute` logs on stderr as the scheduler reports events: warnings, retries, and with -v each task. */
import { formatSeconds } from '../../../errors.js';
import { firstLine, type TaskOutcome } from '../../../execute-task.js';
import { describeBrief } from '../../../describe.js';
import type { SchedulerEvent } from '../../../scheduler.js';
import type { Task } from '../../../task.js';

/** Warnings and retries always; with --verbose also each task's start and end, and each wait. `threaded`: --threads. */
export function logEvent(ev: SchedulerEvent, verbose: boolean, threaded: boolean): void {
  if (ev.type === 'warning') process.stderr.write(`jug: warning: ${ev.message}\n`);
  else if (ev.type === 'retry') {
    const { attempt, attempts, error, delayMs } = ev.failure;
    process.stderr.write(
      `jug: task ${ev.task.name} (${ev.task.hash().slice(0, 10)}) attempt ${attempt} of ${attempts} failed: ` +
        `${firstLine(error.stack || `${error.name}: ${error.message}`)}; retrying in ${formatSeconds(delayMs)}.\n`,
    );
  } else if (!verbose) return;
  else if (ev.type === 'start') process.stderr.write(`Executing ${ev.task.name} (${ev.task.hash().slice(0, 10)})...\n`);
  else if (ev.type === 'done') {
    const line = finishedLine(ev.task, ev.outcome, threaded);
    if (line !== undefined) process.stderr.write(`${line}\n`);
  } else if (ev.type === 'waiting') {
    process.stderr.write(`Waiting ${(ev.ms / 1000).toFixed(2)} s for ${ev.blocked} task(s) held by other processes...\n`);
  }
}

/**
 * The -v line of a task run here: `Executed primes.isPrime(97) in 1.02 s (thread 3)`: its name
 * and arguments (describeBrief), how long its function ran, and where (`threaded`: with --threads,
 * where an outcome without a thread, such as a thread's death, comes from).
 */
export function finishedLine<T>(task: Task<T>, outcome: TaskOutcome, threaded = false): string | undefined {
  if (outcome.kind !== 'executed' && outcome.kind !== 'failed') return undefined;
  // Without a thread: the main thread — except a failure under --threads, which may be a thread's death.
  const where =
    outcome.thread !== undefined && outcome.thread !== 0
      ? `thread ${outcome.thread}`
      : threaded && outcome.kind === 'failed'
        ? 'a worker thread'
        : 'main thread';
  return outcome.kind === 'executed'
    ? `Executed ${describeBrief(task)} in ${seconds(outcome.ms)} (${where})`
    : `Failed ${describeBrief(task)} (${where})`;
}

/** `12 ms`, `1.02 s`, `42.1 s`, `312 s`. */
function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${s.toFixed(s < 10 ? 2 : s < 100 ? 1 : 0)} s`;
}
