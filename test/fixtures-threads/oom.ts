/**
 * A task that allocates without bound (1 MiB JS arrays kept in a list), among eight independent
 * tasks. Run with --max-old-generation-size-mb so the worker thread, not the process, runs out.
 */
import { TaskGenerator } from 'jug';

const cell = new Int32Array(new SharedArrayBuffer(4));

export const hog = TaskGenerator(function hog(mib: number): number {
  const keep: number[][] = [];
  for (let i = 0; ; i++) {
    keep.push(new Array<number>(131072).fill(i + 0.5)); // 128 Ki doubles = 1 MiB on the heap
    if (i > mib) return keep.length; // never reached under the heap limit
  }
});

export const fine = TaskGenerator(function fine(n: number): number {
  Atomics.wait(cell, 0, 0, 20);
  return n;
});

export const hogged = hog(1_000_000);
export const fines = Array.from({ length: 8 }, (_, n) => fine(n));
