/** The serial executor: runs one task at a time in this thread, through `executeTask`. */
import { executeTask, type TaskOutcome } from '../execute-task.js';
import type { Executor } from '../scheduler.js';
import { TaskState, type StatusTable } from '../status-table.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';

export class InProcessExecutor implements Executor {
  readonly slots = 1;
  constructor(
    private readonly store: Store,
    private readonly table: StatusTable,
    private readonly keepFailed: boolean,
  ) {}

  run(index: number, task: Task): Promise<TaskOutcome> {
    return executeTask(task, this.store, {
      keepFailed: this.keepFailed,
      onRun: () => this.table.set(index, TaskState.Running),
    });
  }
}
