/**
 * Start-up tracing: with JUG_TRACE=1, `trace('phase')` prints the milliseconds since the process
 * started to stderr — from worker threads too (they measure from the parent's start, which the
 * first trace import records in the environment they inherit). Used to measure where `jug`
 * spends its first second.
 */
import { readFileSync } from 'node:fs';
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

/**
 * CPU time (user + system, ms) this thread has used so far, where Linux tells it
 * (/proc/thread-self/stat); undefined elsewhere. For traces: which thread does a run's work.
 */
export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}
