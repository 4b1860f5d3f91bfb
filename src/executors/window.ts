/**
 * How many tasks a runner keeps in flight per thread, from how long tasks take. For long tasks,
 * one per thread in the serial runner; two in the thread pool, where a thread then starts its next
 * task without a round trip through the parent, and a task queued behind a long one moves to any
 * thread that falls idle (claims.ts). Two for medium tasks, so that committing one result overlaps
 * the next task. Many for short tasks, so that their results are committed to disk in large groups
 * (see store/sync-fs.ts). Shared by both executors.
 */
import type { TaskOutcome } from '../execute-task.js';

/** Below this mean task duration (ms), tasks are short. */
export const SHORT_TASK_MS = 5;
/** Below this mean task duration (ms), tasks are medium. */
export const MEDIUM_TASK_MS = 250;

export class AdaptiveWindow {
  /** Moving average of task durations (ms); unknown at first. */
  #meanMs = Number.NaN;

  /** Durations observed. */
  #count = 0;

  /**
   * @param shortDepth tasks in flight per thread for short tasks
   * @param longDepth tasks in flight per thread for long tasks: 1 unless a queued task can move to
   * a thread that falls idle (the thread pool's claims) @default 1
   * @param shortAfter durations seen before the depth for short tasks applies (2 until then):
   * the thread pool first learns whether tiny tasks run inline (inline-policy.ts) @default 1
   */
  constructor(
    private readonly shortDepth: number,
    private readonly longDepth = 1,
    private readonly shortAfter = 1,
  ) {}

  /** Feeds one outcome; returns true when the depth changed. */
  observe(outcome: TaskOutcome): boolean {
    if (outcome.kind !== 'executed') return false;
    const before = this.depth;
    this.#count++;
    this.#meanMs = Number.isNaN(this.#meanMs) ? outcome.ms : 0.9 * this.#meanMs + 0.1 * outcome.ms;
    return this.depth !== before;
  }

  /** Tasks in flight per thread. */
  get depth(): number {
    if (Number.isNaN(this.#meanMs)) return 1;
    if (this.#meanMs < SHORT_TASK_MS) return this.#count >= this.shortAfter ? this.shortDepth : 2;
    return this.#meanMs < MEDIUM_TASK_MS ? 2 : this.longDepth;
  }

  /**
   * Whether results should be committed as soon as the next task starts (overlapping it) rather
   * than in batches: true unless tasks are short.
   */
  get commitEarly(): boolean {
    return this.depth <= 2;
  }

  get meanMs(): number {
    return this.#meanMs;
  }
}
