/**
 * Programmatic entry points: `init()` loads a jugfile from a plain Node script (as the CLI does),
 * `setJugdir()` selects the store `value()` reads, `isJugRunning()` tells whether the jug CLI runs.
 */
import { defaultJugdir, loadJugfile } from './jugfile.js';
import { registry } from './registry.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import type { Task } from './task.js';
import type { BarrierStop } from './barrier.js';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * The store: a directory path for the file store, or a Store object.
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
  /** The jugfile module's exports (up to the barrier, if it stopped at one). */
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
  const store = setJugdir(options.jugdir ?? defaultJugdir(jugfile));
  const loaded = await loadJugfile(jugfile);
  // A jugfile may call setJugdir() itself; that choice wins.
  return { store: registry().store ?? store, tasks: loaded.tasks, exports: loaded.exports as E, barrier: loaded.barrier };
}

/** Selects the store used by `value()` (a jugdir path or a Store) and returns it. */
export function setJugdir(jugdir: string | Store): Store {
  const store = typeof jugdir === 'string' ? openStore(jugdir) : jugdir;
  registry().store = store;
  return store;
}

/** True while the `jug` command runs this code (false when a script imports the jugfile). */
export function isJugRunning(): boolean {
  return registry().cliRunning;
}
