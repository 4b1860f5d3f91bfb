/**
 * The threaded executor (`jug execute --threads N`): a Piscina pool of N worker threads
 * (src/worker.ts) fed through a p-queue, so only a bounded window of tasks is ever in the pool,
 * never the whole graph. The window is N times the depth AdaptiveWindow picks from task durations
 * (1 for long tasks, 2 for medium, PIPELINE for short), so that each thread has tasks waiting while
 * earlier results are committed to disk (in groups) (task functions of a thread still never
 * overlap: the worker runs them under a mutex). Long tasks therefore never queue behind each
 * other in one thread while another thread idles.
 *
 * The pool is started first thing, before the jugfile is bundled: threads boot (~40–70 ms of CPU
 * each) while the parent bundles and imports the jugfile, and wait for the bundle's URL
 * (bundle-slot.ts). The status table is
 * made once the graph is known and travels with each request (a SharedArrayBuffer is shared,
 * not copied).
 *
 * A worker that dies (process.exit() in task code, out of memory under the pool's resource
 * limits) fails only its task: the parent adopts that task's lock and releases it (or marks it
 * failed with --keep-failed), frees the thread slot, and Piscina starts a replacement thread.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { Piscina } from 'piscina';
import type { JugfileBundle } from '../bundle.js';
import { commitHandedOver, errorInfo, releaseAbandoned, type TaskOutcome } from '../execute-task.js';
import type { Executor } from '../scheduler.js';
import type { StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';
import type { WorkerData, WorkerRequest } from '../worker-protocol.js';
import { trace } from '../trace.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { AdaptiveWindow } from './window.js';
import { encodeHashes } from './stored-snapshot.js';
import { createBundleSlot, publishBundle } from './bundle-slot.js';
import { bootedThreads, createBootedThreads, type BootedThreads } from './booted-threads.js';

/** Options of {@link startThreadPool}. */
export interface ThreadPoolOptions {
  /** Number of worker threads. */
  readonly threads: number;
  /** The bundled jugfile the workers import, once it is ready (a rejection fails their load). */
  readonly bundle: Promise<JugfileBundle>;
  /** The store location string the workers open. */
  readonly jugdir: string;
  readonly keepFailed: boolean;
  /** `--debug`: fail tasks that change their arguments. @default false */
  readonly debug?: boolean;
  /** fsync results (as the parent's store). @default true */
  readonly fsync?: boolean;
  /** Heap limit per worker thread in MiB (exceeding it fails the task, not the run). */
  readonly maxOldGenerationSizeMb?: number;
  /** Lease of other hosts' locks, ms (as the parent's store). @default the store's default */
  readonly leaseMs?: number;
}

/** The built worker module (dist/, also when this module runs from src/ under tsx). */
const WORKER_FILE = join(PACKAGE_ROOT, 'dist', 'worker.js');
/** Requests one worker may hold at once when tasks are short (one running, the rest waiting). */
const PIPELINE = 32;

/** How the balancer steers one pool: the per-thread task limit and the staged start. */
interface PoolControl {
  /** Tasks one thread may hold at once (running + waiting); set from the task durations. */
  depth: number;
  /** The pool, once constructed (the balancer raises its thread limits as threads become ready). */
  pool?: Piscina;
  /** Threads asked for. */
  readonly threads: number;
  /** Threads that may be starting at the same time (see {@link startThreadPool}). */
  readonly wave: number;
  /** The threads that have finished starting (they record themselves). */
  readonly booted: BootedThreads;
  /** At most this many threads are useful now (tasks left in the pass; see retire()). */
  cap: number;
  /** Every thread the balancer has been shown, by thread id (Piscina's live views of them). */
  readonly seen: Map<number, PoolThread>;
  /** Threads being stopped (see retire()): Piscina lists them until they have exited. */
  readonly retired: Set<number>;
}

/** Piscina's view of one thread, as the balancer receives it. */
type PoolThread = Parameters<LoadBalancer>[1][number];

const controls = new WeakMap<Piscina, PoolControl>();

/** A request that only makes Piscina start a thread; withdrawn before any thread gets it. */
const START_THREAD = 0;

/** Piscina's `loadBalancer` option type (not exported by name). */
type LoadBalancer = NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer'] & {};

/**
 * Piscina's balancer, with three additions.
 *
 * - Threads that have finished starting get tasks first. Piscina hands the balancer threads that
 *   are still booting too: one gets a task only when no started thread can take it.
 * - A per-thread limit: the least busy started thread that holds fewer than `depth` tasks, or none
 *   (the task waits in Piscina's queue). Without it a thread that is ready first would be handed
 *   every queued task (up to PIPELINE), and long tasks would wait in it behind each other while
 *   the other threads finish booting and stay idle.
 * - The staged start: Piscina calls the balancer whenever it has tasks to place (among them,
 *   whenever a thread becomes ready), just before it decides whether it may start another thread
 *   (it may while it has fewer than `maxThreads`). Raising that limit to `started + wave` keeps
 *   `wave` threads booting at a time: each thread that becomes ready lets one more start. Booting
 *   all N at once on fewer cores would share the CPU between them, so that none is ready before
 *   all are.
 */
function balancer(control: PoolControl): LoadBalancer {
  return (_task, workers) => {
    for (const w of workers) control.seen.set(w.id, w);
    const { count, ids } = bootedThreads(control.booted);
    const options = control.pool?.options;
    if (options !== undefined && options.maxThreads < control.cap) {
      const allowed = Math.min(control.cap, count + control.wave);
      if (allowed > options.maxThreads) {
        // Piscina reads its live options object; minThreads follows so that a thread that dies
        // is replaced, never retired for idleness.
        options.maxThreads = allowed;
        options.minThreads = allowed;
      }
    }
    // The least busy started thread under the limit; else a thread still starting (the task
    // then runs as soon as that thread has started, without a round trip through this thread).
    let best: (typeof workers)[number] | null = null;
    let bestStarted = false;
    for (const w of workers) {
      if (w.currentUsage >= control.depth || control.retired.has(w.id)) continue;
      const started = ids === undefined || ids.has(w.id);
      if (best === null || (started && !bestStarted) || (started === bestStarted && w.currentUsage < best.currentUsage)) {
        best = w;
        bestStarted = started;
      }
    }
    return best;
  };
}

/**
 * Starts the worker threads; they begin importing the jugfile at once. At most as many threads
 * as there are cores start together; each one that becomes ready lets another start (see
 * {@link balancer}), until all `threads` run.
 */
export function startThreadPool(options: ThreadPoolOptions): Piscina {
  const wave = Math.max(1, Math.min(options.threads, availableParallelism()));
  const booted = createBootedThreads(4 * options.threads);
  const control: PoolControl = { depth: 1, threads: options.threads, wave, booted, cap: options.threads, seen: new Map(), retired: new Set() };
  const slot = createBundleSlot();
  options.bundle.then(
    (b) => publishBundle(slot, b.url),
    () => publishBundle(slot, undefined), // the parent's own load reports the bundling error
  );
  const workerData: WorkerData = {
    bundle: slot,
    booted,
    jugdir: options.jugdir,
    fsync: options.fsync ?? true,
    keepFailed: options.keepFailed,
    leaseMs: options.leaseMs,
    debug: options.debug ?? false,
  };
  const pool = new Piscina({
    loadBalancer: balancer(control),
    filename: WORKER_FILE,
    // Threads start through the balancer, in waves (Piscina would take threads it starts with the
    // pool for ready at once): the first wave now, for the warm-up requests below.
    minThreads: 0,
    maxThreads: wave,
    idleTimeout: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: PIPELINE,
    atomics: 'async', // task code may leave timers or pending I/O; keep worker event loops running
    recordTiming: false,
    workerData,
    resourceLimits:
      options.maxOldGenerationSizeMb === undefined ? undefined : { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb },
  });
  control.pool = pool;
  controls.set(pool, control);
  // Piscina starts a thread when it is given a task it cannot place: one request per thread of the
  // first wave, withdrawn at once (it never reaches a thread), starts them now, while the parent
  // is still loading the jugfile.
  for (let i = 0; i < wave; i++) {
    const withdraw = new AbortController();
    pool.run(START_THREAD, { signal: withdraw.signal }).catch(() => {});
    withdraw.abort();
  }
  return pool;
}

export class ThreadPoolExecutor implements Executor {
  readonly #queue: PQueue;
  #stopping = false;
  readonly #window = new AdaptiveWindow(PIPELINE);
  /** Shared with the workers: set when the run stops, so tasks queued inside a worker don't start. */
  readonly #stopFlag = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly pool: Piscina,
    private readonly threads: number,
    private readonly store: Store,
    private table: StatusTable,
    private readonly keepFailed: boolean,
  ) {
    this.#queue = new PQueue({ concurrency: threads });
  }

  /** Which load of the jugfile the graph comes from (0 = the first); see {@link nextPass}. */
  #generation = 0;

  /**
   * Starts a pass over the graph of load number `generation` (0 = the first; a jugfile stopping
   * at a barrier is loaded again once the tasks before it are computed). Tasks then use this
   * status table, and a worker that loaded the jugfile fewer times loads it again before running
   * them, so it knows the tasks after the barrier.
   */
  nextPass(table: StatusTable, generation: number, stored: ReadonlySet<string>): void {
    const control = controls.get(this.pool);
    if (control !== undefined && control.cap < this.threads) {
      // Threads stopped near the end of the last pass may be needed again.
      control.cap = this.threads;
      this.pool.options.maxThreads = this.threads;
      this.pool.options.minThreads = this.threads;
    }
    this.table = table;
    this.#generation = generation;
    this.#stored = encodeHashes(stored);
    this.#storedCount = stored.size;
  }

  /** The parent's listing for the current generation (see stored-snapshot.ts). */
  #stored = new SharedArrayBuffer(1);
  #storedCount = 0;

  /** Set for one turn of the event loop after a failed outcome (see run()). */
  #afterFailure: Promise<void> | undefined;

  /** Tasks the scheduler may have dispatched: the pool's window plus as many queued in front. */
  get slots(): number {
    return 2 * this.#queue.concurrency;
  }

  /** Widens the window for short tasks, narrows it back for long ones. */
  #observe(outcome: TaskOutcome): void {
    if (!this.#window.observe(outcome)) return;
    this.#queue.concurrency = this.threads * this.#window.depth;
    const control = controls.get(this.pool);
    if (control !== undefined) control.depth = this.#window.depth;
    trace(`thread window: ${this.#queue.concurrency} (mean task ${this.#window.meanMs.toFixed(2)} ms)`);
  }

  async run(index: number, task: Task): Promise<TaskOutcome> {
    const raw = await this.#queue.add(async (): Promise<TaskOutcome> => {
      // The queue starts this job as soon as the previous one settles, before the scheduler has
      // seen that outcome. After a failure, let the scheduler take it first: without --keep-going
      // the run is stopping, and this task must not start. (Other outcomes never stop a run here:
      // exit checks budget tasks at dispatch, signals stop the executor at once.)
      if (this.#afterFailure !== undefined) await this.#afterFailure;
      if (this.#stopping) return { kind: 'cancelled' };
      const request: WorkerRequest = {
        index,
        hash: task.hash(),
        table: this.table.buffer,
        tasks: this.table.tasks,
        threads: this.table.threads,
        generation: this.#generation,
        stored: this.#stored,
        storedCount: this.#storedCount,
        stop: this.#stopFlag.buffer as SharedArrayBuffer,
      };
      let outcome: TaskOutcome;
      try {
        outcome = (await this.pool.run(request)) as TaskOutcome;
      } catch (e) {
        outcome = await this.#workerDied(index, task, e);
      }
      if (outcome.kind === 'failed') {
        this.#afterFailure ??= new Promise<void>((resolve) =>
          setImmediate(() => {
            this.#afterFailure = undefined;
            resolve();
          }),
        );
      }
      return outcome;
    });
    // The worker wrote the result and is free: commit it here, outside the window, so that the
    // thread's next task starts while this one's result is flushed and renamed into place.
    const outcome = await commitHandedOver(task, raw, this.store, this.keepFailed);
    this.#observe(outcome);
    return outcome;
  }

  /**
   * The worker holding `task` died (or could not start). If `task` is what its thread was running,
   * it failed: clean its lock and thread slot. Otherwise it was only queued in that worker (or
   * committing): release its lock if taken, and hand it back to be run again.
   */
  async #workerDied(index: number, task: Task, e: unknown): Promise<TaskOutcome> {
    const lock = this.store.lock(task.hash());
    const loadFailure = /could not load the jugfile/.test(errorInfo(e).message);
    if (!loadFailure && !this.table.isRunningOnThread(index)) {
      if (await lock.adopt()) await lock.release();
      return { kind: 'cancelled' };
    }
    this.table.releaseThreadSlotOf(index);
    let keptFailed = false;
    if (await lock.adopt()) {
      if (this.keepFailed) keptFailed = await lock.fail();
      else await lock.release();
    }
    const info = errorInfo(e, true);
    const message = /could not load the jugfile/.test(info.message)
      ? info.message
      : `the worker thread running it died (${info.message})`;
    return { kind: 'failed', keptFailed, error: { ...info, message, stack: `Error: ${message}\n${info.stack}` } };
  }

  /**
   * Fewer tasks are left in this pass than there are threads: stop the idle threads beyond that
   * number (the pool is then not refilled past it). They hold nothing (their results are
   * committed here, in the main thread), and the memory they use is freed while the last tasks
   * run; the pass after a barrier raises the number again.
   */
  remaining(tasks: number): void {
    const control = controls.get(this.pool);
    if (control === undefined) return;
    const keep = Math.max(1, Math.min(this.threads, tasks));
    if (keep >= control.cap) return;
    control.cap = keep;
    const options = this.pool.options;
    options.maxThreads = Math.min(options.maxThreads, keep);
    options.minThreads = Math.min(options.minThreads, keep);
    let live = 0;
    for (const w of control.seen.values()) if (!w.terminating && !w.destroyed) live++;
    for (const w of control.seen.values()) {
      if (live <= keep) break;
      if (w.terminating || w.destroyed || w.currentUsage > 0) continue;
      const thread = this.pool.threads.find((t) => t.threadId === w.id);
      if (thread === undefined) continue;
      control.seen.delete(w.id);
      control.retired.add(w.id);
      void thread.terminate();
      live--;
    }
  }

  stop(): void {
    this.#stopping = true;
    Atomics.store(this.#stopFlag, 0, 1);
  }

  /** Ends the pool once the run is over. */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.pool.destroy();
  }

  /** Kills the running tasks at once; their locks are released and no partial result remains. */
  async abort(running: readonly Task[]): Promise<void> {
    await this.close();
    await releaseAbandoned(this.store, running);
  }
}
