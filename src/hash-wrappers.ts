/**
 * Wrappers that change how an argument counts in a task's identity, without changing what the
 * task receives: `CustomHash` (identity from a function of the value), `timedPath` (a file path
 * whose identity follows the file's modification time and size) and `NoHash` (no identity at all).
 * Tasks inside a wrapped value are dependencies, and the task receives the value resolved.
 */
import { statSync } from 'node:fs';
import { HashError, TaskDefinitionError } from './errors.js';
import { hashValue, jugHash } from './hash.js';
import { LazyObject, brandClass, dependenciesHook, resolveHook, type LazyHooks } from './task.js';
import type { Resolved } from './value.js';

/** A value hashed by a function of it (see {@link CustomHash}). */
export class CustomHashed<T> extends LazyObject<Resolved<T>> implements LazyHooks {
  /** The wrapped value (may contain tasks). */
  readonly value: T;
  readonly #hash: string;

  /** @internal Use `CustomHash()`. */
  constructor(value: T, hash: string) {
    super();
    this.value = value;
    this.#hash = hash;
  }

  /** The identity given by the hash function. */
  override hash(): string {
    return this.#hash;
  }

  [jugHash](): string {
    return this.#hash;
  }

  [dependenciesHook](): unknown {
    return this.value;
  }

  [resolveHook](resolve: (x: unknown) => Promise<unknown>): Promise<unknown> {
    return resolve(this.value);
  }

  override toString(): string {
    return `CustomHash(${this.#hash})`;
  }
}
brandClass(CustomHashed, 'jug.CustomHash');

/** A value wrapped by {@link CustomHash}. */
export type CustomHash<T> = CustomHashed<T>;

/**
 * Wraps `value` so that, as a task argument, it is identified by `hashFn(value)` (a string)
 * instead of its contents; the task still receives `value` (resolved, and tasks inside it are
 * dependencies). `hashFn` is called once, when the wrapper is made (at jugfile load).
 *
 * @example
 * // a huge array identified by its version instead of hashing every element
 * const model = train(CustomHash(samples, () => `samples-v${VERSION}`));
 */
export function CustomHash<T>(value: T, hashFn: (value: T) => string): CustomHash<T> {
  if (typeof hashFn !== 'function') {
    throw new TaskDefinitionError(`CustomHash(value, hashFn): hashFn must be a function, got ${typeof hashFn}.`);
  }
  const h: unknown = hashFn(value);
  if (typeof h !== 'string') {
    throw new HashError(`CustomHash(value, hashFn): hashFn must return a string, got ${h === null ? 'null' : typeof h}.`);
  }
  return new CustomHashed(value, h);
}

/**
 * A file path as a task argument whose identity is the path with the file's modification time
 * and size: rewriting the file makes the tasks using it (and their dependants) run again. The
 * task receives the path. The file must exist when the jugfile loads.
 *
 * @example
 * const rows = parseCsv(timedPath('data/input.csv'));
 */
export function timedPath(path: string): CustomHash<string> {
  if (typeof path !== 'string') {
    throw new TaskDefinitionError(`timedPath(path): path must be a string, got ${typeof path}.`);
  }
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new TaskDefinitionError(`timedPath('${path}'): cannot read the file's modification time: ${(e as Error).message}`);
  }
  return CustomHash(path, (p) => hashValue(['jug.timedPath', p, st.mtimeMs, st.size]));
}

/** A value excluded from identity (see {@link NoHash}). */
export class NoHashed<T> extends LazyObject<Resolved<T>> implements LazyHooks {
  /** The wrapped value (may contain tasks). */
  readonly value: T;

  /** @internal Use `NoHash()`. */
  constructor(value: T) {
    super();
    this.value = value;
  }

  /** Constant: every NoHash argument hashes the same. */
  override hash(): string {
    return 'nohash';
  }

  [jugHash](): string {
    return 'jug.nohash';
  }

  [dependenciesHook](): unknown {
    return this.value;
  }

  [resolveHook](resolve: (x: unknown) => Promise<unknown>): Promise<unknown> {
    return resolve(this.value);
  }

  override toString(): string {
    return 'NoHash(…)';
  }
}
brandClass(NoHashed, 'jug.NoHash');

/** A value wrapped by {@link NoHash}. */
export type NoHash<T> = NoHashed<T>;

/**
 * Excludes `value` from the identity of the task it is passed to: tasks differing only in a
 * NoHash argument have the same hash, so changing it never recomputes anything. The task still
 * receives the value (resolved; tasks inside are dependencies). Unsafe by design: use it for
 * arguments that cannot change the result (a logger, a verbosity flag, a thread count).
 *
 * @example
 * const fit = train(samples, NoHash({ verbose: true }));
 */
export function NoHash<T>(value: T): NoHash<T> {
  return new NoHashed(value);
}
