/**
 * Tasks that fail a given number of times, then succeed. Each attempt appends
 * `<label> <attempt> <Date.now()>` to the file named by ATTEMPTS_LOG, and counts its earlier
 * attempts there. FLAKY_TASKS (comma-separated) chooses which exports are declared.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Task, TaskGenerator } from 'jug';

const log = process.env['ATTEMPTS_LOG'] ?? 'attempts.log';
const chosen = new Set((process.env['FLAKY_TASKS'] ?? 'twice').split(','));

function attemptsSoFar(label: string): number {
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(`${label} `)).length;
}

/** Fails on its first `failures` attempts. */
function flakyBody(label: string, failures: number): string {
  const n = attemptsSoFar(label) + 1;
  appendFileSync(log, `${label} ${n} ${Date.now()}\n`);
  if (n <= failures) throw new Error(`${label} fails on attempt ${n}`);
  return `${label} ok on attempt ${n}`;
}

export const flaky = TaskGenerator(function flaky(label: string, failures: number): string {
  return flakyBody(label, failures);
});
/** Its own retries (3) and delay (20 ms): they win over the command line's. */
export const ownRetries = TaskGenerator(
  function ownRetries(label: string, failures: number): string {
    return flakyBody(label, failures);
  },
  { retries: 3, retryDelayMs: 20 },
);
/** Never retried, whatever the command line says. */
export const noRetries = TaskGenerator(
  function noRetries(label: string, failures: number): string {
    return flakyBody(label, failures);
  },
  { retries: 0 },
);
/** Only its own delay (150 ms, doubled): the number of retries comes from the command line. */
export const ownDelay = TaskGenerator(
  function ownDelay(label: string, failures: number): string {
    return flakyBody(label, failures);
  },
  { retryDelayMs: 150 },
);
function plainFlaky(label: string, failures: number): string {
  return flakyBody(label, failures);
}

export const twice = chosen.has('twice') ? flaky('twice', 2) : undefined;
export const always = chosen.has('always') ? flaky('always', 1_000_000) : undefined;
export const own = chosen.has('own') ? ownRetries('own', 3) : undefined;
export const cli = chosen.has('cli') ? flaky('cli', 1) : undefined;
export const none = chosen.has('none') ? noRetries('none', 1) : undefined;
export const delayed = chosen.has('delayed') ? ownDelay('delayed', 2) : undefined;
/** A Task given its options with setRunOptions(). */
export const viaTask = chosen.has('viaTask')
  ? new Task(plainFlaky, 'viaTask', 2).setRunOptions({ retries: 2, retryDelayMs: 10 })
  : undefined;
