#!/usr/bin/env node
/**
 * Peak memory of `jug execute` on a long chain of tasks with large results, with and without
 * `--aggressive-unload`. Python Jug keeps every result in memory unless that flag is given; this
 * jug never does (each task loads its dependencies from the store and drops them afterwards), so
 * both runs should peak at about the same RSS: a few results' worth above the baseline, whatever
 * the chain length.
 *
 *   node benchmarks/memory-chain.mjs [--tasks N] [--mib M] [--threads]
 *
 * Defaults: 24 tasks of 8 MiB each (a Float64Array), i.e. 192 MiB of results in total; --threads
 * adds the same two runs with `--threads 2`. Each run
 * is a child process running the real CLI (dist/, so `npm run build` first); the child reports its
 * own peak RSS (process.resourceUsage().maxRSS) when the run ends. Prints a small table; writes
 * nothing but its scratch directory benchmarks/.work/memory-chain (removed at the end).
 * Not run by the test suite.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const WORK = join(BENCH_DIR, '.work', 'memory-chain');
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} expects a positive integer`);
  return n;
}
const TASKS = arg('--tasks', 24);
const MIB = arg('--mib', 8);
const THREADS = process.argv.includes('--threads');

// The chain: step(i) takes the previous result (MIB MiB of float64) and returns a new array of the
// same size, so every task both loads and produces a large result.
const JUGFILE = `import { TaskGenerator } from 'jug';
const N = ${MIB} * 1024 * 1024 / 8;
export const step = TaskGenerator(function step(prev, i) {
  const out = new Float64Array(N);
  if (prev === null) { for (let k = 0; k < N; k++) out[k] = k; }
  else { for (let k = 0; k < N; k++) out[k] = prev[k] + i; }
  return out;
});
let t = step(null, 0);
for (let i = 1; i < ${TASKS}; i++) t = step(t, i);
export const last = t;
`;

// Runs the CLI in this child and prints its peak RSS (kB on Linux) on the last line of stderr.
const CHILD = `const { main } = await import(${JSON.stringify(new URL(`file://${MAIN}`).href)});
const code = await main(process.argv.slice(1));
process.stderr.write('MAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n');
process.exit(code);`;

function run(label, extra) {
  const dir = join(WORK, label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const jugfile = join(dir, 'chain.mjs');
  writeFileSync(jugfile, JUGFILE);
  const start = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, 'execute', jugfile, '--quiet', ...extra], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const seconds = (Date.now() - start) / 1000;
  const m = /MAXRSS_KB (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${label}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { label, peakMiB: Number(m[1]) / 1024, seconds };
}

mkdirSync(WORK, { recursive: true });
try {
  const rows = [run('default', []), run('aggressive-unload', ['--aggressive-unload'])];
  if (THREADS) rows.push(run('threads-2', ['--threads', '2']), run('threads-2-aggressive', ['--threads', '2', '--aggressive-unload']));
  console.log(`chain of ${TASKS} tasks, ${MIB} MiB result each (${TASKS * MIB} MiB in total)`);
  console.log('run                       peak RSS (MiB)   wall (s)');
  for (const r of rows) console.log(`${r.label.padEnd(25)} ${r.peakMiB.toFixed(0).padStart(14)} ${r.seconds.toFixed(1).padStart(10)}`);
} finally {
  rmSync(WORK, { recursive: true, force: true });
}
