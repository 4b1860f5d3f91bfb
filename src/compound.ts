/**
 * CompoundTask: a function that builds a whole sub-graph of tasks, treated as one task once its
 * final result is stored.
 *
 * The compound call `fn(...args)` has the identity of an ordinary task `fn(...args)` (its name
 * and arguments). When the jugfile loads:
 * - if a result is stored under that hash (checked synchronously in the listing taken before the
 *   load, see `isStoredNow`), `fn` is not called: one task named after `fn` stands for the
 *   stored result, and the sub-graph is not even declared;
 * - otherwise `fn(...args)` is called at once and returns a task (or a structure of tasks); a
 *   wrapper task named after `fn`, whose hash is forced to the compound hash, depends on it and
 *   stores its result (once) under that hash.
 */
import { JugError, TaskDefinitionError } from './errors.js';
import { hashTask } from './hash.js';
import { isStoredNow } from './registry.js';
import { declareTask, type Task } from './task.js';
import { taskFunctionName } from './task-function.js';
import type { Resolved } from './value.js';

/** The wrapper's function: stores the compound's inner result (its resolved argument). */
function compoundResult(inner: unknown): unknown {
  return inner;
}

/** The stand-in's function: only runs if the stored result vanished after the jugfile loaded. */
function compoundResultMissing(): never {
  throw new JugError(
    'The stored result of this CompoundTask was removed after the jugfile was loaded (invalidated?), so its ' +
      'sub-graph was not declared in this run. Run `jug execute` again: the sub-graph is rebuilt then.',
  );
}

function declareCompound<R>(name: string, fn: (...args: never[]) => R, args: readonly unknown[]): Task<Resolved<R>> {
  const hash = hashTask(name, args);
  if (isStoredNow(hash)) return declareTask(name, compoundResultMissing, args, hash);
  const inner = (fn as (...a: readonly unknown[]) => unknown)(...args);
  if (typeof (inner as Partial<PromiseLike<unknown>> | null)?.then === 'function') {
    throw new TaskDefinitionError(
      `CompoundTask '${name}': the function returned a Promise. It runs while the jugfile loads and must ` +
        `return its tasks synchronously (put async work inside the tasks it declares).`,
    );
  }
  return declareTask(name, compoundResult, [inner], hash);
}

/**
 * Declares the compound task `fn(...args)`: `fn` is called now (while the jugfile loads) with the
 * arguments as given, declares tasks and returns the one (or a structure of tasks) whose result is
 * the compound's result. Once that result is stored, later loads skip `fn` and its whole
 * sub-graph: one task named after `fn` stands for it (so `jug status` shows just that task).
 *
 * `fn` must be a named function (its name names the task) and deterministic; the arguments must
 * be hashable, as for any task.
 *
 * @example
 * function pipeline(n: number) {
 *   return mapreduce(add, square, Array.from({ length: n }, (_, i) => i));
 * }
 * export const total = CompoundTask(pipeline, 1000);   // Task<number>
 */
export function CompoundTask<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Task<Resolved<R>> {
  if (typeof fn === 'function' && typeof (fn as { taskName?: unknown }).taskName === 'string') {
    throw new TaskDefinitionError(
      `CompoundTask(fn): '${(fn as { taskName?: string }).taskName}' is a TaskGenerator. Pass the plain function ` +
        `that declares the sub-graph (CompoundTask calls it while the jugfile loads).`,
    );
  }
  const name = taskFunctionName(fn, 'CompoundTask');
  return declareCompound(name, fn as unknown as (...a: never[]) => R, args);
}

/** Options of {@link CompoundTaskGenerator}. */
export interface CompoundTaskGeneratorOptions {
  /** Task name, instead of `<module>.<fn.name>`. */
  name?: string;
}

/** What {@link CompoundTaskGenerator} returns. */
export interface CompoundTaskGeneratorFunction<A extends unknown[], R> {
  (...args: A): Task<Resolved<R>>;
  /** The wrapped function. */
  readonly fn: (...args: A) => R;
  /** Name of the compound tasks. */
  readonly taskName: string;
}

/**
 * Turns `fn` into a compound task generator: each call `g(...args)` is `CompoundTask(fn, ...args)`.
 *
 * @example
 * export const pipeline = CompoundTaskGenerator(function pipeline(n: number) {
 *   return mapreduce(add, square, range(n));
 * });
 * export const total = pipeline(1000);
 */
export function CompoundTaskGenerator<A extends unknown[], R>(
  fn: (...args: A) => R,
  options: CompoundTaskGeneratorOptions = {},
): CompoundTaskGeneratorFunction<A, R> {
  const name = taskFunctionName(fn, 'CompoundTaskGenerator', options.name);
  const generator = (...args: A): Task<Resolved<R>> => declareCompound(name, fn as unknown as (...a: never[]) => R, args);
  Object.defineProperties(generator, {
    fn: { value: fn },
    taskName: { value: name },
    name: { value: fn.name },
  });
  return generator as CompoundTaskGeneratorFunction<A, R>;
}
