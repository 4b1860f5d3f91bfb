#!/usr/bin/env node
/**
 * Benchmarks of the real `jug` CLI (bin/jug.js), run as subprocesses, timed wall-clock from spawn
 * until the last process of a run has exited. Each configuration is repeated (--reps, default 3)
 * and its median reported, next to Python Jug 2.5's figures for the same workload on this machine
 * kind (../shared/reference/anchors.md).
 *
 *   node benchmarks/run.mjs [--reps N] [--only primes,primes_cpu,tiny,memory,redis] [--quick] [--out FILE]
 *                           [--wait-quiet [S]]
 *
 * Writes benchmarks/RESULTS.md (and benchmarks/RESULTS.json, from which RESULTS.md is rendered,
 * so that workloads run separately with --only accumulate). --quick writes to
 * benchmarks/.work/RESULTS-quick.md instead, so a smoke run never replaces real results.
 * See benchmarks/README.md.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createServer, connect as netConnect } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { countDivisors } from './jugfiles/divisors.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const JUG = join(ROOT, 'bin', 'jug.js');
const WORK = join(BENCH_DIR, '.work');
const JUGFILES = join(BENCH_DIR, 'jugfiles');
const PRIMES_JUGFILE = join(ROOT, 'examples', 'primes.ts');
const CPU_JUGFILE = join(JUGFILES, 'primes_cpu.ts');
const TINY_JUGFILE = join(JUGFILES, 'tiny.ts');

const WORKLOADS = ['primes', 'primes_cpu', 'tiny', 'memory', 'redis'];
/** Longest any single timed run may take before it is killed and the benchmark aborted. */
const RUN_TIMEOUT_MS = 30 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Command line

class BenchError extends Error {}

/** The parsed command line (set once in main). */
let OPTS = { waitQuiet: 0 };

function usage() {
  return [
    'usage: node benchmarks/run.mjs [--reps N] [--only NAME[,NAME]] [--quick] [--out FILE] [--wait-quiet [S]]',
    '',
    `  --reps N      repetitions per configuration; the median is reported (default 3, 1 with --quick)`,
    `  --only NAMES  comma-separated workloads to run: ${WORKLOADS.join(', ')} (default: all)`,
    '  --quick       short smoke version (fewer tasks, shorter sleeps); results go to',
    '                benchmarks/.work/RESULTS-quick.md, never to benchmarks/RESULTS.md',
    '  --out FILE    write the Markdown report here (default benchmarks/RESULTS.md)',
    '  --wait-quiet [S]  before each timed run, wait up to S seconds (default 300) until other',
    '                processes use < 0.15 CPU (for shared machines; Linux /proc only)',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { reps: undefined, only: [...WORKLOADS], quick: false, out: undefined, waitQuiet: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new BenchError(`${a} needs a value`);
      return argv[++i];
    };
    const name = a.split('=')[0];
    if (name === '--reps') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new BenchError(`--reps: expected an integer ≥ 1, got '${v}'`);
      opts.reps = n;
    } else if (name === '--only') {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !WORKLOADS.includes(n));
      if (bad.length > 0 || names.length === 0) {
        throw new BenchError(`--only: unknown workload(s) ${bad.join(', ') || '(none given)'}; choose from ${WORKLOADS.join(', ')}`);
      }
      opts.only = WORKLOADS.filter((w) => names.includes(w));
    } else if (name === '--wait-quiet') {
      let v = '300';
      if (a.includes('=')) v = a.slice(a.indexOf('=') + 1);
      else if (i + 1 < argv.length && /^\d+$/.test(argv[i + 1])) v = argv[++i];
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new BenchError(`--wait-quiet: expected seconds ≥ 0, got '${v}'`);
      opts.waitQuiet = n;
    } else if (name === '--quick') {
      opts.quick = true;
    } else if (name === '--out') {
      opts.out = resolve(value());
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(usage() + '\n');
      process.exit(0);
    } else {
      throw new BenchError(`unknown argument '${a}'`);
    }
  }
  opts.reps ??= opts.quick ? 1 : 3;
  opts.out ??= opts.quick ? join(WORK, 'RESULTS-quick.md') : join(BENCH_DIR, 'RESULTS.md');
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Running jug

const log = (msg) => process.stderr.write(msg + '\n');

/** Children currently running, so that a timeout or Ctrl-C can end exactly these. */
const live = new Set();

/**
 * Spawns `node bin/jug.js ...args`; resolves when it has exited (and its output is closed) with
 * its exit code, output and the performance.now() of its exit.
 */
function runJug(args, env) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [JUG, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let exitedAt;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('exit', () => (exitedAt = performance.now()));
    child.on('error', (e) => {
      live.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      resolvePromise({ args, code, signal, stdout, stderr, end: exitedAt ?? performance.now() });
    });
  });
}

function killLive() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function describeRun(r) {
  const tail = (s) => s.trim().split('\n').slice(-15).join('\n');
  return (
    `  node bin/jug.js ${r.args.join(' ')}\n` +
    `  exit ${r.code ?? 'none'}${r.signal ? ` (signal ${r.signal})` : ''}\n` +
    (r.stderr.trim() ? `  stderr:\n${tail(r.stderr)}\n` : '') +
    (r.stdout.trim() ? `  stdout:\n${tail(r.stdout)}\n` : '')
  );
}

/**
 * Starts every argument list in `group` at once; returns the wall time in ms from before the
 * first spawn until the last process exited. Aborts unless every process exited with
 * `expectCode` (0 by default).
 */
async function timeGroup(group, env, what, expectCode = 0) {
  const t0 = performance.now();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      killLive();
      reject(new BenchError(`${what}: still running after ${RUN_TIMEOUT_MS / 60000} min; killed.`));
    }, RUN_TIMEOUT_MS);
  });
  let results;
  try {
    results = await Promise.race([Promise.all(group.map((args) => runJug(args, env))), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const bad = results.filter((r) => r.code !== expectCode);
  if (bad.length > 0) {
    throw new BenchError(
      `${what}: ${bad.length} of ${results.length} process(es) did not exit ${expectCode}; ` +
        `a benchmark of a broken run is worthless.\n${bad.map(describeRun).join('')}`,
    );
  }
  return { ms: Math.max(...results.map((r) => r.end)) - t0, results };
}

/** `jug check` must pass after every timed execute. */
async function assertComplete(jugfile, jugdir, env, what) {
  const r = await runJug(['check', jugfile, '--jugdir', jugdir], env);
  if (r.code !== 0) {
    throw new BenchError(`${what}: \`jug check\` exited ${r.code} after the run: not every task is stored.\n${describeRun(r)}`);
  }
}

let dirCount = 0;

/**
 * A new, empty jugdir path. Jugdirs are only deleted when the whole benchmark ends, never right
 * before a run: this ext4 (no journal) skips inodes freed in the last ~30 s when it allocates
 * new ones, so deleting a 5,000-file jugdir just before a run made that run's file creations
 * several times slower (measured with perf: find_inode_bit → recently_deleted).
 */
function freshDir(name) {
  const dir = join(WORK, `${name}-${process.pid}-${++dirCount}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

const executeArgs = (jugfile, jugdir, extra = []) => ['execute', jugfile, '--jugdir', jugdir, '-q', ...extra];

/**
 * One configuration of an execute benchmark: `procs` processes, each with `extra` arguments,
 * started together on a fresh jugdir. Returns the wall time in ms, after checking the run.
 */
async function timeExecute({ label, jugfile, env, procs = 1, extra = [], dirName, verify }) {
  const dir = freshDir(dirName);
  const group = Array.from({ length: procs }, () => executeArgs(jugfile, dir, extra));
  const { ms } = await timeGroup(group, env, label);
  await assertComplete(jugfile, dir, env, label);
  if (verify) verify();
  return { ms, dir };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function stats(walls) {
  return { walls, median: median(walls), min: Math.min(...walls), max: Math.max(...walls) };
}

function fmtS(ms) {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(3)} s` : `${s.toFixed(2)} s`;
}

const fmtX = (x) => `${x.toFixed(2)}×`;
const fmtRate = (r) => Math.round(r).toLocaleString('en-US');

/**
 * Runs `configs` (each `{ key, run(rep) → ms }`) for `reps` repetitions, interleaved (rep 1 of
 * every configuration, then rep 2, ...) so slow drifts of a shared machine hit all alike.
 */
async function measureAll(workload, configs, reps) {
  const walls = new Map(configs.map((c) => [c.key, []]));
  const background = new Map(configs.map((c) => [c.key, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const c of configs) {
      if (OPTS.waitQuiet) await waitQuiet(`${workload} ${c.key}`);
      const a = cpuSample();
      const ms = await c.run(rep);
      const bg = otherCpus(a, cpuSample());
      walls.get(c.key).push(ms);
      if (bg !== undefined) background.get(c.key).push(bg);
      log(`[${workload}] ${c.key}: rep ${rep + 1}/${reps}: ${fmtS(ms)}${bg !== undefined ? ` (other processes: ${bg.toFixed(2)} CPUs)` : ''}`);
    }
  }
  return new Map(
    [...walls].map(([k, w]) => {
      const bg = background.get(k);
      return [k, { ...stats(w), background: bg.length ? Math.max(...bg) : undefined }];
    }),
  );
}

/**
 * --wait-quiet: before a timed run, wait (up to OPTS.waitQuiet seconds) until other processes
 * use under 0.15 CPU over a 3-second window.
 */
async function waitQuiet(what) {
  const deadline = performance.now() + OPTS.waitQuiet * 1000;
  let said = false;
  for (;;) {
    const a = cpuSample();
    await new Promise((r) => setTimeout(r, 3000));
    const bg = otherCpus(a, cpuSample());
    if (bg === undefined || bg < 0.15) return;
    if (performance.now() >= deadline) {
      log(`[wait-quiet] still ${bg.toFixed(2)} CPUs busy after ${OPTS.waitQuiet} s; running ${what} anyway.`);
      return;
    }
    if (!said) log(`[wait-quiet] other processes use ${bg.toFixed(2)} CPUs; waiting before ${what}...`);
    said = true;
  }
}

const COLUMNS = ['configuration', 'median wall', 'min', 'max', 'ratio', 'Python Jug anchor'];

function rowCells(row) {
  return [row.config, fmtS(row.median), fmtS(row.min), fmtS(row.max), row.ratio, row.anchor];
}

function textTable(rows) {
  const cells = [COLUMNS, ...rows.map(rowCells)];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function markdownTable(rows) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map((_, i) => (i >= 1 && i <= 3 ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${rowCells(r).map(esc).join(' | ')} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Python Jug 2.5's figures (../shared/reference/anchors.md), in seconds

const PY = {
  primes: { serial: 99.6, procs: { 2: 61.7, 4: 38.0, 8: 26.0 }, procsWct1: { 2: 51.5, 4: 26.4, 8: 14.4 } },
  primesCpu: { serial: 7.07, procs2: 3.78 },
  tiny: { serial: 5.73, serialRate: 872, procs2: 4.71, procs2Rate: 1062, again: 0.2, status: 0.17, check: 0.16 },
  graph50k: { status: 0.92, check: 0.55 },
  payload: { serial: 13.8, rssMiB: 535 },
};

// ---------------------------------------------------------------------------------------------
// Workload 1: primes

async function benchPrimes({ reps, quick }) {
  const sleepMs = quick ? 100 : 1000;
  const nTasks = 99;
  const idealMs = (n) => Math.ceil(nTasks / n) * sleepMs;
  const pyRatio = (n, s) => `${s.toFixed(1)} s (${fmtX(s / (Math.ceil(nTasks / n)))} ideal)`;

  const configs = [];
  const add = (key, procs, extra, workers) => {
    const outFile = join(WORK, `primes-output-${key.replace(/\W+/g, '_')}.txt`);
    const env = { PRIMES_SLEEP_MS: String(sleepMs), PRIMES_OUTPUT: outFile };
    configs.push({
      key,
      workers,
      run: async () => {
        rmSync(outFile, { force: true });
        const { ms } = await timeExecute({
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
        return ms;
      },
    });
  };
  add('serial (1 process)', 1, [], 1);
  for (const n of [2, 4, 8]) add(`${n} processes`, n, [], n);
  for (const n of [2, 4, 8]) add(`--threads ${n}`, 1, ['--threads', String(n)], n);

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
  const t8 = rows.find((r) => r.config === '--threads 8');
  const goals = [
    {
      text: `\`--threads 8\` within 3% of the ideal ${fmtS(t8.ideal)} (ceil(99/8) × ${sleepMs} ms)`,
      measured: `${fmtS(t8.median)} = ${fmtX(t8.ratioValue)} ideal (overhead ${((t8.ratioValue - 1) * 100).toFixed(1)}%)`,
      met: t8.median <= t8.ideal * 1.03,
    },
  ];
  const notes = [
    `examples/primes.ts as is: 99 \`isPrime\` tasks each sleeping PRIMES_SLEEP_MS=${sleepMs} ms, then \`countPrimes\` and \`writeOutput\` (101 tasks).`,
    'N processes = N `jug execute` started together on one jugdir; wall = until the last one exits. Ideal = ceil(99/N) × sleep.',
    'Processes run with the default `--wait-cycle-time` (12 s cap). Our back-off while waiting on tasks other processes hold starts at 50 ms and grows ×1.5 up to that cap, so unlike Python Jug (fixed 12 s poll) the default already behaves like a short wait cycle; the `--wait-cycle-time 1` variant is therefore not run. Python Jug\'s figures for both are shown.',
    'Python Jug has no threads; its figures for N processes are shown next to `--threads N` for comparison. Compare ratios to ideal, not absolute seconds (shared, noisy machines).',
  ];
  return { title: 'primes — sleep-bound tasks, N workers', rows, goals, notes };
}

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
  ];
  const notes = [
    `${nTasks} independent tasks \`divisors(n, limit)\`: a naive count of the divisors of n among 1..limit; no reduce task.`,
    `limit calibrated on this machine to ${limit.toLocaleString('en-US')} so that one task takes ${perTaskMs.toFixed(1)} ms in-process (target ${CPU_TARGET_MS} ms; Python Jug's ~35 ms task is a loop to ~1e6, V8 is faster per iteration).`,
    `Measured through jug: serial ${(serial / nTasks).toFixed(1)} ms per task including start-up, hashing and storing (wall / ${nTasks}).`,
    `Machine has ${os.cpus().length} CPU(s); the speed-up is bounded by that.`,
  ];
  return { title: 'primes_cpu — CPU-bound tasks, 1 vs 2 workers', rows, goals, notes, extra: { limit, perTaskMs } };
}

// ---------------------------------------------------------------------------------------------
// Workload 4: memory (payload, and a chain with and without --aggressive-unload)

/** The anchors' payload workload: 50 tasks returning 262,144 pseudo-random floats each, then a sum. */
const PAYLOAD_JUGFILE = `import { TaskGenerator } from 'jug';
export const make = TaskGenerator(function make(seed: number): number[] {
  let x = seed + 1;
  return Array.from({ length: 262144 }, () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648));
});
export const total = TaskGenerator(function total(lists: number[][]): number {
  let s = 0;
  for (const l of lists) for (const v of l) s += v;
  return s;
});
export const parts = Array.from({ length: 50 }, (_, i) => make(i));
export const sum = total(parts);
`;

/** A chain of N tasks, each loading the previous 8 MiB Float64Array and returning a new one. */
const chainJugfile = (n) => `import { TaskGenerator } from 'jug';
const N = (8 * 1024 * 1024) / 8;
export const step = TaskGenerator(function step(prev: Float64Array | null, i: number): Float64Array {
  const out = new Float64Array(N);
  for (let k = 0; k < N; k++) out[k] = prev === null ? k : prev[k]! + i;
  return out;
});
let t = step(null, 0);
for (let i = 1; i < ${n}; i++) t = step(t, i);
export const last = t;
`;

/** Runs `jug execute` in a child that reports its own peak RSS (threads included); returns ms and MiB. */
async function timeWithRss(label, source, extra) {
  const dir = freshDir(`memory-${label.replace(/\W+/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  const jugfile = join(dir, 'jugfile.ts');
  writeFileSync(jugfile, source);
  const main = new URL('../dist/cli/main.js', import.meta.url).href;
  const child = `const { main } = await import(${JSON.stringify(main)});
const code = await main(process.argv.slice(1));
process.stderr.write('MAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n');
process.exit(code);`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child, 'execute', jugfile, '-q', ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  const m = /MAXRSS_KB (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || m === null) throw new BenchError(`memory ${label}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  await assertComplete(jugfile, join(dir, 'jugfile.jugdata'), {}, `memory ${label}`);
  return { ms, mib: Number(m[1]) / 1024 };
}

async function benchMemory({ reps, quick }) {
  const short = quick ? 6 : 12;
  const long = quick ? 24 : 48;
  const rss = new Map();
  const cfg = (key, source, extra) => ({
    key,
    run: async () => {
      const { ms, mib } = await timeWithRss(key, source, extra);
      rss.set(key, [...(rss.get(key) ?? []), mib]);
      log(`[memory] ${key}: peak RSS ${mib.toFixed(0)} MiB`);
      return ms;
    },
  });
  const configs = [
    cfg('payload, 1 process', PAYLOAD_JUGFILE, []),
    cfg(`chain of ${short} × 8 MiB`, chainJugfile(short), []),
    cfg(`chain of ${long} × 8 MiB`, chainJugfile(long), []),
    cfg(`chain of ${long}, --aggressive-unload`, chainJugfile(long), ['--aggressive-unload']),
    cfg(`chain of ${long}, --threads 2`, chainJugfile(long), ['--threads', '2']),
  ];
  const m = await measureAll('memory', configs, reps);
  const peak = (k) => median(rss.get(k));
  const rows = configs.map(({ key }) => ({
    config: key,
    ...m.get(key),
    ratio: `peak RSS ${peak(key).toFixed(0)} MiB (median)`,
    anchor: key.startsWith('payload') ? `${PY.payload.serial} s, ${PY.payload.rssMiB} MiB` : '— (Jug keeps every result unless --aggressive-unload)',
  }));
  const growth = peak(`chain of ${long} × 8 MiB`) / peak(`chain of ${short} × 8 MiB`);
  const goals = [
    {
      text: `memory stays flat on a long chain: peak RSS with ${long} tasks within 25% of ${short} tasks`,
      measured: `${peak(`chain of ${long} × 8 MiB`).toFixed(0)} MiB vs ${peak(`chain of ${short} × 8 MiB`).toFixed(0)} MiB = ${fmtX(growth)}`,
      met: growth <= 1.25,
    },
  ];
  const notes = [
    'payload: the anchors\' workload — 50 tasks each returning 262,144 pseudo-random floats (a plain array, 2 MiB as float64), then one task summing them; peak RSS of the whole process.',
    `chain: ${short} or ${long} tasks, each loading the previous 8 MiB Float64Array and returning a new one (${long * 8} MiB of results for the long chain). jug never keeps results in memory between tasks (each task loads its dependencies from the store), so peak RSS does not grow with the chain, with or without --aggressive-unload (accepted for compatibility).`,
    'Peak RSS: process.resourceUsage().maxRSS of the jug process (worker threads included), reported by the process itself when the run ends.',
  ];
  return { title: 'memory — peak RSS on large results', rows, goals, notes };
}

// ---------------------------------------------------------------------------------------------
// Workload 5: redis — the Redis store side by side with the file store

/** A redis-server of the benchmark's own: free loopback port, scratch directory, no persistence. */
async function startRedisServer() {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (bin === undefined) throw new BenchError('redis: redis-server is not installed (Debian package redis-server)');
  const port = await new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
  const dir = freshDir('redis-server');
  mkdirSync(dir, { recursive: true });
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 400; i++) {
    const up = await new Promise((res) => {
      const c = netConnect(port, '127.0.0.1', () => (c.end(), res(true)));
      c.on('error', () => res(false));
    });
    if (up) return { port, stop: () => child.kill('SIGTERM'), flush: () => redisCommand(port, ['FLUSHALL']) };
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new BenchError(`redis: redis-server did not start on port ${port}`);
}

/** Sends one command to the benchmark's server (RESP, no client needed); resolves on its reply. */
function redisCommand(port, args) {
  return new Promise((res, rej) => {
    const c = netConnect(port, '127.0.0.1', () => c.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    c.once('data', (d) => (c.end(), res(String(d))));
    c.on('error', rej);
  });
}

async function benchRedis({ reps, quick }) {
  const n = quick ? 1000 : 5000;
  const nBig = quick ? 10_000 : 50_000;
  const nTasks = n + 1;
  const env = { TINY_N: String(n) };
  const envBig = { TINY_N: String(nBig) };
  const server = await startRedisServer();
  let prefixes = 0;
  const redisStore = () => `redis://127.0.0.1:${server.port}/0?prefix=bench${++prefixes}`;
  try {
    const payloadDir = freshDir('redis-payload');
    mkdirSync(payloadDir, { recursive: true });
    const payload = join(payloadDir, 'payload.ts');
    writeFileSync(payload, PAYLOAD_JUGFILE);
    const execCfg = (key, jugfile, e, store, extra, count) => ({
      key,
      count,
      run: async () => {
        const jugdir = store === 'file' ? freshDir(`redis-${key.replace(/\W+/g, '_')}`) : redisStore();
        const { ms } = await timeGroup([executeArgs(jugfile, jugdir, extra)], e, `redis ${key}`);
        await assertComplete(jugfile, jugdir, e, `redis ${key}`);
        if (store === 'redis' && key.startsWith('payload')) await server.flush(); // 100 MiB: not kept
        return ms;
      },
    });
    const execs = [
      execCfg('tiny serial, file store', TINY_JUGFILE, env, 'file', [], nTasks),
      execCfg('tiny serial, Redis', TINY_JUGFILE, env, 'redis', [], nTasks),
      execCfg('tiny --threads 2, file store', TINY_JUGFILE, env, 'file', ['--threads', '2'], nTasks),
      execCfg('tiny --threads 2, Redis', TINY_JUGFILE, env, 'redis', ['--threads', '2'], nTasks),
      execCfg('payload, file store', payload, {}, 'file', [], 51),
      execCfg('payload, Redis', payload, {}, 'redis', [], 51),
    ];
    const m1 = await measureAll('redis', execs, reps);
    log('[redis] preparing all-done stores (untimed)');
    const doneFile = freshDir('redis-done-file');
    const doneRedis = redisStore();
    for (const d of [doneFile, doneRedis]) await timeGroup([executeArgs(TINY_JUGFILE, d)], env, 'redis prepare');
    const emptyFile = freshDir('redis-graph50k-empty');
    const emptyRedis = redisStore();
    const timed = (key, args, e) => ({ key, run: async () => (await timeGroup([args], e, `redis ${key}`)).ms });
    const reads = [
      timed('tiny status all done, file store', ['status', TINY_JUGFILE, '--jugdir', doneFile], env),
      timed('tiny status all done, Redis', ['status', TINY_JUGFILE, '--jugdir', doneRedis], env),
      timed(`graph${nBig / 1000}k status, file store`, ['status', TINY_JUGFILE, '--jugdir', emptyFile], envBig),
      timed(`graph${nBig / 1000}k status, Redis`, ['status', TINY_JUGFILE, '--jugdir', emptyRedis], envBig),
    ];
    const m2 = await measureAll('redis', reads, reps);
    const all = new Map([...m1, ...m2]);
    const rows = [];
    const pairs = [];
    for (const c of [...execs, ...reads]) {
      if (!c.key.endsWith('Redis')) continue;
      const fileKey = c.key.replace(/Redis$/, 'file store');
      const ratio = all.get(c.key).median / all.get(fileKey).median;
      pairs.push({ key: c.key.replace(/, Redis$/, ''), ratio });
      const rate = c.count === undefined ? '' : `${fmtRate(c.count / (all.get(c.key).median / 1000))} vs ${fmtRate(c.count / (all.get(fileKey).median / 1000))} tasks/s; `;
      rows.push({ config: fileKey, ...all.get(fileKey), ratio: '1.00× (reference)', anchor: '—' });
      rows.push({ config: c.key, ...all.get(c.key), ratio: `${rate}${fmtX(ratio)} the file store's time`, anchor: '—' });
    }
    const ratioOf = (k) => pairs.find((p) => p.key === k).ratio;
    const worst = pairs.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    const goals = [
      {
        text: 'tiny on Redis ≥ the file store\'s tasks/s (serial and --threads 2)',
        measured: `time ratio Redis/file: serial ${fmtX(ratioOf('tiny serial'))}, --threads 2 ${fmtX(ratioOf('tiny --threads 2'))}`,
        met: ratioOf('tiny serial') <= 1 && ratioOf('tiny --threads 2') <= 1,
      },
      {
        text: `status on ${nBig.toLocaleString('en-US')} tasks on Redis ≤ 1 s`,
        measured: fmtS(all.get(`graph${nBig / 1000}k status, Redis`).median),
        met: all.get(`graph${nBig / 1000}k status, Redis`).median <= 1000,
      },
      {
        text: 'no workload more than 1.5× slower on Redis than on the file store',
        measured: `worst: ${worst.key} ${fmtX(worst.ratio)}`,
        met: worst.ratio <= 1.5,
      },
    ];
    const notes = [
      'One local redis-server started by the benchmark (loopback, no persistence: `--save \'\' --appendonly no`), against the file store (results fsynced) on the same machine; configurations interleaved, medians.',
      `tiny: ${n.toLocaleString('en-US')} trivial tasks plus one total (${nTasks} tasks), from an empty store. payload: 50 tasks of 2 MiB results plus a sum (the memory workload's jugfile).`,
      `"status all done": status of tiny on a store holding every result. graph${nBig / 1000}k status: ${nBig.toLocaleString('en-US')} tasks on an empty store.`,
      'The Redis figures include loading the client (ioredis) in the main thread and, with --threads, in each worker thread (each thread has its own connection).',
    ];
    return { title: 'redis — the Redis store vs the file store', rows, goals, notes };
  } finally {
    server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Workload 3: tiny (and graph50k)

async function benchTiny({ reps, quick }) {
  const n = quick ? 1000 : 5000;
  const nBig = quick ? 10_000 : 50_000;
  const nTasks = n + 1;
  const env = { TINY_N: String(n) };
  const envBig = { TINY_N: String(nBig) };
  const cfg = (key, procs, extra) => ({
    key,
    run: async () =>
      (await timeExecute({ label: `tiny ${key}`, jugfile: TINY_JUGFILE, env, procs, extra, dirName: `tiny-${key.replace(/\W+/g, '_')}` })).ms,
  });
  const execConfigs = [cfg('execute, serial', 1, []), cfg('execute, --threads 2', 1, ['--threads', '2']), cfg('execute, 2 processes', 2, [])];

  const m1 = await measureAll('tiny', execConfigs, reps);
  // The jugdir for the all-done measurements: one untimed serial run, checked.
  log('[tiny] preparing an all-done jugdir (untimed)');
  const doneDir = (await timeExecute({ label: 'tiny prepare all-done', jugfile: TINY_JUGFILE, env, dirName: 'tiny-done' })).dir;
  const bigDir = freshDir('graph50k-empty');

  // Read-only commands: each repetition is one more process on an existing jugdir.
  const timed = (key, args, e, expectCode = 0) => ({
    key,
    run: async () => (await timeGroup([args], e, `tiny ${key}`, expectCode)).ms,
  });
  const doneConfigs = [
    timed('execute again, all done', executeArgs(TINY_JUGFILE, doneDir), env),
    timed('status, all done', ['status', TINY_JUGFILE, '--jugdir', doneDir], env),
    timed('check, all done', ['check', TINY_JUGFILE, '--jugdir', doneDir], env),
    timed(`graph${nBig / 1000}k status, nothing run`, ['status', TINY_JUGFILE, '--jugdir', bigDir], envBig),
    timed(`graph${nBig / 1000}k check, nothing run (exit 1)`, ['check', TINY_JUGFILE, '--jugdir', bigDir], envBig, 1),
  ];

  const m2 = await measureAll('tiny', doneConfigs, reps);

  const rate = (key) => nTasks / (m1.get(key).median / 1000);
  const rows = [];
  rows.push({
    config: `execute, serial (${nTasks} tasks)`,
    ...m1.get('execute, serial'),
    ratio: `${fmtRate(rate('execute, serial'))} tasks/s = ${fmtX(rate('execute, serial') / PY.tiny.serialRate)} Python`,
    anchor: `${PY.tiny.serial} s = ${fmtRate(PY.tiny.serialRate)} tasks/s (1 process)`,
  });
  rows.push({
    config: 'execute, --threads 2',
    ...m1.get('execute, --threads 2'),
    ratio: `${fmtRate(rate('execute, --threads 2'))} tasks/s = ${fmtX(rate('execute, --threads 2') / PY.tiny.procs2Rate)} Python 2 procs`,
    anchor: `— (no threads; 2 processes ${fmtRate(PY.tiny.procs2Rate)} tasks/s)`,
  });
  rows.push({
    config: 'execute, 2 processes',
    ...m1.get('execute, 2 processes'),
    ratio: `${fmtRate(rate('execute, 2 processes'))} tasks/s = ${fmtX(rate('execute, 2 processes') / PY.tiny.procs2Rate)} Python`,
    anchor: `${PY.tiny.procs2} s = ${fmtRate(PY.tiny.procs2Rate)} tasks/s`,
  });
  const vsPy = (ms, s) => `${fmtX((s * 1000) / ms)} Python's speed`;
  const anchorsDone = [PY.tiny.again, PY.tiny.status, PY.tiny.check, PY.graph50k.status, PY.graph50k.check];
  doneConfigs.forEach((c, i) => {
    const s = m2.get(c.key);
    rows.push({ config: c.key, ...s, ratio: vsPy(s.median, anchorsDone[i]), anchor: `${anchorsDone[i].toFixed(2)} s` });
  });

  const serialRate = rate('execute, serial');
  const goals = [
    {
      text: 'tiny, serial execute from an empty jugdir ≥ 4,360 tasks/s (5× Python Jug\'s 872 tasks/s)',
      measured: `${nTasks} tasks / ${fmtS(m1.get('execute, serial').median)} = ${fmtRate(serialRate)} tasks/s (${fmtX(serialRate / PY.tiny.serialRate)} Python)`,
      met: serialRate >= 5 * PY.tiny.serialRate,
    },
  ];
  const notes = [
    `${n.toLocaleString('en-US')} trivial tasks \`double(i)\` plus one \`total(xs)\` over all of them (${nTasks} tasks), from an empty jugdir; tasks/s = ${nTasks} / wall (start-up included, as for Python Jug).`,
    'Results are fsynced (file and directory) before a task counts as stored: durable across power loss. This is the default and cannot be turned off from the CLI; Python Jug fsyncs each result file too (and its temporary directory).',
    'Sensitive to recent file deletions on the same filesystem (ext4 without a journal skips inodes freed in the last 60–360 s): run it on a filesystem at rest (see benchmarks/README.md).',
    `"all done" rows: on a jugdir where every task is stored. graph${nBig / 1000}k: the same jugfile with ${nBig.toLocaleString('en-US')} leaves, on an empty jugdir (\`check\` correctly exits 1 there).`,
    'Ratio column for the read-only commands: Python Jug\'s time / ours (above 1× = faster than Python Jug).',
  ];
  return { title: 'tiny — per-task overhead (and graph50k)', rows, goals, notes };
}

// ---------------------------------------------------------------------------------------------
// Report

function machineInfo() {
  const cpus = os.cpus();
  let uname = '';
  try {
    uname = execFileSync('uname', ['-a'], { encoding: 'utf8' }).trim();
  } catch {
    uname = `${os.type()} ${os.release()} ${os.arch()}`;
  }
  const extraCerts = process.env['NODE_EXTRA_CA_CERTS'];
  return {
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    uname,
    nodeStartMs: nodeStartMs(process.env),
    // Set on some machines (a proxy's certificate bundle): Node then parses it at every start.
    extraCerts,
    nodeStartNoCertsMs: extraCerts ? nodeStartMs({ ...process.env, NODE_EXTRA_CA_CERTS: '' }) : undefined,
  };
}

/** Median wall time of a bare `node -e 0` with `env` (ms): the part of every timed run that is Node's own start. */
function nodeStartMs(env) {
  const walls = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
    walls.push(performance.now() - t0);
  }
  return median(walls);
}

function machineLines(m) {
  const lines = [`- CPU: ${m.cpu}`, `- Memory: ${m.memory}`, `- Node: ${m.node}`, `- uname -a: \`${m.uname}\``];
  if (m.nodeStartMs !== undefined) {
    lines.push(
      `- Node's own start (\`node -e 0\`, median of 7): ${m.nodeStartMs.toFixed(0)} ms, part of every wall time below` +
        (m.extraCerts
          ? `. NODE_EXTRA_CA_CERTS is set in this environment (${m.extraCerts}) and kept for the timed runs; Node parses ` +
            `that bundle at every start: ${m.nodeStartNoCertsMs.toFixed(0)} ms without it`
          : ''),
    );
  }
  return lines;
}

/** Which code was measured: git HEAD and whether src/ had uncommitted changes. */
function codeInfo() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return `git ${head}${dirty ? ` + uncommitted changes in src/ (${dirty.split('\n').length} file(s))` : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** Newest modification time of any file under dist/, to notice a rebuild during the run. */
function distStamp(dir = join(ROOT, 'dist')) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? distStamp(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * CPU time (clock ticks) used on the whole machine and by this process with its reaped children
 * (the jug processes), from /proc: their difference over a workload is what *other* processes
 * used, i.e. how disturbed the measurement was. Undefined where /proc is missing.
 */
function cpuSample() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    return { t: performance.now(), busy: user + nice + system + irq + softirq + (steal ?? 0), ours: f[11] + f[12] + f[13] + f[14] };
  } catch {
    return undefined;
  }
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep 100 */
}

/** Average number of CPUs other processes kept busy between two samples. */
function otherCpus(a, b) {
  if (!a || !b) return undefined;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / clockTicks / ((b.t - a.t) / 1000));
}

const sameMachine = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function renderSection(name, entry, latest) {
  const r = entry.result;
  const out = [`## ${r.title}`, ''];
  if (entry.date !== latest.date || entry.command !== latest.command) {
    out.push(`Measured ${entry.date} with \`${entry.command}\` (${entry.reps} rep(s)${entry.quick ? ', QUICK' : ''}).`, '');
  }
  if (!sameMachine(entry.machine, latest.machine)) out.push('Machine for this section:', ...machineLines(entry.machine), '');
  if (entry.code !== latest.code) out.push(`Code measured: ${entry.code}.`, '');
  out.push(markdownTable(r.rows), '');
  for (const note of r.notes) out.push(`- ${note}`);
  if (r.otherCpus !== undefined) out.push(`- ${backgroundNote(r.otherCpus)}`);
  out.push('');
  return out.join('\n');
}

function backgroundNote(cpus) {
  const busy = cpus > 0.15;
  return (
    `Other processes (not this benchmark's) used on average ${cpus.toFixed(2)} of the ${os.cpus().length} CPUs while this workload ran` +
    (busy ? ': **the machine was shared, figures are disturbed** (re-run on a quiet machine to trust them).' : ' (quiet machine).')
  );
}

function renderGoals(entries) {
  const out = ['## Goals', '', '| workload | goal | measured | result |', '|---|---|---|---|'];
  for (const [name, e] of entries) {
    for (const g of e.result.goals) {
      out.push(`| ${name}${e.quick ? ' (quick)' : ''} | ${g.text} | ${g.measured} | **${g.met ? 'MET' : 'NOT MET'}** |`);
    }
  }
  return out.join('\n') + '\n';
}

function renderMarkdown(store, latest) {
  const entries = WORKLOADS.filter((w) => store.workloads[w]).map((w) => [w, store.workloads[w]]);
  const anyQuick = entries.some(([, e]) => e.quick);
  const out = [
    '# jug benchmarks',
    '',
    'Generated by `benchmarks/run.mjs` (see benchmarks/README.md). Wall times from spawning the real',
    'CLI (`node bin/jug.js`) until the last process exited; median, min and max over the repetitions.',
    "Python Jug's figures come from ../shared/reference/anchors.md (Python Jug 2.5 on this machine",
    'kind); compare ratios rather than absolute seconds, the machines are shared and noisy.',
    '',
    `- Date: ${latest.date}`,
    `- Command: \`${latest.command}\` (${latest.reps} repetition(s)${latest.quick ? ', QUICK smoke run: smaller workloads, figures not comparable with the anchors' : ''})`,
    ...machineLines(latest.machine),
    `- Code measured: ${latest.code}`,
    '- Durability: results are fsynced (durable) by default, in every run below.',
    '',
  ];
  if (anyQuick && !latest.quick) out.push('**Some sections below come from a --quick run and are not representative.**', '');
  out.push(renderGoals(entries));
  for (const [name, e] of entries) out.push(renderSection(name, e, latest));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    OPTS = opts;
  } catch (e) {
    if (e instanceof BenchError) {
      process.stderr.write(`run.mjs: ${e.message}\n${usage()}\n`);
      return 2;
    }
    throw e;
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    process.stderr.write('run.mjs: dist/ is not built; run `npm run build` first (or `npm run bench`).\n');
    return 2;
  }
  mkdirSync(WORK, { recursive: true });
  process.on('SIGINT', () => {
    killLive();
    process.exit(130);
  });

  const relScript = relative(process.cwd(), fileURLToPath(import.meta.url)) || 'benchmarks/run.mjs';
  const latest = {
    date: new Date().toISOString(),
    command: ['node', relScript, ...process.argv.slice(2)].join(' '),
    reps: opts.reps,
    quick: opts.quick,
    machine: machineInfo(),
    code: codeInfo(),
  };
  log(`jug benchmarks: ${opts.only.join(', ')}; ${opts.reps} rep(s)${opts.quick ? '; QUICK' : ''}; ${latest.machine.cpu}, Node ${latest.machine.node}`);
  log('Results are fsynced (durable) by default in every run.');

  const benches = { primes: benchPrimes, primes_cpu: benchPrimesCpu, tiny: benchTiny, memory: benchMemory, redis: benchRedis };
  const results = {};
  try {
    for (const w of opts.only) {
      const t0 = performance.now();
      const before = cpuSample();
      const stamp = distStamp();
      results[w] = await benches[w](opts);
      results[w].otherCpus = otherCpus(before, cpuSample());
      const disturbed = results[w].rows.filter((r) => r.background !== undefined && r.background > 0.15);
      if (disturbed.length > 0) {
        results[w].notes.push(
          'Timed runs during which other processes used > 0.15 CPU (worst run): ' +
            disturbed.map((r) => `${r.config} ${r.background.toFixed(2)}`).join('; ') + '.',
        );
      }
      if (distStamp() !== stamp) {
        results[w].notes.push('**Warning: dist/ was rebuilt while this workload ran** (another build); its figures may mix two builds.');
      }
      log(`[${w}] done in ${fmtS(performance.now() - t0)}`);
      const r = results[w];
      process.stdout.write(`\n== ${r.title} ==\n${textTable(r.rows)}\n`);
      for (const note of r.notes) process.stdout.write(`  * ${note}\n`);
      if (r.otherCpus !== undefined) process.stdout.write(`  * ${backgroundNote(r.otherCpus)}\n`);
      for (const g of r.goals) process.stdout.write(`  GOAL ${g.met ? 'MET' : 'NOT MET'}: ${g.text}: ${g.measured}\n`);
    }
  } catch (e) {
    if (e instanceof BenchError) {
      process.stderr.write(`\nrun.mjs: ABORTED: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    // Jugdirs and output files are scratch; only the report files survive.
    for (const w of ['primes', 'cpu', 'tiny', 'graph50k', 'memory', 'redis']) {
      for (const f of readdirSync(WORK)) {
        if (f.startsWith(w)) rmSync(join(WORK, f), { recursive: true, force: true });
      }
    }
  }

  // Merge into the stored results so separately-run workloads accumulate in one report.
  const jsonPath = opts.out.replace(/\.md$/i, '') + '.json';
  let store = { workloads: {} };
  if (existsSync(jsonPath)) {
    try {
      store = JSON.parse(readFileSync(jsonPath, 'utf8'));
      store.workloads ??= {};
    } catch {
      store = { workloads: {} };
    }
  }
  for (const [w, result] of Object.entries(results)) store.workloads[w] = { ...latest, result };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(store, null, 2) + '\n');
  writeFileSync(opts.out, renderMarkdown(store, latest));
  process.stdout.write(`\nWrote ${relative(process.cwd(), opts.out)} (and ${relative(process.cwd(), jsonPath)}).\n`);
  return 0;
}

process.exitCode = await main();
