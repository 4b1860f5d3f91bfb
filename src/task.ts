/**
 * The lazy task graph: Task, Tasklet, TaskGenerator, iterateTask.
 *
 * Nothing runs when a task is declared; `jug execute` runs it later, possibly in another thread or
 * process. A task's identity is its hash (name + arguments, see hash.ts), computed when it is
 * declared so that an unhashable argument fails at the line that declared the task. Under
 * `jug check`, once a task declared is not stored, the tasks declared after it whose arguments
 * cannot fail to hash are hashed when first asked for (see {@link hashAtDeclaration}).
 */
import { TaskDefinitionError } from './errors.js';
import { hashDerived, hashTask, taskRef, type TaskRef } from './hash.js';
import { deriveTaskName, userCallSite } from './naming.js';
import { nameOfFunction, registerFunction, registry, setCodeOrigin, type TaskFunction } from './registry.js';

type Registry = ReturnType<typeof registry>;
import { checkRunOptions, functionRunOptions, setFunctionRunOptions, type TaskRunOptions } from './task-options.js';

declare const resultType: unique symbol;

/**
 * Anything `value()` turns into a `T`: Tasks and Tasklets, and the library's other lazy objects
 * (the result of `map()`, `CustomHash`, `NoHash`, `NoLoad`, ...).
 */
export interface LazyValue<T = unknown> {
  /** Phantom field carrying the resolved type; never present at run time. */
  readonly [resultType]: T;
  /** The identity this lazy value contributes to the hash of a task using it. */
  hash(): string;
}

/** Anything that stands for a value computed by jug: a Task or a Tasklet. */
export interface TaskLike<T = unknown> extends LazyValue<T>, TaskRef {
  /** 40-hex identity of this node. */
  hash(): string;
  /** The Task whose stored result this node reads (itself for a Task). */
  readonly base: Task;
}

/** A value, or a lazy stand-in for it: what a TaskGenerator accepts wherever its function takes `T`. */
export type Lazy<T> = T | LazyValue<T> | LazyContainer<T>;

/**
 * Internal protocol of the library's lazy objects that are not Tasks or Tasklets (map results,
 * CustomHash, NoHash, NoLoad). `value()` and argument resolution call `[resolveHook](resolve)`
 * to get the object's value (`resolve` resolves any lazy structure against the same store), and
 * dependency collection walks what `[dependenciesHook]()` returns. Identity comes from the usual
 * hash hooks (`jugHash`, or the task reference for 40-hex identities).
 */
export const resolveHook: unique symbol = Symbol.for('jug.resolve') as never;
export const dependenciesHook: unique symbol = Symbol.for('jug.dependencies') as never;

/** An object taking part in the internal lazy protocol. */
export interface LazyHooks {
  [resolveHook](resolve: (x: unknown) => Promise<unknown>): Promise<unknown>;
  [dependenciesHook](): unknown;
}

/** Whether `x` implements the internal lazy protocol. */
export function hasLazyHooks(x: object): x is LazyHooks {
  return typeof (x as Partial<LazyHooks>)[resolveHook] === 'function';
}

type LazyContainer<T> = T extends readonly unknown[]
  ? { [K in keyof T]: Lazy<T[K]> }
  : T extends Map<infer K, infer V>
    ? Map<K, Lazy<V>>
    : T extends Set<infer V>
      ? Set<Lazy<V>>
      : T extends (...args: never[]) => unknown
        ? never
        : T extends Date | ArrayBufferView | ArrayBuffer
          ? never
          : T extends object
            ? { [K in keyof T]: Lazy<T[K]> }
            : never;

/** Arguments of a function, each allowed to be lazy. */
export type LazyArgs<A extends readonly unknown[]> = { [K in keyof A]: Lazy<A[K]> };

/** Key type usable with `.get()` on a task whose result is `T`. */
export type KeyOf<T> = T extends Map<infer K, unknown> ? K : T extends readonly unknown[] ? number : keyof T;

/** Type of `.get(key)` on a value of type `T`. */
export type ValueAt<T, K> =
  T extends Map<unknown, infer V>
    ? V // a missing key is an error, never undefined (see value.ts)
    : T extends readonly unknown[]
      ? K extends keyof T
        ? T[K]
        : T[number] // an index out of range is an error
      : K extends keyof T
        ? T[K]
        : unknown;

const kTask = Symbol.for('jug.Task');

/**
 * Scratch fields of graph building (graph.ts) on each Task: which build met it (a number per
 * buildGraph() call) and its index there. Declared with the Task so that every Task has them
 * from its construction: added later, they gave 50,000 Tasks a new hidden class and a property
 * array each, at every start-up (docs/design.md, "Start-up").
 */
export const graphBuild: unique symbol = Symbol('jug.graphBuild') as never;
export const graphIndex: unique symbol = Symbol('jug.graphIndex') as never;
const kTasklet = Symbol.for('jug.Tasklet');

/**
 * Base class of the library's lazy objects: carries the phantom result type that lets `value()`
 * and task generators type them as standing for a `T`.
 */
export abstract class LazyObject<T> implements LazyValue<T> {
  declare readonly [resultType]: T;
  abstract hash(): string;
}

/** Common part of Task and Tasklet: indexing with `.get()`. */
abstract class TaskNode<T> extends LazyObject<T> implements TaskLike<T> {
  abstract readonly base: Task;

  [taskRef](): string {
    return this.hash();
  }

  /**
   * A Tasklet standing for `value(this)[key]` (for a Map result, `.get(key)`). Tasklets are never
   * stored: they are computed from the base task's stored result whenever needed. Chainable:
   * `t.get('stats').get(0)`. The key may itself be a Task.
   */
  get<K extends KeyOf<T>>(key: K | TaskLike<K>): Tasklet<ValueAt<T, K>> {
    return new Tasklet<ValueAt<T, K>>(this, key);
  }
}

// Destructuring or spreading a task (`const [a, b] = t`, `[...t]`, `for (x of t)`) would iterate
// it: say why that can't work and what to use. Not a typed member, so TypeScript still rejects
// such code at compile time; this is for JavaScript jugfiles and casts.
Object.defineProperty(TaskNode.prototype, Symbol.iterator, {
  value(this: TaskNode<unknown>): never {
    throw new TaskDefinitionError(
      `${String(this)} cannot be destructured or iterated while the jugfile is declared: its result is not ` +
        `computed yet. Split an array result into tasks with iterateTask(task, n) (\`const [lo, hi] = ` +
        `iterateTask(bounds, 2)\`) or index it with task.get(i); to use the values, \`await bvalue(task)\` (a barrier).`,
    );
  },
});

/**
 * A lazy call `fn(...args)`. Declaring it records it in the current jugfile's graph; `jug execute`
 * runs it once its dependencies (the Tasks among its arguments) are computed, and stores the
 * result under the task's hash.
 *
 * A Task is deliberately not a Promise: use `await value(task)` to get its result.
 */
export class Task<T = unknown> extends TaskNode<T> {
  /** `<module>.<function>`, e.g. `primes.isPrime`. */
  readonly name: string;
  /** The function this task calls. */
  readonly fn: TaskFunction;
  /** The arguments as declared (may contain Tasks, Tasklets and containers of them). */
  readonly args: readonly unknown[];
  /** Undefined until first asked for when {@link hashAtDeclaration} left it for later. */
  #hash: string | undefined;
  #runOptions: TaskRunOptions;
  /** Internal (graph.ts): the graph build that last met this task; 0: none. */
  [graphBuild] = 0;
  /** Internal (graph.ts): this task's index in that build (-1 while it is being visited). */
  [graphIndex] = 0;

  /**
   * Declares the task `fn(...args)`. `fn` must be a named function (its name makes the task's
   * name). Prefer {@link TaskGenerator}, which types the arguments.
   */
  constructor(fn: (...args: never[]) => T | Promise<T>, ...args: unknown[]) {
    super();
    if (typeof fn !== 'function') {
      throw new TaskDefinitionError(`new Task(fn, ...args): fn must be a function, got ${typeof fn}.`);
    }
    const r = registry();
    if (r.runningTask !== undefined) {
      throw new TaskDefinitionError(
        `Creating tasks while a task is running is not supported (task '${r.runningTask}' tried to create one). ` +
          `Declare every task at the top level of the jugfile.`,
      );
    }
    const f = fn as TaskFunction;
    const generated = pendingGenerated;
    pendingGenerated = undefined;
    if (generated !== undefined) {
      // A TaskGenerator's call: its name, function and arguments array as they are.
      this.name = generated.name;
      this.fn = f;
      this.args = generated.args;
      this.#hash = hashAtDeclaration(r, generated.name, generated.args, undefined);
      this.#runOptions = functionRunOptions(f);
      r.tasks.push(this);
      return;
    }
    const internal = pendingInternal;
    pendingInternal = undefined;
    if (internal !== undefined) {
      // declareTask(): name (and possibly hash) given by the library itself.
      this.name = internal.name;
      this.fn = f;
      this.args = args;
      this.#hash = hashAtDeclaration(r, internal.name, args, internal.hash);
      this.#runOptions = functionRunOptions(f);
      r.tasks.push(this);
      return;
    }
    const generatorName = (fn as Partial<TaskRef>)[taskRef];
    let name = typeof generatorName === 'function' ? generatorName.call(fn) : nameOfFunction(f);
    if (name === undefined) {
      const site = userCallSite();
      name = deriveTaskName(f, undefined, site, 'new Task');
      registerFunction(name, f, site?.where ?? '?');
      setCodeOrigin(f, { file: site?.file });
    }
    this.name = name;
    this.fn = typeof generatorName === 'function' ? (fn as unknown as { fn: TaskFunction }).fn : f;
    this.args = args;
    this.#hash = hashAtDeclaration(r, name, args, undefined);
    this.#runOptions = functionRunOptions(this.fn);
    r.tasks.push(this);
  }

  /**
   * How this task is run: retries, back-off, time limit (see {@link TaskRunOptions}). A
   * TaskGenerator's options, changed by {@link setRunOptions}; `jug execute`'s `--retries`,
   * `--retry-delay` and `--timeout` apply to what is not set here.
   */
  get runOptions(): TaskRunOptions {
    return this.#runOptions;
  }

  /**
   * Sets how this task is run (merged over its current options; `undefined` leaves one as it is).
   * Not part of the hash: the stored result, if any, still counts. Returns the task, so that
   * `new Task(fn, x).setRunOptions({ timeoutMs: 60_000 })` reads as one declaration.
   * Call it while the jugfile is declared (worker threads load the jugfile and see the same).
   */
  setRunOptions(options: TaskRunOptions): this {
    const given = checkRunOptions(options, `${String(this)}.setRunOptions()`);
    this.#runOptions = checkRunOptions({ ...this.#runOptions, ...given }, String(this));
    return this;
  }

  override hash(): string {
    return this.#hash ?? this.#hashWithDependencies();
  }

  /**
   * Computes this task's hash and, first, those of the tasks it depends on whose hashes are not
   * computed yet, without recursion: a chain of 100,000 tasks, each declared on the one before,
   * must not overflow the stack.
   */
  #hashWithDependencies(): string {
    const stack: Task[] = [this as Task];
    while (stack.length > 0) {
      const t = stack[stack.length - 1]!;
      if (t.#hash !== undefined) {
        stack.pop();
        continue;
      }
      const before = stack.length;
      t.#pushUnhashedDependencies(stack);
      if (stack.length === before) {
        t.#hash = hashTask(t.name, t.args);
        stack.pop();
      }
    }
    return this.#hash!;
  }

  /**
   * Pushes the Tasks among this task's arguments (or in an array argument) whose hashes are not
   * computed yet. (Instance methods: a reference to the class by name in its body makes esbuild
   * rename it, and stack frames of task functions would say `_Task.name`.)
   */
  #pushUnhashedDependencies(out: Task[]): void {
    const args = this.args;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (Array.isArray(a)) {
        for (let j = 0; j < a.length; j++) this.#pushIfUnhashed(a[j], out);
      } else {
        this.#pushIfUnhashed(a, out);
      }
    }
  }

  /** Pushes `x` if it is a Task of this copy of the library whose hash is not computed yet (another copy's Task hashes itself). */
  #pushIfUnhashed(x: unknown, out: Task[]): void {
    if (typeof x === 'object' && x !== null && #hash in x && x.#hash === undefined) out.push(x as Task);
  }

  override get base(): Task {
    return this as Task;
  }

  /** The Tasks this task directly depends on (Tasklets are resolved to their base Task). */
  dependencies(): Task[] {
    const out: Task[] = [];
    // Arguments that are all plain values (numbers, strings…: most leaves) have none, and need no walk.
    if (!hasObjectArgument(this.args)) return out;
    collectDependencies(this.args, out, new Set(), true);
    return out;
  }

  override toString(): string {
    return `Task(${this.name}, ${this.hash().slice(0, 12)})`;
  }

  /** Marks real Task instances, across copies of the library. */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[kTask] === true;
  }
}
Object.defineProperty(Task.prototype, kTask, { value: true });

/**
 * The hash of a task being declared (`forced`: the one given by the library), or undefined to
 * compute it when first asked for. The latter only under `jug check` (registry's
 * `hashUntilMissing`) once a task declared in this load was not stored: check's answer is then 1,
 * it needs no other hash, and a graph of 50,000 tasks on an empty jugdir costs one hash. Until
 * then, and in every other command, which needs every hash, hashes are computed here: computed
 * later, in a loop over tasks declared long before, each costs ~1.6× as much (measured).
 */
function hashAtDeclaration(r: Registry, name: string, args: readonly unknown[], forced: string | undefined): string | undefined {
  if (r.hashWhenAsked === true && forced === undefined && hashCanWait(args)) return undefined;
  const hash = forced ?? hashTask(name, args);
  if (r.hashUntilMissing === true && r.stored !== undefined && !r.stored.has(hash)) r.hashWhenAsked = true;
  return hash;
}

/**
 * Whether a task's hash can be computed when first asked for rather than when it is declared:
 * every argument is a number, string, boolean, bigint, undefined, null, a Task or Tasklet, or an
 * array of those (a reduce over many tasks). None of these can fail to hash, and tasks do not
 * change, so the hash is the same whenever it is computed (as long as such an array is not changed
 * after the declaration: a task's arguments never should be, it runs with them as they are then).
 * Anything else (objects, Maps, functions, symbols…) is hashed at once: an error names the line
 * declaring the task, and the hash is that of the arguments as declared.
 */
function hashCanWait(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (isPlainHashable(a)) continue;
    if (!Array.isArray(a)) return false;
    for (let j = 0; j < a.length; j++) if (!isPlainHashable(a[j])) return false;
  }
  return true;
}

/** A value of {@link hashCanWait}'s kinds other than an array. */
function isPlainHashable(x: unknown): boolean {
  switch (typeof x) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return true;
    case 'object':
      return x === null || (x as Record<symbol, unknown>)[kTask] === true || (x as Record<symbol, unknown>)[kTasklet] === true;
    default:
      return false;
  }
}

/**
 * Set by a TaskGenerator for the one Task constructor call it makes: `new Task(fn, ...args)`
 * copied the arguments into a second array through a spread call, slow while V8 still
 * interprets it (~1 µs a task at start-up); the generator's own rest array is kept instead.
 */
let pendingGenerated: { readonly name: string; readonly args: unknown[] } | undefined;

/** Set by declareTask() for the one Task constructor call it makes. */
let pendingInternal: { readonly name: string; readonly hash: string | undefined } | undefined;

/**
 * Library-internal: declares a Task with the name given (not derived from `fn`), and optionally
 * a forced hash (CompoundTask's wrapper stands for the compound call's hash). Not exported from
 * the package: user code names tasks through TaskGenerator.
 */
export function declareTask<T>(name: string, fn: TaskFunction, args: readonly unknown[], hash?: string): Task<T> {
  pendingInternal = { name, hash };
  try {
    return new Task<T>(fn as never, ...args);
  } finally {
    pendingInternal = undefined;
  }
}

/**
 * A light derived value: `value(base)[key]`. Never stored, recomputed from the base task's result
 * whenever needed; usable as a task argument anywhere a Task is.
 */
export class Tasklet<T = unknown> extends TaskNode<T> {
  readonly #hash: string;
  /** The task or tasklet this one indexes. */
  readonly parent: TaskLike;
  /** The key (may be a Task). */
  readonly key: unknown;
  /**
   * When set, the parent's value must be an array of exactly this length (checked whenever the
   * tasklet is resolved): the tasklets of {@link returnTuple}.
   */
  readonly tupleLength: number | undefined;

  constructor(parent: TaskLike, key: unknown, tupleLength?: number) {
    super();
    this.parent = parent;
    this.key = key;
    this.tupleLength = tupleLength;
    this.#hash =
      tupleLength === undefined
        ? hashDerived('get', parent.hash(), key)
        : hashDerived('tuple-get', parent.hash(), [key, tupleLength]);
  }

  override hash(): string {
    return this.#hash;
  }

  override get base(): Task {
    return this.parent.base;
  }

  /** Tasks this tasklet needs: its base Task and a Task used as key. */
  dependencies(): Task[] {
    const out: Task[] = [this.base];
    collectDependencies(this.key, out, new Set([this.base]), true);
    return out;
  }

  override toString(): string {
    return `Tasklet(${this.base.name}, ${this.#hash.slice(0, 12)})`;
  }

  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[kTasklet] === true;
  }
}
Object.defineProperty(Tasklet.prototype, kTasklet, { value: true });

/**
 * Makes `instanceof cls` true for instances made by any copy of the library loaded in the
 * process (the CLI's dist/, a jugfile's `jug`, tests' src/), through a `Symbol.for` brand.
 */
export function brandClass(cls: abstract new (...args: never[]) => object, key: string): void {
  const brand = Symbol.for(key);
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value: (x: unknown): boolean => typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true,
  });
}

/** True for Tasks and Tasklets (from any copy of the library). */
export function isTaskLike(x: unknown): x is TaskLike {
  return x instanceof Task || x instanceof Tasklet;
}

/** The one empty list of {@link graphDependencies} (never modified). */
const NO_TASKS: readonly Task[] = [];

/**
 * Internal (graph.ts): the Tasks `task` depends on, a Task possibly more than once (the graph
 * de-duplicates by index, without a Set of 50,000 tasks for a reduce over them); one shared empty
 * list for a task without object arguments (most leaves).
 */
export function graphDependencies(task: Task): readonly Task[] {
  if (!hasObjectArgument(task.args)) return NO_TASKS;
  const out: Task[] = [];
  collectDependencies(task.args, out, new Set(), false);
  return out;
}

/** Whether some argument is an object, which may hold Tasks (functions cannot: a TaskGenerator argument is not a dependency). */
function hasObjectArgument(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'object' && a !== null) return true;
  }
  return false;
}

/**
 * Walks the containers that `value()` resolves (arrays, plain objects, Map keys and values, Set
 * elements) and collects the Tasks found; Tasklets contribute their own dependencies. `once`:
 * each Task once (`seen` holds them too); otherwise `seen` holds containers only.
 */
function collectDependencies(x: unknown, out: Task[], seen: Set<unknown>, once: boolean): void {
  if (typeof x !== 'object' || x === null) return;
  if (x instanceof Task) {
    if (!once) {
      out.push(x);
    } else if (!seen.has(x)) {
      seen.add(x);
      out.push(x);
    }
    return;
  }
  if (x instanceof Tasklet) {
    for (const d of x.dependencies()) collectDependencies(d, out, seen, once);
    return;
  }
  if (seen.has(x)) return;
  seen.add(x);
  if (hasLazyHooks(x)) {
    collectDependencies(x[dependenciesHook](), out, seen, once);
    return;
  }
  if (Array.isArray(x)) {
    collectFromArray(x, out, seen, once);
  } else if (x instanceof Map) {
    for (const [k, v] of x) {
      collectDependencies(k, out, seen, once);
      collectDependencies(v, out, seen, once);
    }
  } else if (x instanceof Set) {
    for (const e of x) collectDependencies(e, out, seen, once);
  } else if (isPlainObject(x)) {
    for (const k of Object.keys(x)) collectDependencies((x as Record<string, unknown>)[k], out, seen, once);
  }
}

/** collectDependencies() over an array's elements. */
function collectFromArray(x: readonly unknown[], out: Task[], seen: Set<unknown>, once: boolean): void {
  for (let i = 0; i < x.length; i++) {
    const e = x[i];
    // A Task element (a reduce over 50,000 tasks) without the call and the instanceof hook.
    if (typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kTask] === true) {
      if (!once) {
        out.push(e as Task);
      } else if (!seen.has(e)) {
        seen.add(e);
        out.push(e as Task);
      }
    } else {
      collectDependencies(e, out, seen, once);
    }
  }
}

/** The Tasks inside `x` (a task, a Tasklet, or containers of them), each once. */
export function dependenciesOf(x: unknown): Task[] {
  const out: Task[] = [];
  collectDependencies(x, out, new Set(), true);
  return out;
}

/** `{}` or `Object.create(null)`, not class instances. */
export function isPlainObject(x: object): boolean {
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Options of {@link TaskGenerator}: the task name, and how its tasks run (retries, back-off,
 * time limit: {@link TaskRunOptions}, not part of the tasks' hashes).
 */
export interface TaskGeneratorOptions extends TaskRunOptions {
  /**
   * Task name, instead of `<module>.<function name>`.
   * @default `<basename of the file calling TaskGenerator>.<fn.name>`
   */
  name?: string;
  /**
   * The version of code the task's code fingerprint cannot see (other files, packages, data):
   * bump it by hand when such code changes what the function computes. Recorded with each run
   * (run records' `code`); not part of the tasks' hashes, so a stored result still counts.
   */
  version?: string | number;
}

/** What {@link TaskGenerator} returns: call it like the function, get a Task. */
export interface TaskGeneratorFunction<A extends unknown[], R> {
  (...args: LazyArgs<A>): Task<R>;
  /** The wrapped function. */
  readonly fn: (...args: A) => R | Promise<R>;
  /** Task name given to every task it creates. */
  readonly taskName: string;
}

/**
 * Turns `fn` into a task generator: calling the result with arguments (values, Tasks, Tasklets,
 * or containers of them) declares the Task `fn(...args)` instead of running it.
 *
 * @example
 * export const isPrime = TaskGenerator(function isPrime(n: number): boolean { ... });
 * export const primes = range.map((n) => isPrime(n));   // Task<boolean>[]
 */
export function TaskGenerator<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  options: TaskGeneratorOptions = {},
): TaskGeneratorFunction<A, Awaited<R>> {
  if (typeof fn !== 'function') {
    throw new TaskDefinitionError(`TaskGenerator(fn): fn must be a function, got ${typeof fn}.`);
  }
  const site = userCallSite();
  const name = deriveTaskName(fn, options.name, site, 'TaskGenerator');
  const runOptions = checkRunOptions(options, `TaskGenerator(${name})`);
  registerFunction(name, fn as TaskFunction, site?.where ?? '?');
  setCodeOrigin(fn as TaskFunction, { file: site?.file, version: options.version });
  setFunctionRunOptions(fn as TaskFunction, runOptions);
  // A TaskGenerator of a TaskGenerator: the Task constructor unwraps it (its general path).
  const wrapsGenerator = typeof (fn as Partial<TaskRef>)[taskRef] === 'function';
  const generator = (...args: LazyArgs<A>): Task<Awaited<R>> => {
    if (wrapsGenerator) return new Task<Awaited<R>>(fn as never, ...(args as unknown[]));
    // The name registered for fn now, as `new Task(fn, …)` finds it (the last TaskGenerator of fn names it).
    pendingGenerated = { name: nameOfFunction(fn as TaskFunction) ?? name, args: args as unknown[] };
    try {
      return new Task<Awaited<R>>(fn as never);
    } finally {
      pendingGenerated = undefined;
    }
  };
  Object.defineProperties(generator, {
    fn: { value: fn },
    taskName: { value: name },
    name: { value: fn.name },
    [taskRef]: { value: () => name },
  });
  return generator as TaskGeneratorFunction<A, Awaited<R>>;
}

/** Tuple of Tasklets for destructuring a task whose result is an array of known length. */
export type TaskletTuple<T extends readonly unknown[]> = number extends T['length']
  ? Tasklet<T[number]>[]
  : { -readonly [K in keyof T]: Tasklet<T[K]> };

/**
 * Splits a task returning an array into `n` Tasklets, for destructuring:
 * `const [lo, hi] = iterateTask(bounds, 2)`.
 */
export function iterateTask<T extends readonly unknown[]>(task: TaskLike<T>, n: number): TaskletTuple<T> {
  if (!Number.isInteger(n) || n < 0) {
    throw new TaskDefinitionError(`iterateTask(task, n): n must be a non-negative integer, got ${String(n)}.`);
  }
  const out: Tasklet[] = [];
  for (let i = 0; i < n; i++) out.push(new Tasklet(task, i));
  return out as TaskletTuple<T>;
}
