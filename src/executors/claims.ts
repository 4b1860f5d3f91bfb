/**
 * Claims: which copy of a dispatched task runs it, in shared memory.
 *
 * With `--threads`, a thread holds its next task while it runs one (the hand-over between two
 * tasks then costs no round trip through the parent). When a thread falls idle while another
 * still holds a task it has not started, the parent sends that task to the idle thread too (see
 * ThreadPoolExecutor); whichever copy reaches its start first claims it here, and the other
 * returns `cancelled` without touching the task's lock.
 *
 * One Int32 per task of the pass: each dispatch of a task writes a fresh positive token (the task
 * is unclaimed); a copy claims it by swapping that token for its own negative copy id. A copy
 * left over from an earlier dispatch of the same task carries an older token and can never claim.
 */

/** The parent's side: one per pass over the graph. */
export class TaskClaims {
  readonly buffer: SharedArrayBuffer;
  readonly #slots: Int32Array;
  /** Tokens and copy ids come from one counter, so no two are equal. */
  #counter = 0;

  constructor(tasks: number) {
    this.buffer = new SharedArrayBuffer(4 * Math.max(1, tasks));
    this.#slots = new Int32Array(this.buffer);
  }

  /** A new dispatch of task `index`: it is unclaimed under the returned token. */
  open(index: number): number {
    const token = this.#next();
    Atomics.store(this.#slots, index, token);
    return token;
  }

  /** An id for one copy of a dispatch (what the copy writes when it claims). */
  copy(): number {
    return this.#next();
  }

  /** Whether the dispatch of `index` under `token` has not been claimed yet (no copy started it). */
  unclaimed(index: number, token: number): boolean {
    return Atomics.load(this.#slots, index) === token;
  }

  /**
   * Withdraws the dispatch of `index` under `token` if no copy has claimed it: no copy can start
   * it afterwards (0 is never a token). True when this call withdrew it.
   */
  withdraw(index: number, token: number): boolean {
    return Atomics.compareExchange(this.#slots, index, token, 0) === token;
  }

  /** Whether copy `copy` is the one that claimed task `index`. */
  claimedBy(index: number, copy: number): boolean {
    return Atomics.load(this.#slots, index) === -copy;
  }

  #next(): number {
    this.#counter = this.#counter >= 0x3fff_ffff ? 1 : this.#counter + 1;
    return this.#counter;
  }
}

/**
 * The worker's side: claims task `index` (dispatched under `token`) for copy `copy`. False when
 * another copy claimed it first, or when the dispatch is no longer current.
 */
export function claimTask(buffer: SharedArrayBuffer, index: number, token: number, copy: number): boolean {
  return Atomics.compareExchange(new Int32Array(buffer), index, token, -copy) === token;
}

/** The worker's side: whether task `index` is still dispatched under `token` and unclaimed (not withdrawn, no copy started it). */
export function stillUnclaimed(buffer: SharedArrayBuffer, index: number, token: number): boolean {
  return Atomics.load(new Int32Array(buffer), index) === token;
}
