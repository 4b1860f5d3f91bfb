/**
 * A failing task declared first, twenty independent tasks (FINE_MS each, default 30 ms; read
 * inside the task so it does not change hashes) and one task depending on the failing one.
 */
import { TaskGenerator } from 'jug';

const cell = new Int32Array(new SharedArrayBuffer(4));

export const boom = TaskGenerator(function boom(n: number): number {
  throw new Error(`boom-${n} exploded on purpose`);
});

export const fine = TaskGenerator(function fine(n: number): number {
  Atomics.wait(cell, 0, 0, Number(process.env['FINE_MS'] ?? 30));
  return n;
});

export const afterBoom = TaskGenerator(function afterBoom(x: number): number {
  return x + 1;
});

export const bad = boom(7);
export const fines = Array.from({ length: 20 }, (_, n) => fine(n));
export const dependant = afterBoom(bad);
