/**
 * Exit checks: conditions under which `jug execute` stops early and exits 0, for runs that must
 * fit a batch-queue slot or be stopped from outside. A check that fires stops dispatching tasks;
 * tasks already running finish (their locks are released), the summary is printed with a line
 * saying which check fired, and the run can be resumed by running `jug execute` again.
 *
 * Sources: the functions below (called from a jugfile), the environment variables `JUG_MAX_TASKS`,
 * `JUG_MAX_HOURS` / `JUG_MAX_MINUTES` / `JUG_MAX_SECONDS` and `JUG_EXIT_IF_FILE_EXISTS` (unless
 * `--no-check-environment`), and the stop file `__jug_please_stop_running.txt` in the current
 * directory (always).
 *
 * Checks are decided in the main thread by the scheduler, from the outcomes of every task of the
 * process (all threads together); registrations made by the jugfile in worker threads are unused.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { JugError, UsageError } from './errors.js';
import type { StopChecks } from './scheduler.js';
import type { Task } from './task.js';

/** Name of the file whose presence in the current directory stops `jug execute`. */
export const STOP_FILE = '__jug_please_stop_running.txt';

/** A duration for {@link exitAfterTime}; the parts add up. */
export interface Duration {
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
}

type Check =
  | { readonly kind: 'tasks'; readonly key: string; readonly n: number; readonly label: string }
  | { readonly kind: 'time'; readonly key: string; readonly deadline: number; readonly label: string }
  | { readonly kind: 'file'; readonly key: string; readonly path: string; readonly label: string }
  | { readonly kind: 'when'; readonly key: string; readonly fn: (task: Task) => unknown; readonly label: string };

const KEY = Symbol.for('jug.exitChecks.v1');

/** Checks registered in this thread (by the jugfile), one per distinct key. */
function registered(): Check[] {
  const g = globalThis as typeof globalThis & { [KEY]?: Check[] };
  return (g[KEY] ??= []);
}

/** A check with the key of one already registered is ignored: a re-imported jugfile keeps its first deadline. */
function register(check: Check): void {
  const list = registered();
  if (!list.some((c) => c.key === check.key)) list.push(check);
}

/** Forgets the checks registered with the functions below (called by `resetAllHooks()`). */
export function resetExitChecks(): void {
  registered().length = 0;
}

/**
 * Stop `jug execute` once this process has executed `n` tasks (all threads together). With a
 * limit, the scheduler never has more tasks running than it may still execute, so exactly `n`
 * run (fewer if the graph has fewer).
 */
export function exitAfterNTasks(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new JugError(`exitAfterNTasks(n): n must be an integer ≥ 1, got ${String(n)}.`);
  register({ kind: 'tasks', key: `tasks:${n}`, n, label: `exitAfterNTasks(${n})` });
}

function durationMs(d: Duration, what: string): number {
  let ms = 0;
  for (const [unit, factor] of [
    ['hours', 3_600_000],
    ['minutes', 60_000],
    ['seconds', 1000],
  ] as const) {
    const v = d[unit] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new JugError(`${what}: ${unit} must be a number ≥ 0, got ${String(v)}.`);
    }
    ms += v * factor;
  }
  return ms;
}

function formatDuration(ms: number): string {
  const s = ms / 1000;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = +(s % 60).toFixed(3);
  return [h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', rest > 0 || (h === 0 && m === 0) ? `${rest}s` : ''].filter(Boolean).join(' ');
}

/**
 * Stop `jug execute` once this much time has passed since this call (for a jugfile: since it was
 * loaded). No task is started after the deadline; tasks running then finish.
 *
 * @example exitAfterTime({ hours: 3, minutes: 30 });
 */
export function exitAfterTime(duration: Duration): void {
  const ms = durationMs(duration ?? {}, 'exitAfterTime');
  register({
    kind: 'time',
    key: `time:${ms}`,
    deadline: Date.now() + ms,
    label: `exitAfterTime: ${formatDuration(ms)} passed`,
  });
}

/**
 * Stop `jug execute` (before starting another task) when `path` exists. A relative path is taken
 * from the current directory at the time of this call.
 */
export function exitIfFileExists(path: string): void {
  if (typeof path !== 'string' || path === '') throw new JugError('exitIfFileExists(path): path must be a non-empty string.');
  const abs = resolve(path);
  register({ kind: 'file', key: `file:${abs}`, path: abs, label: `exitIfFileExists: ${path} exists` });
}

/**
 * Stop `jug execute` when `predicate(task)` returns true, called after each task this process
 * executed (in the main thread, with all threads' tasks). The task argument may be ignored.
 *
 * @example exitWhenTrue(() => freeDiskGiB() < 5);
 */
export function exitWhenTrue(predicate: (task: Task) => unknown): void {
  if (typeof predicate !== 'function') throw new JugError(`exitWhenTrue(predicate): predicate must be a function, got ${typeof predicate}.`);
  const name = predicate.name || 'predicate';
  register({ kind: 'when', key: `when:${predicate.toString()}`, fn: predicate, label: `exitWhenTrue(${name}) returned true` });
}

function envNumber(env: NodeJS.ProcessEnv, name: string, integer: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${name}='${raw}': expected ${integer ? 'an integer' : 'a number'} ≥ 0 (or unset it, or run with --no-check-environment).`,
    );
  }
  return n;
}

/** The checks from the environment variables (see the module comment); throws UsageError on bad values. */
function environmentChecks(env: NodeJS.ProcessEnv, cwd: string): Check[] {
  const checks: Check[] = [];
  const n = envNumber(env, 'JUG_MAX_TASKS', true);
  if (n > 0) checks.push({ kind: 'tasks', key: 'env:tasks', n, label: `JUG_MAX_TASKS=${n}` });
  const parts = (['HOURS', 'MINUTES', 'SECONDS'] as const).filter((u) => envNumber(env, `JUG_MAX_${u}`, false) > 0);
  const ms = durationMs(
    {
      hours: envNumber(env, 'JUG_MAX_HOURS', false),
      minutes: envNumber(env, 'JUG_MAX_MINUTES', false),
      seconds: envNumber(env, 'JUG_MAX_SECONDS', false),
    },
    'JUG_MAX_*',
  );
  if (ms > 0) {
    const vars = parts.map((u) => `JUG_MAX_${u}=${env[`JUG_MAX_${u}`]}`).join(' ');
    checks.push({ kind: 'time', key: 'env:time', deadline: Date.now() + ms, label: `${vars}: ${formatDuration(ms)} passed` });
  }
  const file = env['JUG_EXIT_IF_FILE_EXISTS'];
  if (file !== undefined && file !== '') {
    checks.push({ kind: 'file', key: 'env:file', path: resolve(cwd, file), label: `JUG_EXIT_IF_FILE_EXISTS: ${file} exists` });
  }
  return checks;
}

/** Options of {@link ExitChecks}. */
export interface ExitChecksOptions {
  /** Environment to read the JUG_MAX_* / JUG_EXIT_IF_FILE_EXISTS variables from; undefined: ignore them. */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory of the stop file. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Every exit check of one `jug execute` process, as the scheduler consults them: the environment's
 * (read once, at construction), the stop file, and those the jugfile registered in this thread
 * (read live, so a re-imported jugfile's are seen). Counts the tasks executed over the whole
 * process, across scheduler passes.
 */
export class ExitChecks implements StopChecks {
  readonly #env: Check[];
  #executed = 0;
  /** Set when an exitWhenTrue predicate threw (the run stops; `jug execute` exits 1). */
  error: string | undefined;

  constructor(options: ExitChecksOptions = {}) {
    const cwd = options.cwd ?? process.cwd();
    this.#env = [
      ...(options.env === undefined ? [] : environmentChecks(options.env, cwd)),
      { kind: 'file', key: 'stop-file', path: resolve(cwd, STOP_FILE), label: `stop file ${STOP_FILE} exists (remove it to run again)` },
    ];
  }

  #all(): Check[] {
    return [...this.#env, ...registered()];
  }

  /** Tasks executed so far by this process. */
  get executed(): number {
    return this.#executed;
  }

  taskBudget(): number | undefined {
    let budget: number | undefined;
    for (const c of this.#all()) {
      if (c.kind === 'tasks') budget = Math.min(budget ?? Infinity, Math.max(0, c.n - this.#executed));
    }
    return budget;
  }

  beforeTask(): string | undefined {
    const now = Date.now();
    for (const c of this.#all()) {
      if (c.kind === 'file' && existsSync(c.path)) return c.label;
      if (c.kind === 'time' && now >= c.deadline) return c.label;
      if (c.kind === 'tasks' && this.#executed >= c.n) return `${c.label}: ${this.#executed} tasks executed`;
    }
    return undefined;
  }

  taskExecuted(task: Task): string | undefined {
    this.#executed++;
    for (const c of this.#all()) {
      if (c.kind === 'tasks' && this.#executed >= c.n) return `${c.label}: ${this.#executed} tasks executed`;
      if (c.kind === 'when') {
        try {
          if (c.fn(task)) return `${c.label} after task ${task.name}`;
        } catch (e) {
          this.error = `${c.label.replace(/ returned true$/, '')} threw after task ${task.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
          return this.error;
        }
      }
    }
    // The file and time checks: every caller consults beforeTask() next (the gate before the next
    // task starts, the scheduler's loop), so they are not checked twice per task here.
    return undefined;
  }
}
