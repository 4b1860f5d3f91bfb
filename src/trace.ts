/**
 * Start-up tracing: with JUG_TRACE=1, `trace('phase')` prints the milliseconds since the process
 * started to stderr — from worker threads too (they measure from the parent's start, which the
 * first trace import records in the environment they inherit). Used to measure where `jug`
 * spends its first second.
 */
import { isMainThread, threadId } from 'node:worker_threads';

const enabled = process.env['JUG_TRACE'] === '1';
/** Whether tracing is on: check it before building a message in a hot path. */
export const tracing = enabled;
let origin = 0;
if (enabled) {
  origin = Number(process.env['JUG_TRACE_ORIGIN'] ?? Number.NaN);
  if (!Number.isFinite(origin)) {
    origin = performance.timeOrigin;
    process.env['JUG_TRACE_ORIGIN'] = String(origin);
  }
}

export function trace(what: string): void {
  if (!enabled) return;
  const at = performance.timeOrigin + performance.now() - origin;
  process.stderr.write(`[jug trace] ${at.toFixed(1)} ms  ${isMainThread ? '' : `[thread ${threadId}] `}${what}\n`);
}
