/**
 * Which tasks of a `--threads` run the main thread runs itself ("inline") instead of handing them
 * to a worker thread. Handing a task over costs more than a trivial task itself (a message each
 * way, the worker's share of the status table, the main thread committing what the worker wrote):
 * on 5,001 trivial tasks, two threads were slower than the serial runner. So a task function
 * whose measured runs are all tiny runs inline, as in the serial runner, while the threads keep
 * every other task.
 *
 * Decided per task function (its name), from the durations of its runs, wherever they ran:
 * - Unknown functions (fewer than MIN_SAMPLES runs seen) go to the threads, except one task at a
 *   time run by the main thread as a probe (ThreadPoolExecutor decides when: once the threads hold
 *   their share of work, or when it is the only task in flight); a probe holds one of the N
 *   slots, so N task functions at most run at once. Its duration counts as any other run's.
 * - Once MIN_SAMPLES runs are seen, with a median under TINY_MS (not the mean: each thread's
 *   first run of a function is cold, and a loaded machine stalls a run now and then), the
 *   function's further tasks run inline, while the median of its last RECENT runs stays under
 *   TINY_MS and it is not sent back for good (below).
 * - Two runs of LONG_MS or longer, or one of LONG_ONCE_MS (inline or not), send the function back
 *   to the threads for the rest of the run: it may block the main thread again. (One run of
 *   LONG_MS does not: a garbage collection or a loaded machine stalls a trivial run now and then,
 *   and on a loaded machine that sent the tiny workload's function back to the threads mid-run.)
 * - A task with a time limit (its own `timeout` option or --timeout) never runs inline: only a
 *   worker thread can be terminated at the limit.
 * - Functions the last run of this jugfile found tiny (thread-verdict.ts: {@link remember}) run
 *   inline from their first task, without probes, until their own MIN_SAMPLES runs decide as
 *   above (or two long runs, or one very long, send them to the threads first).
 */
import type { RetryPolicy, TaskOutcome } from '../execute-task.js';
import type { Task } from '../task.js';
import { trace, tracing } from '../trace.js';

/** Runs of a function seen before it may run inline. */
export const MIN_SAMPLES = 8;
/** Tiny: a function whose recent runs' median is under this (ms). */
export const TINY_MS = 1;
/**
 * Two runs this long (ms) or longer end the function's inline runs for good. (Not one: a garbage
 * collection or the machine's load stalls one run of a trivial function now and then.)
 */
export const LONG_MS = 20;
/** One run this long (ms) or longer ends the function's inline runs for good. */
export const LONG_ONCE_MS = 200;
/** Runs whose median decides. */
const RECENT = 16;

interface Runs {
  count: number;
  /** Durations of the last RECENT runs (a ring, at `count % RECENT`), ms. */
  readonly recent: number[];
  /** Runs of LONG_MS or longer. */
  slow: number;
  /** Two runs were LONG_MS or longer, or one LONG_ONCE_MS: never inline again. */
  long: boolean;
}

export class InlinePolicy {
  readonly #byFunction = new Map<string, Runs>();
  /** Functions judged tiny by the last run of this jugfile (thread-verdict.ts). */
  readonly #remembered = new Set<string>();

  /** Functions named in the last run's verdict run inline until their own runs decide. */
  remember(names: Iterable<string>): void {
    for (const name of names) this.#remembered.add(name);
  }

  /** Whether `task` (with its retry policy) runs in the main thread. */
  inline(task: Task, policy: RetryPolicy): boolean {
    if (policy.timeoutMs !== undefined) return false;
    const runs = this.#byFunction.get(task.name);
    return unconfirmed(runs) ? this.#remembered.has(task.name) : provedTiny(runs!);
  }

  /** The functions that run inline now, decided by their own runs (what thread-verdict.ts records). */
  tinyFunctions(): string[] {
    const names: string[] = [];
    for (const [name, runs] of this.#byFunction) if (provedTiny(runs)) names.push(name);
    return names;
  }

  /**
   * Whether `task`'s function runs inline only on the last run's word (remembered, fewer than
   * MIN_SAMPLES runs of its own seen, not sent to the threads): its tasks then run here one at a
   * time, each deciding as its turn comes (ThreadPoolExecutor), so that a stale verdict costs one
   * slow run in this thread, not one per task handed over before that run ended.
   */
  onTrial(task: Task): boolean {
    return this.#remembered.has(task.name) && unconfirmed(this.#byFunction.get(task.name));
  }

  /**
   * Whether nothing is decided yet about `task`'s function: fewer than MIN_SAMPLES runs seen and
   * none long enough to send it to the threads for good. (The thread pool then runs a first task
   * of it in the main thread when the threads already hold work: see ThreadPoolExecutor.)
   */
  undecided(task: Task): boolean {
    // A remembered function is not: inline, or sent to the threads for good.
    return !this.#remembered.has(task.name) && unconfirmed(this.#byFunction.get(task.name));
  }

  /**
   * Whether some function has proved not tiny: sent back to the threads for good, or a median of
   * TINY_MS or more over MIN_SAMPLES runs (then it keeps threads busy: pool-size.ts starts more).
   */
  anySlow(): boolean {
    for (const runs of this.#byFunction.values()) if (!unconfirmed(runs) && !provedTiny(runs)) return true;
    return false;
  }

  /** Whether any run of any function has been observed. */
  anyRun(): boolean {
    return this.#byFunction.size > 0;
  }

  /** Feeds the outcome of one of `task`'s runs (only executed runs carry a duration). */
  observe(task: Task, outcome: TaskOutcome): void {
    if (outcome.kind !== 'executed') return;
    let runs = this.#byFunction.get(task.name);
    if (runs === undefined) this.#byFunction.set(task.name, (runs = { count: 0, recent: [], slow: 0, long: false }));
    runs.recent[runs.count++ % RECENT] = outcome.ms;
    if (outcome.ms >= LONG_MS) runs.slow++;
    if (!runs.long && (runs.slow >= 2 || outcome.ms >= LONG_ONCE_MS)) {
      if (tracing) trace(`${task.name}: a run of ${outcome.ms.toFixed(1)} ms after ${runs.count} runs: to the threads for good`);
      runs.long = true;
    }
    if (tracing && runs.count === MIN_SAMPLES) trace(`${task.name}: median ${medianMs(runs).toFixed(3)} ms over ${MIN_SAMPLES} runs${this.inline(task, { attempts: 1, delayMs: 0, timeoutMs: undefined }) ? ': runs inline from now' : ''}`);
  }
}

/** Nothing decided by the function's own runs yet: fewer than MIN_SAMPLES, none sending it to the threads for good. */
function unconfirmed(runs: Runs | undefined): boolean {
  return runs === undefined || (!runs.long && runs.count < MIN_SAMPLES);
}

/** Its own runs prove it tiny: MIN_SAMPLES or more, their recent median under TINY_MS, none long. */
function provedTiny(runs: Runs): boolean {
  return !runs.long && runs.count >= MIN_SAMPLES && medianMs(runs) < TINY_MS;
}

/** The median duration of a function's recent runs, ms. */
function medianMs(runs: Runs): number {
  const sorted = [...runs.recent].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
