/**
 * A task that calls process.exit(3) (in a worker thread this ends only that thread), declared
 * first, with twelve independent tasks (~40 ms each, recording their thread) and one task depending on the dying one.
 */
import { threadId } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const cell = new Int32Array(new SharedArrayBuffer(4));

export const dieNow = TaskGenerator(function dieNow(code: number): number {
  process.exit(code);
});

export const fine = TaskGenerator(function fine(n: number): { n: number; threadId: number } {
  Atomics.wait(cell, 0, 0, 40);
  return { n, threadId };
});

export const afterDeath = TaskGenerator(function afterDeath(x: number): number {
  return x + 1;
});

export const dead = dieNow(3);
export const fines = Array.from({ length: 12 }, (_, n) => fine(n));
export const dependant = afterDeath(dead);
