/**
 * Start-up tracing: with JUG_TRACE=1, `trace('phase')` prints the milliseconds since the process
 * started to stderr. Used to measure where `jug` spends its first second.
 */
const enabled = process.env['JUG_TRACE'] === '1';

export function trace(what: string): void {
  if (enabled) process.stderr.write(`[jug trace] ${performance.now().toFixed(1)} ms  ${what}\n`);
}
