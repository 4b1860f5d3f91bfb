/**
 * describe(): a plain-data description of how a value is computed — the task, its arguments
 * (recursively), and what the store knows about its result.
 */
import { statSync } from 'node:fs';
import { CustomHashed, NoHashed } from './hash-wrappers.js';
import { LazyList } from './lazy-list.js';
import { NoLoaded } from './no-load.js';
import { registry } from './registry.js';
import type { Store } from './store/store.js';
import { Task, Tasklet, isPlainObject } from './task.js';

/** What the store knows about a task's result. */
export interface ResultMeta {
  /** Whether a result is stored. */
  readonly computed: boolean;
  /** When it was stored (ISO 8601), for stores that can tell (the file store). */
  readonly completed?: string;
}

/** Description of a Task. */
export interface TaskDescription {
  readonly kind: 'task';
  readonly name: string;
  readonly hash: string;
  /** The arguments, described; omitted when there are none. */
  readonly args?: readonly Description[];
  /** Omitted when no store is active. */
  readonly meta?: ResultMeta;
}

/** Description of a Tasklet (`base.get(key)`). */
export interface TaskletDescription {
  readonly kind: 'tasklet';
  readonly hash: string;
  readonly key: Description;
  /** Set for the tasklets of returnTuple(): the length the base result must have. */
  readonly tupleLength?: number;
  readonly base: Description;
}

/** Description of a `map()` result or a slice of it. */
export interface ListDescription {
  readonly kind: 'list';
  readonly hash: string;
  readonly length: number;
  /** The block tasks the list covers. */
  readonly blocks: readonly Description[];
}

/** Description of a CustomHash / timedPath, NoHash or NoLoad wrapper. */
export interface WrapperDescription {
  readonly kind: 'custom-hash' | 'no-hash' | 'no-load';
  readonly hash: string;
  readonly value: Description;
}

/**
 * A described value: tasks and the library's lazy objects become descriptions; arrays, plain
 * objects and Maps are described element by element; other values are kept as they are.
 */
export type Description =
  | TaskDescription
  | TaskletDescription
  | ListDescription
  | WrapperDescription
  | readonly Description[]
  | { readonly [key: string]: Description }
  | ReadonlyMap<unknown, Description>
  | unknown;

/** Options of {@link describe}. */
export interface DescribeOptions {
  /** Store asked about results. @default the active store (none: no `meta`) */
  store?: Store;
}

/** A store that can tell where a result lives (the file store). */
interface PathStore extends Store {
  resultPath(hash: string): string;
}

async function metaOf(store: Store, hash: string): Promise<ResultMeta> {
  if (!(await store.has(hash))) return { computed: false };
  const pathOf = (store as Partial<PathStore>).resultPath;
  if (typeof pathOf !== 'function') return { computed: true };
  try {
    return { computed: true, completed: statSync(pathOf.call(store, hash)).mtime.toISOString() };
  } catch {
    return { computed: true };
  }
}

/**
 * Describes how `x` is computed, recursively: a Task gives `{ kind: 'task', name, hash, args,
 * meta }` with its arguments described and `meta` telling whether (and, for the file store,
 * when) its result was stored; a Tasklet gives its base and key; arrays, plain objects and Maps
 * are described element by element; plain values are kept. Each task is described once per call
 * (shared sub-graphs give the same description object).
 *
 * @example
 * console.log(JSON.stringify(await describe(exports.total), null, 2));
 */
export function describe(x: Task, options?: DescribeOptions): Promise<TaskDescription>;
export function describe(x: Tasklet, options?: DescribeOptions): Promise<TaskletDescription>;
export function describe(x: unknown, options?: DescribeOptions): Promise<Description>;
export async function describe(x: unknown, options: DescribeOptions = {}): Promise<Description> {
  return new DescribeWalk(options.store ?? registry().store).walk(x);
}

/** One describe() call: the store asked for metadata, and each task's description made once. */
class DescribeWalk {
  readonly #seen = new Map<string, Promise<Description>>();
  readonly #store: Store | undefined;

  constructor(store: Store | undefined) {
    this.#store = store;
  }

  walk = (v: unknown): Promise<Description> => {
    if (typeof v !== 'object' || v === null) return Promise.resolve(v);
    if (v instanceof Task) return this.#task(v);
    if (v instanceof Tasklet) return this.#tasklet(v);
    if (v instanceof LazyList) return this.#list(v);
    const wrapper = wrapperOf(v);
    if (wrapper !== undefined) {
      const [kind, inner] = wrapper;
      const hash = (v as { hash(): string }).hash();
      return this.walk(inner).then((value): Description => ({ kind, hash, value }) satisfies WrapperDescription);
    }
    return this.#container(v);
  };

  /** A task, described once per walk (shared sub-graphs give the same object). */
  #task(v: Task): Promise<Description> {
    const h = v.hash();
    let d = this.#seen.get(h);
    if (d === undefined) {
      const store = this.#store;
      d = Promise.all([Promise.all(v.args.map(this.walk)), store === undefined ? undefined : metaOf(store, h)]).then(
        ([args, meta]): Description =>
          ({
            kind: 'task',
            name: v.name,
            hash: h,
            ...(args.length > 0 ? { args } : {}),
            ...(meta === undefined ? {} : { meta }),
          }) satisfies TaskDescription,
      );
      this.#seen.set(h, d);
    }
    return d;
  }

  async #tasklet(v: Tasklet): Promise<Description> {
    const [key, base] = await Promise.all([this.walk(v.key), this.walk(v.parent)]);
    return {
      kind: 'tasklet',
      hash: v.hash(),
      key,
      ...(v.tupleLength === undefined ? {} : { tupleLength: v.tupleLength }),
      base,
    } satisfies TaskletDescription;
  }

  async #list(v: LazyList<unknown>): Promise<Description> {
    return { kind: 'list', hash: v.hash(), length: v.length, blocks: await Promise.all(v.dependencies().map(this.walk)) };
  }

  /** Arrays, Maps and plain objects element by element; any other object as it is. */
  #container(v: object): Promise<Description> {
    if (Array.isArray(v)) return Promise.all(v.map(this.walk));
    if (v instanceof Map) {
      return Promise.all([...v].map(async ([k, e]) => [k, await this.walk(e)] as const)).then((es) => new Map(es));
    }
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      return Promise.all(keys.map((k) => this.walk((v as Record<string, unknown>)[k]))).then((vals) =>
        Object.fromEntries(keys.map((k, i) => [k, vals[i]])),
      );
    }
    return Promise.resolve(v);
  }
}

/** A hash wrapper's kind and what it wraps; undefined for anything else. */
function wrapperOf(v: object): readonly [WrapperDescription['kind'], unknown] | undefined {
  if (v instanceof CustomHashed) return ['custom-hash', v.value];
  if (v instanceof NoHashed) return ['no-hash', v.value];
  if (v instanceof NoLoaded) return ['no-load', v.base];
  return undefined;
}

/** Thrown inside {@link describeBrief} once its budget is spent. */
const SPENT = Symbol('spent');

/**
 * A one-line description of `x` in {@link describe}'s terms, cut to `maxChars`: a task as
 * `name(arg, …)`, a tasklet as `base[key]`, a `map()` list as `list(n)`, the hash wrappers as
 * `custom-hash(…)`, `no-hash(…)`, `no-load(…)`, arrays, Maps and plain objects element by element,
 * strings quoted. Unlike describe() it is synchronous, asks the store nothing, and stops walking
 * once `maxChars` are written, so a task over a large graph costs no more than a small one.
 */
export function describeBrief(x: unknown, maxChars = 80): string {
  return briefly((walk) => walk(x), maxChars);
}

/** Longest description {@link describeArguments} gives by default (about two lines). */
export const ARGUMENTS_SUMMARY_LENGTH = 200;

/**
 * A task's arguments in one line, for messages (failures, `jug status --failed`): the arguments
 * in {@link describeBrief}'s terms, separated by commas, at most `maxChars` (cut with `…`).
 * Reads nothing from the store.
 *
 * @example
 * describeArguments(task.args) // '3, "item-3", errs.load(3)'
 */
export function describeArguments(args: readonly unknown[], maxChars = ARGUMENTS_SUMMARY_LENGTH): string {
  return briefly((walk, list) => list(args, walk), maxChars);
}

/** Runs `emit` with describeBrief's walker, stopping once `maxChars` are written. */
function briefly(
  emit: (walk: (v: unknown) => void, list: (items: Iterable<unknown>, each: (v: unknown) => void) => void) => void,
  maxChars: number,
): string {
  const w = new BriefWriter(maxChars);
  try {
    emit(w.walk, w.list);
    return w.out;
  } catch (e) {
    if (e !== SPENT) throw e;
    return `${w.out.slice(0, Math.max(0, maxChars - 1))}…`;
  }
}

/** describeBrief's writer: appends to `out` and throws SPENT once it is longer than `maxChars`. */
class BriefWriter {
  out = '';
  readonly #maxChars: number;

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  put = (s: string): void => {
    this.out += s;
    if (this.out.length > this.#maxChars) throw SPENT;
  };

  /** The items, each written by `each`, separated by commas. */
  list = (items: Iterable<unknown>, each: (v: unknown) => void): void => {
    let first = true;
    for (const v of items) {
      if (!first) this.put(', ');
      first = false;
      each(v);
    }
  };

  walk = (v: unknown): void => {
    if (typeof v === 'string') return this.put(JSON.stringify(v));
    if (typeof v === 'bigint') return this.put(`${v}n`);
    if (typeof v === 'function') return this.put(`[function ${v.name || 'anonymous'}]`);
    if (typeof v !== 'object' || v === null) return this.put(String(v));
    if (v instanceof Task) return this.#enclosed(`${v.name}(`, v.args, ')');
    if (v instanceof Tasklet) {
      this.walk(v.parent);
      this.put('[');
      this.walk(v.key);
      return this.put(']');
    }
    if (v instanceof LazyList) return this.put(`list(${v.length})`);
    const wrapper = wrapperOf(v);
    if (wrapper !== undefined) {
      this.put(`${wrapper[0]}(`);
      this.walk(wrapper[1]);
      return this.put(')');
    }
    return this.#object(v);
  };

  /** Arrays, typed arrays, Dates, Maps, Sets, plain objects; any other object by its class name. */
  #object(v: object): void {
    if (Array.isArray(v)) return this.#enclosed('[', v, ']');
    if (ArrayBuffer.isView(v)) return this.put(`${v.constructor.name}(${(v as { length?: number }).length ?? v.byteLength})`);
    if (v instanceof Date) return this.put(Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString());
    if (v instanceof Map) {
      this.put(`Map(${v.size}) {`);
      this.list(v, (e) => {
        const [k, val] = e as [unknown, unknown];
        this.walk(k);
        this.put(' => ');
        this.walk(val);
      });
      return this.put('}');
    }
    if (v instanceof Set) return this.#enclosed(`Set(${v.size}) {`, v, '}');
    if (isPlainObject(v)) {
      this.put('{');
      this.list(Object.keys(v), (k) => {
        const key = k as string;
        this.put(/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key));
        this.put(': ');
        this.walk((v as Record<string, unknown>)[key]);
      });
      return this.put('}');
    }
    return this.put(`${v.constructor?.name ?? 'Object'} {…}`);
  }

  /** `open`, the items comma-separated, `close`. */
  #enclosed(open: string, items: Iterable<unknown>, close: string): void {
    this.put(open);
    this.list(items, this.walk);
    this.put(close);
  }
}
