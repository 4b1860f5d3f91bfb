/**
 * The `jug demo` jugfile: which of 2..100 are prime, one deliberately slow task per number (a
 * one-second sleep stands for real work), then a count and a task that writes the answer to
 * output.txt next to this file.
 *
 *   jug execute primes.ts              # run the tasks (about 100 s in one process)
 *   jug status primes.ts               # in another terminal: watch them finish
 *   jug execute primes.ts --threads 8  # or start several `jug execute` at once to share the work
 *
 * Interrupt a run at any time: what finished is stored in primes.jugdata/ and the next run
 * continues from there. Set PRIMES_SLEEP_MS=0 to skip the sleep.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskGenerator } from 'jug';

const SLEEP_MS = Number(process.env['PRIMES_SLEEP_MS'] ?? 1000);

export const isPrime = TaskGenerator(async function isPrime(n: number): Promise<boolean> {
  if (SLEEP_MS > 0) await sleep(SLEEP_MS);
  for (let j = 2; j * j <= n; j++) {
    if (n % j === 0) return false;
  }
  return true;
});

export const countPrimes = TaskGenerator(function countPrimes(flags: boolean[]): number {
  return flags.filter(Boolean).length;
});

export const writeOutput = TaskGenerator(function writeOutput(path: string, count: number): string {
  writeFileSync(path, `Found ${count} primes <= 100.\n`);
  return path;
});

const numbers = Array.from({ length: 99 }, (_, i) => i + 2);
export const primes = numbers.map((n) => isPrime(n));
export const count = countPrimes(primes);
export const output = writeOutput(join(import.meta.dirname, 'output.txt'), count);
