/**
 * The threaded executor (`jug execute --threads N`): a Piscina pool of N worker threads
 * (src/worker.ts) fed through a p-queue, so only a bounded window of tasks is ever in the pool,
 * never the whole graph. The window is N times the depth AdaptiveWindow picks from task durations
 * (2 for long and medium tasks, PIPELINE for short), so that each thread holds its next task while
 * it runs one (it starts it without a round trip through this thread) and earlier results are
 * committed to disk meanwhile (task functions of a thread still never overlap: the worker runs
 * them under a mutex). A task held behind a long one never waits while another thread idles: the
 * idle thread is sent it too, and whichever copy starts first runs it (claims.ts). Short tasks go
 * to threads in batches of up to BATCH per request, and their results are committed in groups.
 *
 * The pool is started by pool-start.ts (first thing, before the jugfile is imported, unless the
 * last run ran every task in the main thread: thread-verdict.ts). Threads start in waves, get
 * tasks, and stop when no longer useful as pool-size.ts decides. The
 * status table is made once the graph is known and travels with each request (a
 * SharedArrayBuffer is shared, not copied).
 *
 * A worker that dies (process.exit() in task code, out of memory under the pool's resource
 * limits) fails only its task: the parent adopts that task's lock and releases it (or marks it
 * failed with --keep-failed), frees the thread slot, and Piscina starts a replacement thread.
 */
import PQueue from 'p-queue';
import type { Piscina } from 'piscina';
import {
  commitHandedOver,
  errorInfo,
  releaseAbandoned,
  retryPolicy,
  type ErrorInfo,
  type RetryPolicy,
  type RunDefaults,
  type TaskOutcome,
} from '../execute-task.js';
import { makeFailureRecord } from '../failure.js';
import type { RunRecorder } from '../run-records.js';
import type { RunningTracker } from '../running-notes.js';
import type { Executor, StartGate } from '../scheduler.js';
import type { StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';
import type { AttemptFailedMessage, WorkerCall, WorkerRequest } from '../worker-protocol.js';
import { trace, tracing } from '../trace.js';
import { AdaptiveWindow } from './window.js';
import { InProcessExecutor } from './in-process.js';
import { LONG_MS, MIN_SAMPLES } from './inline-policy.js';
import { GateState } from './load-gate.js';
import { MainThreadRuns } from './main-thread-runs.js';
import { encodeHashes } from './stored-snapshot.js';
import { BATCH, PIPELINE, destroyThreadPool, loadGateOf, poolSizeOf, reportThreadDeath, requestsPerThread, threadsStarted } from './pool-start.js';
import type { ThreadVerdict } from './thread-verdict.js';
import type { LazyPool } from './lazy-pool.js';
import { waveSize, type PoolSize } from './pool-size.js';
import { TaskClaims } from './claims.js';
import { TimeoutWatch, afterTimeoutKill, createAttemptClock, readAttemptClock } from './timeout-watch.js';

/**
 * Tasks one thread may hold when tasks are long: the one it runs and the next, which it starts
 * without waiting for the parent; a thread that falls idle takes such a waiting task over.
 */
const LONG_DEPTH = 2;
/** Longest wait at the end of a run for copies of tasks still queued in threads to answer. */
const CLOSE_WAIT_MS = 500;
/** Threads' answers after which PoolSize no longer holds waves back for tiny tasks (see #tinySoFar). */
const HOLD_ANSWERS = 64;
/** Most results of short tasks committed together (a group is also committed when a thread runs out of work). */
const COMMIT_GROUP = 256;

/** What the main thread needs to run tasks itself, as the serial runner does. */
export interface InlineOptions {
  /** `--debug`: fail tasks that change their arguments. @default false */
  readonly debug?: boolean;
  /** Tells the store which task runs now (running notes). @default none */
  readonly tracker?: RunningTracker;
  /**
   * Whether the main thread may run first tasks of functions not measured yet (probes, see
   * {@link ThreadPoolExecutor}); off when threads run under a heap limit, which the main thread
   * has not. @default true
   */
  readonly probes?: boolean;
  /**
   * Task functions the last run of the jugfile found tiny, every task run in the main thread
   * (thread-verdict.ts): they run here from their first task, and the threads, started only on
   * demand, load the jugfile as soon as they start. @default none
   */
  readonly remembered?: readonly string[] | undefined;
}

/** A dispatch's answer when its turn came and the main thread is to run it itself (inline-policy.ts). */
const RUN_INLINE = Symbol('run inline');
/** As RUN_INLINE, for a probe: a task of a function not measured yet, which holds its slot while it runs. */
const PROBE = Symbol('probe');
type InlineAnswer = typeof RUN_INLINE | typeof PROBE;

/** One dispatch of a task: sent to one thread, and to a second if the first is busy when another idles. */
interface Dispatch {
  readonly index: number;
  readonly task: Task;
  readonly claims: TaskClaims;
  /** The dispatch's token in `claims` (a new one for each retry after a thread was terminated). */
  token: number;
  /** Reports failed attempts that will be retried (the scheduler's gate). */
  readonly gate: StartGate | undefined;
  /** Retries and time limit of the task. */
  readonly policy: RetryPolicy;
  /** Copies sent and not yet answered. */
  pending: number;
  /** Copies sent in all (at most 2). */
  sent: number;
  /** Settles run(): the first outcome of the copy that started the task, or `cancelled`. */
  readonly resolve: (outcome: TaskOutcome | InlineAnswer) => void;
  settled: boolean;
  /** Ends the dispatch's job in the queue early: it was withdrawn from a thread that holds (see #holdThreads). */
  readonly withdrawn: Promise<void>;
  readonly withdraw: () => void;
}

export class ThreadPoolExecutor implements Executor {
  readonly #queue: PQueue;
  #stopping = false;
  #window = new AdaptiveWindow(PIPELINE, LONG_DEPTH, MIN_SAMPLES);
  /** Shared with the workers: set when the run stops, so tasks queued inside a worker don't start. */
  readonly #stopFlag = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    /** The pool, started at once or when a task first needs a thread (lazy-pool.ts). */
    private readonly lazy: LazyPool,
    private readonly threads: number,
    private readonly store: Store,
    private table: StatusTable,
    private readonly keepFailed: boolean,
    /** `--retries`, `--retry-delay`, `--timeout`: for tasks without their own (as the workers have them). */
    private readonly defaults: RunDefaults = {},
    /** Where the runs of its tasks are recorded (run records). @default none */
    private readonly recorder?: RunRecorder,
    /** For the tasks the main thread runs itself (see inline-policy.ts). @default neither */
    private readonly inlineOptions: InlineOptions = {},
  ) {
    this.#queue = new PQueue({ concurrency: threads });
    const gate = lazy.current === undefined ? undefined : loadGateOf(lazy.current);
    this.#runs = new MainThreadRuns(threads, inlineOptions.probes ?? true, waveSize(threads), gate, inlineOptions.remembered);
    this.#inline = this.#inlineRunner();
    lazy.onStart((pool) => this.#attach(pool));
  }

  /** Takes charge of the pool once it is started (at once, or when a task first needs a thread). */
  #attach(pool: Piscina): void {
    const size = poolSizeOf(pool);
    if (size !== undefined) {
      size.tinySoFar = () => this.#tinySoFar();
      size.depth = requestsPerThread(this.#window.depth);
      size.mainReady(); // the jugfile is loaded: see PoolSize
    }
    pool.on('message', (m: unknown) => this.#onWorkerMessage(m));
    // Started late (the graph is known, a task waits for a thread): its threads load the jugfile at once.
    if (this.#runs.gate === undefined) loadGateOf(pool)?.set(GateState.Go);
  }

  /** The pool's PoolSize, once it is started. */
  #size(): PoolSize | undefined {
    const pool = this.lazy.current;
    return pool === undefined ? undefined : poolSizeOf(pool);
  }

  /** The tasks the main thread runs itself: tiny ones, probes (main-thread-runs.ts). */
  readonly #runs: MainThreadRuns;
  /** Runs those tasks, as the serial runner does; one per pass (it uses the pass's table). */
  #inline: InProcessExecutor;

  #inlineRunner(): InProcessExecutor {
    const { debug, tracker } = this.inlineOptions;
    return new InProcessExecutor(this.store, this.table, this.keepFailed, debug ?? false, this.defaults, this.recorder, tracker, true);
  }

  /** Watches tasks with a time limit while their threads run them (terminating those past it). */
  readonly #timeouts = new TimeoutWatch();

  /** A worker reports a failed attempt that it will retry: the scheduler logs it. */
  #onWorkerMessage(message: unknown): void {
    const note = (message as Partial<AttemptFailedMessage> | null)?.jugAttemptFailed;
    if (note === undefined) return;
    const dispatch = this.#dispatches.get(note.index);
    if (dispatch !== undefined && dispatch.token === note.token) dispatch.gate?.attemptFailed?.(note.failure);
  }

  /** Which load of the jugfile the graph comes from (0 = the first); see {@link nextPass}. */
  #generation = 0;

  /**
   * Starts a pass over the graph of load number `generation` (0 = the first; a jugfile stopping
   * at a barrier is loaded again once the tasks before it are computed). Tasks then use this
   * status table, and a worker that loaded the jugfile fewer times loads it again before running
   * them, so it knows the tasks after the barrier. `tasks`: the pass's graph (how many tasks of
   * each function it has to run decides whether a probe may run: #mayProbe). @default none known
   */
  nextPass(table: StatusTable, generation: number, stored: ReadonlySet<string>, tasks: readonly Task[] = []): void {
    const size = this.#size();
    if (generation > 0 && size !== undefined) {
      // New tasks (past a barrier): their durations are unknown again, and threads stopped near
      // the end of the last pass are needed again.
      this.#window = new AdaptiveWindow(PIPELINE, LONG_DEPTH, MIN_SAMPLES);
      this.#queue.concurrency = this.threads;
      size.depth = 1;
      size.reset();
    }
    this.table = table;
    this.#inline = this.#inlineRunner();
    this.#claims = new TaskClaims(table.tasks);
    this.#generation = generation;
    this.#stored = encodeHashes(stored);
    this.#storedCount = stored.size;
    this.#runs.newPass(generation, tasks, stored);
  }


  /** The parent's listing for the current generation (see stored-snapshot.ts). */
  #stored = new SharedArrayBuffer(1);
  #storedCount = 0;

  /** Set for one turn of the event loop after a failed outcome (see run()). */
  #afterFailure: Promise<void> | undefined;

  /**
   * Tasks the scheduler may have dispatched: the pool's window plus as many queued in front — or,
   * if larger, the window of the tasks this thread runs itself (their results are committed in
   * groups as large as in the serial runner).
   */
  get slots(): number {
    return Math.max(2 * this.#queue.concurrency, this.#inline.slots);
  }

  /** Widens the window for short tasks, narrows it back for long ones. */
  #observe(outcome: TaskOutcome): void {
    if (!this.#window.observe(outcome)) return;
    this.#queue.concurrency = this.threads * this.#window.depth;
    const size = this.#size();
    if (size !== undefined) size.depth = requestsPerThread(this.#window.depth);
    trace(`thread window: ${this.#queue.concurrency} (mean task ${this.#window.meanMs.toFixed(2)} ms)`);
  }

  /**
   * Runs task `index` in a worker thread and commits its result — or, if by the time its turn
   * comes its function has proved tiny (inline-policy.ts), in this thread as the serial runner
   * does. (Decided then, not when the scheduler hands the task over: short tasks are handed over
   * hundreds at a time, before the first ones have run.)
   */
  async run(index: number, task: Task, gate?: StartGate): Promise<TaskOutcome> {
    const policy = retryPolicy(task, this.defaults);
    // Already known tiny (the common case once decided): straight to this thread, no dispatch or
    // queue (~15 µs per task). Not right after a failure: the scheduler sees it first (#route).
    if (gate !== undefined && this.#inlineNow(task, policy)) {
      if (this.#runs.policy.onTrial(task)) return await this.#runOnTrial(index, task, gate, policy);
      return await this.#runInline(index, task, gate, false);
    }
    return await this.#handOver(index, task, gate, policy);
  }

  /** Whether `task` runs in this thread now, straight (see {@link run}). */
  #inlineNow(task: Task, policy: RetryPolicy): boolean {
    return !this.#stopping && this.#afterFailure === undefined && this.#runs.policy.inline(task, policy);
  }

  /** The turn of the last task on trial (InlinePolicy.onTrial): settled once it has run or gone to the threads. */
  #trialTurn: Promise<void> = Promise.resolve();

  /**
   * A task whose function runs here only on the last run's verdict: it waits for the tasks on trial
   * before it, then runs here if its function is still inline, else goes to the threads. (Handed
   * over together, 2 per thread at first, they would all have run here one after the other, each
   * as slow as the first: 16 sync ticks of 1 s took 16.3 s with `--threads 8`, 3.5 s without
   * the verdict.)
   */
  async #runOnTrial(index: number, task: Task, gate: StartGate, policy: RetryPolicy): Promise<TaskOutcome> {
    const before = this.#trialTurn;
    let done!: () => void;
    this.#trialTurn = new Promise((resolve) => (done = resolve));
    try {
      await before;
      if (!this.#inlineNow(task, policy)) {
        done();
        return await this.#handOver(index, task, gate, policy);
      }
      // Decided while this task waited (its function's own runs confirmed the verdict): the tasks
      // behind it need not wait for this one's result (each would be committed alone).
      if (!this.#runs.policy.onTrial(task)) done();
      return await this.#runInline(index, task, gate, false);
    } finally {
      done();
    }
  }

  /** Hands task `index` to the queue: a worker thread runs it, or this thread if so decided when its turn comes (#route). */
  async #handOver(index: number, task: Task, gate: StartGate | undefined, policy: RetryPolicy): Promise<TaskOutcome> {
    let resolve!: (outcome: TaskOutcome | InlineAnswer) => void;
    const answered = new Promise<TaskOutcome | InlineAnswer>((r) => (resolve = r));
    const claims = this.#claims;
    let withdraw!: () => void;
    const withdrawn = new Promise<void>((r) => (withdraw = r));
    const token = claims.open(index);
    const dispatch: Dispatch = { index, task, claims, token, gate, policy, pending: 0, sent: 0, resolve, settled: false, withdrawn, withdraw };
    this.#dispatches.set(index, dispatch);
    void this.#queue.add(() => this.#route(dispatch, gate !== undefined)).catch((e: unknown) => {
      // A runner fault (the pool's answers are handled in #send): reported on the task.
      this.#answer(dispatch, { kind: 'failed', keptFailed: false, error: errorInfo(e, true) });
    });
    const raw = await answered;
    if (this.#dispatches.get(index) === dispatch) this.#dispatches.delete(index);
    if (raw === RUN_INLINE || raw === PROBE) return await this.#runInline(index, task, gate!, raw === PROBE);
    // Seen as the thread answers (before the commit, which short tasks wait for in groups).
    this.#runs.policy.observe(task, raw);
    this.#countAnswer(raw);
    // Exit checks see each task as its thread answers, not once its result is committed (for short
    // tasks, in groups): a check that fires sets the stop flag, which tasks queued in threads obey.
    if (raw.kind === 'executed') gate?.ran();
    gate?.mayStart();
    // The worker wrote the result and is free: commit it here, outside the window, so that the
    // thread's next task starts while this one's result is flushed and renamed into place. Results
    // of short tasks are committed in groups (two syncfs calls for the group, see sync-fs.ts).
    const urgent = this.#window.commitEarly || this.#groupDone();
    // Its run record goes to the store before its result is committed (src/run-records.ts).
    this.recorder?.record(task, raw);
    const outcome = await commitHandedOver(task, raw, this.store, this.keepFailed, urgent);
    if (outcome.kind === 'failed' && raw.kind === 'executed') this.recorder?.record(task, { ...outcome, thread: raw.thread });
    this.#observe(outcome);
    return outcome;
  }

  /**
   * A dispatch's turn in the queue: where its task runs. In this thread when its function has
   * proved tiny, or as a probe (#mayProbe); else in a worker thread (alone when it has a time
   * limit, batched with others when tasks are short). `inlineAllowed`: the scheduler's gate is
   * there (the main thread needs it to run a task).
   */
  async #route(dispatch: Dispatch, inlineAllowed: boolean): Promise<void> {
    // The queue starts this job as soon as the previous one settles, before the scheduler has
    // seen that outcome. After a failure, let the scheduler take it first: without --keep-going
    // the run is stopping, and this task must not start. (Other outcomes never stop a run here:
    // exit checks budget tasks at dispatch, signals stop the executor at once.)
    if (this.#afterFailure !== undefined) await this.#afterFailure;
    // A task before this one is deciding whether it is alone: tasks go to the threads in graph order.
    if (this.#deciding !== undefined) await this.#deciding;
    const { task, policy } = dispatch;
    if (this.#stopping) return this.#answer(dispatch, { kind: 'cancelled' });
    if (inlineAllowed && this.#runs.policy.inline(task, policy)) return this.#answer(dispatch, RUN_INLINE);
    // Usually decided at once; a wait (one turn) only for a task that looks alone in flight.
    let probe = inlineAllowed ? this.#mayProbe(dispatch) : false;
    if (typeof probe !== 'boolean') {
      probe = await probe;
      if (this.#stopping) return this.#answer(dispatch, { kind: 'cancelled' });
    }
    if (probe) return await this.#probe(dispatch);
    this.#runs.sendingToThreads(); // the load gate (load-gate.ts)
    let sent: Promise<void>;
    if (policy.timeoutMs !== undefined) sent = this.#sendTimed(dispatch, policy.timeoutMs);
    else if (this.#window.depth > 2) sent = this.#sendBatched(dispatch);
    else sent = this.#send([dispatch]);
    await Promise.race([sent, dispatch.withdrawn]);
  }

  /** Ends the probe's job (frees its slot in the queue). */
  #probeEnded: (() => void) | undefined;

  /**
   * Whether `dispatch` runs in this thread as a probe: its function has no measured runs yet
   * (inline-policy.ts), no probe runs, it has no time limit — and either every other slot of the
   * queue holds a task handed to the threads (so that threads booting or booted have work while
   * this thread may be inside a long synchronous task: the first tasks go to them) and the
   * function has many tasks (MainThreadRuns.cheap), or it is the only task in flight and most of its
   * inputs were computed here (the last task of a pass, such as a sum over tiny tasks this thread
   * ran: MainThreadRuns.inputsMostlyHere).
   * The probe holds its slot while it runs: N task functions at most run at once.
   */
  #mayProbe(dispatch: Dispatch): boolean | Promise<boolean> {
    if (!this.#probeCandidate(dispatch)) return false;
    if (this.#queue.pending - 1 >= this.#queue.concurrency - 1 && this.#runs.cheap(dispatch.task.name)) return true;
    if (!this.#alone() || !this.#runs.inputsMostlyHere(dispatch.task)) return false;
    // Alone so far, but the scheduler may be dispatching more in this same turn: look again after
    // it (tasks dispatched meanwhile wait for this decision: #deciding).
    const decided = new Promise<boolean>((resolve) => setImmediate(() => resolve(this.#probeCandidate(dispatch) && this.#alone())));
    const deciding = decided.then(() => {
      if (this.#deciding === deciding) this.#deciding = undefined;
    });
    this.#deciding = deciding;
    return decided;
  }

  /** Settles once a task that looked alone in flight has decided where it runs (see #mayProbe). */
  #deciding: Promise<void> | undefined;

  #probeCandidate({ task, policy }: Dispatch): boolean {
    return !this.#stopping && this.#runs.candidate(task, policy);
  }

  /** Nothing but one dispatch is in flight: no other task handed over, none running in this thread. */
  #alone(): boolean {
    return this.#dispatches.size === 1 && this.#runs.running === 0;
  }

  /** Hands `dispatch` to this thread as a probe; resolves when it has run (see #runInline). */
  #probe(dispatch: Dispatch): Promise<void> {
    if (dispatch.settled) return Promise.resolve(); // stopped meanwhile: nothing runs
    this.#runs.probing = true;
    if (tracing) trace(`probe: ${dispatch.task.name} runs in the main thread`);
    const ended = new Promise<void>((resolve) => (this.#probeEnded = resolve));
    this.#answer(dispatch, PROBE);
    return ended;
  }

  /** Runs task `index` in this thread, as the serial runner does; its duration feeds the inline policy. */
  async #runInline(index: number, task: Task, gate: StartGate, probe: boolean): Promise<TaskOutcome> {
    this.#runs.running++;
    try {
      const outcome = await this.#inline.run(index, task, gate, probe ? this.#runs.timedProbe : undefined);
      this.#runs.ran(task, outcome);
      if (probe && this.#runs.probeEnded(task, retryPolicy(task, this.defaults), outcome)) this.#holdThreads();
      return outcome;
    } finally {
      this.#runs.running--;
      if (probe) {
        this.#runs.probing = false;
        this.#probeEnded?.();
      }
    }
  }

  /**
   * Tasks proved tiny: the tasks the threads hold and have not started (none has: they wait for
   * the gate) come back to run here, and the threads hold on without loading the jugfile — unless
   * some task they hold must run in a thread, which then loads it.
   */
  #holdThreads(): void {
    let keep = false;
    for (const d of this.#dispatches.values()) {
      if (d.settled || d.sent === 0) continue;
      const inline = d.gate !== undefined && this.#runs.policy.inline(d.task, d.policy);
      if (inline && d.claims.withdraw(d.index, d.token)) {
        this.#answer(d, RUN_INLINE);
        d.withdraw();
      } else keep = true;
    }
    if (tracing) trace(keep ? 'load gate: threads load (they hold tasks)' : 'load gate: threads hold (tasks are tiny)');
    this.#runs.gate?.set(keep ? GateState.Go : GateState.Held);
  }

  /** Results of short tasks handed to the store since its last flush. */
  #grouped = 0;

  /**
   * A result of a short task is handed to the store: whether it completes the group being
   * gathered, which is then committed (with it and after it: `urgent`). That is when the group is
   * large enough, or when a thread has nothing left to run (what would run next may need these
   * results: a chain of short tasks, or the end of a pass).
   */
  #groupDone(): boolean {
    const idle = (this.#size()?.occupancy().idle ?? 1) > 0;
    if (++this.#grouped < COMMIT_GROUP && !idle) return false;
    this.#grouped = 0;
    return true;
  }

  /** Dispatches not answered yet, by task index (the latest per index). */
  readonly #dispatches = new Map<number, Dispatch>();
  /** The pass's claims (see claims.ts). */
  #claims = new TaskClaims(0);

  /** Short tasks whose jobs started in this turn of the event loop, sent together at its end. */
  #batch: { readonly dispatch: Dispatch; readonly sent: () => void }[] = [];

  /**
   * Short tasks: sends `dispatch` with the others whose jobs start in this turn of the event loop
   * (a finished batch frees as many jobs at once), in requests of at most BATCH tasks. Resolves
   * once its request is answered.
   */
  #sendBatched(dispatch: Dispatch): Promise<void> {
    return new Promise<void>((sent) => {
      this.#batch.push({ dispatch, sent });
      if (this.#batch.length > 1) return;
      setImmediate(() => {
        const all = this.#batch;
        this.#batch = [];
        // Even requests: 20 tasks go as 10 + 10, not 16 + 4.
        const size = Math.ceil(all.length / Math.ceil(all.length / BATCH));
        for (let i = 0; i < all.length; i += size) {
          const part = all.slice(i, i + size);
          void this.#send(part.map((p) => p.dispatch)).then(() => part.forEach((p) => p.sent()));
        }
      });
    });
  }

  /** Sends one copy of each of `dispatches` to a thread, in one request, and takes the answers. */
  async #send(dispatches: readonly Dispatch[]): Promise<void> {
    // Without an abort signal, a call is never 'killed'.
    const outcomes = (await this.#call(dispatches.map((d) => this.#request(d)))) as TaskOutcome[];
    this.#deliver(dispatches, outcomes);
    // This thread may now be idle while another holds a task it has not started.
    this.#stealSoon();
  }

  /** A request for one copy of `dispatch` (`timed`: the fields of a task with a time limit). */
  #request(
    dispatch: Dispatch,
    timed?: Pick<WorkerRequest, 'attempt' | 'firstAttempt' | 'lockHeld'>,
  ): { readonly dispatch: Dispatch; readonly request: WorkerRequest } {
    const copy = dispatch.claims.copy();
    dispatch.pending++;
    dispatch.sent++;
    if (tracing) trace(`send ${dispatch.index} copy ${copy}`);
    const request: WorkerRequest = {
      index: dispatch.index,
      hash: dispatch.task.hash(),
      table: this.table.buffer,
      tasks: this.table.tasks,
      threads: this.table.threads,
      generation: this.#generation,
      stored: this.#stored,
      storedCount: this.#storedCount,
      stop: this.#stopFlag.buffer as SharedArrayBuffer,
      claims: dispatch.claims.buffer,
      token: dispatch.token,
      copy,
      ...timed,
    };
    return { dispatch, request };
  }

  /**
   * Hands `sent` to the pool in one call and returns each request's outcome. A thread that died
   * under them is cleaned up after (see #workerDied); `killed` says the thread was terminated on
   * purpose (a timeout): then nothing is cleaned up here and 'killed' is returned.
   */
  async #call(
    sent: readonly { readonly dispatch: Dispatch; readonly request: WorkerRequest }[],
    abort?: { readonly signal: AbortSignal; readonly killed: () => boolean },
  ): Promise<TaskOutcome[] | 'killed'> {
    const requests = sent.map((s) => s.request);
    const call: WorkerCall = requests.length === 1 ? requests[0]! : { batch: requests };
    if (tracing && requests.length > 1) trace(`batch of ${requests.length}`);
    // Stopping, and no pool yet: none is started for this (nothing of these tasks ran).
    if (this.#stopping && this.lazy.current === undefined) return sent.map((): TaskOutcome => ({ kind: 'cancelled' }));
    try {
      const inPool = this.lazy.get().run(call, abort === undefined ? undefined : { signal: abort.signal });
      this.#inPool.add(inPool);
      this.#size()?.handedOver(this.#inPool.size);
      const answer = (await inPool.finally(() => this.#inPool.delete(inPool))) as TaskOutcome | TaskOutcome[];
      return Array.isArray(answer) ? answer : [answer];
    } catch (e) {
      if (abort?.killed() === true) return 'killed';
      // The thread died (or the pool is being destroyed). A death while it ran one of these tasks
      // fails that task; otherwise it died outside any task, which the run reports as a fault.
      const running = sent.some(
        ({ dispatch: d, request }) => d.claims.claimedBy(d.index, request.copy) && this.table.isRunningOnThread(d.index),
      );
      if (running && typeof e === 'object' && e !== null) this.#deathsOfTasks.add(e);
      else setImmediate(() => {
        const pool = this.lazy.current;
        if (pool !== undefined && (typeof e !== 'object' || e === null || !this.#deathsOfTasks.has(e))) reportThreadDeath(pool, e);
      });
      return await Promise.all(
        sent.map(({ dispatch, request }) =>
          this.#workerDied(dispatch, request.copy, e).catch(
            // Cleaning up after a dead thread failed (the store): a runner fault, reported on the task.
            (err: unknown): TaskOutcome => ({ kind: 'failed', keptFailed: false, error: errorInfo(err, true) }),
          ),
        ),
      );
    }
  }

  /** Answers of the threads that said a task ran (or failed), for PoolSize's waves. */
  #answers = 0;
  /**
   * Whether this thread has run or runs a task (a probe, or a function already judged tiny). Before
   * that and before any thread's answer nothing says the tasks are tiny, and holding the next wave
   * waits for the first thread to boot and run one task for LONG_MS: with primes (99 tasks of 1 s,
   * too few to probe) the second wave started ~20 ms after the first thread's first task instead
   * of when the main thread had loaded the jugfile (docs/design.md, "primes --threads 8").
   */
  get #measuredHere(): boolean {
    return this.#runs.probing || this.#runs.running > 0 || this.#runs.policy.anyRun();
  }

  /** A thread's task failed: threads are started as tasks wait, tiny or not. */
  #failedSeen = false;

  /** Counts a thread's answer for PoolSize's waves: once a function proves not tiny, a held wave starts. */
  #countAnswer(outcome: TaskOutcome): void {
    if (outcome.kind === 'cancelled' || outcome.kind === 'loaded') return; // nothing ran
    this.#answers++;
    if (outcome.kind === 'failed') this.#failedSeen = true;
    if (!this.#tinySoFar()) this.#size()?.answeredSlow();
  }

  /**
   * Whether the tasks the threads ran and run all look tiny (PoolSize holds later waves back
   * then): no failure, no function the inline policy judged slow, no thread running one task for
   * LONG_MS or more, and fewer than HOLD_ANSWERS answers (the policy has decided by then).
   */
  #tinySoFar(): boolean {
    if (this.#failedSeen || this.#answers >= HOLD_ANSWERS || this.#runs.policy.anySlow()) return false;
    // Nothing measured and nothing measuring: no sign yet that the tasks are tiny (see #measuredHere).
    if (this.#answers === 0 && !this.#measuredHere) return false;
    const now = Date.now();
    return this.table.threadSlots().every((s) => s.task < 0 || now - s.since < LONG_MS);
  }

  /** Takes the answers of one request: each dispatch settles (unless another copy is still out). */
  #deliver(dispatches: readonly Dispatch[], outcomes: readonly TaskOutcome[]): void {
    dispatches.forEach((dispatch, i) => {
      const outcome = outcomes[i]!;
      dispatch.pending--;
      if (outcome.kind === 'failed') {
        this.#afterFailure ??= new Promise<void>((resolve) =>
          setImmediate(() => {
            this.#afterFailure = undefined;
            resolve();
          }),
        );
      }
      this.#answer(dispatch, outcome);
    });
  }

  /**
   * A task with a time limit: sent alone, to a thread running nothing else (the balancer sees it
   * is abortable), so that terminating the thread at the timeout stops only this task. The
   * parent watches the attempts' starts (AttemptClock) and terminates the thread once one
   * has run TIMEOUT_GRACE_MS past the limit; Piscina replaces the thread (which loads the
   * jugfile again). Then the task is sent again, lock kept, while attempts remain
   * (afterTimeoutKill decides, releases or marks the lock, and waits the back-off).
   */
  async #sendTimed(dispatch: Dispatch, timeoutMs: number): Promise<void> {
    let timed: Pick<WorkerRequest, 'attempt' | 'firstAttempt' | 'lockHeld'> = {};
    for (;;) {
      const clock = createAttemptClock();
      const abort = new AbortController();
      const unwatch = this.#timeouts.watch(clock, timeoutMs, () => abort.abort());
      const sent = this.#request(dispatch, { ...timed, attempt: clock });
      const outcomes = await this.#call([sent], { signal: abort.signal, killed: () => abort.signal.aborted });
      unwatch();
      if (outcomes !== 'killed') {
        const [outcome] = outcomes;
        // Stopped before its retry started: the lock this process kept for it is released.
        if (outcome!.kind === 'cancelled' && timed.lockHeld === true) await this.#releaseKept(dispatch);
        this.#deliver([dispatch], [outcome!]);
        return;
      }
      dispatch.pending--;
      // The terminated thread, for the failure's run record (its slot still shows the task).
      const thread = this.table.threadSlots().find((s) => s.task === dispatch.index)?.thread ?? 0;
      this.table.releaseThreadSlotOf(dispatch.index);
      const next = await afterTimeoutKill({
        task: dispatch.task,
        store: this.store,
        policy: dispatch.policy,
        attempt: readAttemptClock(clock).attempt || (timed.firstAttempt ?? 1),
        keepFailed: this.keepFailed,
        stopping: () => this.#stopping,
        onAttemptFailed: (failure) => dispatch.gate?.attemptFailed?.(failure),
      });
      if (next.kind !== 'retry') {
        dispatch.pending++; // #deliver counts this answer
        this.#deliver([dispatch], [next.kind === 'failed' && thread > 0 ? { ...next, thread } : next]);
        return;
      }
      dispatch.token = dispatch.claims.open(dispatch.index);
      timed = { firstAttempt: next.attempt, lockHeld: true };
    }
  }

  /** Releases the lock this process kept for a task between two attempts. */
  async #releaseKept(dispatch: Dispatch): Promise<void> {
    const lock = this.store.lock(dispatch.task.hash());
    if (await lock.adopt()) await lock.release();
  }

  /**
   * Takes one copy's answer. `cancelled` from a copy means it did not start the task: the other
   * copy did (its answer follows), or none did and none is left to (then the task is cancelled).
   */
  #answer(dispatch: Dispatch, outcome: TaskOutcome | InlineAnswer): void {
    if (dispatch.settled) return;
    if (outcome !== RUN_INLINE && outcome !== PROBE && outcome.kind === 'cancelled' && dispatch.pending > 0) return;
    dispatch.settled = true;
    dispatch.resolve(outcome);
  }

  #stealScheduled = false;

  /** Runs {@link #steal} once the scheduler has dispatched what the last outcomes made ready. */
  #stealSoon(): void {
    // Only while a thread holds at most two tasks: behind short tasks, a queued one starts soon anyway.
    if (this.#stealScheduled || this.#window.depth !== 2) return;
    this.#stealScheduled = true;
    setImmediate(() => {
      this.#stealScheduled = false;
      this.#steal();
    });
  }

  /**
   * Threads are idle while nothing else waits to be dispatched, and other threads hold tasks they
   * have not started (queued behind the one they run): send those tasks to the idle threads too.
   * The copy that starts first runs the task (claims.ts); the other answers `cancelled`.
   */
  #steal(): void {
    const size = this.#size();
    if (size === undefined || this.#stopping || this.#queue.size > 0 || (this.lazy.current?.queueSize ?? 0) > 0) return;
    const { idle, waiting } = size.occupancy();
    // A task just sent to an idle thread is unclaimed too, until that thread starts it: only as
    // many tasks as wait behind others are sent again.
    let moves = Math.min(idle, waiting);
    for (const dispatch of this.#dispatches.values()) {
      if (moves === 0) break;
      if (dispatch.settled || dispatch.sent !== 1 || dispatch.pending !== 1) continue;
      if (dispatch.policy.timeoutMs !== undefined) continue; // sent alone, to a thread it may terminate
      if (!dispatch.claims.unclaimed(dispatch.index, dispatch.token)) continue;
      trace(`thread idle: task ${dispatch.index} sent to it too`);
      void this.#send([dispatch]);
      moves--;
    }
  }

  /**
   * The worker holding copy `copy` of `dispatch` died (or could not start). If that copy had
   * started the task (claimed it) and its thread was running it, the task failed: clean its lock
   * and thread slot. If it had started it but not reached the function yet, release the lock and
   * hand the task back. If it never started it, nothing of the task was done there.
   */
  async #workerDied(dispatch: Dispatch, copy: number, e: unknown): Promise<TaskOutcome> {
    const { index, task } = dispatch;
    const lock = this.store.lock(task.hash());
    const loadFailure = /could not load the jugfile/.test(errorInfo(e).message);
    if (!loadFailure && !dispatch.claims.claimedBy(index, copy)) return { kind: 'cancelled' };
    if (!loadFailure && !this.table.isRunningOnThread(index)) {
      if (await lock.adopt()) await lock.release();
      return { kind: 'cancelled' };
    }
    this.table.releaseThreadSlotOf(index);
    const error = workerDeathError(errorInfo(e, true));
    const record = makeFailureRecord(task, error);
    let keptFailed = false;
    if (await lock.adopt()) {
      if (this.keepFailed) keptFailed = await lock.fail(record);
      else await lock.release();
    }
    return { kind: 'failed', keptFailed, error, record };
  }

  /**
   * What this run says for the next run of the jugfile (thread-verdict.ts): 'threads' when a thread
   * loaded the jugfile; the functions proved tiny when none did and some did so here; else nothing.
   */
  verdict(): ThreadVerdict | 'threads' | undefined {
    const pool = this.lazy.current;
    if (pool !== undefined && threadsStarted(pool) > 0) return 'threads';
    const tiny = this.#runs.policy.tinyFunctions();
    return tiny.length > 0 ? { tiny } : undefined;
  }

  /** Fewer tasks are left in this pass than threads: idle threads beyond that stop (pool-size.ts). */
  remaining(tasks: number): void {
    this.#size()?.retireBeyond(tasks);
  }

  stop(): void {
    this.#stopping = true;
    this.#inline.stop();
    Atomics.store(this.#stopFlag, 0, 1);
    this.#runs.gate?.progress(); // requests waiting in threads for the load gate see the stop
    // Tasks no thread has started (waiting for a free slot, queued in a thread behind another, or
    // sent to a thread still loading the jugfile) will not start now: settle them at once rather
    // than wait for their threads to answer (a thread stuck loading would never answer).
    for (const d of this.#dispatches.values()) {
      if (!d.settled && d.claims.withdraw(d.index, d.token)) {
        d.settled = true;
        d.resolve({ kind: 'cancelled' });
      }
    }
  }

  /** Ends the pool once the run is over. */
  async close(): Promise<void> {
    // Every task has its outcome, but the second copy of a task that moved to an idle thread may
    // still be queued in its first thread: with the stop flag set it answers `cancelled` at once.
    // Let Piscina take that answer (a late one, after the pool is destroyed, is ignored: `closed`),
    // but don't wait for requests stuck in a thread that never finished loading the jugfile.
    this.stop();
    const pool = this.lazy.current;
    if (pool === undefined) return; // never started: no thread ran anything
    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: with requests stuck in a thread that never loaded, nothing else may keep the
    // event loop alive until the pool is destroyed.
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    // No thread has loaded the jugfile (they held off: load-gate.ts): none can be running a request.
    if (threadsStarted(pool) > 0) await Promise.race([Promise.allSettled([...this.#inPool]), bound]);
    clearTimeout(timer);
    await destroyThreadPool(pool);
    // Every result this process prepared is committed by now; what is left in tempfiles/ under its
    // name was written by a thread that died with it (results of a batch that never got answered).
    await this.store.abandonWrites();
  }

  /** Errors of thread deaths reported as the failure of the task the thread was running. */
  readonly #deathsOfTasks = new WeakSet<object>();

  /** Requests handed to the pool and not answered yet. */
  readonly #inPool = new Set<Promise<unknown>>();

  /** Kills the running tasks at once; their locks are released and no partial result remains. */
  async abort(running: readonly Task[]): Promise<void> {
    this.#stopping = true;
    await this.#inline.abort([]); // signals a task running inline; every lock is released below
    if (this.lazy.current !== undefined) await destroyThreadPool(this.lazy.current);
    await releaseAbandoned(this.store, running);
  }
}

/** What to report for a task whose worker thread died (or could not load the jugfile). */
function workerDeathError(info: ErrorInfo): ErrorInfo {
  const exit = /^worker exited with code: (-?\d+)/.exec(info.message);
  if (exit !== null) {
    // Piscina's own stack says nothing about the task.
    const message = `the worker thread running it died: exit code ${exit[1]} (the task, or code it started, called process.exit())`;
    return { ...info, message, stack: `Error: ${message}` };
  }
  const message = /could not load the jugfile/.test(info.message) ? info.message : `the worker thread running it died (${info.message})`;
  return { ...info, message, stack: `Error: ${message}\n${info.stack}` };
}
