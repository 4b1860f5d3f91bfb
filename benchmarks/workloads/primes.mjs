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
import { PYJUG_LABEL, fmtRatio, pyJugfile, ratioTo, runPyJug, timePyGroup, warmPyJug } from '../lib/pyjug.mjs';
import { FLOOR_LABEL, timeFloor } from '../lib/floor.mjs';

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
  // Python Jug side by side, between our 8 processes and our --threads 8 (A, B, A, B …).
  await warmPyJug();
  configs.push(pythonPrimesConfig(sleepMs));
  for (const n of [2, 4, 8]) add(`--threads ${n}`, 1, ['--threads', String(n)], n);
  // What Node alone takes for the same 99 sleeps on 8 threads, then a process start (as our `check`): the floor under the goal below.
  configs.push({ key: FLOOR_KEY, workers: 8, run: () => timeFloor(8, nTasks, 'sleep', { ms: sleepMs, thenStart: true }) });
  add('--threads 8, then check', 1, ['--threads', '8'], 8, { check: true });
  add('--threads 8, sync body, then check', 1, ['--threads', '8'], 8, { sync: true, check: true });

  const measured = await measureAll('primes', configs, reps);
  const rows = configs.map((c) => {
    const s = measured.get(c.key);
    if (c.key === PY_KEY) {
      const r = s.median / idealMs(8);
      return { config: c.key, ...s, ratio: `${fmtX(r)} ideal ${fmtS(idealMs(8))} (baseline of the same-run ratios)`, anchor: pyRatio(8, PY.primes.procsWct1[8]) };
    }
    const ideal = idealMs(c.workers);
    const r = s.median / ideal;
    const n = c.workers;
    let anchor;
    if (c.key === FLOOR_KEY) anchor = '— (not jug)';
    else if (n === 1) anchor = pyRatio(1, PY.primes.serial);
    else if (c.key.includes('processes')) anchor = `${pyRatio(n, PY.primes.procs[n])}; wct 1: ${pyRatio(n, PY.primes.procsWct1[n])}`;
    else anchor = `— (no threads; ${n} procs ${PY.primes.procs[n].toFixed(1)} s, wct 1: ${PY.primes.procsWct1[n].toFixed(1)} s)`;
    const vsPy = n === 8 && c.key !== FLOOR_KEY ? `; ${fmtRatio(ratioTo(measured, c.key, PY_KEY))} Python 8 procs (same run)` : '';
    return {
      config: c.key,
      ...s,
      ideal,
      ratioValue: r,
      ratio: `${fmtX(r)} ideal ${fmtS(ideal)} (overhead ${((r - 1) * 100).toFixed(1)}%)${vsPy}`,
      anchor,
    };
  });
  const py8 = measured.get(PY_KEY);
  const goals = [
    ...['--threads 8', '8 processes'].map((key) => {
      const r = ratioTo(measured, key, PY_KEY);
      return {
        text: `primes, ours ${key} faster than Python Jug with 8 processes and \`--wait-cycle-time 1\` (same run)`,
        measured: `${fmtRatio(r)} Python's time (${fmtS(measured.get(key).median)} vs ${fmtS(py8.median)})`,
        met: r.median < 1,
      };
    }),
    ...['--threads 8, then check', '--threads 8, sync body, then check'].map((key) => {
    const t8 = rows.find((r) => r.config === key);
    return {
      text: `\`${key}\` ≤ 1.03× the ideal ${fmtS(t8.ideal)} (ceil(99/8) × ${sleepMs} ms)`,
      measured: `${fmtS(t8.median)} = ${fmtX(t8.ratioValue)} ideal (overhead ${((t8.ratioValue - 1) * 100).toFixed(1)}%)`,
      met: t8.median <= t8.ideal * 1.03,
    };
    }),
  ];
  const notes = [
    `examples/primes.ts as is: 99 \`isPrime\` tasks each sleeping PRIMES_SLEEP_MS=${sleepMs} ms, then \`countPrimes\` and \`writeOutput\` (101 tasks).`,
    'N processes = N `jug execute` started together on one jugdir; wall = until the last one exits. Ideal = ceil(99/N) × sleep.',
    '"then check": the wall time of `jug execute` plus that of the `jug check` run right after it (exit 0: every task stored). "sync body": PRIMES_SYNC=1, each task blocks its thread in Atomics.wait for the sleep instead of awaiting a timer (as CPU-bound code does).',
    'Processes run with the default `--wait-cycle-time` (12 s cap). Our back-off while waiting on tasks other processes hold starts at 50 ms and grows ×1.5 up to that cap, so unlike Python Jug (fixed 12 s poll) the default already behaves like a short wait cycle; the `--wait-cycle-time 1` variant is therefore not run. Python Jug\'s figures for both are shown.',
    `"${FLOOR_KEY}": not jug. benchmarks/lib/floor-pool.mjs: a bare Piscina pool of 8 threads (started at once) on this machine, each handed its 12 or 13 of the same 99 awaited sleeps at once (no round trip between them), then a final count task, the process ending at once; then one \`node -e 0\`, standing for our \`jug check\` process's start. What any Node program needs for the "then check" rows at that minute: the goal's 1.03× is reachable only where this row is well under it (benchmarks/floor-primes.mjs compares more: Piscina's own dispatch, NODE_EXTRA_CA_CERTS unset).`,
    'Python Jug has no threads; its figures for N processes are shown next to `--threads N` for comparison. Compare ratios to ideal, not absolute seconds (shared, noisy machines).',
    `Side by side: "${PY_KEY}" runs ${PYJUG_LABEL}/jugfiles/primes.py${sleepMs === 1000 ? '' : ` (a copy sleeping ${sleepMs} ms)`} with \`python3 ${PYJUG_LABEL}/bin/jug execute … --wait-cycle-time 1\` in 8 processes started together, in every repetition between our 8 processes and our \`--threads\` runs; its \`jug check\` must pass and its output.txt say 25 primes. Ratios "× Python" are ours / Python *of the same repetition*: median (min–max).`,
  ];
  return { title: 'primes — sleep-bound tasks, N workers', rows, goals, notes };
}


const PY_KEY = 'Python Jug: 8 processes, --wait-cycle-time 1';
const FLOOR_KEY = `${FLOOR_LABEL}: 8 threads, sleep body, then \`node -e 0\``;

/** Python Jug's primes.py in 8 processes (`--wait-cycle-time 1`) on a fresh jugdir, checked. */
function pythonPrimesConfig(sleepMs) {
  const jugfile = pyJugfile('primes.py', sleepMs === 1000 ? [] : [[/sleep\(1\.\)/, `sleep(${sleepMs / 1000})`]]);
  return {
    key: PY_KEY,
    workers: 8,
    run: async () => {
      const cwd = freshDir('primes-python');
      mkdirSync(cwd, { recursive: true });
      const jugdir = join(cwd, 'jugdir');
      const args = ['execute', jugfile, '--jugdir', jugdir, '--wait-cycle-time', '1'];
      const { ms } = await timePyGroup(Array.from({ length: 8 }, () => args), 'Python Jug primes, 8 processes', { cwd });
      const check = await runPyJug(['check', jugfile, '--jugdir', jugdir], { cwd });
      if (check.code !== 0) throw new BenchError(`Python Jug primes: \`jug check\` exited ${check.code} after the run.`);
      const out = join(cwd, 'output.txt');
      const text = existsSync(out) ? readFileSync(out, 'utf8') : '(missing)';
      if (text !== 'Found 25 primes <= 100.\n') throw new BenchError(`Python Jug primes: output.txt holds ${JSON.stringify(text)}, expected 25 primes.`);
      return ms;
    },
  };
}

export default { name: 'primes', run: benchPrimes };
