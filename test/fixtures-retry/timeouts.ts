/**
 * Tasks for --timeout. `spin` busy-loops synchronously for SPIN_MS (default 20 s: far past any
 * timeout of the tests), `waitSignal` waits asynchronously honouring taskSignal(), `ignoreSignal`
 * waits ignoring it, `quick` are short independent tasks. Each start (and an abort seen) is
 * appended to the file named by ATTEMPTS_LOG. TIMEOUT_TASKS (comma-separated) chooses what is declared.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskGenerator, jugExecute, taskSignal } from 'jug';

const log = process.env['ATTEMPTS_LOG'] ?? 'attempts.log';
const chosen = new Set((process.env['TIMEOUT_TASKS'] ?? 'spin,quick').split(','));
const note = (line: string): void => appendFileSync(log, `${line} ${Date.now()}\n`);

export const spin = TaskGenerator(function spin(label: string): string {
  note(`${label} start`);
  const end = Date.now() + Number(process.env['SPIN_MS'] ?? 20_000);
  while (Date.now() < end) {
    // busy: only terminating the thread stops this
  }
  return `${label} done`;
});

export const quick = TaskGenerator(function quick(n: number): number {
  const end = Date.now() + 30;
  while (Date.now() < end) {
    // a little work
  }
  return n * 2;
});

export const waitSignal = TaskGenerator(async function waitSignal(ms: number): Promise<string> {
  const signal = taskSignal();
  note('waitSignal start');
  try {
    await sleep(ms, undefined, { signal });
  } catch (e) {
    note(`waitSignal aborted ${signal.aborted} ${(signal.reason as Error | undefined)?.name}`);
    throw e;
  }
  return 'waited';
});

export const ignoreSignal = TaskGenerator(function ignoreSignal(ms: number): Promise<string> {
  note('ignoreSignal start');
  return new Promise((resolve) => setTimeout(() => resolve('late'), ms));
});

export const s = chosen.has('spin') ? spin('s') : undefined;
export const qs = chosen.has('quick') ? Array.from({ length: 6 }, (_, n) => quick(n)) : undefined;
export const w = chosen.has('waitSignal') ? waitSignal(30_000) : undefined;
export const ig = chosen.has('ignoreSignal') ? ignoreSignal(2_500) : undefined;
/** jugExecute honours its signal: the command is killed at the timeout. */
export const cmd = chosen.has('cmd')
  ? jugExecute([process.execPath, '-e', "require('node:fs').appendFileSync(process.env.ATTEMPTS_LOG, 'cmd pid ' + process.pid + ' ' + Date.now() + '\\n'); setTimeout(() => {}, 30000)"])
  : undefined;
