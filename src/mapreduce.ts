/**
 * Map and reduce over many inputs with few tasks: `map()` groups inputs into chunk tasks and
 * returns a LazyList; `reduce()` and `mapreduce()` fold chunk results in a tree of tasks.
 *
 * The library's own task functions here are named `jug.mapreduce.*`; the mapper and reducer are
 * task arguments (hashed by their task names) and are called inside those tasks. Every process
 * and worker thread that loads the jugfile declares the same tasks, so nothing has to be looked
 * up by name at run time.
 */
import { JugError, TaskDefinitionError } from './errors.js';
import { LazyList } from './lazy-list.js';
import { declareTask, isTaskLike, type Lazy, type Task, type TaskGeneratorFunction } from './task.js';
import { callable, chunkRunOptions, internalTask, taskFunctionName } from './task-function.js';
import { identity } from './utils.js';

/**
 * A function jug calls inside tasks: a TaskGenerator, or a plain named function (named
 * `<module>.<function>` from the file calling map/reduce, like a TaskGenerator's).
 */
export type TaskFunctionLike<A extends unknown[], R> = TaskGeneratorFunction<A, R> | ((...args: A) => R | Promise<R>);

/** Options of {@link map} and {@link currymap}. */
export interface MapOptions {
  /**
   * Inputs per task. Each chunk task computes its inputs one after the other and stores their
   * results together; 1 makes one task per input, named after the function.
   * @default 4
   */
  chunkSize?: number;
}

/** Options of {@link mapreduce}. */
export interface MapReduceOptions<R> {
  /** Inputs mapped and folded per first-level task. @default 4 */
  mapStep?: number;
  /** Results folded per task on the following levels (at least 2). @default 8 */
  reduceStep?: number;
  /**
   * Value the fold starts from. Without it, no inputs at all is an error (there is nothing to
   * return); with it, no inputs gives `initial`.
   */
  initial?: Lazy<R>;
}

/** Options of {@link reduce}. */
export type ReduceOptions<R> = Omit<MapReduceOptions<R>, 'mapStep'>;

function positiveInteger(v: number | undefined, dflt: number, what: string, min = 1): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) {
    throw new TaskDefinitionError(`${what} must be an integer ≥ ${min}, got ${String(v)}.`);
  }
  return v;
}

/** The inputs as an array; a lazy value of unknown length cannot be split into tasks. */
function inputArray(inputs: unknown, what: string): unknown[] {
  if (Array.isArray(inputs)) return inputs;
  const iterable =
    typeof inputs === 'object' && inputs !== null && typeof (inputs as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
  if (isTaskLike(inputs) || !iterable) {
    throw new TaskDefinitionError(
      `${what}: inputs must be an array (of values or tasks) or the result of map(), got ${
        isTaskLike(inputs) ? inputs.toString() : inputs === null ? 'null' : typeof inputs
      }. ` + `The length of a task's result is not known while the jugfile loads.`,
    );
  }
  return [...(inputs as Iterable<unknown>)];
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function mapChunk(fn: unknown, chunk: readonly unknown[]): Promise<unknown[]> {
  const f = callable(fn) as (x: unknown) => unknown;
  const out: unknown[] = [];
  for (const x of chunk) out.push(await f(x));
  return out;
}

async function curryChunk(fn: unknown, chunk: readonly unknown[]): Promise<unknown[]> {
  const f = callable(fn) as (...args: unknown[]) => unknown;
  const out: unknown[] = [];
  for (const args of chunk) {
    if (!Array.isArray(args)) {
      throw new JugError(`currymap(): each input must be an array of arguments, got ${args === null ? 'null' : typeof args}.`);
    }
    out.push(await f(...(args as unknown[])));
  }
  return out;
}

/** Folds `values` (mapped first when `mapper` is not null), from `initial` when given. */
async function fold(reducer: unknown, mapper: unknown, values: readonly unknown[], initial: readonly unknown[]): Promise<unknown> {
  const r = callable(reducer) as (a: unknown, b: unknown) => unknown;
  const m = mapper === null ? undefined : (callable(mapper) as (x: unknown) => unknown);
  let has = initial.length > 0;
  let acc = initial[0];
  for (const x of values) {
    const v = m === undefined ? x : await m(x);
    acc = has ? await r(acc, v) : v;
    has = true;
  }
  return acc;
}

function mapReduceChunk(reducer: unknown, mapper: unknown, chunk: readonly unknown[], ...initial: unknown[]): Promise<unknown> {
  return fold(reducer, mapper, chunk, initial);
}

function reduceChunk(reducer: unknown, results: readonly unknown[]): Promise<unknown> {
  return fold(reducer, null, results, []);
}

/**
 * Lazily maps `fn` over `inputs` with one task per `chunkSize` inputs, returning a LazyList of
 * the results (see {@link LazyList}). `fn` is a TaskGenerator or a plain named function; inputs
 * may be values, tasks, or the result of another `map()`.
 *
 * @example
 * const squares = map(square, range(1000), { chunkSize: 16 });   // 63 tasks
 * const total = sum(squares);                                     // receives number[]
 */
export function map<A, R>(
  fn: TaskFunctionLike<[A], R>,
  inputs: Iterable<Lazy<NoInfer<A>>>,
  options: MapOptions = {},
): LazyList<R> {
  const name = taskFunctionName(fn, 'map()');
  const chunkSize = positiveInteger(options.chunkSize, 4, 'map(): chunkSize');
  const xs = inputArray(inputs, 'map()');
  const tasks =
    chunkSize === 1
      ? xs.map((x) => declareTask(name, callable(fn), [x]))
      : chunks(xs, chunkSize).map((c) =>
          internalTask('jug.mapreduce.map', mapChunk, [fn, c]).setRunOptions(chunkRunOptions(fn, c.length)),
        );
  return new LazyList<R>({ tasks, chunkSize, total: xs.length });
}

/**
 * Like {@link map}, but each input is an array of arguments: the result's element i is
 * `fn(...inputs[i])`.
 *
 * @example
 * const sums = currymap(add, [[1, 2], [3, 4]]);   // LazyList of 3, 7
 */
export function currymap<A extends unknown[], R>(
  fn: TaskFunctionLike<A, R>,
  inputs: Iterable<Lazy<NoInfer<A>>>,
  options: MapOptions = {},
): LazyList<R> {
  const name = taskFunctionName(fn, 'currymap()');
  const chunkSize = positiveInteger(options.chunkSize, 4, 'currymap(): chunkSize');
  const xs = inputArray(inputs, 'currymap()');
  let tasks: Task[];
  if (chunkSize === 1) {
    tasks = xs.map((args, i) => {
      if (!Array.isArray(args)) {
        throw new TaskDefinitionError(
          `currymap() with chunkSize 1: input ${i} must be an array of arguments written out in the jugfile ` +
            `(a task's result cannot be spread into a task's arguments before it runs); use a larger chunkSize.`,
        );
      }
      return declareTask(name, callable(fn), args);
    });
  } else {
    tasks = chunks(xs, chunkSize).map((c) =>
      internalTask('jug.mapreduce.currymap', curryChunk, [fn, c]).setRunOptions(chunkRunOptions(fn, c.length)),
    );
  }
  return new LazyList<R>({ tasks, chunkSize, total: xs.length });
}

/**
 * Maps `mapper` over `inputs` and folds the results with `reducer`, in a tree of tasks: one task
 * per `mapStep` inputs maps and folds its chunk, then tasks fold `reduceStep` results at a time
 * until one remains. The order of the inputs is kept, so `reducer` need only be associative.
 * `mapper` undefined means the inputs themselves are folded.
 *
 * @example
 * const total = mapreduce(add, square, range(10_000));   // Task<number>
 */
export function mapreduce<A, R>(
  reducer: TaskFunctionLike<[R, R], R>,
  mapper: TaskFunctionLike<[A], R>,
  inputs: Iterable<Lazy<NoInfer<A>>>,
  options?: MapReduceOptions<R>,
): Task<R>;
export function mapreduce<R>(
  reducer: TaskFunctionLike<[R, R], R>,
  mapper: undefined,
  inputs: Iterable<Lazy<NoInfer<R>>>,
  options?: MapReduceOptions<R>,
): Task<R>;
export function mapreduce<R>(
  reducer: TaskFunctionLike<[R, R], R>,
  mapper: TaskFunctionLike<[unknown], R> | undefined,
  inputs: Iterable<unknown>,
  options: MapReduceOptions<R> = {},
): Task<R> {
  taskFunctionName(reducer, 'mapreduce(): reducer');
  if (mapper !== undefined) taskFunctionName(mapper, 'mapreduce(): mapper');
  const mapStep = positiveInteger(options.mapStep, 4, 'mapreduce(): mapStep');
  const reduceStep = positiveInteger(options.reduceStep, 8, 'mapreduce(): reduceStep', 2);
  return tree(reducer, mapper ?? null, inputArray(inputs, 'mapreduce()'), mapStep, reduceStep, options, 'mapreduce()');
}

/**
 * Folds `inputs` with `reducer` in a tree of tasks of `reduceStep` values each (see
 * {@link mapreduce}).
 *
 * @example
 * const biggest = reduce(max, partialMaxima);   // Task<number>
 */
export function reduce<R>(
  reducer: TaskFunctionLike<[R, R], R>,
  inputs: Iterable<Lazy<NoInfer<R>>>,
  options: ReduceOptions<R> = {},
): Task<R> {
  taskFunctionName(reducer, 'reduce(): reducer');
  const reduceStep = positiveInteger(options.reduceStep, 8, 'reduce(): reduceStep', 2);
  return tree(reducer, null, inputArray(inputs, 'reduce()'), reduceStep, reduceStep, options, 'reduce()');
}

function tree<T>(
  reducer: unknown,
  mapper: unknown,
  xs: readonly unknown[],
  mapStep: number,
  reduceStep: number,
  options: { initial?: unknown },
  what: string,
): Task<T> {
  const hasInitial = 'initial' in options && options.initial !== undefined;
  if (xs.length === 0) {
    if (!hasInitial) {
      throw new TaskDefinitionError(`${what}: no inputs and no { initial } value: there is nothing to return.`);
    }
    return identity(options.initial) as Task<T>;
  }
  let level: Task[] = chunks(xs, mapStep).map((c, i) =>
    internalTask('jug.mapreduce.mapreduce', mapReduceChunk, [
      reducer,
      mapper,
      c,
      ...(i === 0 && hasInitial ? [options.initial] : []),
    ]),
  );
  while (level.length > 1) {
    level = chunks(level, reduceStep).map((c) => internalTask('jug.mapreduce.reduce', reduceChunk, [reducer, c]));
  }
  return level[0] as Task<T>;
}
