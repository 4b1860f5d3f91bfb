/**
 * `barrier()` and `bvalue()`: let a jugfile depend on computed results while it is being
 * declared. The jugfile stops loading at a barrier whose earlier tasks are not all stored;
 * `jug execute` then runs the tasks declared so far and loads the jugfile again, until it loads
 * to the end. Other commands (status, check, cleanup, ...) see the tasks before the barrier and
 * know that more may follow.
 *
 * Both checks are synchronous, against the listing of the store taken just before the load
 * (registry `stored`), so a forgotten `await` cannot let a jugfile run past a barrier: the
 * barrier throws at once, and the loader keeps only the tasks declared before it even if the
 * jugfile catches the error.
 */
import { JugError } from './errors.js';
import { userCallSite } from './naming.js';
import { isStoredNow, registry, type RegisteredTask } from './registry.js';
import { dependenciesOf } from './task.js';
import { value, type Resolved } from './value.js';

/** Where a load stopped at a barrier. */
export interface BarrierStop {
  /** `file:line` of the `barrier()` / `bvalue()` call. */
  readonly where: string;
  /** How many tasks had been declared before it (the tasks the load keeps). */
  readonly tasksBefore: number;
  /** How many of those are not stored yet. */
  readonly missing: number;
}

/**
 * Thrown by `barrier()` / `bvalue()` to stop loading the jugfile. The jug loader catches it; it
 * only reaches user code that calls them outside a jug load.
 */
export class BarrierError extends JugError {
  override name = 'BarrierError';
  constructor(readonly stop: BarrierStop) {
    super(
      `barrier at ${stop.where}: ${stop.missing} task(s) declared before it are not computed yet; ` +
        'run `jug execute` (it runs them and loads the jugfile again).',
    );
  }
}

function stopAt(missing: number): never {
  const r = registry();
  const stop: BarrierStop = {
    where: userCallSite()?.where ?? '?',
    tasksBefore: r.tasks.length,
    missing,
  };
  // Remember the first stop even if the jugfile catches the error and carries on.
  r.barrier ??= stop;
  throw new BarrierError(stop);
}

function countMissing(tasks: readonly RegisteredTask[]): number {
  let missing = 0;
  for (const t of tasks) if (!isStoredNow(t.hash())) missing++;
  return missing;
}

/**
 * Stops loading the jugfile here until every task declared so far is computed. `jug execute`
 * runs those tasks, then loads the jugfile again, past the barrier.
 *
 * Outside a jugfile load (a plain script that declares tasks itself) it does nothing.
 *
 * @example
 * const counts = files.map((f) => countWords(f));
 * barrier();
 * // from here on, results can shape the graph:
 * const big = (await value(counts)).filter((n) => n > 1000);
 */
export function barrier(): void {
  const r = registry();
  if (r.stored === undefined) return; // not loading a jugfile (a plain script): nothing to stop
  if (r.barrier !== undefined) stopAt(countMissing(r.tasks));
  const missing = countMissing(r.tasks);
  if (missing > 0) stopAt(missing);
}

/**
 * `value(x)` behind a barrier: if every task in `x` is computed, resolves to its value; otherwise
 * stops loading the jugfile here, like {@link barrier} but waiting only for the tasks in `x`.
 * Errors reading a stored result are raised as they are (never taken for a barrier). Outside a
 * jugfile load (a plain script) it is `value(x)`.
 *
 * @example
 * const n = await bvalue(countPrimes(primes));   // a number, once computed
 * const more = range(n).map((i) => work(i));
 */
export function bvalue<T>(x: T): Promise<Resolved<T>> {
  const r = registry();
  if (r.stored === undefined) return value(x); // not loading a jugfile: just value()
  if (r.barrier !== undefined) stopAt(countMissing(r.tasks));
  const missing = countMissing(dependenciesOf(x));
  if (missing > 0) stopAt(missing);
  return value(x);
}
