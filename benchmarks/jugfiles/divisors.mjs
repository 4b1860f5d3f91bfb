// The CPU kernel of the primes_cpu workload, shared by the jugfile and by run.mjs (which times it
// in-process to calibrate `limit` so that one call takes ~35 ms on this machine).

/** Naive divisor count: how many d in 1..limit divide n. */
export function countDivisors(n, limit) {
  let count = 0;
  for (let d = 1; d <= limit; d++) {
    if (n % d === 0) count++;
  }
  return count;
}
