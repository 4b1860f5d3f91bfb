/** The serial executor: runs one task at a time in this thread, through `executeTask`. */
import { executeTask, type ExecuteTaskOptions, type TaskOutcome } from '../execute-task.js';
import type { Executor } from '../scheduler.js';
import type { Store } from '../store/store.js';
import type { Task } from '../task.js';

export class InProcessExecutor implements Executor {
  readonly slots = 1;
  constructor(
    private readonly store: Store,
    private readonly options: ExecuteTaskOptions,
  ) {}

  run(_index: number, task: Task): Promise<TaskOutcome> {
    return executeTask(task, this.store, this.options);
  }
}
