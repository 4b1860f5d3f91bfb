/**
 * The threaded executor (`jug execute --threads N`): a Piscina pool of N worker threads
 * (src/worker.ts) fed through a p-queue of concurrency N, so at most N tasks are in the pool and
 * the scheduler keeps a small window (2·N) of tasks dispatched ahead, never the whole graph.
 *
 * A worker that dies (process.exit() in task code, out of memory under the pool's resource
 * limits) fails only its task: the parent adopts that task's lock and releases it (or marks it
 * failed with --keep-failed), frees the thread slot, and Piscina starts a replacement thread.
 */
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { Piscina } from 'piscina';
import { bundleJugfile, type JugfileBundle } from '../bundle.js';
import { JugfileError } from '../errors.js';
import { errorInfo, type TaskOutcome } from '../execute-task.js';
import type { Executor } from '../scheduler.js';
import type { StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';
import type { WorkerData, WorkerRequest } from '../worker.js';
import { trace } from '../trace.js';

/** Options of {@link ThreadPoolExecutor.start}. */
export interface ThreadPoolOptions {
  /** Number of worker threads. */
  readonly threads: number;
  /** Absolute path of the jugfile. */
  readonly jugfile: string;
  /** The store location string the workers open. */
  readonly jugdir: string;
  readonly store: Store;
  readonly table: StatusTable;
  readonly keepFailed: boolean;
  /** fsync results (as the parent's store). @default true */
  readonly fsync?: boolean;
  /** Heap limit per worker thread in MiB (exceeding it fails the task, not the run). */
  readonly maxOldGenerationSizeMb?: number;
}

const WORKER_FILE = fileURLToPath(new URL('../worker.js', import.meta.url));

export class ThreadPoolExecutor implements Executor {
  readonly slots: number;
  #stopping = false;

  private constructor(
    private readonly pool: Piscina,
    private readonly queue: PQueue,
    private readonly bundle: JugfileBundle,
    private readonly options: ThreadPoolOptions,
  ) {
    this.slots = 2 * options.threads;
  }

  /** Bundles the jugfile, starts the pool and waits until a worker has loaded the jugfile. */
  static async start(options: ThreadPoolOptions): Promise<ThreadPoolExecutor> {
    const bundle = await bundleJugfile(options.jugfile);
    trace('jugfile bundled');
    const workerData: WorkerData = {
      moduleUrl: bundle.url,
      jugdir: options.jugdir,
      fsync: options.fsync ?? true,
      keepFailed: options.keepFailed,
      table: options.table.buffer,
      tasks: options.table.tasks,
      threads: options.table.threads,
    };
    const pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'async', // task code may leave timers or pending I/O; keep worker event loops running
      recordTiming: false,
      workerData,
      resourceLimits:
        options.maxOldGenerationSizeMb === undefined ? undefined : { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb },
    });
    const executor = new ThreadPoolExecutor(pool, new PQueue({ concurrency: options.threads }), bundle, options);
    try {
      await pool.run({ ping: true } satisfies WorkerRequest);
    } catch (e) {
      await executor.close();
      if (e instanceof Error && /could not load the jugfile/.test(e.message)) throw new JugfileError(e.message);
      throw e;
    }
    return executor;
  }

  run(index: number, task: Task): Promise<TaskOutcome> {
    return this.queue.add(
      async (): Promise<TaskOutcome> => {
        if (this.#stopping) return { kind: 'cancelled' };
        try {
          return (await this.pool.run({ index, hash: task.hash() } satisfies WorkerRequest)) as TaskOutcome;
        } catch (e) {
          return this.#workerDied(index, task, e);
        }
      },
    );
  }

  /** The worker running `task` died: fail the task, clean its lock and thread slot. */
  async #workerDied(index: number, task: Task, e: unknown): Promise<TaskOutcome> {
    this.options.table.releaseThreadSlotOf(index);
    const lock = this.options.store.lock(task.hash());
    let keptFailed = false;
    if (await lock.adopt()) {
      if (this.options.keepFailed) keptFailed = await lock.fail();
      else await lock.release();
    }
    const info = errorInfo(e, true);
    const message = `the worker thread running it died (${info.message})`;
    return { kind: 'failed', keptFailed, error: { ...info, message, stack: `Error: ${message}\n${info.stack}` } };
  }

  stop(): void {
    this.#stopping = true;
  }

  /**
   * Ends the pool. With `abort`, running tasks are killed at once: their locks are released and
   * their temporary files removed, so no partial result is left behind.
   */
  async close(abort = false, running: readonly { index: number; task: Task }[] = []): Promise<void> {
    this.#stopping = true;
    try {
      await this.pool.destroy();
    } finally {
      if (abort) {
        for (const { task } of running) {
          const lock = this.options.store.lock(task.hash());
          if (await lock.adopt()) await lock.release();
        }
        await this.options.store.abandonWrites();
      }
      this.bundle.dispose();
    }
  }
}
