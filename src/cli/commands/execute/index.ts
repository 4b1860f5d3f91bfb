/**
 * `jug execute`: run every task whose result is not stored, sharing the work through locks.
 *
 * The steps, each in its own module of this folder: the options (options.ts); the thread pool
 * with --threads (threads.ts); the passes, one per load of the jugfile (passes.ts); what is
 * logged while they run (log.ts); the summary and exit code (report.ts).
 */
import { UsageError } from '../../../errors.js';
import type { RunDefaults } from '../../../execute-task.js';
import { prepareTaskCode, taskCode } from '../../../record-code.js';
import { RunRecorder } from '../../../run-records.js';
import { RunningTracker } from '../../../running-notes.js';
import type { ThreadPoolExecutor } from '../../../executors/thread-pool.js';
import { ExitChecks } from '../../../exit-checks.js';
import { threadCpuMs, trace, tracing } from '../../../trace.js';
import { openProject, type Project } from '../../common.js';
import { MainThreadHooks } from '../../execute-hooks.js';
import { RunFaults } from '../../faults.js';
import { RunProgress } from '../../progress/index.js';
import { DRAIN_SIGNAL, earlyDrain, SignalHandling, takeDelayedSignals, type EarlyDrain } from '../../signal-handling.js';
import { resolveThreads, runDefaultsOf, runnerStoreOptions, type ExecuteCliOptions, type ExecuteOptions } from './options.js';
import { RunAborted, repairingLoad, runPasses, targetOf, type PassContext, type PassesDone } from './passes.js';
import { report } from './report.js';
import { rememberRun, startThreads, threadedExecutor, watchThreadLoad, type LoadWatch, type StartedThreads } from './threads.js';

export type { ExecuteCliOptions, ExecuteOptions } from './options.js';
export { finishedLine } from './log.js';

/** Runs `jug execute`; returns the exit code (throws ExitError / UsageError for the CLI to map). */
export async function execute(jugfile: string | undefined, cliOptions: ExecuteCliOptions): Promise<number> {
  trace('cli ready');
  const options = resolveThreads(cliOptions);
  // Exit checks from the environment are read (and validated) now; the jugfile's are read live.
  const checks = new ExitChecks({ env: options.checkEnvironment === false ? undefined : process.env });
  const hooks = new MainThreadHooks();
  // Exceptions and rejections escaping outside any task, threads dying outside any task: reported,
  // and the run stops (exit 1) instead of the process ending with locks held (faults.ts).
  const faults = new RunFaults();
  const unwatch = faults.watchProcess();
  const early = earlyDrain();
  try {
    return await executeWatched(jugfile, options, { checks, hooks, faults, early });
  } catch (e) {
    // A second signal: the process ends once main() has reported this. A task function of the
    // main thread cannot be interrupted: an async one would otherwise go on, keep the process
    // alive until it ends, and store its result after the abort.
    if (e instanceof RunAborted) setImmediate((code: number) => process.exit(code), e.exitCode);
    throw e;
  } finally {
    unwatch();
  }
}

/** What execute() sets up before the run. */
interface RunSetup {
  readonly checks: ExitChecks;
  readonly hooks: MainThreadHooks;
  readonly faults: RunFaults;
  /** SIGUSR1 received before the run's signal handlers are installed. */
  readonly early: EarlyDrain;
}

async function executeWatched(jugfile: string | undefined, options: ExecuteOptions, setup: RunSetup): Promise<number> {
  checkOptions(options);
  const ready = await prepareRun(jugfile, options, setup);
  // A drain sent while the jugfile loaded stops the run before its first task.
  await takeDelayedSignals();
  const context = passContext(ready, options, setup);
  let done: PassesDone;
  try {
    done = await runAndWindDown(ready, context);
  } finally {
    context.progress.endPass();
    context.signals.dispose();
    ready.watchdog?.stop();
    await context.tracker.close();
    await ready.project.store.close();
    trace('store closed');
  }
  return finish(done, context, setup.faults);
}

/** What a run starts with: the loaded project, its target, the executor and the run recorder. */
interface ReadyRun {
  readonly project: Project;
  readonly target: ReturnType<typeof targetOf>;
  readonly started: StartedThreads | undefined;
  readonly threaded: ThreadPoolExecutor | undefined;
  readonly watchdog: LoadWatch | undefined;
  readonly runDefaults: RunDefaults;
  readonly recorder: RunRecorder;
  readonly tracker: RunningTracker;
}

/** Starts the threads (--threads), loads the jugfile, selects the target, makes the executor. */
async function prepareRun(jugfile: string | undefined, options: ExecuteOptions, setup: RunSetup): Promise<ReadyRun> {
  const { threads } = options;
  const runDefaults = runDefaultsOf(options);
  const started = threads === undefined ? undefined : await startThreads(jugfile, threads, options, runDefaults, setup.faults);
  const loadStart = performance.now();
  const project = await repairingLoad(() => openProject(jugfile, options, started?.bundle, runnerStoreOptions(options)));
  trace(`jugfile loaded: ${project.graph.tasks.length} tasks`);
  const watchdog = started === undefined ? undefined : watchThreadLoad(started.pool, performance.now() - loadStart);
  // With threads, this thread's event loop never runs task code: it beats the locks itself.
  project.store.keepAlive?.({ mainThread: threads !== undefined });
  const target = await selectTarget(options, project, started);
  // Each task's run is recorded with its code fingerprint (computed once per task function,
  // awaited before each pass: passes.ts); started now, so that with threads it overlaps their start.
  void prepareTaskCode(project.graph.tasks);
  const recorder = new RunRecorder(project.store, taskCode);
  const tracker = new RunningTracker(project.store);
  tracker.start();
  const threaded =
    started === undefined
      ? undefined
      : await threadedExecutor(started, project, threads!, options, runDefaults, watchdog!, recorder, tracker);
  if (tracing) trace(`executor ready (main thread CPU ${threadCpuMs() ?? '?'} ms)`);
  return { project, target, started, threaded, watchdog, runDefaults, recorder, tracker };
}

/**
 * What every pass shares: the progress display and the signal handling. First SIGINT / SIGTERM:
 * stop dispatching, let running tasks finish; second: abort. SIGUSR1: drain (the same stop, then
 * exit 0); a SIGINT / SIGTERM after it aborts (signal-handling.ts).
 */
function passContext(ready: ReadyRun, options: ExecuteOptions, setup: RunSetup): PassContext {
  const { checks, hooks, faults, early } = setup;
  const { threads } = options;
  const progress = new RunProgress({ choice: options.progress, quiet: options.quiet, slots: threads ?? 1 });
  const signals = new SignalHandling((sig) => progress.stopping(sig === DRAIN_SIGNAL), early);
  faults.onStop(() => signals.controller.abort());
  const { project, threaded, runDefaults, recorder, tracker } = ready;
  const bundle = ready.started?.bundle;
  return { store: project.store, threaded, threads, options, runDefaults, checks, hooks, progress, signals, earlier: new Map(), bundle, recorder, tracker };
}

/** Runs the passes, closes the threads, and clears the locks that went stale during the run. */
async function runAndWindDown(ready: ReadyRun, context: PassContext): Promise<PassesDone> {
  const done = await runPasses(ready.project, ready.target, context);
  if (tracing) trace(`run done (main thread CPU ${threadCpuMs() ?? '?'} ms)`);
  await closeThreads(ready.threaded);
  if (ready.started !== undefined && ready.threaded !== undefined && !done.result.aborted) rememberRun(ready.started, ready.threaded);
  // Locks that went stale during the run: a dead process's, even of tasks whose result it had
  // stored before it died (the run started by clearing those stale then).
  if (!done.result.aborted) await context.store.clearStaleLocks();
  return done;
}

/** Options that cannot work together, or that do nothing here (said once, before any work). */
function checkOptions(options: ExecuteOptions): void {
  if (options.maxOldGenerationSizeMb !== undefined && options.threads === undefined) {
    process.stderr.write(
      'jug: warning: --max-old-generation-size-mb sets the heap of worker threads; without --threads it is ignored ' +
        '(for a serial run: node --max-old-space-size=MiB node_modules/.bin/jug execute …).\n',
    );
  }
  if (options.threads !== undefined && options.jugdir === ':memory:') {
    throw new UsageError('--threads needs a store the threads share (a jugdir on disk); :memory: lives in one thread.');
  }
}

/** `--target` in the first load's graph; a usage error stops the threads before it is thrown. */
async function selectTarget(options: ExecuteOptions, project: Project, started: StartedThreads | undefined): Promise<ReturnType<typeof targetOf>> {
  try {
    return targetOf(options.target, project);
  } catch (e) {
    await started?.pool.current?.destroy();
    throw e;
  }
}

async function closeThreads(threaded: ThreadPoolExecutor | undefined): Promise<void> {
  if (threaded === undefined) return;
  await threaded.close();
  trace('pool closed');
}

/** The finished hooks around the report, then the exit code (1 at least after hook failures, exit checks' errors, faults). */
function finish({ project, result }: PassesDone, context: PassContext, faults: RunFaults): number {
  const { hooks, checks, options, signals, earlier } = context;
  hooks.finished('execute.finished-pre-status');
  let code: number;
  try {
    code = report(project, result, earlier, options, signals.signal);
  } finally {
    hooks.finished('execute.finished-post-status');
  }
  if (faults.messages.length > 0) {
    process.stderr.write(
      `jug: the run stopped after ${faults.messages.length === 1 ? 'an error' : `${faults.messages.length} errors`} ` +
        'outside any task (above); run `jug execute` again to resume.\n',
    );
  }
  return hooks.failed || checks.error !== undefined || faults.messages.length > 0 ? Math.max(code, 1) : code;
}
