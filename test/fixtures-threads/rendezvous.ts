/**
 * As many tasks as threads (JUG_TEST_THREADS), each of which waits (up to 30 s) until every one of
 * them has started, in a different thread: they can only all meet when all N threads run at once.
 * Each returns how many threads it saw. JUG_TEST_RENDEZVOUS names the (empty) meeting directory.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const DIR = process.env['JUG_TEST_RENDEZVOUS'] ?? '';
const THREADS = Number(process.env['JUG_TEST_THREADS'] ?? 1);

export const meet = TaskGenerator(function meet(i: number): { i: number; threadId: number; saw: number } {
  writeFileSync(join(DIR, String(threadId)), '');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  while (readdirSync(DIR).length < THREADS && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10);
  return { i, threadId, saw: readdirSync(DIR).length };
});

// Imported by rendezvous-after-barrier.ts for the generator only.
export const all = process.env['JUG_TEST_RENDEZVOUS_DECLARE'] === '0' ? [] : Array.from({ length: THREADS }, (_, i) => meet(i));
