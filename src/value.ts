/**
 * `value()`: resolve Tasks, Tasklets and containers of them to their stored results.
 * The same walk resolves a task's arguments before it runs, so what a task receives is exactly
 * what `value()` gives.
 */
import { JugError } from './errors.js';
import { registry } from './registry.js';
import type { Store } from './store/store.js';
import { Task, Tasklet, hasLazyHooks, isPlainObject, resolveHook, type LazyValue } from './task.js';

/** Result type of `value(x)`: every Task / Tasklet (any lazy value) inside `x` replaced by its result. */
export type Resolved<T> =
  T extends LazyValue<infer R>
    ? R
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Resolved<T[K]> }
      : T extends Map<infer K, infer V>
        ? Map<Resolved<K>, Resolved<V>>
        : T extends Set<infer V>
          ? Set<Resolved<V>>
          : T extends (...args: never[]) => unknown
            ? T
            : T extends Date | ArrayBufferView | ArrayBuffer
              ? T
              : T extends object
                ? { [K in keyof T]: Resolved<T[K]> }
                : T;

/** The store `value()` uses: set by `init()`, `setJugdir()` or the CLI. */
export function activeStore(): Store {
  const store = registry().store;
  if (store === undefined) {
    throw new JugError(
      'No jug store is active: load the jugfile with init(jugfile) (or call setJugdir(dir)) before calling value().',
    );
  }
  return store;
}

/**
 * Resolves `x`: a Task gives its stored result, a Tasklet indexes its base's result, and arrays,
 * plain objects, Maps (keys and values) and Sets are copied with their contents resolved.
 * Anything else is returned as is. Throws NotComputedError for a task not yet computed.
 *
 * @example
 * const { exports } = await init('primes.ts');
 * const flags = await value(exports.primes100);   // boolean[]
 */
export async function value<T>(x: T): Promise<Resolved<T>> {
  return (await resolveWith(x, activeStore())) as Resolved<T>;
}

/** `value()` against an explicit store. */
export async function resolveWith(x: unknown, store: Store): Promise<unknown> {
  if (typeof x !== 'object' || x === null) return x;
  if (x instanceof Task) return store.load(x.hash(), x.name);
  if (x instanceof Tasklet) {
    const [base, key] = await Promise.all([resolveWith(x.parent, store), resolveWith(x.key, store)]);
    if (x.tupleLength !== undefined) checkTuple(base, x.tupleLength, x);
    return index(base, key, x);
  }
  if (hasLazyHooks(x)) return x[resolveHook]((y) => resolveWith(y, store));
  if (Array.isArray(x)) return resolveArray(x, store);
  if (x instanceof Map) {
    const entries = await Promise.all(
      [...x].map(async ([k, v]) => [await resolveWith(k, store), await resolveWith(v, store)] as const),
    );
    return new Map(entries);
  }
  if (x instanceof Set) return new Set(await Promise.all([...x].map((e) => resolveWith(e, store))));
  if (isPlainObject(x)) {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(x);
    const vals = await Promise.all(keys.map((k) => resolveWith((x as Record<string, unknown>)[k], store)));
    keys.forEach((k, i) => (out[k] = vals[i]));
    return out;
  }
  return x;
}

/**
 * An array resolved element by element. Its Task elements go straight to the store: all in one
 * `loadMany()` call where the store has it (the file store decodes packed results in one loop),
 * else one `load()` each (no resolveWith call, one promise less per element).
 */
async function resolveArray(x: readonly unknown[], store: Store): Promise<unknown[]> {
  if (store.loadMany === undefined || x.length < 2) {
    return Promise.all(x.map((e) => (e instanceof Task ? store.load(e.hash(), e.name) : resolveWith(e, store))));
  }
  const hashes: string[] = [];
  const names: string[] = [];
  const at: number[] = [];
  const out = new Array<unknown>(x.length);
  const others: Promise<void>[] = [];
  for (let k = 0; k < x.length; k++) {
    const e = x[k];
    if (e instanceof Task) {
      hashes.push(e.hash());
      names.push(e.name);
      at.push(k);
    } else if (typeof e !== 'object' || e === null) out[k] = e;
    else others.push(resolveWith(e, store).then((v) => void (out[k] = v)));
  }
  // Together, so that a failure of either side rejects once and nothing is left unhandled.
  const [loaded] = await Promise.all([hashes.length === 0 ? [] : store.loadMany(hashes, names), ...others]);
  for (let j = 0; j < at.length; j++) out[at[j]!] = loaded[j];
  return out;
}

function checkTuple(base: unknown, n: number, t: Tasklet): void {
  const len = Array.isArray(base) ? base.length : undefined;
  if (len !== n) {
    throw new JugError(
      `Task '${t.base.name}' was declared (with returnTuple) to return a tuple of ${n} elements, but returned ` +
        (len === undefined ? `${base === null ? 'null' : typeof base} (not an array).` : `an array of ${len}.`),
    );
  }
}

/**
 * `base[key]` for a Tasklet, strictly (Python Jug raises IndexError / KeyError): an index out of range
 * or a missing key is an error naming the task, not a silent `undefined`. Negative indices count
 * from the end, as in Python and `Array.prototype.at`.
 */
function index(base: unknown, key: unknown, t: Tasklet): unknown {
  const what = `${t.toString()}: the result of '${t.base.name}'`;
  if (base instanceof Map) {
    if (!base.has(key)) throw new JugError(`${what} (a Map of ${base.size} entries) has no key ${show(key)}.`);
    return base.get(key);
  }
  if (base === null || base === undefined) {
    throw new JugError(`${t.toString()}: cannot index ${String(base)} (the result of '${t.base.name}') with ${show(key)}.`);
  }
  if ((Array.isArray(base) || ArrayBuffer.isView(base) || typeof base === 'string') && typeof key === 'number') {
    const seq = base as ArrayLike<unknown>;
    if (!Number.isInteger(key) || key >= seq.length || key < -seq.length) {
      throw new JugError(`${what} has ${seq.length} element(s): index ${show(key)} is out of range.`);
    }
    return seq[key < 0 ? seq.length + key : key];
  }
  if (typeof base === 'object' && !((key as PropertyKey) in base)) {
    const keys = Object.keys(base).slice(0, 10).map(show).join(', ');
    throw new JugError(`${what} has no key ${show(key)} (its keys: ${keys || 'none'}).`);
  }
  return (base as Record<PropertyKey, unknown>)[key as PropertyKey];
}

function show(key: unknown): string {
  return typeof key === 'string' ? `'${key}'` : String(key);
}
