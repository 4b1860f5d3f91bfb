#!/usr/bin/env node
/**
 * A/B of the start-up and read-only commands, with Python Jug side by side: for each command, one
 * run of Python Jug 2.5 (../shared/pyjug), one of checkout A and one of checkout B, in that order,
 * in every repetition (A, B and Python seconds apart, so that the machine's load drifts alike).
 * Prints per command the median wall and CPU time (user + system) of each, and the medians of the
 * per-repetition ratios B/A and A/Python, B/Python (the goals are ratios to Python Jug).
 *
 *   node benchmarks/ab-startup.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--only graph50k-status,…] [--no-python]
 *
 * Commands: graph50k-status and graph50k-check (benchmarks/jugfiles/tiny.ts with TINY_N=50000, an
 * empty jugdir: check exits 1 there), tiny-status, tiny-check and tiny-again (5,001 tasks, a jugdir
 * where all are stored, prepared untimed by each side: `status`, `check`, `execute` with nothing to
 * do). Each checkout runs its own tiny.ts (so that `import 'jug'` is its own). CPU time comes from
 * the cutime/cstime of a wrapping `sh` (/proc, Linux), in 10 ms ticks.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const reps = Number(flag('--reps') ?? 9);
const only = flag('--only')?.split(',');
const python = !args.includes('--no-python');
const bins = args.filter((a) => !a.startsWith('--'));
if (bins.length !== 2) {
  console.error('usage: node benchmarks/ab-startup.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--only graph50k-status,…] [--no-python]');
  process.exit(2);
}
const [binA, binB] = bins.map((b) => resolve(b));
const rootOf = (bin) => dirname(dirname(bin));
const here = dirname(fileURLToPath(import.meta.url));
const work = join(here, '.work', `ab-startup-${process.pid}`);
mkdirSync(work, { recursive: true });

/** Python Jug: ../shared/pyjug next to the repository (or a worktree one level deeper), or $JUG_PYJUG. */
function pyJug() {
  const dir = [process.env['JUG_PYJUG'], resolve(here, '..', '..', 'shared', 'pyjug'), resolve(here, '..', '..', '..', 'shared', 'pyjug')].find(
    (d) => d && existsSync(join(d, 'bin', 'jug')),
  );
  if (dir === undefined) throw new Error('Python Jug not found at ../shared/pyjug (set JUG_PYJUG), or pass --no-python');
  const exe = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return { cmd: [exe, join(dir, 'bin', 'jug')], jugfiles: join(dir, 'jugfiles') };
}

/** Runs `cmd` with its output discarded; wall ms and CPU ms; throws unless it exits `expect`. */
function timed(label, cmd, env, expect) {
  const script = '"$@" >/dev/null 2>&1; r=$?; cat /proc/$$/stat; exit $r';
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', script, 'sh', ...cmd], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const wall = performance.now() - t0;
  // Python Jug's `status` exits with the number of finished tasks: not checked (expect undefined).
  if (expect !== undefined && r.status !== expect) throw new Error(`${label}: exit ${r.status}, expected ${expect}: ${cmd.join(' ')}`);
  const f = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  return { wall, cpu: (Number(f[13]) + Number(f[14])) * 10 };
}

const ours = (bin, sub, jugdir, extra = []) => [process.execPath, bin, sub, join(rootOf(bin), 'benchmarks', 'jugfiles', 'tiny.ts'), '--jugdir', jugdir, ...extra];
const big = { TINY_N: '50000' };
const tiny = { TINY_N: '5000' };

/** Each side's jugdirs: an empty one for graph50k, one with tiny all done (prepared untimed). */
function prepare(py) {
  const dirs = {};
  for (const [side, bin] of [['A', binA], ['B', binB]]) {
    const done = join(work, `${side}-tiny-done`);
    timed(`${side} prepare`, ours(bin, 'execute', done), tiny, 0);
    dirs[side] = { empty: join(work, `${side}-empty`), done };
  }
  if (py !== undefined) {
    const done = join(work, 'py-tiny-done');
    timed('Python prepare', [...py.cmd, 'execute', join(py.jugfiles, 'tiny.py'), '--jugdir', done], {}, 0);
    dirs.py = { empty: join(work, 'py-empty'), done };
  }
  return dirs;
}

const py = python ? pyJug() : undefined;
const dirs = prepare(py);
const commands = [
  { name: 'graph50k-status', sub: 'status', dir: 'empty', env: big, expect: 0, pyFile: 'graph50k.py' },
  { name: 'graph50k-check', sub: 'check', dir: 'empty', env: big, expect: 1, pyFile: 'graph50k.py' },
  { name: 'tiny-status', sub: 'status', dir: 'done', env: tiny, expect: 0, pyFile: 'tiny.py' },
  { name: 'tiny-check', sub: 'check', dir: 'done', env: tiny, expect: 0, pyFile: 'tiny.py' },
  { name: 'tiny-again', sub: 'execute', dir: 'done', env: tiny, expect: 0, pyFile: 'tiny.py' },
].filter((c) => only === undefined || only.includes(c.name));

/** The runs of one repetition of `c`: Python, A, B. */
function repetition(c) {
  const out = {};
  if (py !== undefined) {
    const expect = c.sub === 'status' ? undefined : c.expect;
    out.py = timed(`Python ${c.name}`, [...py.cmd, c.sub, join(py.jugfiles, c.pyFile), '--jugdir', dirs.py[c.dir]], {}, expect);
  }
  out.A = timed(`A ${c.name}`, ours(binA, c.sub, dirs.A[c.dir]), c.env, c.expect);
  out.B = timed(`B ${c.name}`, ours(binB, c.sub, dirs.B[c.dir]), c.env, c.expect);
  return out;
}

console.log(`load average at the start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`A: ${binA}\nB: ${binB}\n`);
for (const c of commands) repetition(c); // warm-up (bundle caches, page cache), not counted
const samples = new Map(commands.map((c) => [c.name, []]));
for (let i = 0; i < reps; i++) {
  for (const c of commands) samples.get(c.name).push(repetition(c));
  process.stderr.write(`rep ${i + 1}/${reps} done\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sides = py === undefined ? ['A', 'B'] : ['py', 'A', 'B'];
console.log('| command | side | median wall ms | median CPU ms | paired wall B/A | paired CPU B/A | paired wall / Python |');
console.log('|---|---|---|---|---|---|---|');
for (const c of commands) {
  const s = samples.get(c.name);
  const ratio = (side, base, key) => median(s.map((r) => r[side][key] / r[base][key])).toFixed(3);
  for (const side of sides) {
    const wall = median(s.map((r) => r[side].wall)).toFixed(0);
    const cpu = median(s.map((r) => r[side].cpu)).toFixed(0);
    const ba = side === 'B' ? [ratio('B', 'A', 'wall'), ratio('B', 'A', 'cpu')] : ['', ''];
    const vsPy = py !== undefined && side !== 'py' ? ratio(side, 'py', 'wall') : '';
    console.log(`| ${c.name} | ${side === 'py' ? 'Python' : side} | ${wall} | ${cpu} | ${ba[0]} | ${ba[1]} | ${vsPy} |`);
  }
}
console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref();
