/**
 * NoLoad: a dependency whose result the task loads itself, when and if it wants.
 */
import { TaskDefinitionError } from './errors.js';
import { jugHash, hashDerived } from './hash.js';
import { LazyObject, brandClass, dependenciesHook, isTaskLike, resolveHook, type LazyHooks, type Task, type TaskLike } from './task.js';
import { value } from './value.js';

/**
 * A task (or tasklet) passed as an argument without being loaded (see {@link NoLoad}): the task
 * using it receives this object.
 */
export class NoLoaded<T> extends LazyObject<NoLoaded<T>> implements LazyHooks {
  /** The wrapped task or tasklet. */
  readonly base: TaskLike<T>;
  readonly #hash: string;

  /** @internal Use `NoLoad()`. */
  constructor(base: TaskLike<T>) {
    super();
    this.base = base;
    this.#hash = hashDerived('noload', base.hash(), null);
  }

  /** Loads the wrapped task's result from the active store. */
  load(): Promise<T> {
    return value(this.base) as Promise<T>;
  }

  /** The Task whose result `base` reads (`base` itself for a Task). */
  get task(): Task {
    return this.base.base;
  }

  /** Derived from the wrapped task's hash. */
  override hash(): string {
    return this.#hash;
  }

  [jugHash](): string {
    return `jug.noload:${this.#hash}`;
  }

  [dependenciesHook](): unknown {
    return this.base;
  }

  /** A NoLoad resolves to itself: the task receives the wrapper. */
  [resolveHook](): Promise<unknown> {
    return Promise.resolve(this);
  }

  override toString(): string {
    return `NoLoad(${String(this.base)})`;
  }
}
brandClass(NoLoaded, 'jug.NoLoad');

/** The wrapper a task function receives for a `NoLoad(task)` argument. */
export type NoLoad<T> = NoLoaded<T>;

/**
 * Wraps a task (or tasklet) passed as an argument: the task using it still waits for it, but
 * receives the wrapper instead of the result, and loads the result with `await arg.load()` only
 * if it needs it — for large results a task may not need.
 *
 * @example
 * const report = TaskGenerator(async function report(big: NoLoad<number[]>, quick: boolean) {
 *   return quick ? 'skipped' : summarize(await big.load());
 * });
 * report(NoLoad(hugeTask), true);
 */
export function NoLoad<T>(task: TaskLike<T>): NoLoad<T> {
  if (!isTaskLike(task)) {
    throw new TaskDefinitionError(`NoLoad(task): expected a Task or Tasklet, got ${task === null ? 'null' : typeof task}.`);
  }
  return new NoLoaded(task);
}
