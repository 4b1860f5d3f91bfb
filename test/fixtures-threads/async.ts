/** Async task functions: the stored result must be the resolved value, not a Promise. */
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

export const slowSquare = TaskGenerator(async function slowSquare(n: number): Promise<{ n: number; square: number; threadId: number }> {
  await sleep(10);
  await Promise.resolve();
  return { n, square: n * n, threadId };
});

export const sumSquares = TaskGenerator(async function sumSquares(xs: { square: number }[]): Promise<string> {
  await sleep(5);
  return `sum=${xs.reduce((a, x) => a + x.square, 0)}`;
});

export const squares = Array.from({ length: 6 }, (_, n) => slowSquare(n));
export const total = sumSquares(squares);
