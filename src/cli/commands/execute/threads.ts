/**
 * `jug execute --threads N`: the worker pool starts first (threads boot while the main thread
 * loads the jugfile; none at start when the last run of the jugfile ran every task in the main
 * thread: thread-verdict.ts), is watched while the threads load it, and becomes the run's
 * executor — or is closed at once when there is nothing for it to do. The run's verdict is
 * recorded for the next run at its end.
 */
import type { Piscina } from 'piscina';
import { bundleJugfile, type JugfileBundle } from '../../../bundle.js';
import { UsageError } from '../../../errors.js';
import type { RunDefaults } from '../../../execute-task.js';
import type { LazyPool } from '../../../executors/lazy-pool.js';
import type { ThreadPoolExecutor } from '../../../executors/thread-pool.js';
import { readVerdict, recordVerdict, type ThreadVerdict } from '../../../executors/thread-verdict.js';
import { jugdirFor } from '../../../jugfile.js';
import { registry } from '../../../registry.js';
import type { RunRecorder } from '../../../run-records.js';
import type { RunningTracker } from '../../../running-notes.js';
import { StatusTable } from '../../../status-table.js';
import { trace } from '../../../trace.js';
import { resolveJugfile, type Project } from '../../common.js';
import type { RunFaults } from '../../faults.js';
import type { ExecuteOptions } from './options.js';

/** After this long (or 10× the main thread's load, if longer) with no thread started, warn. */
const LOAD_WATCH_MS = 30_000;
/** Tests set the wait exactly (milliseconds). */
const LOAD_WATCH_TEST_MS = process.env['JUG_TEST_LOAD_WATCH_MS'];

/** A started pool and the jugfile bundle its threads load. */
export interface StartedThreads {
  /** Started at once, or when a task first needs a thread (with a verdict). */
  readonly pool: LazyPool;
  readonly bundle: Promise<JugfileBundle>;
  /** The jugfile (absolute path) and its arguments: what the verdict is kept for. */
  readonly jugfile: string;
  readonly args: readonly string[];
  /** The last run's verdict (thread-verdict.ts): then the pool starts only when a task needs a thread. */
  readonly verdict: ThreadVerdict | undefined;
}

/**
 * Starts the pool: threads are what a run waits for at start-up, so the first ones start now and
 * boot while this thread imports the jugfile; they wait for the bundle (see bundle-slot.ts). Not
 * when the last run of this jugfile ran every task in the main thread (its verdict): then the pool
 * (and Piscina) starts only when a task first needs a thread. (No verdict applies with a heap
 * limit for the threads: the main thread has none, and runs no probe then.)
 */
export async function startThreads(
  jugfile: string | undefined,
  threads: number,
  options: ExecuteOptions,
  runDefaults: RunDefaults,
  faults: RunFaults,
): Promise<StartedThreads> {
  const [{ startThreadPool }, { LazyPool }] = await Promise.all([import('../../../executors/pool-start.js'), import('../../../executors/lazy-pool.js')]);
  const path = resolveJugfile(jugfile);
  const args = registry().jugfileArgs ?? [];
  const verdict = options.maxOldGenerationSizeMb === undefined ? readVerdict(path, args) : undefined;
  const bundle = bundleJugfile(path);
  bundle.catch(() => {}); // reported by the main thread's load of the jugfile
  const start = (): Piscina => startThreadPool({
    threads,
    bundle,
    jugfile: path,
    jugfileArgs: registry().jugfileArgs,
    // As openProject computes it (the jugfile as named: %(jugfile)s keeps a relative path relative).
    jugdir: jugdirFor(options.jugdir, jugfile ?? resolveJugfile(undefined)),
    jugdirFixed: options.jugdir !== undefined,
    keepFailed: options.keepFailed ?? false,
    debug: options.debug ?? false,
    ...runDefaults,
    maxOldGenerationSizeMb: options.maxOldGenerationSizeMb,
    leaseMs: options.lockLease === undefined ? undefined : options.lockLease * 1000,
    onFault: (message) => faults.report(message),
  });
  const pool = new LazyPool(start, verdict === undefined);
  trace(verdict === undefined ? 'thread pool started' : `no thread pool yet: none until a task needs a thread (last run: ${verdict.tiny.join(', ')} tiny, every task in the main thread)`);
  return { pool, bundle, jugfile: path, args, verdict };
}

/** The run is over (not aborted): what it showed is kept for the next run of the jugfile (thread-verdict.ts). */
export function rememberRun(started: StartedThreads, threaded: ThreadPoolExecutor): void {
  recordVerdict(started.jugfile, started.args, threaded.verdict(), started.verdict);
}

/** The watch of {@link watchThreadLoad}: stopped when the pool closes. */
export interface LoadWatch {
  stop(): void;
}

/**
 * Threads load the same jugfile as this thread did in `loadMs`: warn if none has long after the
 * pool started (a jugfile waiting at its top level for something that never happens in a thread).
 * The wait counts from the pool's start: with a remembered verdict (thread-verdict.ts) that may be
 * long into the run, when a task first needs a thread.
 */
export function watchThreadLoad(pool: LazyPool, loadMs: number): LoadWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const waitMs = LOAD_WATCH_TEST_MS === undefined ? Math.max(LOAD_WATCH_MS, 10 * loadMs) : Number(LOAD_WATCH_TEST_MS);
  pool.onStart((started) => {
    if (!stopped) timer = setTimeout(warnIfNoThreadLoaded, waitMs, started, waitMs, loadMs).unref();
  });
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function warnIfNoThreadLoaded(pool: Piscina, waitMs: number, loadMs: number): Promise<void> {
  const module = await import('../../../executors/pool-start.js');
  // Threads holding off by the main thread's choice (tiny tasks: load-gate.ts) are no fault.
  if (module.threadsStarted(pool) > 0 || module.threadsHeld(pool)) return;
  process.stderr.write(
    `jug: warning: no worker thread has finished loading the jugfile ${(waitMs / 1000).toFixed(waitMs < 10_000 ? 1 : 0)} s after the threads started ` +
      `(this thread loaded it in ${(loadMs / 1000).toFixed(1)} s). Does the jugfile wait at its top level for ` +
      'something that never happens in a worker thread (check isMainThread from node:worker_threads)? ' +
      'Ctrl-C stops the run.\n',
  );
}

/**
 * The pool's executor for the loaded project; undefined when every task is stored already and no
 * barrier hides more (the scheduler, which trusts that listing, will dispatch nothing): the
 * threads, still booting or loading the jugfile, would only take CPU from this thread until the
 * end, so the pool is closed now (and `watchdog` cleared: no thread will finish loading).
 */
export async function threadedExecutor(
  started: StartedThreads,
  project: Project,
  threads: number,
  options: ExecuteOptions,
  runDefaults: RunDefaults,
  watchdog: LoadWatch,
  recorder: RunRecorder,
  tracker: RunningTracker,
): Promise<ThreadPoolExecutor | undefined> {
  const { pool } = started;
  const module = await import('../../../executors/thread-pool.js');
  const { destroyThreadPool } = await import('../../../executors/pool-start.js');
  if (project.store.location === ':memory:') {
    if (pool.current !== undefined) await destroyThreadPool(pool.current);
    throw new UsageError('--threads needs a store the threads share (a jugdir on disk); the jugfile selects :memory: with setJugdir().');
  }
  if (project.barrier === undefined && project.graph.tasks.every((t) => project.stored.has(t.hash()))) {
    watchdog.stop();
    if (pool.current !== undefined) await destroyThreadPool(pool.current);
    trace('pool closed: every task is stored');
    return undefined;
  }
  const table = StatusTable.create(0, threads);
  return new module.ThreadPoolExecutor(pool, threads, project.store, table, options.keepFailed ?? false, runDefaults, recorder, {
    debug: options.debug ?? false,
    tracker,
    probes: options.maxOldGenerationSizeMb === undefined,
    remembered: started.verdict?.tiny,
  });
}
