/**
 * Three hundred short tasks (sent to threads in batches), the 200th of which calls process.exit(3):
 * its thread dies with a batch in hand. Each task appends its number to JUG_TEST_SIDE (a line per
 * execution).
 */
import { appendFileSync } from 'node:fs';
import { TaskGenerator } from 'jug';

const SIDE = process.env['JUG_TEST_SIDE'] ?? '';

export const short = TaskGenerator(function short(n: number): number {
  if (n === 200) process.exit(3);
  appendFileSync(SIDE, `${n}\n`);
  return n * 2;
});

export const all = Array.from({ length: 300 }, (_, n) => short(n));
