/** `jug execute`: run every task whose result is not stored, sharing the work through locks. */
import { ExitError, UsageError } from '../../errors.js';
import { InProcessExecutor } from '../../executors/in-process.js';
import { runGraph, type RunResult, type SchedulerEvent } from '../../scheduler.js';
import { TaskState } from '../../status-table.js';
import { countByName, openProject, taskMatcher, type CommonOptions, type Project } from '../common.js';
import { renderTable } from '../table.js';

/** Options of `jug execute`. */
export interface ExecuteOptions extends CommonOptions {
  /** Continue with independent tasks after a failure. @default false */
  keepGoing?: boolean;
  /** Leave failed tasks' locks marked failed so no process retries them. @default false */
  keepFailed?: boolean;
  /** Only run tasks matching this pattern (and their dependencies). */
  target?: string;
  /** Longest back-off (seconds) while waiting for tasks other processes hold. @default 12 */
  waitCycleTime?: number;
  /** Consecutive fruitless waits before giving up. @default 150 */
  nrWaitCycles?: number;
  /** Print one line of summary instead of the table. @default false */
  short?: boolean;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function execute(jugfile: string | undefined, options: ExecuteOptions): Promise<number> {
  const project = await openProject(jugfile, options);
  const { graph, store } = project;
  const target = options.target === undefined ? undefined : taskMatcher(options.target);
  if (target !== undefined && !graph.tasks.some((t) => target(t.name))) {
    const names = [...new Set(graph.tasks.map((t) => t.name))].sort();
    throw new UsageError(
      `--target '${options.target}' matches no task. Task names are: ${names.join(', ') || '(none)'}.`,
    );
  }

  // SIGINT / SIGTERM: stop dispatching, let the running task end (its lock is released), report.
  const controller = new AbortController();
  let signalName: string | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalName !== undefined) process.exit(SIGNAL_EXIT[sig] ?? 1); // second signal: now
    signalName = sig;
    process.stderr.write(`\njug: ${sig} received: finishing running tasks, then stopping (again to abort now).\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let result: RunResult;
  try {
    result = await runGraph(graph, store, new InProcessExecutor(store, { keepFailed: options.keepFailed ?? false }), {
      keepGoing: options.keepGoing,
      target,
      waitCycleTime: options.waitCycleTime,
      nrWaitCycles: options.nrWaitCycles,
      signal: controller.signal,
      onEvent: options.verbose ? logEvent : undefined,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
  return report(project, result, options, signalName);
}

function logEvent(ev: SchedulerEvent): void {
  if (ev.type === 'start') process.stderr.write(`Executing ${ev.task.name} (${ev.task.hash().slice(0, 10)})...\n`);
  else if (ev.type === 'waiting') {
    process.stderr.write(`Waiting ${(ev.ms / 1000).toFixed(2)} s for ${ev.blocked} task(s) held by other processes...\n`);
  }
}

/** Prints failures, the summary table and why the run stopped; returns the exit code. */
function report(project: Project, result: RunResult, options: ExecuteOptions, signalName?: string): number {
  const { graph, store } = project;
  for (const f of result.failures) {
    const { error, keptFailed } = f.outcome;
    process.stderr.write(
      `\njug: task ${f.task.name} failed (hash ${f.task.hash()}, jugdir ${store.location})` +
        (keptFailed ? ', lock kept marked failed' : '') +
        `:\n${error.stack}\n`,
    );
  }
  const { table } = result;
  const failed = result.failures.length > 0;
  const columns = failed ? ['Executed', 'Loaded', 'Failed'] : ['Executed', 'Loaded'];
  const col = (i: number): number | undefined => {
    const s = table.get(i);
    if (s === TaskState.Executed) return 0;
    if (s === TaskState.Loaded) return 1;
    if (s === TaskState.Failed && failed) return 2;
    return undefined;
  };
  const rows = countByName(graph, col, columns.length);
  if (options.short) {
    const total = (k: number): number => [...rows.values()].reduce((a, r) => a + r[k]!, 0);
    process.stdout.write(columns.map((c, k) => `${c}:  ${total(k)} tasks`).join('\n') + '\n');
  } else {
    process.stdout.write(renderTable(columns, rows));
  }

  if (signalName !== undefined) {
    process.stderr.write(`jug: stopped by ${signalName}; run \`jug execute\` again to resume.\n`);
    throw new ExitError(SIGNAL_EXIT[signalName] ?? 1);
  }
  if (result.gaveUpOn.length > 0) {
    const t = graph.tasks[result.gaveUpOn[0]!]!;
    process.stderr.write(
      `jug: gave up waiting for ${result.gaveUpOn.length} task(s) locked by other processes ` +
        `(e.g. ${t.name} ${t.hash().slice(0, 10)}); ${result.notRun.length} task(s) depending on them not run. ` +
        `Run \`jug execute\` again later, or see \`jug status\`.\n`,
    );
    return 1;
  }
  if (failed) {
    const blocked = result.notRun.length;
    const why = options.keepGoing
      ? blocked > 0
        ? `${blocked} task(s) depending on failed tasks were not run.`
        : 'all other tasks ran.'
      : 'stopped after the first failure (use --keep-going to continue with independent tasks).';
    process.stderr.write(`jug: ${result.failures.length} task(s) failed; ${why}\n`);
    return 1;
  }
  return 0;
}
