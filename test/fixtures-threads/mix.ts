/**
 * 1,000 short tasks, each appending its number to a side-effect file and blocking ~1 ms, then
 * one reduce over all of them. Used to check that thread pools and plain processes sharing one
 * jugdir run every task exactly once. MIX_SIDE names the side-effect file (not a task argument,
 * so it does not change hashes).
 */
import { appendFileSync } from 'node:fs';
import { TaskGenerator } from 'jug';

const SIDE = process.env['MIX_SIDE'] ?? 'mix-side.txt';
const cell = new Int32Array(new SharedArrayBuffer(4));

export const work = TaskGenerator(function work(n: number): number {
  appendFileSync(SIDE, `${n}\n`);
  Atomics.wait(cell, 0, 0, 1); // ~1 ms of blocking work
  return 2 * n;
});

export const total = TaskGenerator(function total(xs: number[]): { total: number; count: number } {
  return { total: xs.reduce((a, b) => a + b, 0), count: xs.length };
});

export const items = Array.from({ length: 1000 }, (_, n) => work(n));
export const sum = total(items);
