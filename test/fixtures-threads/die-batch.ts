/**
 * Three hundred short tasks (sent to threads in batches), the 200th of which calls process.exit(3):
 * its thread dies with a batch in hand. Each task appends its number to JUG_TEST_SIDE (a line per
 * execution). Each takes ~2 ms, so that it stays in the threads (tiny tasks run in the main thread).
 */
import { appendFileSync } from 'node:fs';
import { TaskGenerator } from 'jug';

const SIDE = process.env['JUG_TEST_SIDE'] ?? '';
const cell = new Int32Array(new SharedArrayBuffer(4));

export const short = TaskGenerator(function short(n: number): number {
  if (n === 200) process.exit(3);
  // ~2 ms: short (sent in batches), not tiny (never run by the main thread: inline-policy.ts).
  Atomics.wait(cell, 0, 0, 2);
  appendFileSync(SIDE, `${n}\n`);
  return n * 2;
});

export const all = Array.from({ length: 300 }, (_, n) => short(n));
