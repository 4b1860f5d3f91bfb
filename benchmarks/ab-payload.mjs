#!/usr/bin/env node
/**
 * A/B cost of a change on the payload workload (benchmarks/jugfiles/payload.ts: 50 tasks each
 * returning 262,144 numbers, then their sum): runs `jug execute` of two checkouts, interleaved
 * (A, B, A, B, …), each on a fresh jugdir, then (untimed) invalidates the sum and times re-running
 * it (it loads all 50 results). Prints, per variant, the median wall time, CPU time (user + system)
 * and peak RSS of each side, and the median of the per-repetition ratios B/A (each B run against
 * the A run of the same repetition, seconds apart: steady when the machine's load drifts).
 *
 *   node benchmarks/ab-payload.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--variants f64:double,f64:lcg,array:double,array:lcg] [--sum-only]
 *
 * --sum-only: each side's jugdir is filled once (untimed) and every repetition times only the
 * re-run of the sum (invalidate untimed, then execute): the load path alone, more repetitions
 * in the same time.
 *
 * Each checkout runs its own benchmarks/jugfiles/payload.ts (so that `import 'jug'` is its own).
 * Wall and CPU come from a wrapping `sh` (CPU: cutime + cstime from /proc, 10 ms ticks), peak RSS
 * from GNU time (`/usr/bin/time -f %M`) when present, the main thread's CPU time (user + system,
 * page faults included) from jug's own trace (JUG_TRACE=1: "run done (main thread CPU … ms)"):
 * on a loaded machine the steadiest figure of the work on the run's critical path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const sumOnly = args.includes('--sum-only');
if (sumOnly) args.splice(args.indexOf('--sum-only'), 1);
const reps = Number(flag('--reps', 7));
const variants = flag('--variants', 'f64:double,f64:lcg').split(',').map((v) => {
  const [form, values] = v.split(':');
  return { form, values, key: `${form}/${values}` };
});
const bins = args.filter((a) => !a.startsWith('--'));
if (bins.length !== 2) {
  console.error('usage: node benchmarks/ab-payload.mjs OLD/bin/jug.js NEW/bin/jug.js [--reps N] [--variants f64:double,...]');
  process.exit(2);
}
const sides = [
  { name: 'A', bin: resolve(bins[0]) },
  { name: 'B', bin: resolve(bins[1]) },
];
const rootOf = (bin) => dirname(dirname(bin));
const work = join(rootOf(sides[1].bin), 'benchmarks', '.work', `ab-payload-${process.pid}`);
mkdirSync(work, { recursive: true });
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** One timed command: wall ms, CPU ms, peak RSS MiB (NaN without GNU time). */
function timed(cmd, env) {
  const wrapped = gnuTime === undefined ? cmd : [gnuTime, '-f', 'RSS %M', ...cmd];
  const script = '"$@" >/dev/null 2>"$JUG_AB_ERR"; r=$?; cat /proc/$$/stat; exit $r';
  const errFile = join(work, 'stderr.txt');
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', script, 'sh', ...wrapped], { env: { ...process.env, ...env, JUG_AB_ERR: errFile }, encoding: 'utf8' });
  const wall = performance.now() - t0;
  const err = spawnSync('cat', [errFile], { encoding: 'utf8' }).stdout;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status}: ${err}`);
  const f = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(f[13]) + Number(f[14])) * 10;
  const m = /RSS (\d+)/.exec(err);
  const main = /run done \(main thread CPU (\d+) ms\)/.exec(err);
  return { wall, cpu, rss: m === null ? Number.NaN : Number(m[1]) / 1024, main: main === null ? Number.NaN : Number(main[1]) };
}

function jug(side, variant, cmd, jugdir, extra = []) {
  const jugfile = join(rootOf(side.bin), 'benchmarks', 'jugfiles', 'payload.ts');
  return [process.execPath, side.bin, cmd, jugfile, '--jugdir', jugdir, ...extra];
}

const envOf = (variant) => ({ PAYLOAD_FORM: variant.form, PAYLOAD_VALUES: variant.values, JUG_TRACE: '1' });

/** Execute from an empty jugdir, then (untimed invalidate) the re-run of the sum. */
function pair(side, variant, n) {
  const jugdir = join(work, `${side.name}-${variant.form}-${variant.values}-${n}`);
  rmSync(jugdir, { recursive: true, force: true });
  const exec = timed(jug(side, variant, 'execute', jugdir, ['-q']), envOf(variant));
  const sum = rerunSum(side, variant, jugdir);
  rmSync(jugdir, { recursive: true, force: true });
  return { exec, sum };
}

/** The sum invalidated (untimed), then the timed execute that re-runs it. */
function rerunSum(side, variant, jugdir) {
  const env = envOf(variant);
  const [node, ...invArgs] = jug(side, variant, 'invalidate', jugdir, ['--target', 'total', '--short']);
  const inv = spawnSync(node, invArgs, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (inv.status !== 0) throw new Error(`invalidate exited ${inv.status}: ${inv.stderr}`);
  return timed(jug(side, variant, 'execute', jugdir, ['-q']), env);
}

/** --sum-only: each side's jugdir for `variant`, filled once by its own execute (untimed). */
const filled = new Map();
function filledJugdir(side, variant) {
  const jugdir = join(work, `${side.name}-${variant.form}-${variant.values}`);
  if (!filled.has(jugdir)) {
    timed(jug(side, variant, 'execute', jugdir, ['-q']), envOf(variant));
    filled.set(jugdir, true);
  }
  return jugdir;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const runs = new Map(); // `${variant}|${side}|exec|sum` → [{wall,cpu,rss}]
const push = (k, v) => (runs.get(k) ?? runs.set(k, []).get(k)).push(v);
for (let n = 0; n < reps; n++) {
  for (const variant of variants) {
    const order = n % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      if (sumOnly) {
        push(`${variant.key}|${side.name}|re-run sum`, rerunSum(side, variant, filledJugdir(side, variant)));
        continue;
      }
      const r = pair(side, variant, n);
      push(`${variant.key}|${side.name}|execute`, r.exec);
      push(`${variant.key}|${side.name}|re-run sum`, r.sum);
    }
  }
  process.stderr.write(`rep ${n + 1}/${reps} done\n`);
}

console.log(`A = ${sides[0].bin}\nB = ${sides[1].bin}\n${reps} repetitions, interleaved (A/B order alternating)\n`);
console.log('| variant | step | A wall | B wall | B/A wall (paired median, min–max) | A CPU | B CPU | B/A CPU (paired) | A main-thread CPU | B main-thread CPU | B/A (paired) | A RSS | B RSS |');
console.log('|---|---|---:|---:|---|---:|---:|---|---:|---:|---|---:|---:|');
for (const variant of variants) {
  for (const step of sumOnly ? ['re-run sum'] : ['execute', 're-run sum']) {
    const a = runs.get(`${variant.key}|A|${step}`);
    const b = runs.get(`${variant.key}|B|${step}`);
    const wall = b.map((x, i) => x.wall / a[i].wall);
    const cpu = b.map((x, i) => x.cpu / a[i].cpu);
    const main = b.map((x, i) => x.main / a[i].main);
    const ms = (x) => `${median(x).toFixed(0)} ms`;
    console.log(
      `| ${variant.key} | ${step} | ${ms(a.map((x) => x.wall))} | ${ms(b.map((x) => x.wall))} | ` +
        `${median(wall).toFixed(3)} (${Math.min(...wall).toFixed(2)}–${Math.max(...wall).toFixed(2)}) | ` +
        `${ms(a.map((x) => x.cpu))} | ${ms(b.map((x) => x.cpu))} | ${median(cpu).toFixed(3)} | ` +
        `${ms(a.map((x) => x.main))} | ${ms(b.map((x) => x.main))} | ${median(main).toFixed(3)} | ` +
        `${median(a.map((x) => x.rss)).toFixed(0)} MiB | ${median(b.map((x) => x.rss)).toFixed(0)} MiB |`,
    );
  }
}
rmSync(work, { recursive: true, force: true });
