/**
 * The pool of `jug execute --threads N`, started at once or only when a task first needs a thread.
 * A run whose last run of the same jugfile ran every task in the main thread (thread-verdict.ts)
 * starts no pool at all until then: not even Piscina is loaded (~30–40 ms of the main thread's
 * CPU, pool-start.ts loads it when it starts a pool).
 */
import type { Piscina } from 'piscina';

export class LazyPool {
  #pool: Piscina | undefined;
  readonly #listeners: ((pool: Piscina) => void)[] = [];

  constructor(
    /** Starts the pool (synchronously). */
    private readonly start: () => Piscina,
    /** Start it now. */
    now: boolean,
  ) {
    if (now) this.#pool = start();
  }

  /** The pool, if started. */
  get current(): Piscina | undefined {
    return this.#pool;
  }

  /** The pool, started now if it was not (then each {@link onStart} listener is told). */
  get(): Piscina {
    if (this.#pool !== undefined) return this.#pool;
    const pool = (this.#pool = this.start());
    for (const f of this.#listeners) f(pool);
    return pool;
  }

  /** Calls `f` with the pool once it is started (at once if it is). */
  onStart(f: (pool: Piscina) => void): void {
    if (this.#pool !== undefined) f(this.#pool);
    else this.#listeners.push(f);
  }
}
