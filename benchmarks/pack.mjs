#!/usr/bin/env node
/**
 * `jug pack` on tiny (5,001 results): loose vs packed, interleaved (loose, packed, loose, …),
 * medians and min–max, the ratio loose/packed per repetition. Timed wall-clock from spawn to exit.
 *
 *   node benchmarks/pack.mjs [--reps N] [--cold] [--out FILE]
 *
 * Workloads, on two copies of one finished tiny jugdir (one packed by `jug pack`):
 *   status     `jug status tiny.ts`
 *   noop       `jug execute tiny.ts` with everything computed
 *   load-all   `node benchmarks/pack-load.mjs`: value() of the 5,000 results (whole process, and
 *              the loads alone as measured inside it)
 * --cold drops the page cache before each run (root only: `echo 3 > /proc/sys/vm/drop_caches`),
 * which is closer to a network filesystem whose client cache holds nothing of the jugdir.
 * Writes benchmarks/RESULTS-pack.md (or --out). Run `npm run build` first.
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const JUG = join(ROOT, 'bin', 'jug.js');
const JUGFILES = join(BENCH_DIR, 'jugfiles');
const WORK = join(BENCH_DIR, '.work', 'pack');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args[i + 1];
};
const REPS = Number(opt('--reps', 7));
const COLD = args.includes('--cold');
const OUT = resolve(opt('--out', join(BENCH_DIR, COLD ? 'RESULTS-pack-cold.md' : 'RESULTS-pack.md')));

/** GNU time, to measure the child's CPU time (user + system): on a loaded machine wall time is mostly waiting. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs `node <argv>` in benchmarks/jugfiles (so `import 'jug'` resolves); wall ms, CPU ms and stdout. */
function run(argv) {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const [cmd, cmdArgs] = TIME === undefined ? [process.execPath, argv] : [TIME, ['-f', 'cpu %U %S', process.execPath, ...argv]];
    const child = spawn(cmd, cmdArgs, { cwd: JUGFILES, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      const m = /cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(err);
      const cpu = m === null ? NaN : (Number(m[1]) + Number(m[2])) * 1000;
      if (code !== 0) reject(new Error(`node ${argv.join(' ')} exited ${code}:\n${out}\n${err}`));
      else resolvePromise({ ms, cpu, out });
    });
  });
}

function dropCaches() {
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** Every path under `dir`, as `find <dir> -mindepth 1` lists them. */
function countEntries(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    n++;
    if (e.isDirectory()) n += countEntries(join(dir, e.name));
  }
  return n;
}
function countFiles(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else n++;
  }
  return n;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const loose = join(WORK, 'loose.jugdata');
  const packed = join(WORK, 'packed.jugdata');
  console.log('setting up: jug execute tiny.ts …');
  await run([JUG, 'execute', 'tiny.ts', '--jugdir', loose]);
  cpSync(loose, packed, { recursive: true });
  const packRun = await run([JUG, 'pack', 'tiny.ts', '--jugdir', packed]);
  const files = {
    loose: { files: countFiles(loose), entries: countEntries(loose) },
    packed: { files: countFiles(packed), entries: countEntries(packed) },
  };
  console.log(packRun.out.trim(), files);

  const workloads = {
    status: (dir) => [JUG, 'status', 'tiny.ts', '--jugdir', dir],
    noop: (dir) => [JUG, 'execute', 'tiny.ts', '--jugdir', dir],
    'load-all': (dir) => [join(BENCH_DIR, 'pack-load.mjs'), 'tiny.ts', dir],
  };
  const results = {};
  for (const name of Object.keys(workloads)) results[name] = { loose: [], packed: [], looseCpu: [], packedCpu: [], looseInner: [], packedInner: [], looseInnerCpu: [], packedInnerCpu: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, argv] of Object.entries(workloads)) {
      for (const [kind, dir] of rep % 2 ? [['packed', packed], ['loose', loose]] : [['loose', loose], ['packed', packed]]) {
        if (COLD) dropCaches();
        const { ms, cpu, out } = await run(argv(dir));
        results[name][kind].push(ms);
        results[name][`${kind}Cpu`].push(cpu);
        if (name === 'load-all') {
          const r = JSON.parse(out);
          if (r.loaded !== 5000) throw new Error(`loaded ${r.loaded} results, expected 5000`);
          results[name][`${kind}Inner`].push(r.loadMs);
          results[name][`${kind}InnerCpu`].push(r.loadCpuMs);
        }
      }
    }
    console.log(`rep ${rep + 1}/${REPS} done`);
  }
  writeFileSync(OUT, report(results, files, packRun.out.trim().replaceAll(ROOT + '/', '')));
  console.log(`wrote ${relative(process.cwd(), OUT)}`);
}

function row(label, loose, packed) {
  const ratios = loose.map((l, i) => l / packed[i]);
  const f = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  return `| ${label} | ${f(loose)} | ${f(packed)} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`;
}

function report(results, files, packOut) {
  let rev = 'unknown';
  try {
    rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '') rev += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `# jug pack on tiny: loose vs packed${COLD ? ' (cold page cache)' : ''}`,
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`,
    `- Command: \`node benchmarks/pack.mjs --reps ${REPS}${COLD ? ' --cold' : ''}\` (revision ${rev})`,
    `- ${REPS} interleaved repetitions (loose, packed, then packed, loose, …); wall ms from spawn to exit,`,
    '  median (min–max); ratio = loose / packed per repetition (> 1: packed faster).',
    COLD ? '- The page cache was dropped before every run (`echo 3 > /proc/sys/vm/drop_caches`).' : '- Warm page cache (the jugdir was just read).',
    '- The machine is shared with other helpers building and testing at the same time: absolute figures',
    '  vary; the ratios of interleaved runs are the comparison.',
    '',
    `\`jug pack\`: ${packOut}`,
    '',
    '| jugdir | files (`find -type f`) | entries (`find -mindepth 1`) |',
    '|---|---|---|',
    `| loose | ${files.loose.files} | ${files.loose.entries} |`,
    `| packed | ${files.packed.files} | ${files.packed.entries} |`,
    '',
    '| workload | loose ms | packed ms | loose / packed |',
    '|---|---|---|---|',
    row('`jug status`, wall', results.status.loose, results.status.packed),
    row('`jug status`, CPU (user + sys)', results.status.looseCpu, results.status.packedCpu),
    row('no-op `jug execute`, wall', results.noop.loose, results.noop.packed),
    row('no-op `jug execute`, CPU', results.noop.looseCpu, results.noop.packedCpu),
    row('load all 5,000 results (whole process), wall', results['load-all'].loose, results['load-all'].packed),
    row('load all 5,000 results (whole process), CPU', results['load-all'].looseCpu, results['load-all'].packedCpu),
    row('load all 5,000 results (the loads alone, wall, in the process)', results['load-all'].looseInner, results['load-all'].packedInner),
    row('load all 5,000 results (the loads alone, CPU of the process)', results['load-all'].looseInnerCpu, results['load-all'].packedInnerCpu),
    '',
    'CPU: the child\'s user + system time (GNU time); on a machine this loaded, wall time is mostly',
    'waiting for a core. "The loads alone": `value()` of the 5,000 tasks, timed inside the script after',
    'init() and hashing.',
    '',
  ];
  return lines.join('\n');
}

if (!existsSync(JUG)) throw new Error('bin/jug.js missing: run `npm run build` first');
await main();
