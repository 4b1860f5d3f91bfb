#!/usr/bin/env node
/**
 * A/B of primes_cpu (benchmarks/jugfiles/primes_cpu.ts: independent CPU-bound tasks) for two
 * checkouts, interleaved (A, B, A, B, …), each run on a fresh jugdir. Per run: the wall time and,
 * from the run records, the sum of the task bodies, so that what jug costs between tasks is
 * seen apart from how fast the machine ran the bodies that minute:
 *   overhead per task = (wall − bodies / procs) / tasks
 * Prints each run, then medians and the median of the per-repetition ratios B/A.
 *
 *   node benchmarks/ab-primes-cpu.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps 5] [--tasks 200]
 *       [--limit 20312000] [--procs 1] [-- extra execute arguments, e.g. --threads 2]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash < 0 ? [] : argv.slice(dash + 1);
const [binA, binB, ...opts] = dash < 0 ? argv : argv.slice(0, dash);
const opt = (name, dflt) => {
  const i = opts.indexOf(name);
  return i < 0 ? dflt : Number(opts[i + 1]);
};
if (binA === undefined || binB === undefined) {
  console.error('usage: node benchmarks/ab-primes-cpu.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--tasks N] [--limit N] [--procs N] [-- extra args]');
  process.exit(2);
}
const reps = opt('--reps', 5);
const tasks = opt('--tasks', 200);
const limit = opt('--limit', 20_312_000);
const procs = opt('--procs', 1);
const work = mkdtempSync(join(tmpdir(), 'ab-primes-cpu-'));
const env = { ...process.env, PRIMES_CPU_TASKS: String(tasks), PRIMES_CPU_LIMIT: String(limit) };

/** One run of `procs` processes started together on a fresh jugdir: wall ms and body ms (sum). */
async function runOnce(bin, key, rep) {
  const jugfile = join(dirname(dirname(bin)), 'benchmarks', 'jugfiles', 'primes_cpu.ts');
  const jugdir = join(work, `${key}-${rep}`);
  const args = [bin, 'execute', jugfile, '--jugdir', jugdir, '-q', ...extra];
  const t0 = performance.now();
  const codes = await Promise.all(Array.from({ length: procs }, () => new Promise((done) => spawn(process.execPath, args, { env, stdio: 'ignore' }).on('exit', done))));
  const wall = performance.now() - t0;
  if (codes.some((c) => c !== 0)) throw new Error(`${key}: exit codes ${codes.join(', ')}`);
  const runs = join(jugdir, 'runs');
  const records = readdirSync(runs)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(runs, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
  if (records.length !== tasks) throw new Error(`${key}: ${records.length} run records for ${tasks} tasks`);
  const bodies = records.reduce((s, r) => s + (r.end - r.start), 0);
  return { wall, bodies, perTask: (wall - bodies / procs) / tasks };
}

const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const out = { A: [], B: [] };
for (let rep = 0; rep < reps; rep++) {
  for (const [key, bin] of rep % 2 === 0 ? [['A', binA], ['B', binB]] : [['B', binB], ['A', binA]]) {
    const r = await runOnce(resolve(bin), key, rep);
    out[key].push(r);
    console.log(`${key} wall ${r.wall.toFixed(0)} ms, bodies ${(r.bodies / procs).toFixed(0)} ms/proc, jug ${r.perTask.toFixed(2)} ms per task`);
  }
}
const ratio = (f) => med(out.A.map((a, i) => f(out.B[i]) / f(a)));
for (const k of ['A', 'B']) {
  console.log(`${k}: median wall ${med(out[k].map((r) => r.wall)).toFixed(0)} ms, jug per task ${med(out[k].map((r) => r.perTask)).toFixed(2)} ms, body per task ${med(out[k].map((r) => r.bodies / tasks)).toFixed(2)} ms`);
}
console.log(`B/A (median of per-repetition ratios): wall ${ratio((r) => r.wall).toFixed(3)}, jug per task ${ratio((r) => r.perTask).toFixed(3)}`);
rmSync(work, { recursive: true, force: true });
