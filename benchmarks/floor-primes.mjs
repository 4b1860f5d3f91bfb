#!/usr/bin/env node
/**
 * The floor under issue 19 §3's two thread goals on this machine: what Node itself (a process's
 * start, a bare Piscina pool, the CA bundle of NODE_EXTRA_CA_CERTS) costs, timed in the same run,
 * interleaved, as our `jug execute --threads …` and Python Jug. Nothing here is jug but the "ours"
 * rows: the "bare" programs are benchmarks/lib/floor-pool.mjs (a Piscina pool running the same
 * bodies, then exiting at once).
 *
 *   node benchmarks/floor-primes.mjs [--jug bin/jug.js] [--reps 3] [--only primes|primes_cpu]
 *       [--bodies sleep,wait] [--sleep-ms 1000] [--limit 20312000] [--no-python] [--phases]
 *
 * primes (goal: `execute --threads 8` then `check` ≤ 1.03× the ideal 13 × sleep-ms), per body
 * (sleep: examples/primes.ts as shipped; wait: PRIMES_SYNC=1), every repetition runs, in turn:
 *   ours          jug execute examples/primes.ts --threads 8, then jug check (fresh jugdir)
 *   bare          floor-pool.mjs: 8 threads, 99 bodies (one Piscina task each) + a final count,
 *                 then `node -e 0`
 *   static        the same, each thread handed its 12 or 13 bodies at once (no round trip
 *                 between bodies: the floor of any Node program), then `node -e 0`
 *   static-noCA   the same with NODE_EXTRA_CA_CERTS unset
 *   2starts       two `node -e 0` (and 2starts-noCA)
 * primes_cpu (goal: `--threads 2` speed-up over `--threads 1` ≥ Python Jug's 2 processes vs 1):
 *   bare 1 / bare 2 threads (one Piscina task per body), static 2 (each thread its 100 bodies),
 *   ours --threads 1 / --threads 2 (fresh jugdirs), Python Jug 1 / 2 processes (../shared/pyjug,
 *   its own primes_cpu.py; its body is not calibrated to ours here: compare speed-ups, not times).
 * Prints every run (wall, CPU = user + system of the children from /proc/self/stat, load average),
 * then per config the medians, and the medians of per-repetition ratios (to the ideal; ours to
 * bare; speed-ups 1 → 2 workers). --phases (primes): ours with JUG_TRACE=1 and the static floor
 * with FLOOR_TRACE=1, and each run split into s₃ (the third slot's first body, from spawn), the 13
 * rounds, the tail to the process's exit, and the second process (check / `node -e 0`): a
 * diagnostic (the trace costs ours a little), not the headline figures.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args[i + 1];
};
const JUG = resolve(flag('--jug', join(ROOT, 'bin', 'jug.js')));
const REPS = Number(flag('--reps', 3));
const ONLY = flag('--only', 'primes,primes_cpu').split(',');
const BODIES = flag('--bodies', 'sleep,wait').split(',');
const SLEEP_MS = Number(flag('--sleep-ms', 1000));
const LIMIT = Number(flag('--limit', 20_312_000));
const PYTHON = !args.includes('--no-python');
const PHASES = args.includes('--phases');
const POOL = join(ROOT, 'benchmarks', 'lib', 'floor-pool.mjs');
const work = mkdtempSync(join(tmpdir(), 'floor-primes-'));
const noCA = (() => {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
})();

/** Children's CPU (user + system) so far, in ms, from /proc/self/stat's cutime and cstime (ticks of 10 ms). */
function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Runs `cmd args` to its end; resolves with its stderr and wall ms; rejects on a non-zero exit. */
function run(cmd, argv, env = process.env) {
  // With JUG_TRACE=1 (--phases), jug's trace lines count from this spawn.
  const origin = performance.timeOrigin + performance.now();
  if (env['JUG_TRACE'] === '1') env = { ...env, JUG_TRACE_ORIGIN: String(origin) };
  return new Promise((res, rej) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const ms = performance.timeOrigin + performance.now() - origin;
      if (code === 0) res({ err, ms });
      else rej(new Error(`${cmd} ${argv.join(' ')}: exit ${code}\n${err}`));
    });
  });
}

/** Times a list of steps: each step is a list of commands started together; steps run one after another. */
async function timeSteps(steps) {
  const cpu0 = childCpuMs();
  const t0 = performance.now();
  const firsts = [];
  for (const step of steps) firsts.push((await Promise.all(step.map(([cmd, argv, env]) => run(cmd, argv, env))))[0]);
  return { ms: performance.now() - t0, cpu: childCpuMs() - cpu0, steps: firsts };
}

/**
 * --phases: where a primes run's time goes, from jug's trace (JUG_TRACE=1) or the floor's
 * (FLOOR_TRACE=1): start → the third slot's first body (s₃), → the last sleep body's end (13
 * rounds), → the first process's exit (the tail: for ours countPrimes, writeOutput, closing), and
 * the second process (check, or `node -e 0`). Null for configs without a trace.
 */
function phasesOf(key, r) {
  const [first, second] = r.steps;
  let s3, lastBody;
  if (key === 'ours') {
    const starts = new Map();
    for (const m of first.err.matchAll(/\[jug trace\] ([\d.]+) ms {2}\[thread (\d+)\] run primes\.isPrime/g)) if (!starts.has(m[2])) starts.set(m[2], Number(m[1]));
    s3 = [...starts.values()].sort((a, b) => a - b)[2];
    lastBody = Number(/\[jug trace\] ([\d.]+) ms {2}\[thread \d+\] run primes\.countPrimes/.exec(first.err)?.[1]);
  } else if (key.startsWith('static')) {
    const m = /first bodies at ([\d ]+) ms; last body ended (\d+) ms/.exec(first.err);
    if (!m) return null;
    s3 = Number(m[1].split(' ')[2]);
    lastBody = Number(m[2]);
  } else return null;
  return { s3, rounds: lastBody - s3, tail: first.ms - lastBody, second: second.ms };
}

let dirs = 0;
const freshDir = (name) => join(work, `${name}-${dirs++}`);
const node = process.execPath;
const nodeE0 = (env) => [node, ['-e', '0'], env];

function primesConfigs(body) {
  const trace = PHASES ? { JUG_TRACE: '1', FLOOR_TRACE: '1' } : {};
  const env = { ...process.env, ...trace, PRIMES_SLEEP_MS: String(SLEEP_MS), PRIMES_SYNC: body === 'wait' ? '1' : '0', PRIMES_OUTPUT: join(work, 'out.txt') };
  const jugfile = join(dirname(dirname(JUG)), 'examples', 'primes.ts');
  const bare = (e, split) => [[[node, [POOL, '8', '99', body, String(SLEEP_MS), '0', split], e]], [nodeE0(e)]];
  return [
    ['ours', () => {
      const jugdir = freshDir('primes');
      return [[[node, [JUG, 'execute', jugfile, '--jugdir', jugdir, '--threads', '8'], env]], [[node, [JUG, 'check', jugfile, '--jugdir', jugdir], env]]];
    }],
    ['bare', () => bare(process.env, 'queue')],
    ['static', () => bare({ ...process.env, ...trace }, 'static')],
    ['static-noCA', () => bare({ ...noCA, ...trace }, 'static')],
    ['2starts', () => [[nodeE0(process.env)], [nodeE0(process.env)]]],
    ['2starts-noCA', () => [[nodeE0(noCA)], [nodeE0(noCA)]]],
  ];
}

function pyJug() {
  const dir = [resolve(ROOT, '..', 'shared', 'pyjug'), resolve(ROOT, '..', '..', 'shared', 'pyjug')].find((d) => existsSync(join(d, 'bin', 'jug')));
  if (!dir) throw new Error('Python Jug not found at ../shared/pyjug (use --no-python)');
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return { python, jug: join(dir, 'bin', 'jug'), jugfile: join(dir, 'jugfiles', 'primes_cpu.py') };
}

function primesCpuConfigs() {
  const env = { ...process.env, PRIMES_CPU_TASKS: '200', PRIMES_CPU_LIMIT: String(LIMIT) };
  const jugfile = join(dirname(dirname(JUG)), 'benchmarks', 'jugfiles', 'primes_cpu.ts');
  const ours = (threads) => () => [[[node, [JUG, 'execute', jugfile, '--jugdir', freshDir('cpu'), '--threads', threads], env]]];
  const configs = [
    ['bare 1', () => [[[node, [POOL, '1', '200', 'cpu', '0', String(LIMIT)]]]]],
    ['ours 1', ours('1')],
    ['bare 2', () => [[[node, [POOL, '2', '200', 'cpu', '0', String(LIMIT)]]]]],
    ['static 2', () => [[[node, [POOL, '2', '200', 'cpu', '0', String(LIMIT), 'static']]]]],
    ['ours 2', ours('2')],
  ];
  if (!PYTHON) return configs;
  const py = pyJug();
  const pyRun = (procs) => () => {
    const jugdir = freshDir('py');
    return [Array.from({ length: procs }, () => [py.python, [py.jug, 'execute', py.jugfile, '--jugdir', jugdir]])];
  };
  return [...configs, ['python 1', pyRun(1)], ['python 2', pyRun(2)]];
}

/** Runs every config once per repetition, in turn; returns Map key → [{ ms, cpu, load }]. */
async function measure(title, configs) {
  const out = new Map(configs.map(([k]) => [k, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [key, steps] of configs) {
      const load = loadavg()[0];
      const r = await timeSteps(steps());
      const phases = PHASES ? phasesOf(key, r) : null;
      out.get(key).push({ ...r, load, phases });
      const said = phases ? `  s3 ${phases.s3.toFixed(0)} rounds ${phases.rounds.toFixed(0)} tail ${phases.tail.toFixed(0)} then ${phases.second.toFixed(0)} ms` : '';
      console.log(`${title} rep ${rep + 1} ${key.padEnd(13)} ${(r.ms / 1000).toFixed(3)} s  CPU ${(r.cpu / 1000).toFixed(2)} s  load ${load.toFixed(1)}${said}`);
    }
  }
  return out;
}

const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;
/** Median and range of the per-repetition ratios a/b. */
const paired = (m, a, b) => {
  const r = m.get(a).map((x, i) => x.ms / m.get(b)[i].ms);
  return `${med(r).toFixed(3)} (${range(r)})`;
};

function summary(title, m) {
  for (const [key, rs] of m) {
    const ph = rs.every((r) => r.phases) ? rs.map((r) => r.phases) : undefined;
    const phases = ph ? `; medians s3 ${med(ph.map((p) => p.s3)).toFixed(0)}, rounds ${med(ph.map((p) => p.rounds)).toFixed(0)}, tail ${med(ph.map((p) => p.tail)).toFixed(0)}, then ${med(ph.map((p) => p.second)).toFixed(0)} ms` : '';
    console.log(`${title} ${key.padEnd(13)} median wall ${(med(rs.map((r) => r.ms)) / 1000).toFixed(3)} s, CPU ${(med(rs.map((r) => r.cpu)) / 1000).toFixed(2)} s${phases}`);
  }
}

if (ONLY.includes('primes')) {
  const ideal = 13 * SLEEP_MS;
  for (const body of BODIES) {
    const title = `primes/${body}`;
    const m = await measure(title, primesConfigs(body));
    summary(title, m);
    for (const key of m.keys()) {
      if (key.startsWith('2starts')) continue;
      const r = m.get(key).map((x) => x.ms / ideal);
      console.log(`${title} ${key.padEnd(13)} × ideal ${med(r).toFixed(3)} (${range(r)})`);
    }
    const starts = m.get('2starts').map((x) => x.ms);
    console.log(`${title} two Node starts: ${(med(starts) / ideal).toFixed(3)} of the ideal (${med(starts).toFixed(0)} ms)`);
    console.log(`${title} paired: ours / bare ${paired(m, 'ours', 'bare')}; ours / static ${paired(m, 'ours', 'static')}; static / static-noCA ${paired(m, 'static', 'static-noCA')}`);
  }
}

if (ONLY.includes('primes_cpu')) {
  const title = 'primes_cpu';
  const m = await measure(title, primesCpuConfigs());
  summary(title, m);
  const speedup = (one, two) => {
    const r = m.get(one).map((x, i) => x.ms / m.get(two)[i].ms);
    return `${med(r).toFixed(3)} (${range(r)})`;
  };
  console.log(`${title} speed-up 1 → 2 (median of per-repetition ratios): bare ${speedup('bare 1', 'bare 2')}, static ${speedup('bare 1', 'static 2')}, ours ${speedup('ours 1', 'ours 2')}` +
    (m.has('python 1') ? `, Python Jug ${speedup('python 1', 'python 2')}` : ''));
  console.log(`${title} ours / bare (paired): 1 thread ${paired(m, 'ours 1', 'bare 1')}, 2 threads ${paired(m, 'ours 2', 'bare 2')}` +
    (m.has('python 1') ? `; ours 1 / Python 1 ${paired(m, 'ours 1', 'python 1')}` : ''));
}
rmSync(work, { recursive: true, force: true });
