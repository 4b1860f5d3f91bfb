/**
 * A task waiting behind a blocked one must move to the idle thread (`--threads 2`).
 *
 * `warm1` (300 ms) and `warm2` (900 ms) start on the two threads; their durations make the pool
 * give each thread a second task to hold. `blocker` then starts where `warm1` ran and waits (up to
 * 30 s) until `left` and `right` have both run. Those two are sent while both threads are busy
 * (one runs `blocker`, the other `warm2`), one to each thread: one of them waits behind `blocker`,
 * in a thread that cannot start it. Only the other thread, once idle, taking it over lets
 * `blocker` finish. Each task appends a line to JUG_TEST_STEAL/runs (exactly once each) and
 * returns the thread it ran on.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const DIR = process.env['JUG_TEST_STEAL'] ?? '';
const cell = new Int32Array(new SharedArrayBuffer(4));

function ran(name: string): { name: string; threadId: number } {
  appendFileSync(join(DIR, 'runs'), `${name}\n`);
  return { name, threadId };
}

export const warm = TaskGenerator(function warm(name: string, ms: number): { name: string; threadId: number } {
  Atomics.wait(cell, 0, 0, ms);
  return ran(name);
});

export const blocker = TaskGenerator(function blocker(): { name: string; threadId: number } {
  const deadline = Date.now() + 30_000;
  const done = (): boolean => existsSync(join(DIR, 'left')) && existsSync(join(DIR, 'right'));
  while (!done()) {
    if (Date.now() > deadline) throw new Error('left and right never ran while blocker waited: a task stayed queued behind it');
    Atomics.wait(cell, 0, 0, 10);
  }
  return ran('blocker');
});

export const side = TaskGenerator(function side(name: string): { name: string; threadId: number } {
  appendFileSync(join(DIR, name), '');
  return ran(name);
});

export const all = [warm('warm1', 300), warm('warm2', 900), blocker(), side('left'), side('right')];
