/**
 * Process-wide (per thread) state of the jug library: the tasks a jugfile declared, the task
 * functions by name, and the active store.
 *
 * It lives on `globalThis` under a `Symbol.for` key so that every copy of the library loaded in
 * one thread (the CLI's `dist/`, a jugfile importing `jug` through another path, tests importing
 * `src/`) shares one registry instead of silently splitting the graph.
 */
import { TaskDefinitionError } from './errors.js';
import type { Store } from './store/store.js';
import type { RunningTaskSignal, TaskRunOptions } from './task-options.js';

/** Anything jug can run as a task function. */
export type TaskFunction = (...args: never[]) => unknown;

/** A task as the registry sees it (the concrete class lives in task.ts). */
export interface RegisteredTask {
  readonly name: string;
  hash(): string;
}

interface FunctionEntry {
  readonly fn: TaskFunction;
  /** `file:line` where the function was first turned into a task, for duplicate-name errors. */
  readonly where: string;
}

interface Registry {
  /** Every Task constructed since the last `beginLoad()`, in construction order. */
  tasks: RegisteredTask[];
  /** Task name → function. */
  functions: Map<string, FunctionEntry>;
  /** Function → task name (names are stable for a function object). */
  names: WeakMap<TaskFunction, string>;
  /** The store `value()` reads from; set by `init()`, `setJugdir()` and the CLI. */
  store: Store | undefined;
  /** True while the CLI runs (see `isJugRunning()`). */
  cliRunning: boolean;
  /**
   * The jugfile's arguments from the `jug` command line (`jug execute sweep.ts -- --n 5`): each load
   * sets `process.argv` to `[node, jugfile, ...jugfileArgs]` first. Undefined outside the CLI.
   */
  jugfileArgs: readonly string[] | undefined;
  /** What `setJugdir()` was called with during the current load (reset by `beginLoad()`). */
  jugdirChoice: string | Store | undefined;
  /** Set by the CLI when `--jugdir` is given: it wins, and the jugfile's `setJugdir()` changes nothing. */
  jugdirFixed: boolean;
  /** Set while a task function runs in this thread: creating tasks then is an error. */
  runningTask: string | undefined;
  /** The running task's signal (see `taskSignal()`), set with `runningTask`. */
  runningSignal: RunningTaskSignal | undefined;
  /** Run options (retries, timeout) a TaskGenerator gives the tasks of its function. */
  runOptions: WeakMap<TaskFunction, TaskRunOptions>;
  /**
   * Hashes known to be stored when the current jugfile load began (one listing of the store,
   * taken by the CLI, `init()` and worker threads before each load). `barrier()`, `bvalue()` and
   * `CompoundTask` consult it synchronously while the jugfile loads. Undefined: no load is under way.
   */
  stored: ReadonlySet<string> | undefined;
  /**
   * Set by `jug check`, whose answer is 1 at the first task not stored: once a task declared during
   * a load is not in `stored`, {@link hashWhenAsked} is set (see `hashAtDeclaration` in task.ts).
   * Absent (registries made by older copies of the library): false.
   */
  hashUntilMissing?: boolean;
  /**
   * Set during a load (reset by `beginLoad()`): a task declared from now on whose arguments cannot
   * fail to hash (`hashCanWait` in task.ts) is hashed when first asked for, not when declared.
   */
  hashWhenAsked?: boolean;
  /** Set when the current load stopped at a `barrier()` / `bvalue()` (see barrier.ts). */
  barrier: { readonly where: string; readonly tasksBefore: number; readonly missing: number } | undefined;
}

const KEY = Symbol.for('jug.registry.v1');

/** The registry of this thread. */
export function registry(): Registry {
  const g = globalThis as typeof globalThis & { [KEY]?: Registry };
  let r = g[KEY];
  if (r === undefined) {
    r = {
      tasks: [],
      functions: new Map(),
      names: new WeakMap(),
      store: undefined,
      cliRunning: false,
      jugfileArgs: undefined,
      jugdirChoice: undefined,
      jugdirFixed: false,
      runningTask: undefined,
      runningSignal: undefined,
      runOptions: new WeakMap(),
      stored: undefined,
      barrier: undefined,
    };
    g[KEY] = r;
  }
  return r;
}

/** Forget the tasks and function names of a previous load (a fresh jugfile import follows). */
export function beginLoad(): void {
  const r = registry();
  r.tasks = [];
  r.functions = new Map();
  r.names = new WeakMap();
  r.runOptions = new WeakMap();
  r.barrier = undefined;
  r.jugdirChoice = undefined;
  r.hashWhenAsked = false;
}

/** Records `fn` under `name`; a different function already holding the name is an error. */
export function registerFunction(name: string, fn: TaskFunction, where: string): void {
  const r = registry();
  const existing = r.functions.get(name);
  if (existing !== undefined && existing.fn !== fn) {
    throw new TaskDefinitionError(
      `Two different functions are both named '${name}' (${existing.where} and ${where}). ` +
        `Task names must be unique: rename one of them or pass { name: '...' } to TaskGenerator.`,
    );
  }
  if (existing === undefined) r.functions.set(name, { fn, where });
  r.names.set(fn, name);
}

/** The task name registered for `fn`, if any. */
export function nameOfFunction(fn: TaskFunction): string | undefined {
  return registry().names.get(fn);
}

/** The function registered under a task name, if any. */
export function functionByName(name: string): TaskFunction | undefined {
  return registry().functions.get(name)?.fn;
}

/** Where a task function's code comes from, for its code fingerprint (src/record-code.ts). */
export interface CodeOrigin {
  /** The file that turned it into a task (the TaskGenerator or `new Task` call's), absolute. */
  readonly file: string | undefined;
  /** TaskGenerator's `version` (not part of any hash). */
  readonly version?: string | number | undefined;
}

const ORIGINS = Symbol.for('jug.codeOrigins.v1');

/** Per thread (shared by every copy of the library): task function → its code's origin. */
function origins(): WeakMap<TaskFunction, CodeOrigin> {
  const r = registry() as ReturnType<typeof registry> & { [ORIGINS]?: WeakMap<TaskFunction, CodeOrigin> };
  return (r[ORIGINS] ??= new WeakMap());
}

/** Records where `fn`'s code comes from (the first origin of a function wins). */
export function setCodeOrigin(fn: TaskFunction, origin: CodeOrigin): void {
  const map = origins();
  if (!map.has(fn)) map.set(fn, origin);
}

/** Where `fn`'s code comes from, if it was turned into a task by TaskGenerator or `new Task`. */
export function codeOrigin(fn: TaskFunction): CodeOrigin | undefined {
  return origins().get(fn);
}

/**
 * Whether `hash` is known to be stored, synchronously, while a jugfile loads: from the listing
 * taken before the load (see `stored`). False when no listing was taken.
 */
export function isStoredNow(hash: string): boolean {
  return registry().stored?.has(hash) ?? false;
}
