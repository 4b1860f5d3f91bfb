/**
 * The main-thread side of hooks for `jug execute`: `execute.task-loadable` for the tasks the
 * scheduler itself finds stored, and the `execute.finished-*` hooks. A hook that throws here is
 * reported at once and makes the run exit 1; the run itself goes on.
 */
import { describeError } from '../errors.js';
import { hasHooks, runHooks, type HookName } from '../hooks.js';
import type { SchedulerEvent } from '../scheduler.js';

export class MainThreadHooks {
  /** True once a hook threw. */
  failed = false;

  #run(name: HookName, call: () => void): void {
    if (!hasHooks(name)) return;
    try {
      call();
    } catch (e) {
      this.failed = true;
      process.stderr.write(`jug: ${describeError(e)}\n`);
    }
  }

  /** Scheduler events: fires `execute.task-loadable` for tasks the scheduler found stored. */
  onEvent(ev: SchedulerEvent): void {
    if (ev.type === 'loaded') this.#run('execute.task-loadable', () => runHooks('execute.task-loadable', ev.task));
  }

  /** Fires `execute.finished-pre-status` or `execute.finished-post-status`. */
  finished(name: 'execute.finished-pre-status' | 'execute.finished-post-status'): void {
    this.#run(name, () => runHooks(name));
  }
}
