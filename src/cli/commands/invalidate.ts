/**
 * `jug invalidate --target PATTERN`: removes the results of the matching tasks and of every task
 * that depends on them (transitively, through Tasklets and any other argument), so the next
 * `jug execute` computes them again.
 */
import { openProject, taskMatcher, taskTarget, TARGET_HASH_NOTE, type CommonOptions, type Project, type TaskSelector } from '../common.js';
import { compactQuietly, countNames, invalidate as invalidateTasks, runningWarning } from '../invalidation.js';
import { renderShort, renderTable } from '../table.js';
import { UsageError } from '../../errors.js';
import { codeState } from '../outdated-state.js';
import { describeChanged } from '../../outdated/analysis.js';

/** Options of `jug invalidate`. */
export interface InvalidateOptions extends CommonOptions {
  /** Pattern of the task names to invalidate, or a task hash or unique hash prefix (as `execute --target`). Required unless `outdated`. */
  target?: string;
  /** The outdated results (computed by code that has changed since: `jug status --outdated`), and everything downstream. @default false */
  outdated?: boolean;
  /** One line instead of the table. @default false */
  short?: boolean;
  /** Invalidate even though the jugfile stops at a barrier() (tasks after it are not visible). @default false */
  ignoreBarrier?: boolean;
}

export async function invalidate(jugfile: string | undefined, options: InvalidateOptions): Promise<number> {
  if (options.target === undefined && !options.outdated) {
    throw new UsageError('jug invalidate needs --target PATTERN (tasks by name or hash) or --outdated (results computed by code changed since).');
  }
  if (options.target !== undefined) taskMatcher(options.target); // a bad regular expression is reported before the jugfile loads
  const project = await openProject(jugfile, options);
  try {
    const named = options.target === undefined ? () => true : taskTarget(options.target, project.graph.tasks);
    const code = options.outdated
      ? await invalidateOutdated(project, named, options)
      : await invalidateProject(project, named, { ...options, target: options.target! });
    // The records of the removed results go too (a record of a removed result never shows as done anyway).
    if (code === 0) await compactQuietly(project.store, (s) => process.stderr.write(s));
    return code;
  } finally {
    await project.store.close();
  }
}

/** The command on an opened project (unit-testable with a MemoryStore). */
export async function invalidateProject(
  project: Project,
  matches: TaskSelector,
  options: Pick<InvalidateOptions, 'short' | 'ignoreBarrier'> & { readonly target: string },
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const { graph, store } = project;
  const roots = graph.tasks.flatMap((t, i) => (matches(t) ? [i] : []));
  if (roots.length === 0 && project.barrier !== undefined && !options.ignoreBarrier) {
    err(
      `jug: no task declared before barrier() (${project.barrier.where}) matches --target '${options.target}', and ` +
        `the tasks declared after it are not known because tasks before it are not all computed: they may ` +
        `match and have stored results. Nothing was removed. Run \`jug execute\` until the barrier is passed, ` +
        `then invalidate again.\n`,
    );
    return 1;
  }
  if (roots.length === 0) {
    const names = [...new Set(graph.tasks.map((t) => t.name))].sort();
    err(
      `jug: no task name matches --target '${options.target}'` +
        (names.length > 0 ? ` (task names: ${names.join(', ')})` : ' (the jugfile declares no tasks)') +
        `. ${TARGET_HASH_NOTE}\n`,
    );
    out('No results invalidated.\n');
    return 0;
  }
  if (project.barrier !== undefined && !options.ignoreBarrier) {
    // Tasks declared after the barrier are not loaded, so their results (which may depend on the
    // matched tasks by hash) cannot be found; removing only the visible ones would leave them
    // stale, and the next run would happily load them.
    err(
      `jug: the jugfile stops at barrier() (${project.barrier.where}) because tasks before it are not all ` +
        `computed, so the tasks declared after it are not known and their results, which may depend on ` +
        `'${options.target}', cannot be invalidated. Nothing was removed. Run \`jug execute\` until the ` +
        `barrier is passed, then invalidate again; or pass --ignore-barrier to invalidate only the tasks ` +
        `before it.\n`,
    );
    return 1;
  }
  const result = await invalidateTasks(graph, store, roots);
  err(runningWarning(graph, result));
  if (result.failureMarksRemoved > 0) {
    err(`jug: removed ${result.failureMarksRemoved} failure mark(s), so those tasks run again.\n`);
  }
  if (result.removed.length === 0) {
    out('Tasks matched, but none had a stored result.\n');
    return 0;
  }
  const rows = new Map([...countNames(graph, result.removed)].map(([name, n]) => [name, [n]]));
  out(options.short ? renderShort(['Invalidated'], rows) : renderTable(['Invalidated'], rows));
  return 0;
}

/**
 * `--outdated`: removes the results computed by code that has changed since (those `jug status
 * --outdated` lists; with --target, only those among the matching tasks) and everything that
 * depends on them, with the same cascade as --target. Results of unknown code are kept.
 */
export async function invalidateOutdated(
  project: Project,
  matches: TaskSelector,
  options: Pick<InvalidateOptions, 'short' | 'ignoreBarrier'>,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const { graph, store } = project;
  const { analysis } = await codeState(graph, store, await store.list());
  const roots = graph.tasks.flatMap((t, i) => (analysis.states[i] === 'outdated' && matches(t) ? [i] : []));
  if (project.barrier !== undefined && !options.ignoreBarrier) {
    err(
      `jug: the jugfile stops at barrier() (${project.barrier.where}) because tasks before it are not all computed, so ` +
        'the results after it, which may depend on outdated ones, are not known. Nothing was removed. Run `jug execute` ' +
        'until the barrier is passed, then invalidate again; or pass --ignore-barrier to invalidate only the tasks before it.\n',
    );
    return 1;
  }
  if (roots.length === 0) {
    out(`No outdated results${analysis.unknown > 0 ? ` (${analysis.unknown} result(s) of unknown code are kept)` : ''}.\n`);
    return 0;
  }
  for (const c of analysis.changed) err(`jug: outdated: ${c.results} result(s) of ${describeChanged(c)}.\n`);
  const result = await invalidateTasks(graph, store, roots);
  err(runningWarning(graph, result));
  const rows = new Map([...countNames(graph, result.removed)].map(([name, n]) => [name, [n]]));
  out(options.short ? renderShort(['Invalidated'], rows) : renderTable(['Invalidated'], rows));
  return 0;
}
