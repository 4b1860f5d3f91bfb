/**
 * Which tasks of a `--threads` run the main thread runs itself ("inline") instead of handing them
 * to a worker thread. Handing a task over costs more than a trivial task itself (a message each
 * way, the worker's share of the status table, the main thread committing what the worker wrote):
 * on 5,001 trivial tasks, two threads were slower than the serial runner. So a task function
 * whose measured runs are all tiny runs inline, as in the serial runner, while the threads keep
 * every other task.
 *
 * Decided per task function (its name), from the durations of its runs, wherever they ran:
 * - Unknown functions (fewer than MIN_SAMPLES runs seen) go to the threads: a task whose duration
 *   is unknown may be long, and there it can be stopped and does not block the main thread.
 * - Once MIN_SAMPLES runs are seen, with a median under TINY_MS (not the mean: each thread's
 *   first run of a function is cold, and a loaded machine stalls a run now and then) and none of
 *   LONG_MS or longer, the function's further tasks run inline, while the median of its last
 *   RECENT runs stays under TINY_MS.
 * - A run of LONG_MS or longer (inline or not) sends the function back to the threads for the
 *   rest of the run: it may block the main thread again. 
 * - A task with a time limit (its own `timeout` option or --timeout) never runs inline: only a
 *   worker thread can be terminated at the limit.
 */
import type { RetryPolicy, TaskOutcome } from '../execute-task.js';
import type { Task } from '../task.js';
import { trace, tracing } from '../trace.js';

/** Runs of a function seen before it may run inline. */
export const MIN_SAMPLES = 8;
/** Tiny: a function whose recent runs' median is under this (ms). */
export const TINY_MS = 1;
/** A run this long (ms) or longer ends the function's inline runs for good. */
export const LONG_MS = 20;
/** Runs whose median decides. */
const RECENT = 16;

interface Runs {
  count: number;
  /** Durations of the last RECENT runs (a ring, at `count % RECENT`), ms. */
  readonly recent: number[];
  /** A run was LONG_MS or longer: never inline again. */
  long: boolean;
}

export class InlinePolicy {
  readonly #byFunction = new Map<string, Runs>();

  /** Whether `task` (with its retry policy) runs in the main thread. */
  inline(task: Task, policy: RetryPolicy): boolean {
    if (policy.timeoutMs !== undefined) return false;
    const runs = this.#byFunction.get(task.name);
    return runs !== undefined && !runs.long && runs.count >= MIN_SAMPLES && medianMs(runs) < TINY_MS;
  }

  /** Feeds the outcome of one of `task`'s runs (only executed runs carry a duration). */
  observe(task: Task, outcome: TaskOutcome): void {
    if (outcome.kind !== 'executed') return;
    let runs = this.#byFunction.get(task.name);
    if (runs === undefined) this.#byFunction.set(task.name, (runs = { count: 0, recent: [], long: false }));
    runs.recent[runs.count++ % RECENT] = outcome.ms;
    if (outcome.ms >= LONG_MS) runs.long = true;
    if (tracing && runs.count === MIN_SAMPLES) trace(`${task.name}: median ${medianMs(runs).toFixed(3)} ms over ${MIN_SAMPLES} runs${this.inline(task, { attempts: 1, delayMs: 0, timeoutMs: undefined }) ? ': runs inline from now' : ''}`);
  }
}

/** The median duration of a function's recent runs, ms. */
function medianMs(runs: Runs): number {
  const sorted = [...runs.recent].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
