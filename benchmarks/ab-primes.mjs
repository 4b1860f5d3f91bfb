#!/usr/bin/env node
/**
 * A/B of the sleep-bound primes (examples/primes.ts) with `--threads N`, timed to the end of a
 * following `jug check` (issue 19 §3), for two checkouts, interleaved (A, B, A, B, …); prints each
 * wall time, the medians with B/A, and the median of the per-repetition ratios B/A.
 *
 *   node benchmarks/ab-primes.mjs OLD/bin/jug.js NEW/bin/jug.js [reps=3] [sync=0|1] [threads=8] [sleepMs=1000]
 *
 * sync=1 sets PRIMES_SYNC=1 (each task blocks its thread in Atomics.wait). The ideal is
 * ceil(99 / threads) × sleepMs. Each checkout runs its own examples/primes.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const [binA, binB, reps = '3', sync = '0', threads = '8', sleepMs = '1000'] = process.argv.slice(2);
if (binA === undefined || binB === undefined) {
  console.error('usage: node benchmarks/ab-primes.mjs OLD/bin/jug.js NEW/bin/jug.js [reps] [sync] [threads] [sleepMs]');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'ab-primes-'));
const ideal = Math.ceil(99 / Number(threads)) * Number(sleepMs);
const out = { A: [], B: [] };
for (let i = 0; i < Number(reps); i++) {
  for (const [k, bin] of [['A', resolve(binA)], ['B', resolve(binB)]]) {
    const jugfile = join(dirname(dirname(bin)), 'examples', 'primes.ts');
    const jugdir = join(work, `jugdir-${k}`);
    rmSync(jugdir, { recursive: true, force: true });
    const env = { ...process.env, PRIMES_SYNC: sync, PRIMES_SLEEP_MS: sleepMs, PRIMES_OUTPUT: join(work, `output-${k}.txt`) };
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [bin, 'execute', jugfile, '--jugdir', jugdir, '--threads', threads], { env });
    const check = spawnSync(process.execPath, [bin, 'check', jugfile, '--jugdir', jugdir], { env });
    const ms = performance.now() - t0;
    if (run.status !== 0 || check.status !== 0) throw new Error(`${k}: exit ${run.status}/${check.status}: ${run.stderr}${check.stderr}`);
    out[k].push(ms);
    console.log(`${k} ${ms.toFixed(0)} ms = ${(ms / ideal).toFixed(3)}× ideal`);
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`median A ${med(out.A).toFixed(0)} ms (${(med(out.A) / ideal).toFixed(3)}× ideal), B ${med(out.B).toFixed(0)} ms (${(med(out.B) / ideal).toFixed(3)}× ideal), B/A ${(med(out.B) / med(out.A)).toFixed(3)}`);
// Each B against the A run just before it: the machine's drift between repetitions cancels out.
console.log(`paired B/A (median of the per-repetition ratios): ${med(out.B.map((b, i) => b / out.A[i])).toFixed(3)}`);
rmSync(work, { recursive: true, force: true });
