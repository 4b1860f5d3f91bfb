/**
 * Programmatic entry points: `init()` loads a jugfile from a plain Node script (as the CLI does),
 * `setJugdir()` selects the store `value()` reads, `isJugRunning()` tells whether the jug CLI runs.
 */
import { defaultJugdir, jugdirFor, loadAgainst } from './jugfile.js';
import { registry } from './registry.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import type { Task } from './task.js';
import type { BarrierStop } from './barrier.js';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * The store: a directory path for the file store, `':memory:'`, or a Store object. A jugfile that
   * calls `setJugdir()` itself overrides it.
   * @default `<jugfile path without extension>.jugdata`, as the CLI
   */
  jugdir?: string | Store;
}

/** What {@link init} returns. */
export interface InitResult<E = Record<string, unknown>> {
  /** The store results are read from (also made the active store for `value()`). */
  readonly store: Store;
  /** The tasks the jugfile declared, in declaration order. */
  readonly tasks: Task[];
  /**
   * The jugfile module's exports; `{}` when the load stopped at a barrier (an ES module that did not
   * finish loading has no exports to give: use `tasks`).
   */
  readonly exports: E;
  /**
   * Set when the jugfile stopped at a `barrier()` / `bvalue()` because tasks before it are not
   * computed yet (run `jug execute`); `tasks` and `exports` then cover the part before it.
   */
  readonly barrier: BarrierStop | undefined;
}

/**
 * Loads a jugfile (TypeScript or JavaScript) and makes its store the active one, so that
 * `value()` can read results.
 *
 * @example
 * import { init, value } from 'jug';
 * const { exports } = await init('primes.ts');
 * console.log(await value(exports.primes));
 */
export async function init<E = Record<string, unknown>>(jugfile: string, options: InitOptions = {}): Promise<InitResult<E>> {
  const jugdir = typeof options.jugdir === 'string' ? jugdirFor(options.jugdir, jugfile) : (options.jugdir ?? defaultJugdir(jugfile));
  // A jugfile may call setJugdir() itself; that choice wins (see loadAgainst).
  const loaded = await loadAgainst(jugfile, typeof jugdir === 'string' ? openStore(jugdir) : jugdir, (dir) => openStore(dir));
  return { store: loaded.store, tasks: loaded.tasks, exports: loaded.exports as E, barrier: loaded.barrier };
}

/**
 * Selects the store used by `value()` (a jugdir path, `':memory:'` or a Store) and returns it. Called in a
 * jugfile, it selects the jugfile's own store, which `jug` commands then use, unless `--jugdir` is
 * given (which wins: the call then changes nothing and returns the `--jugdir` store).
 */
export function setJugdir(jugdir: string | Store): Store {
  const reg = registry();
  if (reg.jugdirFixed && reg.store !== undefined) return reg.store;
  const store = typeof jugdir === 'string' ? openStore(jugdir) : jugdir;
  reg.store = store;
  reg.jugdirChoice = jugdir;
  return store;
}

/** True while the `jug` command runs this code (false when a script imports the jugfile). */
export function isJugRunning(): boolean {
  return registry().cliRunning;
}
