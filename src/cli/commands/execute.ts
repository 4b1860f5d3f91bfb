/** `jug execute`: run every task whose result is not stored, sharing the work through locks. */
import { CorruptResultError, ExitError, JugfileError, UsageError } from '../../errors.js';
import { InProcessExecutor } from '../../executors/in-process.js';
import { RUNNER_COMMIT_DELAY_MS, firstLine, type RunDefaults } from '../../execute-task.js';
import { formatSeconds } from '../../errors.js';
import { runGraph, type Executor, type RunResult, type SchedulerEvent } from '../../scheduler.js';
import { StatusTable, TaskState, isFinished } from '../../status-table.js';
import { bundleJugfile, type JugfileBundle } from '../../bundle.js';
import type { ThreadPoolExecutor } from '../../executors/thread-pool.js';
import { jugdirFor } from '../../jugfile.js';
import { registry } from '../../registry.js';
import type { Store } from '../../store/store.js';
import { describeBrief } from '../../describe.js';
import type { TaskOutcome } from '../../execute-task.js';
import type { Task } from '../../task.js';
import {
  barrierNote,
  countByName,
  loadProject,
  openProject,
  resolveJugfile,
  taskTarget,
  TARGET_HASH_NOTE,
  type CommonOptions,
  type Project,
  type TaskSelector,
} from '../common.js';
import { FailureMarkClearer } from '../retry-failed.js';
import { NO_RECORD, STORED_STACK_LINES, formatFailure, retryHint } from '../failure-report.js';
import { makeFailureRecord } from '../../failure.js';
import type { Failure } from '../../scheduler.js';
import type { Piscina } from 'piscina';
import { RunProgress, type ProgressChoice } from '../progress/index.js';
import { SIGNAL_EXIT, SignalHandling } from '../signal-handling.js';
import { renderShort, renderTable } from '../table.js';
import { threadCpuMs, trace, tracing } from '../../trace.js';
import { ExitChecks } from '../../exit-checks.js';
import { MainThreadHooks } from '../execute-hooks.js';
import { RunFaults } from '../faults.js';

/** Options of `jug execute`. */
export interface ExecuteOptions extends CommonOptions {
  /** Continue with independent tasks after a failure. @default false */
  keepGoing?: boolean;
  /** Leave failed tasks' locks marked failed so no process retries them. @default false */
  keepFailed?: boolean;
  /** Only run tasks matching this pattern, hash or hash prefix (and their dependencies). */
  target?: string;
  /** Remove the failure marks of the selected tasks first, so they run again (results are kept). @default false */
  retryFailed?: boolean;
  /** Longest back-off (seconds) while waiting for tasks other processes hold. @default 12 */
  waitCycleTime?: number;
  /** Consecutive fruitless waits before giving up. @default 150 */
  nrWaitCycles?: number;
  /** Print one line of summary instead of the table. @default false */
  short?: boolean;
  /** Run tasks in this many worker threads (in this process). @default serial, in the main thread */
  threads?: number;
  /** No progress display (as `progress: 'none'`). @default false */
  quiet?: boolean;
  /** `--progress`: how progress is shown (see src/cli/progress/). @default 'auto' */
  progress?: ProgressChoice;
  /** Heap limit per worker thread, MiB (with --threads). @default Node's default */
  maxOldGenerationSizeMb?: number;
  /** Fail tasks that change their arguments in place (and say so). @default false */
  debug?: boolean;
  /** Accepted for Python Jug compatibility: results are never kept in memory between tasks. @default false */
  aggressiveUnload?: boolean;
  /** Retries of a task that throws (its own `retries` wins). @default 0 */
  retries?: number;
  /** Seconds before the first retry, doubled for each further one (its own `retryDelayMs` wins). @default 1 */
  retryDelay?: number;
  /** Time limit of a task attempt, seconds (its own `timeoutMs` wins). @default none */
  timeout?: number;
  /** Read the JUG_MAX_* / JUG_EXIT_IF_FILE_EXISTS exit checks from the environment (`--no-check-environment`: false). @default true */
  checkEnvironment?: boolean;
}

/** After this long (or 10× the main thread's load, if longer) with no thread started, warn. */
const LOAD_WATCH_MS = Number(process.env['JUG_TEST_LOAD_WATCH_MS'] ?? 30_000);

export async function execute(jugfile: string | undefined, options: ExecuteOptions): Promise<number> {
  trace('cli ready');
  // Exit checks from the environment are read (and validated) now; the jugfile's are read live.
  const checks = new ExitChecks({ env: options.checkEnvironment === false ? undefined : process.env });
  const hooks = new MainThreadHooks();
  // Exceptions and rejections escaping outside any task, threads dying outside any task: reported,
  // and the run stops (exit 1) instead of the process ending with locks held (faults.ts).
  const faults = new RunFaults();
  const unwatch = faults.watchProcess();
  try {
    return await executeWatched(jugfile, options, checks, hooks, faults);
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

/** The run was aborted by a second signal: running tasks abandoned, their locks released. */
class RunAborted extends ExitError {}

async function executeWatched(
  jugfile: string | undefined,
  options: ExecuteOptions,
  checks: ExitChecks,
  hooks: MainThreadHooks,
  faults: RunFaults,
): Promise<number> {
  const threads = options.threads;
  const keepFailed = options.keepFailed ?? false;
  const debug = options.debug ?? false;
  const runDefaults = retryAndTimeout(options);
  let bundle: Promise<JugfileBundle> | undefined;
  let pool: Piscina | undefined;
  if (options.maxOldGenerationSizeMb !== undefined && threads === undefined) {
    process.stderr.write(
      'jug: warning: --max-old-generation-size-mb sets the heap of worker threads; without --threads it is ignored ' +
        '(for a serial run: node --max-old-space-size=MiB node_modules/.bin/jug execute …).\n',
    );
  }
  if (threads !== undefined && options.jugdir === ':memory:') {
    throw new UsageError('--threads needs a store the threads share (a jugdir on disk); :memory: lives in one thread.');
  }
  if (threads !== undefined) {
    // Threads are what a run waits for at start-up: the first ones start now, and boot while this
    // thread imports the jugfile; they wait for the bundle (see bundle-slot.ts).
    const { startThreadPool } = await import('../../executors/thread-pool.js');
    bundle = bundleJugfile(resolveJugfile(jugfile));
    bundle.catch(() => {}); // reported by the jugfile load below
    pool = startThreadPool({
      threads,
      bundle,
      jugfile: resolveJugfile(jugfile),
      jugfileArgs: registry().jugfileArgs,
      // As openProject computes it (the jugfile as named: %(jugfile)s keeps a relative path relative).
      jugdir: jugdirFor(options.jugdir, jugfile ?? resolveJugfile(undefined)),
      jugdirFixed: options.jugdir !== undefined,
      keepFailed,
      debug,
      ...runDefaults,
      maxOldGenerationSizeMb: options.maxOldGenerationSizeMb,
      leaseMs: options.lockLease === undefined ? undefined : options.lockLease * 1000,
      onFault: (message) => faults.report(message),
    });
    trace('thread pool started');
  }
  const loadStart = performance.now();
  let project = await repairingLoad(() => openProject(jugfile, options, bundle, { commitDelayMs: RUNNER_COMMIT_DELAY_MS }));
  trace(`jugfile loaded: ${project.graph.tasks.length} tasks`);
  const loadMs = performance.now() - loadStart;
  // Threads load the same jugfile: say so if none has after much longer than this thread took.
  const watchdog =
    pool === undefined
      ? undefined
      : setTimeout(
          async (p: Piscina) => {
            if ((await import('../../executors/thread-pool.js')).threadsStarted(p) > 0) return;
            process.stderr.write(
              `jug: warning: no worker thread has finished loading the jugfile after ${Math.round(LOAD_WATCH_MS / 1000)} s ` +
                `(this thread loaded it in ${(loadMs / 1000).toFixed(1)} s). Does the jugfile wait at its top level for ` +
                'something that never happens in a worker thread (check isMainThread from node:worker_threads)? ' +
                'Ctrl-C stops the run.\n',
            );
          },
          Math.max(LOAD_WATCH_MS, 10 * loadMs),
          pool,
        ).unref();
  const { store } = project;
  if (threads !== undefined && store.location === ':memory:') {
    if (pool !== undefined) await (await import('../../executors/thread-pool.js')).destroyThreadPool(pool);
    throw new UsageError('--threads needs a store the threads share (a jugdir on disk); the jugfile selects :memory: with setJugdir().');
  }
  // With threads, this thread's event loop never runs task code: it beats the locks itself.
  store.keepAlive?.({ mainThread: threads !== undefined });
  let target: TaskSelector | undefined;
  try {
    target = targetOf(options.target, project);
  } catch (e) {
    await pool?.destroy();
    throw e;
  }
  const clearer = options.retryFailed ? new FailureMarkClearer(store, (m) => process.stderr.write(m)) : undefined;

  if (pool !== undefined && project.barrier === undefined && project.graph.tasks.every((t) => project.stored.has(t.hash()))) {
    // Every task is stored already and no barrier hides more: the scheduler, which trusts this
    // listing, will dispatch nothing. The threads, still booting or loading the jugfile, would
    // only take CPU from this thread until the end: stop them now.
    clearTimeout(watchdog); // no thread will finish loading: that is no longer worth a warning
    await (await import('../../executors/thread-pool.js')).destroyThreadPool(pool);
    pool = undefined;
    trace('pool closed: every task is stored');
  }
  let threaded: ThreadPoolExecutor | undefined;
  if (threads !== undefined && pool !== undefined) {
    const { ThreadPoolExecutor } = await import('../../executors/thread-pool.js');
    threaded = new ThreadPoolExecutor(pool, threads, store, StatusTable.create(0, threads), keepFailed, runDefaults);
  }
  if (tracing) trace(`executor ready (main thread CPU ${threadCpuMs() ?? '?'} ms)`);

  const progress = new RunProgress({ choice: options.progress, quiet: options.quiet, slots: threads ?? 1 });
  // First SIGINT / SIGTERM: stop dispatching, let running tasks finish; second: abort (signal-handling.ts).
  const signals = new SignalHandling(() => progress.stopping());
  faults.onStop(() => signals.controller.abort());

  // One pass per load of the jugfile: a jugfile stopping at a barrier is loaded again once the
  // tasks before the barrier are computed, until it loads to the end.
  // The tasks finished in earlier passes: some (a CompoundTask's inner tasks) are no longer
  // declared once the compound's result is stored, yet they count in the summary.
  const earlier: EarlierPasses = new Map();
  const context: PassContext = { store, threaded, threads, options, runDefaults, checks, hooks, progress, signals, earlier };
  let result: RunResult;
  try {
    for (let pass = 0; ; pass++) {
      const { graph } = project;
      if (pass > 0) target = targetOf(options.target, project);
      await clearer?.clear(graph, target);
      result = await runPass(project, pass, target, context);
      const { table } = result;
      const passDone = result.failures.length === 0 && result.gaveUpOn.length === 0 && result.notRun.length === 0;
      if (project.barrier === undefined || !passDone || result.aborted || result.stoppedBy !== undefined) break;
      // Every task before the barrier is computed now: load again, past it.
      rememberPass(earlier, graph, table);
      const stop = project.barrier;
      if (options.verbose) process.stderr.write(`Barrier at ${stop.where} passed: loading the jugfile again...\n`);
      const { jugfile: path } = project;
      project = await repairingLoad(() => loadProject(path, options, store, bundle, { commitDelayMs: RUNNER_COMMIT_DELAY_MS }));
      trace(`pass ${pass + 1}: ${project.graph.tasks.length} tasks`);
      const again = project.barrier;
      if (again !== undefined && again.where === stop.where && again.tasksBefore === stop.tasksBefore) {
        if (target !== undefined) {
          // Tasks before the barrier that don't match were left alone, so it still blocks.
          process.stderr.write(
            `jug: --target '${options.target}': the jugfile stops at the barrier at ${stop.where}, and the ${again.missing} ` +
              `task(s) before it that --target does not select are not run, so the tasks declared after it are not ` +
              'known yet. Run `jug execute` without --target (or with a target selecting them) to pass it.\n',
          );
          break;
        }
        throw new JugfileError(
          `the jugfile stopped at the barrier at ${stop.where} again, although every task before it is computed. ` +
            'Does it declare different tasks each time it loads (randomness, time, files changing)?',
        );
      }
    }
    if (tracing) trace(`run done (main thread CPU ${threadCpuMs() ?? '?'} ms)`);
    await threaded?.close();
    trace('pool closed');
  } finally {
    progress.endPass();
    signals.dispose();
    clearTimeout(watchdog);
    await store.close();
    trace('store closed');
  }
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

/** What every pass of a run shares. */
interface PassContext {
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
  /** The tasks this run finished in earlier passes (before a barrier). */
  readonly earlier: EarlierPasses;
}

/**
 * Runs the tasks of one load of the jugfile (those `target` selects, and their dependencies),
 * with its progress display. A second signal
 * abandons the running tasks (their locks released) and throws {@link RunAborted}.
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
  threaded?.nextPass(table, pass, project.stored);
  const executor: Executor = threaded ?? new InProcessExecutor(store, table, options.keepFailed ?? false, options.debug ?? false, context.runDefaults);
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
    throw new RunAborted(signals.exitCode, `aborted by ${signals.signal}; run \`jug execute\` again to resume.`);
  }
  return outcome;
}

/**
 * The tasks `--target` selects in the project's graph (by name, hash or hash prefix: taskTarget),
 * or undefined without --target. A target matching no task is a usage error, unless the jugfile
 * stops at a barrier (matching tasks may only be declared once earlier ones ran).
 */
function targetOf(pattern: string | undefined, project: Project): TaskSelector | undefined {
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
async function repairingLoad(load: () => Promise<Project>): Promise<Project> {
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

/**
 * `--retries`, `--retry-delay` and `--timeout` as the runners take them; warns that without
 * --threads a timeout cannot stop a synchronous task.
 */
function retryAndTimeout(options: ExecuteOptions): RunDefaults {
  if (options.timeout !== undefined && options.threads === undefined) {
    process.stderr.write(
      'jug: warning: --timeout without --threads: a synchronous task cannot be stopped in the serial runner (it runs to its end, ' +
        'and its result counts); an async task sees taskSignal() aborted at the limit and is abandoned 1 s later if still ' +
        'running. Use --threads N to stop any task at its timeout.\n',
    );
  }
  return {
    retries: options.retries,
    retryDelayMs: options.retryDelay === undefined ? undefined : options.retryDelay * 1000,
    timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
  };
}

/** Warnings and retries always; with --verbose also each task's start and end, and each wait. `threaded`: --threads. */
function logEvent(ev: SchedulerEvent, verbose: boolean, threaded: boolean): void {
  if (ev.type === 'warning') process.stderr.write(`jug: warning: ${ev.message}\n`);
  else if (ev.type === 'retry') {
    const { attempt, attempts, error, delayMs } = ev.failure;
    process.stderr.write(
      `jug: task ${ev.task.name} (${ev.task.hash().slice(0, 10)}) attempt ${attempt} of ${attempts} failed: ` +
        `${firstLine(error.stack || `${error.name}: ${error.message}`)}; retrying in ${formatSeconds(delayMs)}.\n`,
    );
  } else if (!verbose) return;
  else if (ev.type === 'start') process.stderr.write(`Executing ${ev.task.name} (${ev.task.hash().slice(0, 10)})...\n`);
  else if (ev.type === 'done') {
    const line = finishedLine(ev.task, ev.outcome, threaded);
    if (line !== undefined) process.stderr.write(`${line}\n`);
  } else if (ev.type === 'waiting') {
    process.stderr.write(`Waiting ${(ev.ms / 1000).toFixed(2)} s for ${ev.blocked} task(s) held by other processes...\n`);
  }
}

/**
 * The -v line of a task run here: `Executed primes.isPrime(97) in 1.02 s (thread 3)`: its name
 * and arguments (describeBrief), how long its function ran, and where (`threaded`: with --threads,
 * where an outcome without a thread, such as a thread's death, comes from).
 */
export function finishedLine<T>(task: Task<T>, outcome: TaskOutcome, threaded = false): string | undefined {
  if (outcome.kind !== 'executed' && outcome.kind !== 'failed') return undefined;
  const where =
    outcome.thread !== undefined && outcome.thread !== 0 ? `thread ${outcome.thread}` : threaded ? 'a worker thread' : 'main thread';
  return outcome.kind === 'executed'
    ? `Executed ${describeBrief(task)} in ${seconds(outcome.ms)} (${where})`
    : `Failed ${describeBrief(task)} (${where})`;
}

/** `12 ms`, `1.02 s`, `42.1 s`, `312 s`. */
function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${s.toFixed(s < 10 ? 2 : s < 100 ? 1 : 0)} s`;
}

/** Tasks finished in earlier passes of this run (before a barrier), by hash. */
type EarlierPasses = Map<string, { readonly name: string; readonly executed: boolean }>;

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
function report(
  project: Project,
  result: RunResult,
  earlier: EarlierPasses,
  options: ExecuteOptions,
  signalName?: string,
): number {
  const { graph, store } = project;
  for (const f of result.failures) process.stderr.write(`\n${failureText(f, store.location)}`);
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
  process.stdout.write(options.short ? renderShort(columns, rows) : renderTable(columns, rows));

  if (result.stoppedBy !== undefined) {
    process.stderr.write(
      `jug: exit check fired: ${result.stoppedBy}; stopped with ${result.notRun.length} task(s) not run ` +
        `(running tasks finished). Run \`jug execute\` again to continue.\n`,
    );
  }
  if (project.barrier !== undefined && (signalName !== undefined || failed || result.gaveUpOn.length > 0)) {
    let missing = 0;
    for (let i = 0; i < graph.tasks.length; i++) if (!isFinished(table.get(i))) missing++;
    // None missing: the run stopped just as the barrier was passed (the next run goes past it).
    if (missing > 0) process.stderr.write(barrierNote(project.barrier, missing));
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
    const kept = result.failures.some((f) => f.outcome.keptFailed);
    process.stderr.write(retryHint(kept, result.failures.map((f) => f.task.hash()), options.target));
    return 1;
  }
  return 0;
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
