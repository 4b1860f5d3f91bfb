/**
 * The benchmark harness shared by every workload (benchmarks/workloads/*.mjs): running the real
 * CLI (ours, `node bin/jug.js`) and timing it, interleaved repetitions (measureAll), statistics and
 * table formatting, the CPU used by other processes, and Python Jug's anchor figures. Python Jug
 * itself, for side-by-side runs, is in ./pyjug.mjs.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH_DIR, '..');
export const JUG = join(ROOT, 'bin', 'jug.js');
export const WORK = join(BENCH_DIR, '.work');
export const JUGFILES = join(BENCH_DIR, 'jugfiles');
/** Longest any single timed run may take before it is killed and the benchmark aborted. */
export const RUN_TIMEOUT_MS = 30 * 60 * 1000;

/** A benchmark failure worth reporting as such (a broken run, a bad argument): run.mjs prints it and exits 1. */
export class BenchError extends Error {}

/** The parsed command line (set once by run.mjs through setOptions). */
export let OPTS = { waitQuiet: 0, reps: 3, quick: false };
export function setOptions(opts) {
  OPTS = opts;
}

// ---------------------------------------------------------------------------------------------
// Running jug

export const log = (msg) => process.stderr.write(msg + '\n');

/** Children currently running, so that a timeout or Ctrl-C can end exactly these. */
export const live = new Set();

/**
 * Spawns `node bin/jug.js ...args`; resolves when it has exited (and its output is closed) with
 * its exit code, output and the performance.now() of its exit.
 */
export function runJug(args, env) {
  return runProcess(process.execPath, [JUG, ...args], { env, label: 'node bin/jug.js' });
}

/** GNU time, to measure a child's peak RSS (`-f %M`); undefined where it is missing. */
export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
let rssCount = 0;

/**
 * Spawns `file ...args` (cwd ROOT unless given; `env` added to ours). With `rss`, the command
 * runs under GNU time, which writes the peak RSS to a file read afterwards (`rssMiB`; undefined
 * without GNU time): the same ~1 ms of wrapping for every command measured that way. `label`
 * names the command in error messages instead of `file`.
 */
export function runProcess(file, args, { env = {}, cwd = ROOT, rss = false, label } = {}) {
  const rssFile = rss && GNU_TIME ? join(WORK, `rss-${process.pid}-${++rssCount}.txt`) : undefined;
  const [cmd, argv] = rssFile ? [GNU_TIME, ['-f', '%M', '-o', rssFile, file, ...args]] : [file, args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, argv, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that killLive() also ends what a wrapper (GNU time) started.
      detached: true,
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
      let rssMiB;
      if (rssFile) {
        const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        rmSync(rssFile, { force: true });
        if (Number.isFinite(kb)) rssMiB = kb / 1024;
      }
      resolvePromise({ args, label: label ?? file, code, signal, stdout, stderr, rssMiB, end: exitedAt ?? performance.now() });
    });
  });
}

/**
 * Runs one command to its end, timed from spawn to exit (ms), aborting the benchmark unless it
 * exits `expectCode`. Options as runProcess; returns `{ ms, rssMiB, result }`.
 */
export async function timeCommand(file, args, what, { expectCode = 0, ...options } = {}) {
  const t0 = performance.now();
  const r = await runProcess(file, args, options);
  if (r.code !== expectCode) {
    throw new BenchError(`${what}: exited ${r.code ?? r.signal}, expected ${expectCode}; a benchmark of a broken run is worthless.\n${describeRun(r)}`);
  }
  return { ms: r.end - t0, rssMiB: r.rssMiB, result: r };
}

export function killLive() {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGKILL'); // the child's process group (spawned detached)
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

export function describeRun(r) {
  const tail = (s) => s.trim().split('\n').slice(-15).join('\n');
  return (
    `  ${r.label ?? 'node bin/jug.js'} ${r.args.join(' ')}\n` +
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
export async function timeGroup(group, env, what, expectCode = 0) {
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
export async function assertComplete(jugfile, jugdir, env, what) {
  const r = await runJug(['check', jugfile, '--jugdir', jugdir], env);
  if (r.code !== 0) {
    throw new BenchError(`${what}: \`jug check\` exited ${r.code} after the run: not every task is stored.\n${describeRun(r)}`);
  }
}

export let dirCount = 0;

/**
 * A new, empty jugdir path. Jugdirs are only deleted when the whole benchmark ends, never right
 * before a run: this ext4 (no journal) skips inodes freed in the last ~30 s when it allocates
 * new ones, so deleting a 5,000-file jugdir just before a run made that run's file creations
 * several times slower (measured with perf: find_inode_bit → recently_deleted).
 */
export function freshDir(name) {
  const dir = join(WORK, `${name}-${process.pid}-${++dirCount}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

export const executeArgs = (jugfile, jugdir, extra = []) => ['execute', jugfile, '--jugdir', jugdir, '-q', ...extra];

/**
 * One configuration of an execute benchmark: `procs` processes, each with `extra` arguments,
 * started together on a fresh jugdir. Returns the wall time in ms, after checking the run.
 */
export async function timeExecute({ label, jugfile, env, procs = 1, extra = [], dirName, verify }) {
  const dir = freshDir(dirName);
  const group = Array.from({ length: procs }, () => executeArgs(jugfile, dir, extra));
  const { ms } = await timeGroup(group, env, label);
  await assertComplete(jugfile, dir, env, label);
  if (verify) verify();
  return { ms, dir };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function stats(walls) {
  return { walls, median: median(walls), min: Math.min(...walls), max: Math.max(...walls) };
}

export function fmtS(ms) {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(3)} s` : `${s.toFixed(2)} s`;
}

export const fmtX = (x) => `${x.toFixed(2)}×`;
export const fmtRate = (r) => Math.round(r).toLocaleString('en-US');

/**
 * Runs `configs` (each `{ key, run(rep) → ms }`) for `reps` repetitions, interleaved (rep 1 of
 * every configuration, then rep 2, ...) so slow drifts of a shared machine hit all alike.
 * `rotate`: repetition r starts at configuration r (mod their count), so no configuration always
 * runs first or right after the same one (an order effect shows as a spread, not a bias).
 */
export async function measureAll(workload, configs, reps, { rotate = false } = {}) {
  const walls = new Map(configs.map((c) => [c.key, []]));
  const background = new Map(configs.map((c) => [c.key, []]));
  for (let rep = 0; rep < reps; rep++) {
    const shift = rotate ? rep % configs.length : 0;
    for (const c of [...configs.slice(shift), ...configs.slice(0, shift)]) {
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
export async function waitQuiet(what) {
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

export const COLUMNS = ['configuration', 'median wall', 'min', 'max', 'ratio', 'Python Jug anchor'];

export function rowCells(row) {
  return [row.config, fmtS(row.median), fmtS(row.min), fmtS(row.max), row.ratio, row.anchor];
}

export function textTable(rows) {
  const cells = [COLUMNS, ...rows.map(rowCells)];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(rows) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map((_, i) => (i >= 1 && i <= 3 ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${rowCells(r).map(esc).join(' | ')} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Python Jug 2.5's figures (../shared/reference/anchors.md), in seconds

export const PY = {
  primes: { serial: 99.6, procs: { 2: 61.7, 4: 38.0, 8: 26.0 }, procsWct1: { 2: 51.5, 4: 26.4, 8: 14.4 } },
  primesCpu: { serial: 7.07, procs2: 3.78 },
  tiny: { serial: 5.73, serialRate: 872, procs2: 4.71, procs2Rate: 1062, again: 0.2, status: 0.17, check: 0.16 },
  graph50k: { status: 0.92, check: 0.55 },
  payload: { serial: 13.8, rssMiB: 535 },
};

/**
 * CPU time (clock ticks) used on the whole machine and by this process with its reaped children
 * (the jug processes), from /proc: their difference over a workload is what *other* processes
 * used, i.e. how disturbed the measurement was. Undefined where /proc is missing.
 */
export function cpuSample() {
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

export let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep 100 */
}

/** Average number of CPUs other processes kept busy between two samples. */
export function otherCpus(a, b) {
  if (!a || !b) return undefined;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / clockTicks / ((b.t - a.t) / 1000));
}
