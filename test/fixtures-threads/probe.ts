/**
 * The main thread of `jug execute --threads N` runs a first task of a function not measured yet
 * itself (a probe), without waiting for a worker thread: worker threads cannot finish loading this
 * jugfile until a task has run (PROBE_GATE exists), so every task would wait forever if only
 * threads ran them. PROBE_N tasks `step(i)` (default 300) append `step i <isMainThread>` to
 * PROBE_GATE; `last` sums them after PROBE_LAST_MS ms (default 0) of await (the only task left at
 * the end: it runs in the main thread too).
 */
import { appendFileSync, existsSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const GATE = process.env['PROBE_GATE'] ?? 'probe-gate.txt';
const N = Number(process.env['PROBE_N'] ?? 300);
const LAST_MS = Number(process.env['PROBE_LAST_MS'] ?? 0);

if (!isMainThread) {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 60_000;
  while (!existsSync(GATE) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10);
}

export const step = TaskGenerator(function step(i: number): number {
  appendFileSync(GATE, `step ${i} ${isMainThread}\n`);
  return i;
});

export const last = TaskGenerator(async function last(xs: number[]): Promise<{ sum: number; isMainThread: boolean }> {
  await new Promise((resolve) => setTimeout(resolve, LAST_MS));
  return { sum: xs.reduce((a, b) => a + b, 0), isMainThread };
});

export const steps = Array.from({ length: N }, (_, i) => step(i));
export const result = last(steps);
