/**
 * Benchmark workload primes_cpu: independent CPU-bound tasks (a naive divisor count), no reduce.
 *
 *   PRIMES_CPU_TASKS  number of tasks (default 200)
 *   PRIMES_CPU_LIMIT  divisor-loop length per task; benchmarks/run.mjs calibrates it so that a task body
 *                    takes what Python Jug's own primes_cpu.py body takes on the same machine
 *                    (benchmarks/lib/body-time.mjs; ~30 ms on our VMs)
 */
import { TaskGenerator } from 'jug';
import { countDivisors } from './divisors.mjs';

const N_TASKS = Number(process.env['PRIMES_CPU_TASKS'] ?? 200);
const LIMIT = Number(process.env['PRIMES_CPU_LIMIT'] ?? 1_000_000);

export const divisors = TaskGenerator(function divisors(n: number, limit: number): number {
  return countDivisors(n, limit);
});

export const counts = Array.from({ length: N_TASKS }, (_, i) => divisors(1_000_003 + i, LIMIT));
