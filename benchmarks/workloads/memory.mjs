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
  const main = new URL('../../dist/cli/main.js', import.meta.url).href;
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


export default { name: 'memory', run: benchMemory };
