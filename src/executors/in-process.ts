/**
 * The serial executor: task functions run one at a time in this thread, through `executeTask`.
 * For short tasks several are kept in flight (AdaptiveWindow) so that their results are committed
 * to disk together once the batch has run (the mutex going idle triggers the store's flush).
 */
import { executeTask, releaseAbandoned, type RunDefaults, type TaskOutcome } from '../execute-task.js';
import { registry } from '../registry.js';
import type { RunRecorder } from '../run-records.js';
import type { RunningTracker } from '../running-notes.js';
import { Mutex } from '../mutex.js';
import type { Executor, StartGate } from '../scheduler.js';
import { TaskState, type StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';
import { noteTaskCodeHere } from './main-thread-code.js';
import { AdaptiveWindow } from './window.js';

/** Tasks in flight when tasks are short (results then committed in groups of up to this many). */
const PIPELINE = 256;

/** Told when a task function starts and ends. */
export interface RunAround {
  started(): void;
  ended(): void;
}

export class InProcessExecutor implements Executor {
  readonly #mutex: Mutex;
  readonly #window = new AdaptiveWindow(PIPELINE);
  #stopping = false;

  constructor(
    private readonly store: Store,
    private readonly table: StatusTable,
    private readonly keepFailed: boolean,
    /** `--debug`: fail tasks that change their arguments. */
    private readonly debug = false,
    /** `--retries`, `--retry-delay`, `--timeout`: for tasks without their own. */
    private readonly defaults: RunDefaults = {},
    /** Where the runs of its tasks are recorded (run records). @default none */
    private readonly recorder?: RunRecorder,
    /** Tells the store which task runs now (running notes). @default none */
    private readonly tracker?: RunningTracker,
    /**
     * process.exit() called by a task function fails that task instead of ending the process (the
     * thread pool's inline runs: in a worker thread such a call ends only that thread). @default false
     */
    private readonly guardExit = false,
  ) {
    this.#mutex = new Mutex(() => store.flush());
  }

  /**
   * Tasks the scheduler may dispatch: the window, doubled for short tasks so that the next batch
   * runs while the previous one is committed to disk.
   */
  get slots(): number {
    const depth = this.#window.depth;
    return depth === PIPELINE ? 2 * depth : depth;
  }

  /** `around`: told when the task function starts and ends (the thread pool's probes: load-gate.ts). */
  async run(index: number, task: Task, gate: StartGate, around?: RunAround): Promise<TaskOutcome> {
    // Its lock is asked for when its turn comes: a network store may take several at once.
    this.store.lockAhead?.(task.hash());
    const outcome = await executeTask(task, this.store, {
      defaults: this.defaults,
      keepFailed: this.keepFailed,
      debug: this.debug,
      // A synchronous task cannot be interrupted here; an async one past its time is let go.
      abandonAfterTimeout: true,
      stopping: () => this.#stopping,
      onAttemptFailed: (failure) => gate.attemptFailed?.(failure),
      exclusive: (section) => this.#mutex.run(section),
      // Exit checks apply between two tasks, even when short tasks' outcomes come in groups.
      cancelled: () => this.#stopping || !gate.mayStart(),
      onRan: () => gate.ran(),
      onSectionStart: () => this.#window.commitEarly && this.store.flush(),
      onRun: () => {
        noteTaskCodeHere();
        if (this.guardExit) guardProcessExit(task);
        this.table.set(index, TaskState.Running);
        // A task expected to run long is noted at once: this thread may block in it.
        this.tracker?.started(task, this.#window.commitEarly);
        around?.started();
      },
      onRunEnd: () => {
        around?.ended();
        if (this.guardExit) unguardProcessExit();
        this.tracker?.ended(task);
      },
      // A result's record goes to the store before the result is committed.
      onResult: (executed) => this.recorder?.record(task, executed),
    });
    if (outcome.kind === 'failed') this.recorder?.record(task, outcome);
    this.#window.observe(outcome);
    return outcome;
  }

  /** Tasks still waiting for their turn resolve as `cancelled`. */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * A task function running in this thread cannot be interrupted; by the time this runs it has
   * yielded, so its lock is released and its unfinished write removed before the process exits.
   */
  async abort(running: readonly Task[]): Promise<void> {
    this.#stopping = true;
    // An async task may still run here with process.exit() guarded: the run's own exit must end the process.
    if (this.guardExit) unguardProcessExit();
    registry().runningSignal?.abort(new Error('the run was aborted (second Ctrl-C)'));
    await releaseAbandoned(this.store, running);
  }
}

/** The real process.exit while a guarded task runs. */
let realExit: typeof process.exit | undefined;

/** Until {@link unguardProcessExit}: process.exit() throws, failing `task` (which called it). */
function guardProcessExit(task: Task): void {
  realExit ??= process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new Error(
      `task ${task.name} called process.exit(${code ?? ''}) in the main thread, where --threads runs tiny tasks itself: ` +
        'the task failed instead of the run ending (in a worker thread, the call ends that thread and fails the task). ' +
        'Throw an error to fail a task.',
    );
  }) as typeof process.exit;
}

function unguardProcessExit(): void {
  if (realExit !== undefined) process.exit = realExit;
  realExit = undefined;
}
