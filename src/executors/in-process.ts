/**
 * The serial executor: task functions run one at a time in this thread, through `executeTask`.
 * Several tasks may be in flight so that stored results are committed in groups (see
 * store/sync-fs.ts): while one result is being flushed to disk the next task already runs.
 */
import { executeTask, type TaskOutcome } from '../execute-task.js';
import { Mutex } from '../mutex.js';
import type { Executor } from '../scheduler.js';
import { TaskState, type StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';

/** Tasks in flight: one running, the others waiting for it or for their commit. */
const PIPELINE = 64;

export class InProcessExecutor implements Executor {
  readonly slots = PIPELINE;
  readonly #mutex = new Mutex();
  #stopping = false;

  constructor(
    private readonly store: Store,
    private readonly table: StatusTable,
    private readonly keepFailed: boolean,
  ) {}

  run(index: number, task: Task): Promise<TaskOutcome> {
    return executeTask(task, this.store, {
      keepFailed: this.keepFailed,
      exclusive: (section) => this.#mutex.run(section),
      cancelled: () => this.#stopping,
      onRun: () => this.table.set(index, TaskState.Running),
    });
  }

  /** Tasks still waiting for their turn resolve as `cancelled`. */
  stop(): void {
    this.#stopping = true;
  }
}
