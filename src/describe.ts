/**
 * describe(): a plain-data description of how a value is computed — the task, its arguments
 * (recursively), and what the store knows about its result.
 */
import { statSync } from 'node:fs';
import { inspect } from 'node:util';
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
  const store = options.store ?? registry().store;
  const seen = new Map<string, Promise<Description>>();
  const walk = (v: unknown): Promise<Description> => {
    if (typeof v !== 'object' || v === null) return Promise.resolve(v);
    if (v instanceof Task) {
      const h = v.hash();
      let d = seen.get(h);
      if (d === undefined) {
        d = (async (): Promise<Description> => {
          const [args, meta] = await Promise.all([
            Promise.all(v.args.map(walk)),
            store === undefined ? undefined : metaOf(store, h),
          ]);
          return {
            kind: 'task',
            name: v.name,
            hash: h,
            ...(args.length > 0 ? { args } : {}),
            ...(meta === undefined ? {} : { meta }),
          } satisfies TaskDescription;
        })();
        seen.set(h, d);
      }
      return d;
    }
    if (v instanceof Tasklet) {
      return (async (): Promise<Description> => {
        const [key, base] = await Promise.all([walk(v.key), walk(v.parent)]);
        return {
          kind: 'tasklet',
          hash: v.hash(),
          key,
          ...(v.tupleLength === undefined ? {} : { tupleLength: v.tupleLength }),
          base,
        } satisfies TaskletDescription;
      })();
    }
    if (v instanceof LazyList) {
      return (async (): Promise<Description> => ({
        kind: 'list',
        hash: v.hash(),
        length: v.length,
        blocks: await Promise.all(v.dependencies().map(walk)),
      }))();
    }
    const wrapper =
      v instanceof CustomHashed
        ? (['custom-hash', v.value] as const)
        : v instanceof NoHashed
          ? (['no-hash', v.value] as const)
          : v instanceof NoLoaded
            ? (['no-load', v.base] as const)
            : undefined;
    if (wrapper !== undefined) {
      const [kind, inner] = wrapper;
      const hash = (v as { hash(): string }).hash();
      return walk(inner).then((value): Description => ({ kind, hash, value }) satisfies WrapperDescription);
    }
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v instanceof Map) {
      return Promise.all([...v].map(async ([k, e]) => [k, await walk(e)] as const)).then((es) => new Map(es));
    }
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      return Promise.all(keys.map((k) => walk((v as Record<string, unknown>)[k]))).then((vals) =>
        Object.fromEntries(keys.map((k, i) => [k, vals[i]])),
      );
    }
    return Promise.resolve(v);
  };
  return walk(x);
}

/** Longest description {@link describeArguments} gives by default (about two lines). */
export const ARGUMENTS_SUMMARY_LENGTH = 200;

/** How many elements of an array (or entries of an object or Map) a summary shows. */
const SUMMARY_ITEMS = 8;
/** How deep into arrays and objects a summary looks. */
const SUMMARY_DEPTH = 3;

/** A value that `inspect()` prints as `text`, unquoted. */
function shownAs(text: string): object {
  return { [inspect.custom]: () => text };
}

/**
 * `x` with the library's lazy objects replaced by short forms of their description — a task by
 * `<task name 1a2b3c4d>`, a tasklet by its base and key, a map() list by its length — and long
 * arrays, objects and Maps cut to their first elements, so that inspect() prints it compactly.
 */
function summaryValue(x: unknown, depth: number): unknown {
  if (typeof x !== 'object' || x === null) return x;
  if (x instanceof Task) return shownAs(`<task ${x.name} ${x.hash().slice(0, 8)}>`);
  if (x instanceof Tasklet) {
    const key = inspect(summaryValue(x.key, depth + 1), { breakLength: Infinity });
    return shownAs(`${inspect(summaryValue(x.parent, depth + 1))}[${key}]`);
  }
  if (x instanceof LazyList) return shownAs(`<list of ${x.length} ${x.hash().slice(0, 8)}>`);
  if (x instanceof CustomHashed) return shownAs(`CustomHash(${inspect(summaryValue(x.value, depth + 1), { breakLength: Infinity })})`);
  if (x instanceof NoHashed) return shownAs(`NoHash(${inspect(summaryValue(x.value, depth + 1), { breakLength: Infinity })})`);
  if (x instanceof NoLoaded) return shownAs(`NoLoad(${inspect(summaryValue(x.base, depth + 1))})`);
  if (depth >= SUMMARY_DEPTH) return x; // inspect() shows [Array] / [Object] there
  if (Array.isArray(x)) {
    const shown = x.slice(0, SUMMARY_ITEMS).map((e) => summaryValue(e, depth + 1));
    if (x.length > SUMMARY_ITEMS) shown.push(shownAs(`… ${x.length - SUMMARY_ITEMS} more`));
    return shown;
  }
  if (x instanceof Map) {
    const shown = new Map([...x].slice(0, SUMMARY_ITEMS).map(([k, v]) => [k, summaryValue(v, depth + 1)]));
    if (x.size > SUMMARY_ITEMS) shown.set(shownAs('…'), shownAs(`${x.size - SUMMARY_ITEMS} more`));
    return shown;
  }
  if (isPlainObject(x)) {
    const keys = Object.keys(x);
    const shown: Record<string, unknown> = {};
    for (const k of keys.slice(0, SUMMARY_ITEMS)) shown[k] = summaryValue((x as Record<string, unknown>)[k], depth + 1);
    if (keys.length > SUMMARY_ITEMS) shown['…'] = shownAs(`${keys.length - SUMMARY_ITEMS} more`);
    return shown;
  }
  return x;
}

/**
 * A task's arguments described in one line, for messages: plain values as `inspect()` shows them
 * (long strings, arrays and objects shortened), tasks and the library's lazy objects in the short
 * form of their {@link describe} description (`<task primes.isPrime 8768ac24>`, `<task …>[0]`,
 * `<list of 99 …>`), at most `maxLength` characters (cut with `…`). Reads nothing from the store.
 *
 * @example
 * describeArguments(task.args) // "3, 'item-3', <task errs.load 36a9c0f1>"
 */
export function describeArguments(args: readonly unknown[], maxLength = ARGUMENTS_SUMMARY_LENGTH): string {
  let text: string;
  try {
    text = args
      .map((a) =>
        inspect(summaryValue(a, 0), {
          depth: SUMMARY_DEPTH,
          breakLength: Infinity,
          compact: true,
          maxArrayLength: SUMMARY_ITEMS + 1, // + the `… n more` of a shortened array
          maxStringLength: 80,
          colors: false,
        }),
      )
      .join(', ');
  } catch (e) {
    text = `(arguments cannot be shown: ${e instanceof Error ? e.message : String(e)})`;
  }
  text = text.replace(/\s*\n\s*/g, ' ');
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
