/**
 * How many threads the pool of `jug execute --threads N` runs, and which of them get tasks.
 * Piscina starts threads on its own terms (all of `minThreads` at once; more only when it is
 * handed a task no thread can take); this module decides instead, through Piscina's public
 * surface: its live `options` object, its `workerCreate` event, its `loadBalancer`, and requests
 * withdrawn before any thread gets them.
 *
 * - Waves: at most `wave` threads (one per core) start at the same time; each thread that has
 *   started (loaded jug and the jugfile) lets another start, until N run — while tasks wait for a
 *   thread (Piscina's queue, or more requests handed over than the live threads hold: see
 *   handedOver): a run whose tasks the main thread runs itself (tiny ones:
 *   inline-policy.ts) boots no thread it will not use (each loads the jugfile: CPU taken from the
 *   main thread). A task that finds no thread later lets the next wave start. Starting all N at once on
 *   fewer cores shares the CPU between them, so that none is ready before all are: 8 threads on 2
 *   cores ran their first task after ~0.5 s, the first two now after ~0.2 s. While the main thread
 *   loads the jugfile (which every dispatch waits for), the first wave is one thread smaller (at
 *   least one): the main thread keeps a core, and on 2 cores a run whose tasks all prove tiny
 *   boots a single thread.
 * - Placement (the balancer): a task goes to the least busy started thread holding fewer than
 *   `depth` tasks; to a thread still starting only if no started thread can take it (it then
 *   runs as soon as that thread is up); else it waits in Piscina's queue. Without the depth limit,
 *   a thread ready first would be handed every queued task, and long tasks would wait there
 *   behind each other while other threads idle. A task with a time limit goes only to a thread
 *   holding nothing, and nothing joins it there (the thread may be terminated at the timeout).
 * - Retiring: once fewer tasks are left in a pass than threads run, idle threads beyond that number
 *   stop (they hold nothing: results are committed by the main thread), which frees their memory
 *   and leaves little to tear down at the end. The next pass (after a barrier) starts them again.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { trace, tracing } from '../trace.js';
import { bootedThreads, createBootedThreads, type BootedThreads } from './booted-threads.js';

/** Piscina's `loadBalancer` option type (not exported by name). */
export type LoadBalancer = NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer'] & {};
/** Piscina's view of one thread, as the balancer receives it. */
type PoolThread = Parameters<LoadBalancer>[1][number];

/** How often (ms) a wave held back while tasks look tiny asks again (see PoolSize.tinySoFar). */
const HOLD_MS = 20;

/** The function name of requests that only make Piscina start a thread (never run). */
const START_THREAD = 'jugStartThread';

/** Threads of a pool of `threads` that start at the same time: one per core. */
export function waveSize(threads: number): number {
  return Math.max(1, Math.min(threads, availableParallelism()));
}

export class PoolSize {
  /** Threads that may be starting at the same time. */
  readonly wave: number;
  /** Where threads record that they have started (shared with them through workerData). */
  readonly booted: BootedThreads;
  /** Tasks one thread may hold at once (running + waiting); set from the task durations. */
  depth = 1;
  /** Threads useful now: N, or fewer when fewer tasks are left in the pass. */
  #cap: number;
  #pool: Piscina | undefined;
  /** Every thread the balancer has been shown, by thread id (Piscina's live views of them). */
  readonly #seen = new Map<number, PoolThread>();
  /** Threads being stopped: Piscina lists them until they have exited. */
  readonly #retired = new Set<number>();
  /** The started threads as last read from `booted` (read again only when their count changed). */
  #started: { readonly count: number; readonly ids: ReadonlySet<number> | undefined } = { count: 0, ids: new Set() };

  #startedThreads(): { readonly count: number; readonly ids: ReadonlySet<number> | undefined } {
    if (Atomics.load(new Int32Array(this.booted, 0, 1), 0) !== this.#started.count) this.#started = bootedThreads(this.booted);
    return this.#started;
  }

  /**
   * The main thread is still loading the jugfile: the first wave leaves it a core (one thread
   * fewer, at least one), so that its load, which every dispatch waits for, is not slowed by
   * threads booting beside it. See {@link mainReady}.
   */
  #mainLoading = true;

  constructor(readonly threads: number) {
    this.wave = waveSize(threads);
    this.booted = createBootedThreads(4 * threads);
    this.#cap = threads;
  }

  /** Piscina options for the pool: no thread yet (they start through {@link attach}). */
  get poolOptions(): { minThreads: number; maxThreads: number; loadBalancer: LoadBalancer } {
    return { minThreads: 0, maxThreads: this.wave, loadBalancer: this.#balancer() };
  }

  /** Takes charge of `pool` (made with {@link poolOptions}) and starts the first wave. */
  attach(pool: Piscina): void {
    this.#pool = pool;
    pool.on('workerCreate', () => this.#grow()); // a thread has started (Piscina's READY)
    this.#grow(true);
  }

  #growSoon = false;

  /** Tasks wait that no thread takes now (`waiting`: so counted by the caller, not by Piscina's queue). */
  #waitingSoon = false;

  /** A task found no thread to take it: start more (after Piscina has queued it). */
  #demanded(waiting = false): void {
    this.#waitingSoon ||= waiting;
    if (this.#growSoon) return;
    this.#growSoon = true;
    setImmediate(() => {
      this.#growSoon = false;
      const tasksWait = this.#waitingSoon;
      this.#waitingSoon = false;
      this.#grow(false, tasksWait);
    });
  }

  /**
   * Told by the executor: whether every task the threads ran or run looks tiny (the inline policy
   * judged no function slow, no thread has been running one task for HOLD_MS, fewer than
   * HOLD_ANSWERS answers). While so, more threads would likely go unused (the main thread runs
   * tiny tasks itself once it has seen a few: inline-policy.ts), so later waves wait, and the
   * question is asked again every HOLD_MS while tasks wait. @default none: waves start as tasks wait
   */
  tinySoFar: (() => boolean) | undefined;
  #heldTimer: NodeJS.Timeout | undefined;

  /** Whether the next wave waits (see {@link tinySoFar}); if so, asks again in HOLD_MS. */
  #held(): boolean {
    if (this.tinySoFar?.() !== true) return false;
    if (this.#heldTimer === undefined) {
      this.#heldTimer = setTimeout(() => {
        this.#heldTimer = undefined;
        this.#grow();
      }, HOLD_MS);
      this.#heldTimer.unref();
    }
    return true;
  }

  /**
   * `requests` are in Piscina now (one more was just handed over). While no thread has started,
   * Piscina queues them without asking the balancer, and counts them as waiting only beyond what
   * the starting threads may hold (`queueSize`): nothing noticed that tasks waited, and the next
   * wave started only once the first thread was up (primes on 2 cores: 0.05–0.5 s after the main
   * thread had dispatched). More requests than the live threads take (`depth` each) start it now.
   */
  handedOver(requests: number): void {
    if (requests > this.#live() * this.depth) this.#demanded(true);
  }

  /** A thread has loaded the jugfile (it counts as started from now): the next wave may start. */
  threadLoaded(): void {
    this.#grow();
  }

  /** An answer that was not tiny: a wave held back by {@link #held} starts now (if tasks wait). */
  answeredSlow(): void {
    this.#grow();
  }

  /** The main thread has loaded the jugfile: waves are full-size again (started as tasks wait). */
  mainReady(): void {
    if (!this.#mainLoading) return;
    this.#mainLoading = false;
    this.#grow();
  }

  /** Threads that may be starting at the same time now. */
  get #waveNow(): number {
    return this.#mainLoading ? Math.max(1, Math.min(this.wave, availableParallelism() - 1)) : this.wave;
  }

  /** Set when the pool is being destroyed: threads ending then are no fault. */
  closed = false;

  /** At most `tasks` tasks are left in this pass: stop idle threads beyond that. */
  retireBeyond(tasks: number): void {
    const pool = this.#pool;
    const keep = Math.max(1, Math.min(this.threads, tasks));
    if (pool === undefined || keep >= this.#cap) return;
    this.#cap = keep;
    this.#setLimit(Math.min(pool.options.maxThreads, keep));
    let live = this.#live();
    for (const w of this.#seen.values()) {
      if (live <= keep) break;
      if (w.terminating || w.destroyed || w.currentUsage > 0) continue;
      const thread = pool.threads.find((t) => t.threadId === w.id);
      if (thread === undefined) continue;
      this.#seen.delete(w.id);
      this.#retired.add(w.id);
      void thread.terminate();
      live--;
    }
  }

  /**
   * `idle`: started threads, not being stopped, that hold no request. `waiting`: requests held by
   * threads behind the one each runs (a thread runs one at a time; one task each unless batched).
   */
  occupancy(): { idle: number; waiting: number } {
    const { ids } = this.#startedThreads();
    let idle = 0;
    let waiting = 0;
    for (const w of this.#seen.values()) {
      if (w.terminating || w.destroyed || this.#retired.has(w.id)) continue;
      if (w.isRunningAbortableTask) continue; // a task with a time limit, alone on its thread (busy)
      if (w.currentUsage > 1) waiting += w.currentUsage - 1;
      else if (w.currentUsage === 0 && (ids === undefined || ids.has(w.id))) idle++;
    }
    return { idle, waiting };
  }

  /** A new pass: all N threads are useful again. */
  reset(): void {
    if (this.#cap === this.threads) return;
    this.#cap = this.threads;
    this.#grow(true);
  }

  /** Threads Piscina runs or is starting, not counting those being stopped. */
  #live(): number {
    const pool = this.#pool;
    if (pool === undefined) return 0;
    return pool.threads.filter((t) => !this.#retired.has(t.threadId)).length;
  }

  /** Piscina reads its live options: maxThreads bounds starts, minThreads makes it replace dead threads. */
  #setLimit(n: number): void {
    const options = this.#pool!.options;
    options.maxThreads = n;
    options.minThreads = n;
  }

  /**
   * Starts threads up to `started + wave` (at most the cap), if tasks wait for one (Piscina's
   * queue, or `tasksWait`: see handedOver) unless held back, or `first`: the first wave.
   */
  #grow(first = false, tasksWait = false): void {
    const pool = this.#pool;
    if (pool === undefined || (!first && ((pool.queueSize === 0 && !tasksWait) || this.#held()))) return;
    const target = Math.min(this.#cap, this.#startedThreads().count + this.#waveNow);
    const live = this.#live();
    if (target <= live) return;
    this.#setLimit(target);
    if (tracing) trace(`threads: ${target - live} more start (${pool.queueSize} tasks wait${tasksWait ? '; more handed over than threads hold' : ''})`);
    // Piscina starts a thread when handed a task no thread can take (the balancer never places
    // these); each is withdrawn at once and never reaches a thread.
    for (let i = live; i < target; i++) {
      const withdraw = new AbortController();
      pool.run(null, { name: START_THREAD, signal: withdraw.signal }).catch(() => {});
      withdraw.abort();
    }
  }

  #balancer(): LoadBalancer {
    return (task, workers) => {
      for (const w of workers) this.#seen.set(w.id, w);
      if (task.name === START_THREAD) return null;
      const { ids } = this.#startedThreads();
      let best: PoolThread | null = null;
      let bestStarted = false;
      // A task with a time limit (abortable) goes only to a thread holding nothing: terminating
      // that thread at the timeout must stop no other task. (A thread running one shows an
      // infinite usage to Piscina, so no other task is placed behind it.)
      const limit = task.isAbortable ? 1 : this.depth;
      for (const w of workers) {
        if (w.currentUsage >= limit || this.#retired.has(w.id)) continue;
        const started = ids === undefined || ids.has(w.id);
        if (best === null || (started && !bestStarted) || (started === bestStarted && w.currentUsage < best.currentUsage)) {
          best = w;
          bestStarted = started;
        }
      }
      if (best === null) this.#demanded();
      return best;
    };
  }
}
