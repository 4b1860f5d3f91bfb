// The task bodies of benchmarks/floor-primes.mjs's bare Piscina floor (not jug): the same bodies
// as examples/primes.ts (a 1-s sleep, awaited or blocking in Atomics.wait, then the naive test)
// and benchmarks/jugfiles/primes_cpu.ts (countDivisors), plus primes' small final count.
import { setTimeout as sleep } from 'node:timers/promises';
import { countDivisors } from '../jugfiles/divisors.mjs';

const blocker = new Int32Array(new SharedArrayBuffer(4));

function isPrime(n) {
  for (let j = 2; j < n - 1; j++) {
    if (n % j === 0) return false;
  }
  return true;
}

/**
 * One task: `{ kind: 'sleep' | 'wait' | 'cpu' | 'count', n, ms, limit, flags }`; or `{ list }`, a
 * list of such tasks run one after another in this thread (the static split: no round trip to
 * the main thread between them), answered with `{ start, out }`: when the first began (ms since
 * the epoch) and the array of their results.
 */
export default async function run({ kind, n, ms, limit, flags, list }) {
  if (list !== undefined) {
    const start = performance.timeOrigin + performance.now();
    const out = [];
    for (const one of list) out.push(await run(one));
    return { start, out };
  }
  if (kind === 'sleep') await sleep(ms);
  if (kind === 'wait') Atomics.wait(blocker, 0, 0, ms);
  if (kind === 'sleep' || kind === 'wait') return isPrime(n);
  if (kind === 'cpu') return countDivisors(n, limit);
  return flags.filter(Boolean).length;
}
