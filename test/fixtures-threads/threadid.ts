/** Thirty tasks of ~50 ms that record which thread ran them. */
import { threadId, isMainThread } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const cell = new Int32Array(new SharedArrayBuffer(4));

export const where = TaskGenerator(function where(i: number): { i: number; threadId: number; isMainThread: boolean } {
  Atomics.wait(cell, 0, 0, 50);
  return { i, threadId, isMainThread };
});

export const all = Array.from({ length: 30 }, (_, i) => where(i));
