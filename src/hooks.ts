/**
 * Hooks: functions a jugfile registers to be called at points of `jug execute`.
 *
 * Task hooks (`execute.task-*`) run in the thread that runs the task: the main thread in a serial
 * run, a worker thread with `--threads` (every thread imports the jugfile, so the jugfile's
 * `registerHook` calls register them there too). `execute.task-loadable` for a task the scheduler
 * found stored (its own listing of the store) runs in the main thread. The `execute.finished-*`
 * hooks run in the main thread once the run is over.
 *
 * The hook table lives on `globalThis` under a `Symbol.for` key, like the registry, so that every
 * copy of the library loaded in one thread shares it.
 */
import { JugError } from './errors.js';
import { resetExitChecks } from './exit-checks.js';
import type { Task } from './task.js';
import { userStack } from './stack.js';

/** The arguments each hook receives. */
export interface HookArguments {
  /** A task's result is already stored (it will not run). */
  'execute.task-loadable': [task: Task];
  /** A task is about to run: this process holds its lock and its result is not stored. */
  'execute.task-pre-execute': [task: Task];
  /** A task ran and its result is stored. */
  'execute.task-executed': [task: Task];
  /** The run is over, before the summary is printed (main thread). */
  'execute.finished-pre-status': [];
  /** The run is over, after the summary is printed (main thread). */
  'execute.finished-post-status': [];
}

/** A known hook name. */
export type HookName = keyof HookArguments;

/** A hook function. Hooks are synchronous: a returned Promise is not awaited. */
export type HookFunction<N extends HookName> = (...args: HookArguments[N]) => void;

const KNOWN: readonly HookName[] = [
  'execute.task-loadable',
  'execute.task-pre-execute',
  'execute.task-executed',
  'execute.finished-pre-status',
  'execute.finished-post-status',
];

/** Python Jug's spellings, accepted in error hints only. */
const PYTHON_NAMES: Record<string, HookName> = {
  'execute.task-executed1': 'execute.task-executed',
  'execute.finished_pre_status': 'execute.finished-pre-status',
  'execute.finished_post_status': 'execute.finished-post-status',
};

interface HookTable {
  hooks: Map<HookName, HookFunction<HookName>[]>;
  once: Set<string>;
}

const KEY = Symbol.for('jug.hooks.v1');

function table(): HookTable {
  const g = globalThis as typeof globalThis & { [KEY]?: HookTable };
  return (g[KEY] ??= { hooks: new Map(), once: new Set() });
}

function checkName(name: string): asserts name is HookName {
  if ((KNOWN as readonly string[]).includes(name)) return;
  const python = PYTHON_NAMES[name];
  throw new JugError(
    `registerHook: '${name}' is not a known hook name` +
      (python === undefined ? '' : ` (Python Jug's '${name}' is '${python}' here)`) +
      `. Known hooks: ${KNOWN.join(', ')}.`,
  );
}

/**
 * Calls `fn` at the hook point `name` of every `jug execute` run in this thread (see
 * {@link HookArguments}). Functions run in registration order; registering one twice calls it
 * twice. A hook that throws fails the task it was called for (or, for the `finished` hooks, makes
 * `jug execute` exit 1).
 *
 * @example
 * registerHook('execute.task-executed', (t) => console.log(`done: ${t.name}`));
 */
export function registerHook<N extends HookName>(name: N, fn: HookFunction<N>): void {
  checkName(name);
  if (typeof fn !== 'function') throw new JugError(`registerHook('${name}', fn): fn must be a function, got ${typeof fn}.`);
  const t = table();
  const list = t.hooks.get(name) ?? [];
  list.push(fn as HookFunction<HookName>);
  t.hooks.set(name, list);
}

/**
 * Like {@link registerHook}, but only the first call with a given `(name, key)` registers; later
 * ones (a jugfile imported again, a module imported from several jugfiles) are ignored.
 */
export function registerHookOnce<N extends HookName>(name: N, key: string, fn: HookFunction<N>): void {
  checkName(name);
  const t = table();
  const id = `${name}\0${key}`;
  if (t.once.has(id)) return;
  registerHook(name, fn);
  t.once.add(id);
}

/**
 * Removes every hook of this thread, forgets the keys of {@link registerHookOnce}, and removes the
 * exit checks registered with `exitAfterNTasks()` and the like (as Python Jug, where they are hooks).
 */
export function resetAllHooks(): void {
  resetExitChecks();
  const t = table();
  t.hooks.clear();
  t.once.clear();
}

/**
 * Forgets the hooks (not the exit checks) before the jugfile is loaded again — past a barrier —
 * so that its `registerHook()` calls do not register every hook a second time. Exit checks keep
 * their first registration (see exit-checks.ts).
 */
export function clearHooksForReload(): void {
  const t = table();
  t.hooks.clear();
  t.once.clear();
}

/** Whether any function is registered for `name` (lets callers skip work). */
export function hasHooks(name: HookName): boolean {
  return (table().hooks.get(name)?.length ?? 0) > 0;
}

/** The error thrown when a hook function throws: names the hook (and the task). */
export class HookError extends JugError {
  override name = 'HookError';
}

/**
 * Calls the functions registered for `name` in order. The first one that throws stops the rest;
 * its error is rethrown as a HookError naming the hook (the original is the `cause`).
 */
export function runHooks<N extends HookName>(name: N, ...args: HookArguments[N]): void {
  const list = table().hooks.get(name);
  if (list === undefined) return;
  for (const fn of [...list]) {
    try {
      (fn as HookFunction<N>)(...args);
    } catch (e) {
      const task = args[0] as Task | undefined;
      const detail = e instanceof Error ? userStack(e.stack ?? e.message) : String(e);
      throw new HookError(
        `the ${name} hook${fn.name ? ` '${fn.name}'` : ''} threw${task ? ` for task ${task.name}` : ''}: ${detail}`,
        { cause: e },
      );
    }
  }
}
