/**
 * Rate and time left of a `jug execute` run, from what this process measured itself: the
 * durations of the tasks it executed, per task name. Results that were stored before the run
 * started, or that other processes store meanwhile, never enter the rate, so a resumed run does
 * not look faster than it is.
 *
 * The clock is injectable so that the estimates can be tested without waiting.
 */

/** One task name's counts in the current pass (see tally.ts). */
export interface NameTally {
  readonly name: string;
  /** Tasks of this name the run must finish (those --target leaves out are not counted). */
  readonly total: number;
  /** Stored when the run started (or executed by this run before a barrier). */
  readonly stored: number;
  /** Executed by this process since it started. */
  readonly executed: number;
  /** Stored by other processes while this one runs. */
  readonly byOthers: number;
  /** Running in this process. */
  readonly running: number;
  /** Held by other processes (their lock is taken). */
  readonly elsewhere: number;
  readonly ready: number;
  readonly waiting: number;
  readonly failed: number;
}

/** Tasks of a tally not finished one way or the other (running, ready, waiting, held elsewhere). */
export function tasksLeft(t: NameTally): number {
  return Math.max(0, t.total - t.stored - t.executed - t.byOthers - t.failed);
}

/** Seconds left; `lowerBound` when some tasks left are of a name with no measured duration yet. */
export interface Eta {
  readonly seconds: number;
  readonly lowerBound: boolean;
}

/** Options of {@link ProgressEstimator}. */
export interface EstimatorOptions {
  /** Tasks this process runs at once: the number of threads, 1 when serial. */
  readonly slots: number;
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
  /** How many recent durations per name the typical duration is taken from. @default 32 */
  readonly window?: number;
}

/** Durations of one task name: the last `window` of them, in a ring. */
class Durations {
  readonly #ring: number[] = [];
  #next = 0;
  #median: number | undefined;
  count = 0;

  constructor(readonly window: number) {}

  add(ms: number): void {
    if (this.#ring.length < this.window) this.#ring.push(ms);
    else this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.window;
    this.#median = undefined;
    this.count++;
  }

  /** Median of the recent durations: one slow outlier does not move it. */
  median(): number {
    if (this.#median === undefined) {
      const sorted = [...this.#ring].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      this.#median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    }
    return this.#median;
  }
}

/**
 * Rate and ETA of this process's own work. Feed it each task this process executed
 * ({@link executed}); ask it with the current tallies ({@link eta}).
 *
 * The ETA is the sum, over task names, of the tasks of that name still to run times the median
 * duration of this run's tasks of that name (a running or held-elsewhere task counts half),
 * divided by the slots that can work on them. Names with tasks left but no measurement yet make
 * it a lower bound; with no measurement at all there is no estimate.
 */
export class ProgressEstimator {
  readonly #slots: number;
  readonly #now: () => number;
  readonly #window: number;
  readonly #startedAt: number;
  readonly #byName = new Map<string, Durations>();
  #executed = 0;

  constructor(options: EstimatorOptions) {
    this.#slots = Math.max(1, options.slots);
    this.#now = options.now ?? Date.now;
    this.#window = Math.max(1, options.window ?? 32);
    this.#startedAt = this.#now();
  }

  /** A task named `name` was executed by this process and took `ms`. */
  executed(name: string, ms: number): void {
    let d = this.#byName.get(name);
    if (d === undefined) this.#byName.set(name, (d = new Durations(this.#window)));
    d.add(Math.max(0, ms));
    this.#executed++;
  }

  /** Tasks this process executed so far. */
  get executedCount(): number {
    return this.#executed;
  }

  /** Seconds since the estimator was made (the run started). */
  elapsed(): number {
    return Math.max(0, this.#now() - this.#startedAt) / 1000;
  }

  /** Tasks per second this process executed (all names, or `name`); undefined before the first. */
  rate(name?: string): number | undefined {
    const n = name === undefined ? this.#executed : (this.#byName.get(name)?.count ?? 0);
    const s = this.elapsed();
    return n === 0 || s <= 0 ? undefined : n / s;
  }

  /** Typical duration (ms) of a task named `name` in this run; undefined before one finished. */
  typicalMs(name: string): number | undefined {
    const d = this.#byName.get(name);
    return d === undefined || d.count === 0 ? undefined : d.median();
  }

  /** Time left to finish `tallies` (all names, or one); undefined when nothing is known yet. */
  eta(tallies: readonly NameTally[]): Eta | undefined {
    let workMs = 0;
    let left = 0;
    let unknown = false;
    for (const t of tallies) {
      const n = tasksLeft(t);
      if (n === 0) continue;
      left += n;
      const d = this.typicalMs(t.name);
      if (d === undefined) {
        unknown = true;
        continue;
      }
      // Started tasks are, on average, half done.
      const started = Math.min(n, t.running + t.elsewhere);
      workMs += (n - started) * d + started * (d / 2);
    }
    if (left === 0) return { seconds: 0, lowerBound: false };
    if (unknown && workMs === 0) return undefined;
    const slots = Math.min(this.#slots, left);
    return { seconds: workMs / slots / 1000, lowerBound: unknown };
  }
}
