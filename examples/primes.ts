/**
 * The seed example: which of 2..100 are prime, one (deliberately slow) task per number, then a
 * count and a task that writes the result to a file.
 *
 *   jug status examples/primes.ts      # 99 tasks ready
 *   jug execute examples/primes.ts     # run them; start several to share the work
 *   jug status examples/primes.ts      # all finished
 *
 * Set PRIMES_SLEEP_MS=0 to skip the one-second sleep; PRIMES_SYNC=1 to wait synchronously
 * (Atomics.wait: the thread is blocked, as CPU-bound code blocks it) instead of awaiting a timer.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskGenerator } from 'jug';

const SLEEP_MS = Number(process.env['PRIMES_SLEEP_MS'] ?? 1000);
const SYNC = process.env['PRIMES_SYNC'] === '1';
const blocker = new Int32Array(new SharedArrayBuffer(4));

export const isPrime = TaskGenerator(async function isPrime(n: number): Promise<boolean> {
  if (SLEEP_MS > 0 && SYNC) Atomics.wait(blocker, 0, 0, SLEEP_MS);
  else if (SLEEP_MS > 0) await sleep(SLEEP_MS);
  for (let j = 2; j < n - 1; j++) {
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
export const primes100 = numbers.map((n) => isPrime(n));
export const count = countPrimes(primes100);
export const output = writeOutput(process.env['PRIMES_OUTPUT'] ?? 'primes-output.txt', count);
