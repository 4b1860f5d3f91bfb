/**
 * What the main thread of `jug execute --threads N` knows about the tasks it runs itself, and the
 * decisions drawn from it (the queue and the dispatches stay in thread-pool.ts):
 * - which functions run inline (tiny: inline-policy.ts);
 * - probes: whether a first task of a function not measured yet may run here (#candidate,
 *   #cheap, #inputsMostlyHere; ThreadPoolExecutor adds what only the queue knows);
 * - the load gate: when the threads load the jugfile (load-gate.ts).
 */
import type { RetryPolicy, TaskOutcome } from '../execute-task.js';
import type { Task } from '../task.js';
import { trace } from '../trace.js';
import type { RunAround } from './in-process.js';
import { InlinePolicy, TINY_MS } from './inline-policy.js';
import { GateState, type LoadGate } from './load-gate.js';

/** Tasks of a function the pass must run, at least, for a probe of it while threads hold others (see {@link MainThreadRuns.cheap}). */
const PROBE_MIN_TASKS = 64;
/** Tasks of a function per thread started after the first wave, for a probe of it (see {@link MainThreadRuns.cheap}). */
const PROBE_TASKS_PER_LATE_THREAD = 32;

export class MainThreadRuns {
  /** Decides which tasks the main thread runs itself (tiny ones). */
  readonly policy = new InlinePolicy();
  /** A probe runs in this thread (one at a time). */
  probing = false;
  /** Tasks this thread runs or is about to run (probes and tiny tasks). */
  running = 0;
  /** Tasks this thread ran (executed) in this run: their results are in its memory, their code hot. */
  readonly #ranHere = new WeakSet<Task>();
  /** Tasks of each function (by name) the pass has to run, as it started. */
  #toRun = new Map<string, number>();

  constructor(
    private readonly threads: number,
    /** Whether probes may run at all (see InlineOptions.probes). */
    private readonly probes: boolean,
    /** Threads that start at the same time (pool-size.ts). */
    private readonly wave: number,
    /** The pool's load gate. @default none (threads load at once) */
    readonly gate: LoadGate | undefined,
    /**
     * Functions the last run found tiny (thread-verdict.ts): they run here from the first task,
     * and the threads (started on demand) load the jugfile once they start. @default none
     */
    private readonly remembered: readonly string[] = [],
  ) {
    this.policy.remember(remembered);
  }

  /** A pass starts: its tasks not in `stored` are what it runs; threads wait only on the first pass's probes. */
  newPass(generation: number, tasks: readonly Task[], stored: ReadonlySet<string>): void {
    this.#toRun = tasksByFunction(tasks, stored);
    this.gate?.set(generation === 0 && this.#holdWorthwhile() ? GateState.Wait : GateState.Go);
  }

  /** Whether a task of `task`'s function (with `policy`) may run here as a probe, as far as the function goes. */
  candidate(task: Task, policy: RetryPolicy): boolean {
    return this.probes && !this.probing && policy.timeoutMs === undefined && this.policy.undecided(task);
  }

  /**
   * Whether a probe of the function `name` would cost little if it blocked this thread a while (a
   * synchronous function): threads start in waves, each wave once the last has started, and
   * this thread starts them; blocked for as long as the probe runs, it delays the threads beyond
   * the first wave by that much. So the function must have PROBE_TASKS_PER_LATE_THREAD tasks to
   * run per such thread (with tasks as long as the probe, the delay is then at most ~3% of the
   * threads' time on them): 5,000 tiny tasks on 8 threads probe, 99 tasks of 1 s do not. And at
   * least PROBE_MIN_TASKS: saving the wait for a thread matters only for many tasks (those the
   * main thread may then run itself, inline-policy.ts); a few stay with the threads.
   * (Not with one thread: it would hold nothing while the probe runs, or hold one beside it.)
   */
  cheap(name: string): boolean {
    if (this.threads <= 1) return false;
    const late = Math.max(0, this.threads - this.wave);
    return (this.#toRun.get(name) ?? 0) >= Math.max(PROBE_MIN_TASKS, PROBE_TASKS_PER_LATE_THREAD * late);
  }

  /**
   * Whether most of `task`'s dependencies (at least half, and one) were run by this thread: then
   * it runs here too when alone in flight, rather than in a thread that reads them from disk with
   * cold code. (A lone task whose inputs came from the threads, or that has none — a long
   * computation a user runs alone with --threads — stays with the threads, where a second Ctrl-C
   * stops it at once.)
   */
  inputsMostlyHere(task: Task): boolean {
    const deps = task.dependencies();
    let here = 0;
    for (const d of deps) if (this.#ranHere.has(d)) here++;
    return deps.length > 0 && 2 * here >= deps.length;
  }

  /** One of this thread's runs ended: its duration feeds the inline policy. */
  ran(task: Task, outcome: TaskOutcome): void {
    this.policy.observe(task, outcome);
    if (outcome.kind === 'executed') this.#ranHere.add(task);
  }

  /**
   * Whether the threads should wait before loading the jugfile: the main thread may probe a
   * function with many tasks (#cheap) and then run them all itself (tiny tasks), so that a
   * thread's load would only take CPU from it. Not without probes, nor with a verdict: threads
   * then start only when a task waits for one.
   */
  #holdWorthwhile(): boolean {
    if (!this.probes || this.remembered.length > 0) return false;
    for (const name of this.#toRun.keys()) if (this.cheap(name)) return true;
    return false;
  }

  /** Threads waiting in WAIT time a probe's task function (load-gate.ts). */
  readonly timedProbe: RunAround = {
    started: () => this.gate?.state === GateState.Wait && this.gate.probing(true),
    ended: () => this.gate?.probing(false),
  };

  /**
   * A probe of `task` ended: true when its function proved tiny while threads still wait (the
   * caller withdraws what they hold: ThreadPoolExecutor's #holdThreads); a probe of TINY_MS or
   * more (or a failure) sends them loading; otherwise they wait on while probes follow.
   */
  probeEnded(task: Task, policy: RetryPolicy, outcome: TaskOutcome): boolean {
    if (this.gate === undefined || !this.gate.holding) return false;
    if (this.policy.inline(task, policy)) return true;
    if (outcome.kind !== 'executed' || outcome.ms >= TINY_MS) this.gate.set(GateState.Go);
    else setImmediate(() => this.goIfIdle());
    return false;
  }

  /**
   * A task is about to go to the threads: threads holding because tasks looked tiny load the
   * jugfile now; threads waiting while this thread probes, once it has nothing else to run.
   */
  sendingToThreads(): void {
    if (this.gate?.state === GateState.Held) this.gate.set(GateState.Go);
    else if (this.gate?.state === GateState.Wait) setImmediate(() => this.goIfIdle());
  }

  /**
   * Threads wait while the main thread probes (WAIT); once a turn of its event loop passes with
   * no probe or inline task started after the last, it has nothing to run but what the threads
   * hold: they load the jugfile.
   */
  goIfIdle(): void {
    if (this.gate?.state === GateState.Wait && !this.probing && this.running === 0) {
      trace('load gate: the main thread is idle, threads load');
      this.gate.set(GateState.Go);
    }
  }
}

/** Tasks of each function (by name) in `tasks` whose results are not in `stored`. */
function tasksByFunction(tasks: readonly Task[], stored: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tasks) if (!stored.has(t.hash())) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  return counts;
}
