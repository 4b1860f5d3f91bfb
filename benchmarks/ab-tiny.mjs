#!/usr/bin/env node
/**
 * A/B cost of a change on the tiny workload (5,001 tasks: benchmarks/jugfiles/tiny.ts): runs
 * `jug execute` of two checkouts, interleaved (A, B, A, B, …), serial and with --threads 2, each on
 * a fresh jugdir, and prints the median wall time and CPU time (user + system of the process and
 * its children) of each, with B/A ratios. Used for the cost of run records
 * (benchmarks/RESULTS-run-records.md).
 *
 *   node benchmarks/ab-tiny.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--threads 2,8] [--variants] [--also C/bin/jug.js] [--workdir DIR]
 *
 * --also adds a third checkout (`C-serial`, `C-threads2`), interleaved with the others, compared with A.
 * Besides the ratio of medians, `paired` is the median of the per-repetition ratios (each run against
 * the A run of the same repetition, seconds apart): steadier when the machine's load drifts.
 *
 * --threads: the thread counts compared (default 2); each `threadsN` row is also divided by B's
 * serial time (`B/B-serial`: above 1 = slower than serial).
 * Each checkout runs its own benchmarks/jugfiles/tiny.ts (so that `import 'jug'` is its own).
 * --variants adds, for B: `B-nocode` (JUG_RECORD_CODE=0: run records without code fingerprints);
 * `B-fpcold-serial` (the fingerprint cache emptied before each run, the bundle cache kept: the cost
 * of computing the fingerprints, loading esbuild and acorn for it alone); and `A-cold-serial` /
 * `B-cold-serial` (TMPDIR a new empty directory for each run, so both caches are cold: a run right
 * after the jugfile changed, where the bundling has started esbuild anyway).
 * CPU time comes from the cutime/cstime of a wrapping `sh` (/proc, Linux), in 10 ms ticks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const reps = Number(flag('--reps') ?? 5);
const also = flag('--also');
const threadCounts = (flag('--threads') ?? '2').split(',').map(Number);
const workdir = flag('--workdir');
const variants = args.includes('--variants');
const bins = args.filter((a) => !a.startsWith('--'));
if (bins.length !== 2) {
  console.error('usage: node benchmarks/ab-tiny.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--variants]');
  process.exit(2);
}
const [binA, binB] = bins.map((b) => resolve(b));
const rootOf = (bin) => dirname(dirname(bin));
// --workdir: where the jugdirs go (default benchmarks/.work of B); a tmpfs such as /dev/shm leaves
// the disk's noise out (ext4's inode scans after deletions: docs/design.md).
const work = join(workdir ?? join(rootOf(binB), 'benchmarks', '.work'), `ab-${process.pid}`);
mkdirSync(work, { recursive: true });
const bundleCache = join(tmpdir(), `jug-bundles-${process.getuid?.() ?? 'user'}`);

/** One timed run: wall ms and CPU ms of `node bin execute tiny.ts` on a fresh jugdir. */
function once(name, bin, extra, env, n) {
  const jugfile = join(rootOf(bin), 'benchmarks', 'jugfiles', 'tiny.ts');
  const jugdir = join(work, `${name}-${n}`);
  const cmd = [process.execPath, bin, 'execute', jugfile, '--jugdir', jugdir, ...extra];
  const script = '"$@" >/dev/null 2>&1; r=$?; cat /proc/$$/stat; exit $r';
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', script, 'sh', ...cmd], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
  const f = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  // Fields after the command name: state is #3; cutime #16, cstime #17 → indices 13, 14 here.
  const cpu = (Number(f[13]) + Number(f[14])) * 10;
  return { wall, cpu };
}

const configs = [
  { name: 'A-serial', bin: binA, extra: [] },
  { name: 'B-serial', bin: binB, extra: [] },
  ...threadCounts.flatMap((n) => [
    { name: `A-threads${n}`, bin: binA, extra: ['--threads', String(n)] },
    { name: `B-threads${n}`, bin: binB, extra: ['--threads', String(n)] },
  ]),
];
if (also !== undefined) {
  configs.push(
    { name: 'C-serial', bin: resolve(also), extra: [] },
    { name: 'C-threads2', bin: resolve(also), extra: ['--threads', '2'] },
  );
}
if (variants) {
  configs.push(
    { name: 'B-nocode-serial', bin: binB, extra: [], env: { JUG_RECORD_CODE: '0' } },
    { name: 'B-nocode-threads2', bin: binB, extra: ['--threads', '2'], env: { JUG_RECORD_CODE: '0' } },
    { name: 'B-fpcold-serial', bin: binB, extra: [], fpcold: true },
    { name: 'A-cold-serial', bin: binA, extra: [], cold: true },
    { name: 'B-cold-serial', bin: binB, extra: [], cold: true },
  );
}
let colds = 0;
/** A new empty TMPDIR: no bundle cache, no fingerprint cache. */
const coldTmp = () => {
  const dir = join(work, `tmpdir-${++colds}`);
  mkdirSync(dir);
  return { TMPDIR: dir };
};
const dropFingerprints = () => {
  for (const f of readdirSync(bundleCache, { withFileTypes: true })) if (f.name.startsWith('code-')) rmSync(join(bundleCache, f.name));
};

console.log(`load average at the start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
// One warm-up of each (bundle and fingerprint caches), not counted.
for (const c of configs) once(c.name, c.bin, c.extra, { ...c.env, ...(c.cold ? coldTmp() : {}) }, 'warm');
const samples = new Map(configs.map((c) => [c.name, []]));
for (let i = 0; i < reps; i++) {
  for (const c of configs) {
    if (c.fpcold) dropFingerprints();
    samples.get(c.name).push(once(c.name, c.bin, c.extra, { ...c.env, ...(c.cold ? coldTmp() : {}) }, i));
  }
  process.stderr.write(`rep ${i + 1}/${reps} done\n`);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const med = (name, key) => median(samples.get(name).map((s) => s[key]));
const rows = configs.map((c) => {
  const threads = /threads(\d+)/.exec(c.name)?.[1];
  const base = threads !== undefined ? `A-threads${threads}` : c.name.endsWith('-cold-serial') ? 'A-cold-serial' : 'A-serial';
  const wall = med(c.name, 'wall');
  const cpu = med(c.name, 'cpu');
  const paired = (key) => median(samples.get(c.name).map((s, i) => s[key] / samples.get(base)[i][key])).toFixed(3);
  return {
    config: c.name,
    wall: wall.toFixed(0),
    cpu: cpu.toFixed(0),
    wallRatio: (wall / med(base, 'wall')).toFixed(3),
    cpuRatio: (cpu / med(base, 'cpu')).toFixed(3),
    pairedWall: paired('wall'),
    pairedCpu: paired('cpu'),
    vsSerial: (wall / med(`${c.name[0]}-serial`, 'wall')).toFixed(3),
    walls: samples.get(c.name).map((s) => s.wall.toFixed(0)).join(' '),
    cpus: samples.get(c.name).map((s) => s.cpu.toFixed(0)).join(' '),
  };
});
console.log(`| config | median wall ms | median CPU ms | wall / A | CPU / A | paired wall / A | paired CPU / A | wall / own serial | walls | CPUs |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.config} | ${r.wall} | ${r.cpu} | ${r.wallRatio} | ${r.cpuRatio} | ${r.pairedWall} | ${r.pairedCpu} | ${r.vsSerial} | ${r.walls} | ${r.cpus} |`);
}

console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
// Removed last, in the background (hundreds of thousands of files): the figures are out first.
spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref();
