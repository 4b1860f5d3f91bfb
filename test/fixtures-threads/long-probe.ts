/**
 * A function with many tasks (so that the main thread of `jug execute --threads 2` probes it while
 * the threads wait before loading the jugfile: src/executors/load-gate.ts) whose run in the main
 * thread blocks it synchronously for LONG_PROBE_MS (default 1500). Each task appends
 * `work <i> <main|thread> <start ms> <end ms>` to LONG_PROBE_SIDE. The main thread's load waits
 * LONG_PROBE_BOOT_MS first (default 1500, its event loop free): time for a worker thread to boot
 * and tell the pool it is ready (a message the main thread must take), so that it holds a task
 * when the probe blocks the main thread.
 */
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const N = Number(process.env['LONG_PROBE_N'] ?? 80);
const BLOCK_MS = Number(process.env['LONG_PROBE_MS'] ?? 1500);
const SIDE = process.env['LONG_PROBE_SIDE'] ?? 'long-probe.txt';

if (isMainThread) await new Promise((resolve) => setTimeout(resolve, Number(process.env['LONG_PROBE_BOOT_MS'] ?? 1500)));

export const work = TaskGenerator(function work(i: number): number {
  const start = Date.now();
  if (isMainThread) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BLOCK_MS);
  appendFileSync(SIDE, `work ${i} ${isMainThread ? 'main' : 'thread'} ${start} ${Date.now()}\n`);
  return i;
});

export const all = Array.from({ length: N }, (_, i) => work(i));
