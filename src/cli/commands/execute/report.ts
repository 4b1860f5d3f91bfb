/** The end of `jug execute`: failures, the summary table, why the run stopped, the exit code. */
import { ExitError } from '../../../errors.js';
import { makeFailureRecord } from '../../../failure.js';
import type { Failure, RunResult } from '../../../scheduler.js';
import { TaskState, isFinished } from '../../../status-table.js';
import { barrierNote, countByName, type Project } from '../../common.js';
import { NO_RECORD, STORED_STACK_LINES, formatFailure, retryHint } from '../../failure-report.js';
import { DRAIN_SIGNAL, SIGNAL_EXIT } from '../../signal-handling.js';
import { renderShort, renderTable } from '../../table.js';
import type { ExecuteOptions } from './options.js';
import type { EarlierPasses } from './passes.js';

/**
 * Counts the tasks of earlier passes that the last load no longer declares (a CompoundTask's
 * inner tasks, once its result is stored): Executed (column 0) or Loaded (1), each task once.
 * Python Jug counts them too (it also counts a task again as Loaded in every later pass: not here).
 */
function countUndeclared(rows: Map<string, number[]>, graph: Project['graph'], earlier: EarlierPasses, columns: number): void {
  if (earlier.size === 0) return;
  const declared = new Set(graph.tasks.map((t) => t.hash()));
  for (const [hash, { name, executed }] of earlier) {
    if (declared.has(hash)) continue;
    let row = rows.get(name);
    if (row === undefined) rows.set(name, (row = new Array<number>(columns).fill(0)));
    row[executed ? 0 : 1]!++;
  }
}

/** Prints failures, the summary table and why the run stopped; returns the exit code. */
export function report(
  project: Project,
  result: RunResult,
  earlier: EarlierPasses,
  options: ExecuteOptions,
  signalName?: string,
): number {
  for (const f of result.failures) process.stderr.write(`\n${failureText(f, project.store.location)}`);
  process.stdout.write(summaryTable(project, result, earlier, options.short === true));
  if (result.stoppedBy !== undefined) {
    process.stderr.write(
      `jug: exit check fired: ${result.stoppedBy}; stopped with ${result.notRun.length} task(s) not run ` +
        `(running tasks finished). Run \`jug execute\` again to continue.\n`,
    );
  }
  const failed = result.failures.length > 0;
  if (project.barrier !== undefined && (signalName !== undefined || failed || result.gaveUpOn.length > 0)) {
    const { graph } = project;
    let missing = 0;
    for (let i = 0; i < graph.tasks.length; i++) if (!isFinished(result.table.get(i))) missing++;
    // None missing: the run stopped just as the barrier was passed (the next run goes past it).
    if (missing > 0) process.stderr.write(barrierNote(project.barrier, missing));
  }
  if (signalName !== undefined) reportSignal(signalName, result);
  if (result.gaveUpOn.length > 0) return reportGaveUp(project, result);
  if (failed) return reportFailed(result, options);
  return 0;
}

/** The Executed / Loaded (/ Failed) table by task name, as `--short` or in full. */
function summaryTable(project: Project, result: RunResult, earlier: EarlierPasses, short: boolean): string {
  const { graph } = project;
  const { table } = result;
  const failed = result.failures.length > 0;
  const columns = failed ? ['Executed', 'Loaded', 'Failed'] : ['Executed', 'Loaded'];
  const col = (i: number): number | undefined => {
    const s = table.get(i);
    // Tasks run in an earlier pass (before a barrier) count as executed, not loaded.
    if (s === TaskState.Executed || (s === TaskState.Loaded && earlier.get(graph.tasks[i]!.hash())?.executed)) return 0;
    if (s === TaskState.Loaded) return 1;
    if (s === TaskState.Failed && failed) return 2;
    return undefined;
  };
  const rows = countByName(graph, col, columns.length);
  countUndeclared(rows, graph, earlier, columns.length);
  return short ? renderShort(columns, rows) : renderTable(columns, rows);
}

/** A drain (DRAIN_SIGNAL) ends like a complete run; any other signal throws its exit code. */
function reportSignal(signalName: string, result: RunResult): void {
  if (signalName === DRAIN_SIGNAL) {
    // The drain ends like a complete run (exit 0), unless a task failed (reported after this).
    process.stderr.write(
      `jug: drained after ${signalName}: ${result.notRun.length} task(s) not started; run \`jug execute\` again ` +
        '(or submit again) to continue.\n',
    );
    return;
  }
  process.stderr.write(`jug: stopped by ${signalName}; run \`jug execute\` again to resume.\n`);
  throw new ExitError(SIGNAL_EXIT[signalName] ?? 1);
}

/** Tasks locked by other processes were waited for in vain (`--wait-timeout`): exit 1. */
function reportGaveUp(project: Project, result: RunResult): number {
  const t = project.graph.tasks[result.gaveUpOn[0]!]!;
  process.stderr.write(
    `jug: gave up waiting for ${result.gaveUpOn.length} task(s) locked by other processes ` +
      `(e.g. ${t.name} ${t.hash().slice(0, 10)}); ${result.notRun.length} task(s) depending on them not run. ` +
      `Run \`jug execute\` again later, or see \`jug status\`.\n`,
  );
  return 1;
}

/** Tasks failed: what was not run because of them, and how to retry. Exit 1. */
function reportFailed(result: RunResult, options: ExecuteOptions): number {
  const blocked = result.notRun.length;
  const why = options.keepGoing
    ? blocked > 0
      ? `${blocked} task(s) depending on failed tasks were not run.`
      : 'all other tasks ran.'
    : 'stopped after the first failure (use --keep-going to continue with independent tasks).';
  process.stderr.write(`jug: ${result.failures.length} task(s) failed; ${why}\n`);
  const kept = result.failures.some((f) => f.outcome.keptFailed);
  process.stderr.write(retryHint(kept, result.failures.map((f) => f.task.hash()), options.target));
  return 1;
}

/**
 * One failure as `jug execute` prints it (failure-report.ts): a task that failed in this run, with
 * its stack; or one whose failure mark an earlier run left, with the first lines of the stored
 * record (or a note that it has none).
 */
function failureText(f: Failure, jugdir: string): string {
  const { task, outcome } = f;
  const where = `hash ${task.hash()}, jugdir ${jugdir}`;
  if (f.earlier) {
    const headline = `jug: task ${task.name} failed earlier (${where}); its lock is kept marked failed (--keep-failed), so it was not run:`;
    if (outcome.record === undefined) {
      return `${headline}\n  ${NO_RECORD}\n`;
    }
    return formatFailure(outcome.record, { headline, stackLines: STORED_STACK_LINES });
  }
  const record = outcome.record ?? makeFailureRecord(task, outcome.error);
  const kept = outcome.keptFailed ? ', lock kept marked failed' : '';
  return formatFailure(record, { headline: `jug: task ${task.name} failed (${where})${kept}:`, when: false });
}
