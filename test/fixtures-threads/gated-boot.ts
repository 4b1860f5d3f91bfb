/**
 * Worker threads cannot finish loading this jugfile until the file GATED_BOOT_GATE exists (the
 * test creates it once it has seen what it waits for); the main thread loads it at once. GATED_N
 * tasks `nap(i)` (default 12: too few for the main thread to probe them) each await 10 ms.
 */
import { existsSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const GATE = process.env['GATED_BOOT_GATE'] ?? 'gated-boot-gate.txt';
const N = Number(process.env['GATED_N'] ?? 12);

if (!isMainThread) {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 60_000;
  while (!existsSync(GATE) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10);
}

export const nap = TaskGenerator(async function nap(i: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return i;
});

export const naps = Array.from({ length: N }, (_, i) => nap(i));
