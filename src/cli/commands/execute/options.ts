/** The options of `jug execute`, and the run defaults (retries, timeouts) they give the runners. */
import { RUNNER_COMMIT_DELAY_MS, type RunDefaults } from '../../../execute-task.js';
import { availableCpus } from '../../../executors/available-cpus.js';
import type { CommonOptions } from '../../common.js';
import type { FileStoreOptions } from '../../../store/file-store.js';
import type { ProgressChoice } from '../../progress/index.js';

/** Options of `jug execute`. */
export interface ExecuteOptions extends CommonOptions {
  /** Continue with independent tasks after a failure. @default false */
  keepGoing?: boolean;
  /** Leave failed tasks' locks marked failed so no process retries them. @default false */
  keepFailed?: boolean;
  /** Only run tasks matching this pattern, hash or hash prefix (and their dependencies). */
  target?: string;
  /** Remove the failure marks of the selected tasks first, so they run again (results are kept). @default false */
  retryFailed?: boolean;
  /** Longest back-off (seconds) while waiting for tasks other processes hold. @default 12 */
  waitCycleTime?: number;
  /** Consecutive fruitless waits before giving up. @default 150 */
  nrWaitCycles?: number;
  /** Print one line of summary instead of the table. @default false */
  short?: boolean;
  /** Run tasks in this many worker threads (in this process). @default serial, in the main thread */
  threads?: number;
  /** No progress display (as `progress: 'none'`). @default false */
  quiet?: boolean;
  /** `--progress`: how progress is shown (see src/cli/progress/). @default 'auto' */
  progress?: ProgressChoice;
  /** Heap limit per worker thread, MiB (with --threads). @default Node's default */
  maxOldGenerationSizeMb?: number;
  /** Fail tasks that change their arguments in place (and say so). @default false */
  debug?: boolean;
  /**
   * Keep no result in memory between tasks, not even a large typed array a task just returned for
   * the first task that reads it (FileStoreOptions.keepReturned). @default false
   */
  aggressiveUnload?: boolean;
  /** Retries of a task that throws (its own `retries` wins). @default 0 */
  retries?: number;
  /** Seconds before the first retry, doubled for each further one (its own `retryDelayMs` wins). @default 1 */
  retryDelay?: number;
  /** Time limit of a task attempt, seconds (its own `timeoutMs` wins). @default none */
  timeout?: number;
  /**
   * First remove the outdated results (computed by code that has changed since) and everything
   * downstream of them, so this run computes them again. Without it, stored results are never
   * recomputed; a line says when some are outdated. @default false
   */
  rerunOutdated?: boolean;
  /** Read the JUG_MAX_* / JUG_EXIT_IF_FILE_EXISTS exit checks from the environment (`--no-check-environment`: false). @default true */
  checkEnvironment?: boolean;
}

/**
 * `--retries`, `--retry-delay` and `--timeout` as the runners take them; warns that without
 * --threads a timeout cannot stop a synchronous task.
 */
/** The options as the command line gives them: `--threads auto` not yet resolved to a number. */
export interface ExecuteCliOptions extends Omit<ExecuteOptions, 'threads'> {
  /** A number of threads, or `auto`: the CPUs this process may use (available-cpus.ts). */
  threads?: number | 'auto';
}

/** `--threads auto` as a number of threads (said on stderr with --verbose); other values as they are. */
export function resolveThreads(options: ExecuteCliOptions): ExecuteOptions {
  const { threads } = options;
  if (threads !== 'auto') return { ...options, threads };
  const { cpus, limitedBy } = availableCpus();
  if (options.verbose) process.stderr.write(`jug: --threads auto: ${cpus} thread${cpus === 1 ? '' : 's'} (limited by ${limitedBy}).\n`);
  return { ...options, threads: cpus };
}

export function runDefaultsOf(options: ExecuteOptions): RunDefaults {
  if (options.timeout !== undefined && options.threads === undefined) {
    process.stderr.write(
      'jug: warning: --timeout without --threads: a synchronous task cannot be stopped in the serial runner (it runs to its end, ' +
        'and its result counts); an async task sees taskSignal() aborted at the limit and is abandoned 1 s later if still ' +
        'running. Use --threads N to stop any task at its timeout.\n',
    );
  }
  return {
    retries: options.retries,
    retryDelayMs: options.retryDelay === undefined ? undefined : options.retryDelay * 1000,
    timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
  };
}

/** The store options of `jug execute`'s runs (every load of the jugfile opens the store with them). */
export function runnerStoreOptions(options: ExecuteOptions): FileStoreOptions {
  return { commitDelayMs: RUNNER_COMMIT_DELAY_MS, keepReturned: options.aggressiveUnload !== true };
}
