/**
 * `jug execute --threads N`: the worker pool starts first (threads boot while the main thread
 * loads the jugfile), is watched while the threads load it, and becomes the run's executor — or is
 * closed at once when there is nothing for it to do.
 */
import type { Piscina } from 'piscina';
import { bundleJugfile, type JugfileBundle } from '../../../bundle.js';
import { UsageError } from '../../../errors.js';
import type { RunDefaults } from '../../../execute-task.js';
import type { ThreadPoolExecutor } from '../../../executors/thread-pool.js';
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
const LOAD_WATCH_MS = Number(process.env['JUG_TEST_LOAD_WATCH_MS'] ?? 30_000);

/** A started pool and the jugfile bundle its threads load. */
export interface StartedThreads {
  readonly pool: Piscina;
  readonly bundle: Promise<JugfileBundle>;
}

/**
 * Starts the pool: threads are what a run waits for at start-up, so the first ones start now and
 * boot while this thread imports the jugfile; they wait for the bundle (see bundle-slot.ts).
 */
export async function startThreads(
  jugfile: string | undefined,
  threads: number,
  options: ExecuteOptions,
  runDefaults: RunDefaults,
  faults: RunFaults,
): Promise<StartedThreads> {
  const { startThreadPool } = await import('../../../executors/thread-pool.js');
  const bundle = bundleJugfile(resolveJugfile(jugfile));
  bundle.catch(() => {}); // reported by the main thread's load of the jugfile
  const pool = startThreadPool({
    threads,
    bundle,
    jugfile: resolveJugfile(jugfile),
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
  trace('thread pool started');
  return { pool, bundle };
}

/**
 * Threads load the same jugfile as this thread did in `loadMs`: warn if none has after much
 * longer (a jugfile waiting at its top level for something that never happens in a thread).
 * Returns the timer, to clear when the pool closes.
 */
export function watchThreadLoad(pool: Piscina, loadMs: number): NodeJS.Timeout {
  return setTimeout(
    async (p: Piscina) => {
      const module = await import('../../../executors/thread-pool.js');
      // Threads holding off by the main thread's choice (tiny tasks: load-gate.ts) are no fault.
      if (module.threadsStarted(p) > 0 || module.threadsHeld(p)) return;
      process.stderr.write(
        `jug: warning: no worker thread has finished loading the jugfile after ${Math.round(LOAD_WATCH_MS / 1000)} s ` +
          `(this thread loaded it in ${(loadMs / 1000).toFixed(1)} s). Does the jugfile wait at its top level for ` +
          'something that never happens in a worker thread (check isMainThread from node:worker_threads)? ' +
          'Ctrl-C stops the run.\n',
      );
    },
    Math.max(LOAD_WATCH_MS, 10 * loadMs),
    pool,
  ).unref();
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
  watchdog: NodeJS.Timeout,
  recorder: RunRecorder,
  tracker: RunningTracker,
): Promise<ThreadPoolExecutor | undefined> {
  const { pool } = started;
  const module = await import('../../../executors/thread-pool.js');
  if (project.store.location === ':memory:') {
    await module.destroyThreadPool(pool);
    throw new UsageError('--threads needs a store the threads share (a jugdir on disk); the jugfile selects :memory: with setJugdir().');
  }
  if (project.barrier === undefined && project.graph.tasks.every((t) => project.stored.has(t.hash()))) {
    clearTimeout(watchdog);
    await module.destroyThreadPool(pool);
    trace('pool closed: every task is stored');
    return undefined;
  }
  const table = StatusTable.create(0, threads);
  return new module.ThreadPoolExecutor(pool, threads, project.store, table, options.keepFailed ?? false, runDefaults, recorder, {
    debug: options.debug ?? false,
    tracker,
    probes: options.maxOldGenerationSizeMb === undefined,
  });
}
