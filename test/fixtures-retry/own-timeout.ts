/**
 * A task with its own { timeoutMs: 200, retries: 1 }: its first attempt busy-loops for 20 s (its
 * thread is terminated), the second returns at once. Attempts are counted in the file named by
 * ATTEMPTS_LOG.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { TaskGenerator } from 'jug';

const log = process.env['ATTEMPTS_LOG'] ?? 'attempts.log';

export const slowOnce = TaskGenerator(
  function slowOnce(label: string): string {
    const before = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(`${label} `)).length : 0;
    appendFileSync(log, `${label} ${before + 1} ${Date.now()}\n`);
    if (before === 0) {
      const end = Date.now() + 20_000;
      while (Date.now() < end) {
        // busy
      }
    }
    return `${label} done on attempt ${before + 1}`;
  },
  { timeoutMs: 200, retries: 1, retryDelayMs: 10 },
);

export const one = slowOnce('one');
