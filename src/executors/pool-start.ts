/**
 * Starting the Piscina pool of `jug execute --threads N` and what is kept per pool beside it: its
 * PoolSize (waves, placement, retiring: pool-size.ts), its load gate (load-gate.ts), and the report
 * of a thread that died outside any task. The executor that feeds the pool is in thread-pool.ts.
 *
 * The pool is started first thing, before the jugfile is imported: the first threads boot while
 * the parent bundles and imports the jugfile, and wait for the bundle's URL (bundle-slot.ts) —
 * unless the last run of the jugfile ran every task in the main thread (thread-verdict.ts): then
 * no pool starts until a task needs a thread (lazy-pool.ts). Piscina itself is loaded only when a
 * pool starts (~30–40 ms of CPU): importing this module does not load it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Piscina } from 'piscina';
import type { JugfileBundle } from '../bundle.js';
import { UNAWAITED_WORK_HINT, describeThrown } from '../errors.js';
import type { RunDefaults } from '../execute-task.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { ThreadLoadedMessage, WorkerData } from '../worker-protocol.js';
import { bootedThreads } from './booted-threads.js';
import { createBundleSlot, publishBundle } from './bundle-slot.js';
import { GateState, LoadGate, createLoadGate } from './load-gate.js';
import { PoolSize } from './pool-size.js';

/** Options of {@link startThreadPool}. */
export interface ThreadPoolOptions extends RunDefaults {
  /** Number of worker threads. */
  readonly threads: number;
  /** The bundled jugfile the workers import, once it is ready (a rejection fails their load). */
  readonly bundle: Promise<JugfileBundle>;
  /** The jugfile (absolute path) and its command-line arguments, for its `process.argv` in threads. */
  readonly jugfile: string;
  readonly jugfileArgs?: readonly string[] | undefined;
  /** The store location string the workers open. */
  readonly jugdir: string;
  /** `jugdir` was given with --jugdir: the jugfile's own setJugdir() changes nothing. @default false */
  readonly jugdirFixed?: boolean;
  readonly keepFailed: boolean;
  /** `--debug`: fail tasks that change their arguments. @default false */
  readonly debug?: boolean;
  /** fsync results (as the parent's store). @default true */
  readonly fsync?: boolean;
  /** Heap limit per worker thread in MiB (exceeding it fails the task, not the run). */
  readonly maxOldGenerationSizeMb?: number;
  /**
   * A thread died outside any task (between tasks, or while loading the jugfile): told with a
   * message for the user. Not called once the pool is being destroyed.
   */
  readonly onFault?: (message: string) => void;
  /** Lease of other hosts' locks, ms (as the parent's store). @default the store's default */
  readonly leaseMs?: number;
}

/**
 * Piscina's entry for the threads: a CommonJS file exporting `run` (a promise of worker.ts's
 * function), built into dist/ (also when this module runs from src/ under tsx); see
 * scripts/build.mjs for why not worker.js itself.
 */
const WORKER_FILE = join(PACKAGE_ROOT, 'dist', 'worker-entry.cjs');
/**
 * Tasks in flight per thread when tasks are short (one running, the rest waiting or being
 * committed): enough that a group commit (two syncfs calls, ~10–40 ms here) gathers a few hundred
 * results while the threads keep running.
 */
export const PIPELINE = 128;
/** Most short tasks sent to a thread in one request. */
export const BATCH = 16;

/** Per pool: how many threads it runs and which get tasks (pool-size.ts). */
const sizes = new WeakMap<Piscina, PoolSize>();
/** Per pool: when its threads load the jugfile (load-gate.ts). */
const gates = new WeakMap<Piscina, LoadGate>();
/** Per pool: reports a thread that died outside any task (its error), once per error. */
const deaths = new WeakMap<Piscina, (e: unknown) => void>();

/** Requests a thread may hold for `depth` tasks in flight (short tasks travel BATCH to a request). */
export function requestsPerThread(depth: number): number {
  return depth > 2 ? Math.max(2, Math.ceil(depth / BATCH)) : depth;
}

/**
 * Starts the worker threads: the first wave at once, the others as threads become ready (see
 * pool-size.ts). They import the jugfile once `bundle` is ready.
 */
export function startThreadPool(options: ThreadPoolOptions): Piscina {
  const size = new PoolSize(options.threads);
  const slot = createBundleSlot();
  options.bundle.then(
    (b) => publishBundle(slot, b.url),
    () => publishBundle(slot, undefined), // the parent's own load reports the bundling error
  );
  const workerData: WorkerData = {
    bundle: slot,
    booted: size.booted,
    loadExits: new SharedArrayBuffer(8),
    loadGate: createLoadGate(),
    jugfile: options.jugfile,
    jugfileArgs: options.jugfileArgs,
    jugdir: options.jugdir,
    jugdirFixed: options.jugdirFixed ?? false,
    fsync: options.fsync ?? true,
    keepFailed: options.keepFailed,
    leaseMs: options.leaseMs,
    debug: options.debug ?? false,
    retries: options.retries,
    retryDelayMs: options.retryDelayMs,
    timeoutMs: options.timeoutMs,
  };
  const { Piscina: PiscinaPool } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
  const pool = new PiscinaPool({
    ...size.poolOptions,
    filename: WORKER_FILE,
    name: 'run',
    idleTimeout: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: requestsPerThread(PIPELINE),
    atomics: 'async', // task code may leave timers or pending I/O; keep worker event loops running
    recordTiming: false,
    workerData,
    resourceLimits:
      options.maxOldGenerationSizeMb === undefined ? undefined : { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb },
  });
  size.attach(pool);
  sizes.set(pool, size);
  gates.set(pool, new LoadGate(workerData.loadGate));
  // Piscina reports a thread that died holding no request as an 'error' event (which, without a
  // listener, would end the process), and one that called process.exit() while loading not at all.
  let exitsSeen = 0;
  const seen = new WeakSet<object>();
  const death = (e: unknown): void => {
    if (size.closed) return;
    if (typeof e === 'object' && e !== null) {
      if (seen.has(e)) return; // one death, seen by several requests
      seen.add(e);
    }
    options.onFault?.(threadDeath(e, options.maxOldGenerationSizeMb));
  };
  deaths.set(pool, death);
  pool.on('error', death);
  pool.on('message', (m: unknown) => {
    if ((m as Partial<ThreadLoadedMessage> | null)?.jugThreadLoaded !== undefined) size.threadLoaded();
  });
  pool.on('workerDestroy', () => {
    const exits = new Int32Array(workerData.loadExits);
    const count = Atomics.load(exits, 0);
    if (count === exitsSeen || size.closed) return;
    exitsSeen = count;
    options.onFault?.(
      `a worker thread exited (code ${Atomics.load(exits, 1)}) while loading the jugfile, before it could run any task. ` +
        'Does the jugfile call process.exit() at its top level? In worker threads it ends the thread; ' +
        'check isMainThread (node:worker_threads) around it, or run without --threads.',
    );
  });
  return pool;
}

/** What to tell the user about a thread that died outside any task (Piscina's 'error' event). */
function threadDeath(e: unknown, heapMb: number | undefined): string {
  if ((e as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return (
      `a worker thread ran out of memory outside any task (while loading the jugfile, or between tasks)` +
      `${heapMb === undefined ? '' : ` under --max-old-generation-size-mb ${heapMb}`}: raise that limit, ` +
      'or load less data at the jugfile\'s top level.'
    );
  }
  return `a worker thread died outside any task (${describeThrown(e)}). ${UNAWAITED_WORK_HINT}`;
}

/** How many threads of the pool have finished loading the jugfile (ever: replaced ones count). */
export function threadsStarted(pool: Piscina): number {
  const size = sizes.get(pool);
  return size === undefined ? 0 : bootedThreads(size.booted).count;
}

/** Whether the pool's threads hold off loading the jugfile, as the main thread told them (load-gate.ts). */
export function threadsHeld(pool: Piscina): boolean {
  return gates.get(pool)?.state === GateState.Held;
}

/** Destroys a pool made by {@link startThreadPool}: running tasks are killed; their threads' ends are no fault. */
export async function destroyThreadPool(pool: Piscina): Promise<void> {
  const size = sizes.get(pool);
  if (size !== undefined) size.closed = true;
  await pool.destroy();
}

/** The pool's PoolSize (undefined for a pool not made by {@link startThreadPool}). */
export function poolSizeOf(pool: Piscina): PoolSize | undefined {
  return sizes.get(pool);
}

/** The pool's load gate (load-gate.ts). */
export function loadGateOf(pool: Piscina): LoadGate | undefined {
  return gates.get(pool);
}

/** Reports `e`, the death of one of the pool's threads outside any task, as a fault of the run (once per error). */
export function reportThreadDeath(pool: Piscina, e: unknown): void {
  deaths.get(pool)?.(e);
}
