/**
 * Trivial tasks for the main thread's inline runs under --threads (src/executors/inline-policy.ts):
 * INLINE_N tasks `tick(i)` that append `tick i` to INLINE_SIDE (not a task argument) and return
 * 2·i, one `sum` over them, and INLINE_TIMED tasks `timed(i)` with their own time limit (1 s) that
 * are as trivial, except `timed(INLINE_SPIN_AT)`, which busy-loops for 60 s. `tick(INLINE_EXIT_AT)`
 * calls process.exit(3) instead. With INLINE_LATE_MS, `sum` also starts a timer it does not wait
 * for, which appends `late` to INLINE_SIDE after that many ms. With INLINE_TICK_MS, every tick
 * busy-waits that long (the same code made slow by its environment: thread-verdict.ts). A worker
 * thread that loads this jugfile appends `load <threadId>` to INLINE_SIDE; with INLINE_THREAD_HANG
 * it then never finishes loading. With INLINE_TICK_NAP_MS, `tick` is async and sleeps that long
 * instead (the same function name, slow now, the event loop free meanwhile).
 */
import { appendFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const N = Number(process.env['INLINE_N'] ?? 300);
const TIMED = Number(process.env['INLINE_TIMED'] ?? 0);
const SPIN_AT = Number(process.env['INLINE_SPIN_AT'] ?? -1);
const SIDE = process.env['INLINE_SIDE'] ?? 'inline-side.txt';
const EXIT_AT = Number(process.env['INLINE_EXIT_AT'] ?? -1);
const LATE_MS = process.env['INLINE_LATE_MS'];
const TICK_MS = Number(process.env['INLINE_TICK_MS'] ?? 0);

const TICK_NAP_MS = Number(process.env['INLINE_TICK_NAP_MS'] ?? 0);

if (!isMainThread) appendFileSync(SIDE, `load ${threadId}\n`);
if (!isMainThread && process.env['INLINE_THREAD_HANG'] !== undefined) await new Promise(() => {});

function tickSync(i: number): number {
  if (i === EXIT_AT) process.exit(3);
  const end = Date.now() + TICK_MS;
  while (Date.now() < end) {
    // busy
  }
  appendFileSync(SIDE, `tick ${i}\n`);
  return 2 * i;
}

export const tick = TaskGenerator(
  TICK_NAP_MS > 0
    ? async function tick(i: number): Promise<number> {
        await new Promise((resolve) => setTimeout(resolve, TICK_NAP_MS));
        return tickSync(i);
      }
    : function tick(i: number): number {
        return tickSync(i);
      },
);

export const sum = TaskGenerator(function sum(xs: number[]): number {
  if (LATE_MS !== undefined) setTimeout(() => appendFileSync(SIDE, 'late\n'), Number(LATE_MS));
  return xs.reduce((a, b) => a + b, 0);
});

export const timed = TaskGenerator(
  function timed(i: number): number {
    if (i === SPIN_AT) {
      const end = Date.now() + 60_000;
      while (Date.now() < end) {
        // busy: only terminating its thread stops it
      }
    }
    return i;
  },
  { timeoutMs: 1000 },
);

export const ticks = Array.from({ length: N }, (_, i) => tick(i));
export const total = sum(ticks);
export const limited = Array.from({ length: TIMED }, (_, i) => timed(i));
