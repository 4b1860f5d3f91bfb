/**
 * LazyList: what `map()` and `currymap()` return. The elements live in block tasks (one task per
 * chunk of inputs, whose result is the array of the chunk's outputs; with chunkSize 1 each block
 * is the element's own task). Indexing and slicing are lazy: they make Tasklets and views, never
 * run anything; `value()` of a list is the array of its elements.
 */
import { JugError, TaskDefinitionError } from './errors.js';
import { hashDerived, hashTask, jugHash } from './hash.js';
import {
  LazyObject,
  brandClass,
  Tasklet,
  dependenciesHook,
  resolveHook,
  type LazyHooks,
  type Task,
} from './task.js';

/** Block tasks and how elements map onto them (shared by a list and its slices). */
interface Blocks {
  readonly tasks: readonly Task[];
  /** Elements per block; 1 means each block's result is the element itself (not an array). */
  readonly chunkSize: number;
  /** Number of elements over all blocks. */
  readonly total: number;
}

/** Blocks with the identity of the whole list over them. */
interface HashedBlocks extends Blocks {
  readonly hash: string;
}

/**
 * A lazy list of `length` values of type `T`, e.g. the result of `map()`. Usable as a task
 * argument (it stands for `T[]`: the task depends on the blocks the list covers and receives
 * the array), as the input of another `map()`, and with `value()`.
 *
 * @example
 * const squares = map(square, [1, 2, 3, 4, 5], { chunkSize: 2 });
 * const third = squares.at(2);             // Tasklet<number>
 * const odd = squares.slice(0, undefined, 2);  // LazyList<number> of 3 elements
 * const total = sum(squares);             // a task receiving number[]
 */
export class LazyList<T> extends LazyObject<T[]> implements LazyHooks, Iterable<Task<T> | Tasklet<T>> {
  readonly #blocks: HashedBlocks;
  /** Index into the underlying elements of this list's element 0. */
  readonly #start: number;
  /** Stride over the underlying elements (never 0; negative for reversed slices). */
  readonly #step: number;
  /** Number of elements. */
  readonly length: number;
  readonly #hash: string;

  /** @internal Use `map()` / `currymap()`. */
  constructor(blocks: Blocks | HashedBlocks, view?: { start: number; step: number; length: number }) {
    super();
    this.#blocks =
      'hash' in blocks ? blocks : { ...blocks, hash: hashTask('jug.mapreduce.list', [blocks.tasks, blocks.chunkSize, blocks.total]) };
    if (view === undefined) {
      this.#start = 0;
      this.#step = 1;
      this.length = blocks.total;
      this.#hash = this.#blocks.hash;
    } else {
      // A slice of a slice is a view of the whole list: its identity derives from the whole's.
      this.#start = view.start;
      this.#step = view.step;
      this.length = view.length;
      const whole = view.start === 0 && view.step === 1 && view.length === blocks.total;
      this.#hash = whole ? this.#blocks.hash : hashDerived('slice', this.#blocks.hash, [view.start, view.step, view.length]);
    }
  }

  /** Identity of the list: derived from its blocks' hashes (and the slice, for a slice). */
  override hash(): string {
    return this.#hash;
  }

  [jugHash](): string {
    return `jug.list:${this.#hash}`;
  }

  /**
   * The element at `index` (negative counts from the end, as `Array.prototype.at`): a Tasklet
   * indexing its block's result, or the block task itself with chunkSize 1. Throws a
   * TaskDefinitionError when out of range (a lazy element cannot be `undefined`).
   */
  at(index: number): Task<T> | Tasklet<T> {
    if (!Number.isInteger(index)) {
      throw new TaskDefinitionError(`LazyList.at(${String(index)}): the index must be an integer.`);
    }
    const i = index < 0 ? index + this.length : index;
    if (i < 0 || i >= this.length) {
      throw new TaskDefinitionError(`LazyList.at(${index}): out of range for a list of ${this.length} elements.`);
    }
    const { block, offset } = this.#locate(i);
    const task = this.#blocks.tasks[block]!;
    return (offset === undefined ? task : new Tasklet(task, offset)) as Task<T> | Tasklet<T>;
  }

  /**
   * A lazy slice, with Python's slice semantics: `start` and `end` as in `Array.prototype.slice`
   * (negative counts from the end, out-of-range values clamp), and an optional `step` (negative
   * walks backwards: `slice(undefined, undefined, -1)` reverses). Nothing is computed.
   */
  slice(start?: number, end?: number, step = 1): LazyList<T> {
    for (const [what, v] of [['start', start], ['end', end]] as const) {
      if (v !== undefined && !Number.isInteger(v)) {
        throw new TaskDefinitionError(`LazyList.slice(): ${what} must be an integer, got ${String(v)}.`);
      }
    }
    if (!Number.isInteger(step) || step === 0) {
      throw new TaskDefinitionError(`LazyList.slice(): step must be a non-zero integer, got ${String(step)}.`);
    }
    const len = this.length;
    const [lower, upper] = step > 0 ? [0, len] : [-1, len - 1];
    const clamp = (v: number | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      const x = v < 0 ? v + len : v;
      return x < lower ? lower : x > upper ? upper : x;
    };
    const s = clamp(start, step > 0 ? lower : upper);
    const e = clamp(end, step > 0 ? upper : lower);
    const n = step > 0 ? (s < e ? Math.floor((e - s - 1) / step) + 1 : 0) : e < s ? Math.floor((s - e - 1) / -step) + 1 : 0;
    if (n === len && step === 1) return this;
    return new LazyList<T>(this.#blocks, {
      start: n === 0 ? 0 : this.#start + s * this.#step,
      step: n === 0 ? 1 : this.#step * step,
      length: n,
    });
  }

  /** The elements, lazily (see {@link at}): `const [a, b] = map(f, [1, 2])`. */
  *[Symbol.iterator](): Iterator<Task<T> | Tasklet<T>> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** The block tasks this list covers (its dependencies as a task argument). */
  dependencies(): Task[] {
    return this.#blockIndices().map((b) => this.#blocks.tasks[b]!);
  }

  [dependenciesHook](): unknown {
    return this.dependencies();
  }

  async [resolveHook](resolve: (x: unknown) => Promise<unknown>): Promise<unknown> {
    const indices = this.#blockIndices();
    const values = (await resolve(indices.map((b) => this.#blocks.tasks[b]!))) as unknown[];
    const byBlock = new Map<number, unknown>();
    indices.forEach((b, k) => byBlock.set(b, values[k]));
    const out = new Array<unknown>(this.length);
    for (let i = 0; i < this.length; i++) {
      const { block, offset } = this.#locate(i);
      const v = byBlock.get(block);
      if (offset === undefined) {
        out[i] = v;
        continue;
      }
      if (!Array.isArray(v)) {
        const t = this.#blocks.tasks[block]!;
        throw new JugError(`Block ${t.toString()} of a map() result holds ${typeof v}, not an array: the store was altered.`);
      }
      out[i] = v[offset];
    }
    return out;
  }

  override toString(): string {
    return `LazyList(${this.length} elements, ${this.#hash.slice(0, 12)})`;
  }

  #locate(i: number): { block: number; offset: number | undefined } {
    const u = this.#start + i * this.#step;
    const c = this.#blocks.chunkSize;
    return c === 1 ? { block: u, offset: undefined } : { block: Math.floor(u / c), offset: u % c };
  }

  /** Indices of the blocks this list's elements live in, ascending, without duplicates. */
  #blockIndices(): number[] {
    if (this.#start === 0 && this.#step === 1 && this.length === this.#blocks.total) {
      return this.#blocks.tasks.map((_, b) => b);
    }
    const set = new Set<number>();
    for (let i = 0; i < this.length; i++) set.add(this.#locate(i).block);
    return [...set].sort((a, b) => a - b);
  }
}
brandClass(LazyList, 'jug.LazyList');
