import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BenchError,
  JUGFILES,
  PY,
  ROOT,
  WORK,
  assertComplete,
  executeArgs,
  fmtRate,
  fmtS,
  fmtX,
  freshDir,
  log,
  measureAll,
  median,
  timeExecute,
  timeGroup,
} from '../lib/harness.mjs';

const PRIMES_JUGFILE = join(ROOT, 'examples', 'primes.ts');

// ---------------------------------------------------------------------------------------------
// Workload 1: primes

async function benchPrimes({ reps, quick }) {
  const sleepMs = quick ? 100 : 1000;
  const nTasks = 99;
  const idealMs = (n) => Math.ceil(nTasks / n) * sleepMs;
  const pyRatio = (n, s) => `${s.toFixed(1)} s (${fmtX(s / (Math.ceil(nTasks / n)))} ideal)`;

  const configs = [];
  const add = (key, procs, extra, workers, { sync = false, check = false } = {}) => {
    const outFile = join(WORK, `primes-output-${key.replace(/\W+/g, '_')}.txt`);
    const env = { PRIMES_SLEEP_MS: String(sleepMs), PRIMES_OUTPUT: outFile, ...(sync ? { PRIMES_SYNC: '1' } : {}) };
    configs.push({
      key,
      workers,
      run: async () => {
        rmSync(outFile, { force: true });
        const { ms, dir } = await timeExecute({
          label: `primes ${key}`,
          jugfile: PRIMES_JUGFILE,
          env,
          procs,
          extra,
          dirName: `primes-${key.replace(/\W+/g, '_')}`,
          verify: () => {
            const text = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '(missing)';
            if (text !== 'Found 25 primes <= 100.\n') {
              throw new BenchError(`primes ${key}: output file ${outFile} holds ${JSON.stringify(text)}, expected 25 primes.`);
            }
          },
        });
        if (!check) return ms;
        // Timed to the end of a following `jug check` (issue 19 §3): what a user waits for.
        const checked = await timeGroup([['check', PRIMES_JUGFILE, '--jugdir', dir]], env, `primes ${key} check`);
        return ms + checked.ms;
      },
    });
  };
  add('serial (1 process)', 1, [], 1);
  for (const n of [2, 4, 8]) add(`${n} processes`, n, [], n);
  for (const n of [2, 4, 8]) add(`--threads ${n}`, 1, ['--threads', String(n)], n);
  add('--threads 8, then check', 1, ['--threads', '8'], 8, { check: true });
  add('--threads 8, sync body, then check', 1, ['--threads', '8'], 8, { sync: true, check: true });

  const measured = await measureAll('primes', configs, reps);
  const rows = configs.map((c) => {
    const s = measured.get(c.key);
    const ideal = idealMs(c.workers);
    const r = s.median / ideal;
    const n = c.workers;
    let anchor;
    if (n === 1) anchor = pyRatio(1, PY.primes.serial);
    else if (c.key.includes('processes')) anchor = `${pyRatio(n, PY.primes.procs[n])}; wct 1: ${pyRatio(n, PY.primes.procsWct1[n])}`;
    else anchor = `— (no threads; ${n} procs ${PY.primes.procs[n].toFixed(1)} s, wct 1: ${PY.primes.procsWct1[n].toFixed(1)} s)`;
    return {
      config: c.key,
      ...s,
      ideal,
      ratioValue: r,
      ratio: `${fmtX(r)} ideal ${fmtS(ideal)} (overhead ${((r - 1) * 100).toFixed(1)}%)`,
      anchor,
    };
  });
  const goals = ['--threads 8, then check', '--threads 8, sync body, then check'].map((key) => {
    const t8 = rows.find((r) => r.config === key);
    return {
      text: `\`${key}\` ≤ 1.03× the ideal ${fmtS(t8.ideal)} (ceil(99/8) × ${sleepMs} ms)`,
      measured: `${fmtS(t8.median)} = ${fmtX(t8.ratioValue)} ideal (overhead ${((t8.ratioValue - 1) * 100).toFixed(1)}%)`,
      met: t8.median <= t8.ideal * 1.03,
    };
  });
  const notes = [
    `examples/primes.ts as is: 99 \`isPrime\` tasks each sleeping PRIMES_SLEEP_MS=${sleepMs} ms, then \`countPrimes\` and \`writeOutput\` (101 tasks).`,
    'N processes = N `jug execute` started together on one jugdir; wall = until the last one exits. Ideal = ceil(99/N) × sleep.',
    '"then check": the wall time of `jug execute` plus that of the `jug check` run right after it (exit 0: every task stored). "sync body": PRIMES_SYNC=1, each task blocks its thread in Atomics.wait for the sleep instead of awaiting a timer (as CPU-bound code does).',
    'Processes run with the default `--wait-cycle-time` (12 s cap). Our back-off while waiting on tasks other processes hold starts at 50 ms and grows ×1.5 up to that cap, so unlike Python Jug (fixed 12 s poll) the default already behaves like a short wait cycle; the `--wait-cycle-time 1` variant is therefore not run. Python Jug\'s figures for both are shown.',
    'Python Jug has no threads; its figures for N processes are shown next to `--threads N` for comparison. Compare ratios to ideal, not absolute seconds (shared, noisy machines).',
  ];
  return { title: 'primes — sleep-bound tasks, N workers', rows, goals, notes };
}


export default { name: 'primes', run: benchPrimes };
