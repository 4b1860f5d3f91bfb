/**
 * Eight tasks that each sleep (async) NAP_MS milliseconds (default 1500), logging `start i` and
 * `end i` to the side-effect file NAP_SIDE. The duration is read from the environment inside the
 * task, so it does not change hashes: a run interrupted during long naps can resume with short ones.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskGenerator } from 'jug';

const SIDE = process.env['NAP_SIDE'] ?? 'nap-side.txt';

export const nap = TaskGenerator(async function nap(i: number): Promise<{ i: number; napped: number }> {
  const ms = Number(process.env['NAP_MS'] ?? 1500);
  appendFileSync(SIDE, `start ${i}\n`);
  await sleep(ms);
  appendFileSync(SIDE, `end ${i}\n`);
  return { i, napped: ms };
});

export const naps = Array.from({ length: 8 }, (_, i) => nap(i));
