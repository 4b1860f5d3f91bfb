/**
 * Benchmark workloads tiny and graph50k: N trivial tasks `double(i)` plus one `total` over all of
 * them. Measures jug's per-task overhead (hashing, locking, storing, loading).
 *
 *   TINY_N  number of leaves (default 5000; graph50k uses 50000)
 */
import { TaskGenerator } from 'jug';

const N = Number(process.env['TINY_N'] ?? 5000);

export const double = TaskGenerator(function double(x: number): number {
  return 2 * x;
});

export const total = TaskGenerator(function total(xs: number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum;
});

export const doubled = Array.from({ length: N }, (_, i) => double(i));
export const sum = total(doubled);
