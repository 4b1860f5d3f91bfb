/**
 * The passes of `jug execute`: one per load of the jugfile. A jugfile stopping at a barrier is
 * loaded again once the tasks before the barrier are computed, until it loads to the end; each
 * load's tasks run through the scheduler with their own status table and progress display.
 */
import type { JugfileBundle } from '../../../bundle.js';
import { CorruptResultError, ExitError, JugfileError, UsageError } from '../../../errors.js';
import type { RunDefaults } from '../../../execute-task.js';
import { InProcessExecutor } from '../../../executors/in-process.js';
import type { ThreadPoolExecutor } from '../../../executors/thread-pool.js';
import type { ExitChecks } from '../../../exit-checks.js';
import { prepareTaskCode } from '../../../record-code.js';
import { registry } from '../../../registry.js';
import type { RunRecorder } from '../../../run-records.js';
import type { RunningTracker } from '../../../running-notes.js';
import { runGraph, type Executor, type RunResult } from '../../../scheduler.js';
import { StatusTable, TaskState } from '../../../status-table.js';
import type { Store } from '../../../store/store.js';
import { trace } from '../../../trace.js';
import { TARGET_HASH_NOTE, loadProject, taskTarget, type Project, type TaskSelector } from '../../common.js';
import type { MainThreadHooks } from '../../execute-hooks.js';
import type { RunProgress } from '../../progress/index.js';
import { FailureMarkClearer } from '../../retry-failed.js';
import { takeDelayedSignals, type SignalHandling } from '../../signal-handling.js';
import { logEvent } from './log.js';
import { runnerStoreOptions, type ExecuteOptions } from './options.js';
import { outdatedBeforePass } from './outdated.js';

/** The run was aborted by a second signal: running tasks abandoned, their locks released. */
export class RunAborted extends ExitError {}

/** Tasks finished in earlier passes of this run (before a barrier), by hash. */
export type EarlierPasses = Map<string, { readonly name: string; readonly executed: boolean }>;

/** What every pass of a run shares. */
export interface PassContext {
  readonly store: Store;
  /** The thread pool's executor (--threads), or undefined for the serial runner. */
  readonly threaded: ThreadPoolExecutor | undefined;
  readonly threads: number | undefined;
  readonly options: ExecuteOptions;
  /** --retries, --retry-delay, --timeout as the runners take them. */
  readonly runDefaults: RunDefaults;
  readonly checks: ExitChecks;
  readonly hooks: MainThreadHooks;
  readonly progress: RunProgress;
  readonly signals: SignalHandling;
  /**
   * The tasks this run finished in earlier passes: some (a CompoundTask's inner tasks) are no
   * longer declared once the compound's result is stored, yet they count in the summary.
   */
  readonly earlier: EarlierPasses;
  /** The jugfile bundle the threads load (--threads), which later loads reuse. */
  readonly bundle: Promise<JugfileBundle> | undefined;
  /** Records the runs of the tasks this process executes (run records). */
  readonly recorder: RunRecorder;
  /** Tells the store which tasks run now (running notes). */
  readonly tracker: RunningTracker;
}

/** The last pass: the project as last loaded, and what its run did. */
export interface PassesDone {
  readonly project: Project;
  readonly result: RunResult;
}

/** Runs pass after pass, reloading the jugfile past each barrier, until one ends the run. */
export async function runPasses(first: Project, firstTarget: TaskSelector | undefined, context: PassContext): Promise<PassesDone> {
  const { options, store } = context;
  const clearer = options.retryFailed ? new FailureMarkClearer(store, (m) => process.stderr.write(m)) : undefined;
  let project = first;
  let target = firstTarget;
  for (let pass = 0; ; pass++) {
    if (pass > 0) target = targetOf(options.target, project);
    project = await outdatedBeforePass(project, pass, options, executedIn(context.earlier), target);
    await clearer?.clear(project.graph, target);
    const result = await runPass(project, pass, target, context);
    const passDone = result.failures.length === 0 && result.gaveUpOn.length === 0 && result.notRun.length === 0;
    if (project.barrier === undefined || !passDone || result.aborted || result.stoppedBy !== undefined) return { project, result };
    // A signal (a drain) just as the pass ended: the next pass is not started.
    if (context.signals.signal !== undefined) return { project, result };
    // Every task before the barrier is computed now: load again, past it.
    rememberPass(context.earlier, project.graph, result.table);
    const next = await loadPastBarrier(project, target !== undefined, context);
    if (next.stuck) return { project: next.project, result };
    // A signal while loading: the run ends with the last pass (the next run starts past the barrier).
    await takeDelayedSignals();
    if (context.signals.signal !== undefined) return { project, result };
    project = next.project;
    trace(`pass ${pass + 1}: ${project.graph.tasks.length} tasks`);
  }
}

/**
 * Loads the jugfile again once every task before its barrier is computed. Stopping at the same
 * barrier again is an error (the jugfile declares different tasks at each load), unless --target
 * left tasks before it unrun (`targeted`): then the run ends there (`stuck`), saying why.
 */
async function loadPastBarrier(
  project: Project,
  targeted: boolean,
  context: PassContext,
): Promise<{ readonly project: Project; readonly stuck: boolean }> {
  const { options, store, bundle } = context;
  const stop = project.barrier!;
  if (options.verbose) process.stderr.write(`Barrier at ${stop.where} passed: loading the jugfile again...\n`);
  const path = project.jugfile;
  const next = await repairingLoad(() => loadProject(path, options, store, bundle, runnerStoreOptions(options)));
  const again = next.barrier;
  if (again === undefined || again.where !== stop.where || again.tasksBefore !== stop.tasksBefore) return { project: next, stuck: false };
  if (!targeted) {
    throw new JugfileError(
      `the jugfile stopped at the barrier at ${stop.where} again, although every task before it is computed. ` +
        'Does it declare different tasks each time it loads (randomness, time, files changing)?',
    );
  }
  // Tasks before the barrier that don't match were left alone, so it still blocks.
  process.stderr.write(
    `jug: --target '${options.target}': the jugfile stops at the barrier at ${stop.where}, and the ${again.missing} ` +
      `task(s) before it that --target does not select are not run, so the tasks declared after it are not ` +
      'known yet. Run `jug execute` without --target (or with a target selecting them) to pass it.\n',
  );
  return { project: next, stuck: true };
}

/**
 * Runs the tasks of one load of the jugfile (those `target` selects, and their dependencies),
 * with its progress display. A second signal abandons the running tasks (their locks released)
 * and throws {@link RunAborted}.
 */
async function runPass(
  project: Project,
  pass: number,
  target: TaskSelector | undefined,
  context: PassContext,
): Promise<RunResult> {
  const { graph } = project;
  const { store, threaded, options, checks, hooks, progress, signals } = context;
  const table = StatusTable.create(graph.tasks.length, threaded === undefined ? 0 : context.threads);
  threaded?.nextPass(table, pass, project.stored, graph.tasks);
  if (threaded !== undefined) context.tracker.watch(table, graph);
  signals.countRunning(() => runningIn(table));
  const executor: Executor =
    threaded ??
    new InProcessExecutor(store, table, options.keepFailed ?? false, options.debug ?? false, context.runDefaults, context.recorder, context.tracker);
  // The code fingerprints of this load's task functions, for their run records (cached on disk).
  await prepareTaskCode(graph.tasks);
  trace('task code fingerprinted');
  progress.startPass(table, graph, project.stored, executedIn(context.earlier));
  let outcome: RunResult | 'aborted';
  try {
    outcome = await Promise.race([
      runGraph(graph, store, executor, {
        table,
        stored: project.stored,
        keepGoing: options.keepGoing,
        target,
        waitCycleTime: options.waitCycleTime,
        nrWaitCycles: options.nrWaitCycles,
        signal: signals.controller.signal,
        checks,
        onEvent: (ev) => {
          hooks.onEvent(ev);
          progress.onEvent(ev);
          logEvent(ev, options.verbose ?? false, threaded !== undefined);
        },
      }),
      signals.aborted,
    ]);
  } finally {
    progress.endPass();
  }
  if (outcome === 'aborted') {
    await executor.abort(graph.tasks.filter((_, index) => table.get(index) === TaskState.Running));
    throw new RunAborted(signals.exitCode, `aborted by ${signals.abortSignal}; run \`jug execute\` again to resume.`);
  }
  return outcome;
}

/**
 * The tasks `--target` selects in the project's graph (by name, hash or hash prefix: taskTarget),
 * or undefined without --target. A target matching no task is a usage error, unless the jugfile
 * stops at a barrier (matching tasks may only be declared once earlier ones ran).
 */
export function targetOf(pattern: string | undefined, project: Project): TaskSelector | undefined {
  if (pattern === undefined) return undefined;
  const target = taskTarget(pattern, project.graph.tasks);
  if (project.barrier === undefined && !project.graph.tasks.some(target)) {
    const names = [...new Set(project.graph.tasks.map((t) => t.name))].sort();
    throw new UsageError(
      `--target '${pattern}' matches no task. Task names are: ${names.join(', ') || '(none)'}. ${TARGET_HASH_NOTE}`,
    );
  }
  return target;
}

/**
 * Loads the jugfile; a stored result it reads (`bvalue()`, a CompoundTask) that turns out corrupt
 * is moved aside, with a warning, and the load is repeated: it then stops at that barrier, and
 * the run computes the result again (as for a corrupt dependency of a task). Other commands only
 * report such a result (they change nothing in the store).
 */
export async function repairingLoad(load: () => Promise<Project>): Promise<Project> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await load();
    } catch (e) {
      const corrupt = e instanceof CorruptResultError && e.hash !== undefined ? e : undefined;
      if (corrupt === undefined || attempt >= 3) throw e;
      const aside = await registry().store?.setAsideCorrupt(corrupt.hash!);
      const who = corrupt.taskName === undefined ? `hash ${corrupt.hash}` : `task ${corrupt.taskName} (hash ${corrupt.hash})`;
      process.stderr.write(
        `jug: warning: the stored result of ${who} that the jugfile reads while loading is corrupt (${corrupt.reason}). ` +
          `Recomputing it${aside === undefined ? '' : ` (the damaged file is kept as ${aside})`}.\n`,
      );
    }
  }
}

/** How many tasks of a pass are running now. */
function runningIn(table: StatusTable): number {
  let n = 0;
  for (let i = 0; i < table.tasks; i++) if (table.get(i) === TaskState.Running) n++;
  return n;
}

/** The hashes of the tasks executed (not loaded) in earlier passes. */
function executedIn(earlier: EarlierPasses): Set<string> {
  const executed = new Set<string>();
  for (const [hash, { executed: ran }] of earlier) if (ran) executed.add(hash);
  return executed;
}

/** Records the tasks a completed pass executed or loaded (executed wins over a later load). */
function rememberPass(earlier: EarlierPasses, graph: Project['graph'], table: StatusTable): void {
  graph.tasks.forEach((t, i) => {
    const s = table.get(i);
    if (s !== TaskState.Executed && s !== TaskState.Loaded) return;
    if (earlier.get(t.hash())?.executed) return;
    earlier.set(t.hash(), { name: t.name, executed: s === TaskState.Executed });
  });
}
