import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BenchError,
  JUGFILES,
  OPTS,
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
  waitQuiet,
} from '../lib/harness.mjs';
import { countDivisors } from '../jugfiles/divisors.mjs';

const CPU_JUGFILE = join(JUGFILES, 'primes_cpu.ts');

// ---------------------------------------------------------------------------------------------
// Workload 2: primes_cpu

const CPU_TARGET_MS = 35;

/** Chooses the divisor-loop length so that one countDivisors call takes ~35 ms in this Node. */
function calibrateCpu() {
  const timeOne = (limit, reps) => {
    const t = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      countDivisors(1_000_003 + i, limit);
      t.push(performance.now() - t0);
    }
    return median(t);
  };
  timeOne(2_000_000, 5); // warm up the JIT
  let limit = 5_000_000;
  for (let round = 0; round < 4; round++) {
    const ms = timeOne(limit, 5);
    const next = Math.max(100_000, Math.round((limit * CPU_TARGET_MS) / ms / 1000) * 1000);
    if (Math.abs(ms - CPU_TARGET_MS) / CPU_TARGET_MS < 0.05) break;
    limit = next;
  }
  return { limit, perTaskMs: timeOne(limit, 9) };
}

async function benchPrimesCpu({ reps, quick }) {
  const nTasks = quick ? 40 : 200;
  if (OPTS.waitQuiet) await waitQuiet('primes_cpu calibration');
  const { limit, perTaskMs } = calibrateCpu();
  log(`[primes_cpu] calibrated: limit ${limit.toLocaleString('en-US')} → ${perTaskMs.toFixed(1)} ms per task (in-process, median of 9)`);
  const env = { PRIMES_CPU_TASKS: String(nTasks), PRIMES_CPU_LIMIT: String(limit) };
  const cfg = (key, procs, extra) => ({
    key,
    run: async () =>
      (await timeExecute({ label: `primes_cpu ${key}`, jugfile: CPU_JUGFILE, env, procs, extra, dirName: `cpu-${key.replace(/\W+/g, '_')}` })).ms,
  });
  const configs = [
    cfg('serial (1 process)', 1, []),
    cfg('--threads 1', 1, ['--threads', '1']),
    cfg('--threads 2', 1, ['--threads', '2']),
    cfg('2 processes', 2, []),
  ];
  const m = await measureAll('primes_cpu', configs, reps);
  const serial = m.get('serial (1 process)').median;
  const t1 = m.get('--threads 1').median;
  const t2 = m.get('--threads 2').median;
  const p2 = m.get('2 processes').median;
  const pySpeedup = PY.primesCpu.serial / PY.primesCpu.procs2;
  const rows = [
    { config: 'serial (1 process)', ...m.get('serial (1 process)'), ratio: `1.00× (baseline); ${(serial / nTasks).toFixed(1)} ms/task`, anchor: `${PY.primesCpu.serial} s (1 process)` },
    { config: '--threads 1', ...m.get('--threads 1'), ratio: `${fmtX(serial / t1)} vs serial; ${(t1 / nTasks).toFixed(1)} ms/task`, anchor: '—' },
    { config: '--threads 2', ...m.get('--threads 2'), ratio: `${fmtX(t1 / t2)} speed-up vs --threads 1`, anchor: `${fmtX(pySpeedup)} (2 processes vs 1)` },
    { config: '2 processes', ...m.get('2 processes'), ratio: `${fmtX(serial / p2)} speed-up vs serial`, anchor: `${PY.primesCpu.procs2} s (${fmtX(pySpeedup)})` },
  ];
  const goals = [
    {
      text: '`--threads 2` speed-up over `--threads 1` ≥ 1.90× (Python Jug, 2 processes vs 1: 1.87×)',
      measured: `${fmtS(t1)} / ${fmtS(t2)} = ${fmtX(t1 / t2)}`,
      met: t1 / t2 >= 1.9,
    },
    {
      text: '`--threads 2` speed-up not below Python Jug\'s 2-process one (do not regress: 1.76× vs 1.77× measured 2026-12-02)',
      measured: `${fmtX(t1 / t2)} vs ${fmtX(pySpeedup)}`,
      met: t1 / t2 >= pySpeedup,
    },
    {
      text: '`--threads 1` time ≤ 0.80× Python Jug\'s 1-process time (do not regress)',
      measured: `${fmtS(t1)} = ${fmtX(t1 / (PY.primesCpu.serial * 1000))} Python`,
      met: t1 <= 0.8 * PY.primesCpu.serial * 1000,
    },
  ];
  const notes = [
    `${nTasks} independent tasks \`divisors(n, limit)\`: a naive count of the divisors of n among 1..limit; no reduce task.`,
    `limit calibrated on this machine to ${limit.toLocaleString('en-US')} so that one task takes ${perTaskMs.toFixed(1)} ms in-process (target ${CPU_TARGET_MS} ms; Python Jug's ~35 ms task is a loop to ~1e6, V8 is faster per iteration).`,
    `Measured through jug: serial ${(serial / nTasks).toFixed(1)} ms per task including start-up, hashing and storing (wall / ${nTasks}).`,
    `Machine has ${os.cpus().length} CPU(s); the speed-up is bounded by that.`,
  ];
  return { title: 'primes_cpu — CPU-bound tasks, 1 vs 2 workers', rows, goals, notes, extra: { limit, perTaskMs } };
}


export default { name: 'primes_cpu', run: benchPrimesCpu };
