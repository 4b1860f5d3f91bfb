/**
 * Small helpers for jugfiles: `identity()` (a task standing for a value), `returnTuple()` (typed,
 * length-checked destructuring of a task generator's result) and `jugExecute()` (a task running
 * an external command).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { JugError, TaskDefinitionError } from './errors.js';
import { internalTask } from './task-function.js';
import { taskSignal } from './task-options.js';
import {
  Task,
  Tasklet,
  isTaskLike,
  type Lazy,
  type LazyArgs,
  type TaskGeneratorFunction,
  type TaskLike,
} from './task.js';
import type { Resolved } from './value.js';

function identityFn(x: unknown): unknown {
  return x;
}

/**
 * A task whose result is `x` (resolved: tasks inside are dependencies and are replaced by their
 * results). A Task or Tasklet is returned as it is. Use it to hash a large literal once (tasks
 * taking the identity task hash its 40-character hash instead of the literal), or to turn a
 * structure of tasks (or a `map()` result) into one task.
 *
 * @example
 * const table = identity(bigLookupTable);      // Task<typeof bigLookupTable>
 * const all = identity(map(score, inputs));    // Task<number[]>
 */
export function identity<T>(x: Task<T>): Task<T>;
export function identity<T>(x: Tasklet<T>): Tasklet<T>;
export function identity<T>(x: T): Task<Resolved<T>>;
export function identity(x: unknown): TaskLike {
  if (isTaskLike(x)) return x;
  return internalTask('jug.identity', identityFn, [x]);
}

/** A tuple of `N` elements of type `T` (an array type when `N` is not a literal up to 16). */
export type TupleOf<N extends number, T, Acc extends T[] = []> = number extends N
  ? T[]
  : Acc['length'] extends N
    ? Acc
    : Acc['length'] extends 16
      ? T[]
      : TupleOf<N, T, [...Acc, T]>;

/** What `returnTuple(n, g)` returns for a result type `R`: n tasklets, typed per position for a tuple type. */
export type TaskletsOf<R, N extends number> = R extends readonly unknown[]
  ? number extends R['length']
    ? TupleOf<N, Tasklet<R[number]>>
    : R['length'] extends N
      ? { -readonly [K in keyof R]: Tasklet<R[K]> }
      : never
  : never;

/** A task generator whose calls return `N` tasklets (see {@link returnTuple}). */
export type TupleGenerator<A extends unknown[], R, N extends number> = ((...args: LazyArgs<A>) => TaskletsOf<R, N>) & {
  /** The wrapped task generator. */
  readonly generator: TaskGeneratorFunction<A, R>;
};

/**
 * Wraps a task generator whose function returns an array of `n` elements: each call declares
 * the task and returns `n` Tasklets, one per element, for destructuring. When a tasklet is
 * used, the result is checked to have exactly `n` elements (a task returning another length
 * fails the task using it, with a message naming the task). Curried form
 * `returnTuple(2)(generator)` as in Python's `@return_tuple(2)`.
 *
 * @example
 * const minMax = returnTuple(2, TaskGenerator(function minMax(xs: number[]): [number, number] {
 *   return [Math.min(...xs), Math.max(...xs)];
 * }));
 * const [lo, hi] = minMax(data);   // [Tasklet<number>, Tasklet<number>]
 */
export function returnTuple<N extends number, A extends unknown[], R>(
  n: N,
  generator: TaskGeneratorFunction<A, R>,
): TupleGenerator<A, R, N>;
export function returnTuple<N extends number>(
  n: N,
): <A extends unknown[], R>(generator: TaskGeneratorFunction<A, R>) => TupleGenerator<A, R, N>;
export function returnTuple(n: number, generator?: TaskGeneratorFunction<unknown[], unknown>): unknown {
  if (!Number.isInteger(n) || n < 0) {
    throw new TaskDefinitionError(`returnTuple(n): n must be a non-negative integer, got ${String(n)}.`);
  }
  const wrap = (g: TaskGeneratorFunction<unknown[], unknown>): unknown => {
    if (typeof g !== 'function' || typeof g.taskName !== 'string') {
      throw new TaskDefinitionError(`returnTuple(${n}, g): g must be a TaskGenerator, got ${typeof g}.`);
    }
    const tuple = (...args: unknown[]): Tasklet[] => {
      const task = g(...args);
      return Array.from({ length: n }, (_, i) => new Tasklet(task, i, n));
    };
    Object.defineProperty(tuple, 'generator', { value: g });
    return tuple;
  };
  return generator === undefined ? wrap : wrap(generator);
}

/** Options of {@link jugExecute}. */
export interface JugExecuteOptions {
  /** Working directory of the command. @default the current directory */
  cwd?: Lazy<string>;
  /** Extra environment variables (added to the inherited environment). */
  env?: Lazy<Record<string, string>>;
  /**
   * Fail the task when the command exits with a non-zero code (or is killed by a signal).
   * @default true
   */
  checkExit?: boolean;
  /**
   * Tasks to run first, for ordering only (the command does not see their results). Their
   * hashes are part of this task's identity.
   */
  after?: Lazy<unknown>;
}

async function runCommand(argv: readonly string[], options: { cwd?: string; env?: Record<string, string>; checkExit: boolean }): Promise<number> {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new JugError(`jugExecute(argv): argv must be a non-empty array of strings, got ${JSON.stringify(argv)}.`);
  }
  const [command, ...args] = argv as [string, ...string[]];
  const shown = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  // At the task's timeout (or an abort of the run) the command is killed (SIGTERM): a thread
  // terminated at the timeout would otherwise leave it running.
  const aborted = taskSignal();
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit'],
      shell: false,
      signal: aborted,
    });
    child.on('error', (e) =>
      reject(aborted.aborted ? aborted.reason : new JugError(`jugExecute: could not run \`${shown}\`: ${e.message}`, { cause: e })),
    );
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  if (signal !== null) {
    if (options.checkExit) throw new JugError(`jugExecute: \`${shown}\` was killed by ${signal}.`);
    return 128 + (constants.signals[signal] ?? 0);
  }
  if (code !== 0 && options.checkExit) throw new JugError(`jugExecute: \`${shown}\` exited with code ${code}.`);
  return code ?? 0;
}

function jugExecuteFn(argv: readonly string[], options: { cwd?: string; env?: Record<string, string>; checkExit: boolean }): Promise<number> {
  return runCommand(argv, options);
}

/**
 * Declares a task that runs an external command, `argv[0]` with arguments `argv.slice(1)`,
 * without a shell (no quoting issues, no globbing). Its output goes to jug's stdout and stderr.
 * At the task's timeout (`jug execute --timeout`; set one with `.setRunOptions({ timeoutMs })`)
 * the command is killed with SIGTERM and the task fails as timed out.
 * A non-zero exit code (or death by a signal) fails the task with a message naming the command
 * and the code, unless `checkExit` is false. The task's result is the exit code.
 *
 * @example
 * const plot = jugExecute(['gnuplot', 'plot.gp'], { after: results });
 */
export function jugExecute(argv: Lazy<readonly string[]>, options: JugExecuteOptions = {}): Task<number> {
  // A literal argv is checked now; one computed by a task (or holding tasks) when the task runs.
  if (!isTaskLike(argv) && (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' || isTaskLike(a)))) {
    throw new TaskDefinitionError(`jugExecute(argv): argv must be a non-empty array of strings (or a task giving one), got ${JSON.stringify(argv)}.`);
  }
  const { after, checkExit = true, ...rest } = options;
  const args: unknown[] = [argv, { ...rest, checkExit }];
  if (after !== undefined) args.push(after);
  return internalTask('jug.execute', jugExecuteFn as (...a: never[]) => unknown, args);
}
