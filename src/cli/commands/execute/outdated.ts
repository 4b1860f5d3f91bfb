/**
 * Outdated results in `jug execute`: stored results computed by code that has changed since are
 * kept and named in one line, or, with --rerun-outdated, removed with everything downstream (the
 * cascade of `jug invalidate`) before the pass runs, so the pass computes them again.
 */
import type { Project, TaskSelector } from '../../common.js';
import { withDependencies } from '../../../graph.js';
import { describeChanged } from '../../../outdated/analysis.js';
import { invalidate, runningWarning } from '../../invalidation.js';
import { codeState, mayHaveOutdated, outdatedRunLine } from '../../outdated-state.js';
import { plural } from '../../table.js';
import type { ExecuteOptions } from './options.js';

/**
 * Before a pass: with `rerunOutdated`, the project with its outdated results (and their
 * dependants; with --target, only those among the targets and what they need) removed, and its
 * listing of stored results updated; else the project as it is,
 * after one line on stderr if some results are outdated (said at the first pass only).
 * `recomputed`: hashes this run computed in earlier passes (current by construction, even if their
 * run records are not written yet).
 */
export async function outdatedBeforePass(
  project: Project,
  pass: number,
  options: Pick<ExecuteOptions, 'rerunOutdated'>,
  recomputed: ReadonlySet<string>,
  target?: TaskSelector,
): Promise<Project> {
  const { graph, store } = project;
  if (project.stored.size === 0 || store.runLog === undefined) return project;
  if (!options.rerunOutdated && pass > 0) return project;
  // Reading and parsing every run record is the expensive part: only when some may be outdated.
  if (!(await mayHaveOutdated(graph, store, project.stored))) return project;
  const { analysis } = await codeState(graph, store, project.stored);
  if (!options.rerunOutdated) {
    process.stderr.write(outdatedRunLine(analysis));
    return project;
  }
  // With --target: only the outdated results this run would compute again (the targets and what they need).
  const selected = target === undefined ? undefined : withDependencies(graph, graph.tasks.flatMap((t, i) => (target(t) ? [i] : [])));
  const roots = graph.tasks.flatMap((t, i) =>
    analysis.states[i] === 'outdated' && !recomputed.has(t.hash()) && (selected === undefined || selected.has(i)) ? [i] : [],
  );
  if (roots.length === 0) return project;
  const result = await invalidate(graph, store, roots);
  const changed = analysis.changed.map(describeChanged).join('; ');
  process.stderr.write(
    `jug: --rerun-outdated: removed ${plural(result.removed.length, 'result')} (${roots.length} outdated, the rest depending on them), ` +
      `to compute again: the code of ${changed} changed.\n`,
  );
  process.stderr.write(runningWarning(graph, result));
  const stored = new Set(project.stored);
  for (const i of result.removed) stored.delete(graph.tasks[i]!.hash());
  return { ...project, stored };
}
