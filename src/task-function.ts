/**
 * Task functions as the library's helpers (map, mapreduce, CompoundTask, ...) receive them:
 * either a TaskGenerator or a plain named function. Gives their task name and the function to
 * call, and declares the library's own tasks (names starting with `jug.`).
 */
import { TaskDefinitionError } from './errors.js';
import { taskRef, type TaskRef } from './hash.js';
import { deriveTaskName, userCallSite } from './naming.js';
import { functionByName, nameOfFunction, registerFunction, setCodeOrigin, type TaskFunction } from './registry.js';
import { declareTask, type Task } from './task.js';
import { functionRunOptions, type TaskRunOptions } from './task-options.js';

/** A TaskGenerator as seen at run time. */
interface GeneratorLike extends TaskRef {
  readonly fn: TaskFunction;
  readonly taskName: string;
}

function isGenerator(fn: unknown): fn is GeneratorLike {
  return typeof fn === 'function' && typeof (fn as Partial<TaskRef>)[taskRef] === 'function' && 'fn' in fn;
}

/**
 * The task name of `fn`: a TaskGenerator's task name, or for a plain function `<module>.<name>`
 * from the user's file calling the library (registered so that `fn` hashes as that name when it
 * is itself a task argument). `what` names the caller in error messages.
 */
export function taskFunctionName(fn: unknown, what: string, explicit?: string): string {
  if (typeof fn !== 'function') {
    throw new TaskDefinitionError(`${what}: expected a function, got ${fn === null ? 'null' : typeof fn}.`);
  }
  if (isGenerator(fn)) return fn.taskName;
  const known = explicit === undefined ? nameOfFunction(fn as TaskFunction) : undefined;
  if (known !== undefined) return known;
  const site = userCallSite();
  const name = deriveTaskName(fn, explicit, site, what);
  registerFunction(name, fn as TaskFunction, site?.where ?? '?');
  setCodeOrigin(fn as TaskFunction, { file: site?.file });
  return name;
}

/** The function to call for `fn` at run time: a TaskGenerator's wrapped function, else `fn`. */
export function callable(fn: unknown): TaskFunction {
  if (isGenerator(fn)) return fn.fn;
  if (typeof fn !== 'function') throw new TaskDefinitionError(`Expected a function, got ${typeof fn}.`);
  return fn as TaskFunction;
}

/**
 * Declares a task of the library itself: `name` must start with `jug.` (reserved: user task
 * names cannot). The function is registered under its name for the thread's load, unless another
 * copy of the library registered its own twin first (both behave the same).
 */
export function internalTask<T>(name: `jug.${string}`, fn: TaskFunction, args: readonly unknown[]): Task<T> {
  if (functionByName(name) === undefined) registerFunction(name, fn, 'jug');
  return declareTask<T>(name, fn, args);
}

/**
 * The run options of a task calling `fn` on `calls` inputs (a chunk of map() / currymap()): the
 * TaskGenerator's retries and delay, and `calls` times its time limit.
 */
export function chunkRunOptions(fn: unknown, calls: number): TaskRunOptions {
  const own = functionRunOptions(callable(fn));
  return own.timeoutMs === undefined ? own : { ...own, timeoutMs: own.timeoutMs * calls };
}
