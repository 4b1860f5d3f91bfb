#!/usr/bin/env node
/**
 * Benchmarks of the real `jug` CLI (bin/jug.js), run as subprocesses, timed wall-clock from spawn
 * until the last process of a run has exited. Each configuration is repeated (--reps, default 3)
 * and its median reported, next to Python Jug 2.5's figures for the same workload on this machine
 * kind (../shared/reference/anchors.md).
 *
 *   node benchmarks/run.mjs [--reps N] [--only primes,primes_cpu,tiny,graph,memory,payload,redis] [--quick] [--out FILE]
 *                           [--wait-quiet [S]]
 *
 * Writes benchmarks/RESULTS.md (and benchmarks/RESULTS.json, from which RESULTS.md is rendered,
 * so that workloads run separately with --only accumulate). --quick writes to
 * benchmarks/.work/RESULTS-quick.md instead, so a smoke run never replaces real results.
 * See benchmarks/README.md.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  BENCH_DIR,
  BenchError,
  ROOT,
  WORK,
  cpuSample,
  fmtS,
  killLive,
  log,
  markdownTable,
  median,
  otherCpus,
  setOptions,
  textTable,
} from './lib/harness.mjs';
import { WORKLOAD_TABLE } from './workloads/index.mjs';

const WORKLOADS = WORKLOAD_TABLE.map((w) => w.name);

// ---------------------------------------------------------------------------------------------
// Command line


function usage() {
  return [
    'usage: node benchmarks/run.mjs [--reps N] [--only NAME[,NAME]] [--quick] [--out FILE] [--wait-quiet [S]]',
    '',
    `  --reps N      repetitions per configuration; the median is reported (default 3, 1 with --quick)`,
    `  --only NAMES  comma-separated workloads to run: ${WORKLOADS.join(', ')} (default: all)`,
    '  --quick       short smoke version (fewer tasks, shorter sleeps); results go to',
    '                benchmarks/.work/RESULTS-quick.md, never to benchmarks/RESULTS.md',
    '  --out FILE    write the Markdown report here (default benchmarks/RESULTS.md)',
    '  --wait-quiet [S]  before each timed run, wait up to S seconds (default 300) until other',
    '                processes use < 0.15 CPU (for shared machines; Linux /proc only)',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { reps: undefined, only: [...WORKLOADS], quick: false, out: undefined, waitQuiet: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new BenchError(`${a} needs a value`);
      return argv[++i];
    };
    const name = a.split('=')[0];
    if (name === '--reps') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new BenchError(`--reps: expected an integer ≥ 1, got '${v}'`);
      opts.reps = n;
    } else if (name === '--only') {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !WORKLOADS.includes(n));
      if (bad.length > 0 || names.length === 0) {
        throw new BenchError(`--only: unknown workload(s) ${bad.join(', ') || '(none given)'}; choose from ${WORKLOADS.join(', ')}`);
      }
      opts.only = WORKLOADS.filter((w) => names.includes(w));
    } else if (name === '--wait-quiet') {
      let v = '300';
      if (a.includes('=')) v = a.slice(a.indexOf('=') + 1);
      else if (i + 1 < argv.length && /^\d+$/.test(argv[i + 1])) v = argv[++i];
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new BenchError(`--wait-quiet: expected seconds ≥ 0, got '${v}'`);
      opts.waitQuiet = n;
    } else if (name === '--quick') {
      opts.quick = true;
    } else if (name === '--out') {
      opts.out = resolve(value());
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(usage() + '\n');
      process.exit(0);
    } else {
      throw new BenchError(`unknown argument '${a}'`);
    }
  }
  opts.reps ??= opts.quick ? 1 : 3;
  opts.out ??= opts.quick ? join(WORK, 'RESULTS-quick.md') : join(BENCH_DIR, 'RESULTS.md');
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Report

function machineInfo() {
  const cpus = os.cpus();
  let uname = '';
  try {
    uname = execFileSync('uname', ['-a'], { encoding: 'utf8' }).trim();
  } catch {
    uname = `${os.type()} ${os.release()} ${os.arch()}`;
  }
  const extraCerts = process.env['NODE_EXTRA_CA_CERTS'];
  return {
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    uname,
    nodeStartMs: nodeStartMs(process.env),
    // Set on some machines (a proxy's certificate bundle): Node then parses it at every start.
    // Whether it is set, not its value: the report names no path of this machine.
    extraCerts: extraCerts ? true : undefined,
    nodeStartNoCertsMs: extraCerts ? nodeStartMs({ ...process.env, NODE_EXTRA_CA_CERTS: '' }) : undefined,
  };
}

/** Median wall time of a bare `node -e 0` with `env` (ms): the part of every timed run that is Node's own start. */
function nodeStartMs(env) {
  const walls = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
    walls.push(performance.now() - t0);
  }
  return median(walls);
}

function machineLines(m) {
  const lines = [`- CPU: ${m.cpu}`, `- Memory: ${m.memory}`, `- Node: ${m.node}`, `- uname -a: \`${m.uname}\``];
  if (m.nodeStartMs !== undefined) {
    lines.push(
      `- Node's own start (\`node -e 0\`, median of 7): ${m.nodeStartMs.toFixed(0)} ms, part of every wall time below` +
        (m.extraCerts
          ? `. NODE_EXTRA_CA_CERTS is set in this environment and kept for the timed runs; Node parses ` +
            `that bundle at every start: ${m.nodeStartNoCertsMs.toFixed(0)} ms without it`
          : ''),
    );
  }
  return lines;
}

/** Which code was measured: git HEAD and whether src/ had uncommitted changes. */
function codeInfo() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return `git ${head}${dirty ? ` + uncommitted changes in src/ (${dirty.split('\n').length} file(s))` : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** Newest modification time of any file under dist/, to notice a rebuild during the run. */
function distStamp(dir = join(ROOT, 'dist')) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? distStamp(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const sameMachine = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function renderSection(name, entry, latest) {
  const r = entry.result;
  const out = [`## ${r.title}`, ''];
  if (entry.date !== latest.date || entry.command !== latest.command) {
    out.push(`Measured ${entry.date} with \`${entry.command}\` (${entry.reps} rep(s)${entry.quick ? ', QUICK' : ''}).`, '');
  }
  if (!sameMachine(entry.machine, latest.machine)) out.push('Machine for this section:', ...machineLines(entry.machine), '');
  if (entry.code !== latest.code) out.push(`Code measured: ${entry.code}.`, '');
  out.push(markdownTable(r.rows), '');
  for (const note of r.notes) out.push(`- ${note}`);
  if (r.otherCpus !== undefined) out.push(`- ${backgroundNote(r.otherCpus)}`);
  out.push('');
  return out.join('\n');
}

function backgroundNote(cpus) {
  const busy = cpus > 0.15;
  return (
    `Other processes (not this benchmark's) used on average ${cpus.toFixed(2)} of the ${os.cpus().length} CPUs while this workload ran` +
    (busy ? ': **the machine was shared, figures are disturbed** (re-run on a quiet machine to trust them).' : ' (quiet machine).')
  );
}

function renderGoals(entries) {
  const out = ['## Goals', '', '| workload | goal | measured | result |', '|---|---|---|---|'];
  for (const [name, e] of entries) {
    for (const g of e.result.goals) {
      out.push(`| ${name}${e.quick ? ' (quick)' : ''} | ${g.text} | ${g.measured} | **${g.met ? 'MET' : 'NOT MET'}** |`);
    }
  }
  return out.join('\n') + '\n';
}

function renderMarkdown(store, latest) {
  const entries = WORKLOADS.filter((w) => store.workloads[w]).map((w) => [w, store.workloads[w]]);
  const anyQuick = entries.some(([, e]) => e.quick);
  const out = [
    '# jug benchmarks',
    '',
    'Generated by `benchmarks/run.mjs` (see benchmarks/README.md). Wall times from spawning the real',
    'CLI (`node bin/jug.js`) until the last process exited; median, min and max over the repetitions.',
    'Every workload but memory, graph (ours only) and redis (ours on two stores) runs Python Jug 2.5 from',
    '../shared/pyjug in the same run, interleaved with ours (A, B, A, B, …), and gives the ratio ours / Python',
    'of each repetition (median, min–max); goals are decided on those same-run ratios. The "anchors" figures',
    "(../shared/reference/anchors.md, Python Jug 2.5 measured on another day) are shown for reference only;",
    'compare ratios rather than absolute seconds, the machines are shared and noisy.',
    '',
    `- Date: ${latest.date}`,
    `- Command: \`${latest.command}\` (${latest.reps} repetition(s)${latest.quick ? ', QUICK smoke run: smaller workloads, figures not comparable with the anchors' : ''})`,
    ...machineLines(latest.machine),
    `- Code measured: ${latest.code}`,
    '- Durability: results are fsynced (durable) by default, in every run below.',
    '- Measured apart (A/B of two builds, which this harness does not do): the cost of run records and of',
    '  their code fingerprints on tiny, in benchmarks/RESULTS-run-records.md (`node benchmarks/ab-tiny.mjs`);',
    '  outdated detection, in benchmarks/RESULTS-outdated.md.',
    '',
  ];
  if (anyQuick && !latest.quick) out.push('**Some sections below come from a --quick run and are not representative.**', '');
  out.push(renderGoals(entries));
  for (const [name, e] of entries) out.push(renderSection(name, e, latest));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    setOptions(opts);
  } catch (e) {
    if (e instanceof BenchError) {
      process.stderr.write(`run.mjs: ${e.message}\n${usage()}\n`);
      return 2;
    }
    throw e;
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    process.stderr.write('run.mjs: dist/ is not built; run `npm run build` first (or `npm run bench`).\n');
    return 2;
  }
  mkdirSync(WORK, { recursive: true });
  process.on('SIGINT', () => {
    killLive();
    process.exit(130);
  });

  const relScript = relative(process.cwd(), fileURLToPath(import.meta.url)) || 'benchmarks/run.mjs';
  const latest = {
    date: new Date().toISOString(),
    command: ['node', relScript, ...process.argv.slice(2)].join(' '),
    reps: opts.reps,
    quick: opts.quick,
    machine: machineInfo(),
    code: codeInfo(),
  };
  log(`jug benchmarks: ${opts.only.join(', ')}; ${opts.reps} rep(s)${opts.quick ? '; QUICK' : ''}; ${latest.machine.cpu}, Node ${latest.machine.node}`);
  log('Results are fsynced (durable) by default in every run.');

  const benches = Object.fromEntries(WORKLOAD_TABLE.map((w) => [w.name, w.run]));
  const results = {};
  let aborted = false;
  try {
    for (const w of opts.only) {
      const t0 = performance.now();
      const before = cpuSample();
      const stamp = distStamp();
      results[w] = await benches[w](opts);
      results[w].otherCpus = otherCpus(before, cpuSample());
      const disturbed = results[w].rows.filter((r) => r.background !== undefined && r.background > 0.15);
      if (disturbed.length > 0) {
        results[w].notes.push(
          'Timed runs during which other processes used > 0.15 CPU (worst run): ' +
            disturbed.map((r) => `${r.config} ${r.background.toFixed(2)}`).join('; ') + '.',
        );
      }
      if (distStamp() !== stamp) {
        results[w].notes.push('**Warning: dist/ was rebuilt while this workload ran** (another build); its figures may mix two builds.');
      }
      log(`[${w}] done in ${fmtS(performance.now() - t0)}`);
      const r = results[w];
      process.stdout.write(`\n== ${r.title} ==\n${textTable(r.rows)}\n`);
      for (const note of r.notes) process.stdout.write(`  * ${note}\n`);
      if (r.otherCpus !== undefined) process.stdout.write(`  * ${backgroundNote(r.otherCpus)}\n`);
      for (const g of r.goals) process.stdout.write(`  GOAL ${g.met ? 'MET' : 'NOT MET'}: ${g.text}: ${g.measured}\n`);
    }
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    // The workloads measured before the failing one are still written (they took minutes).
    process.stderr.write(`\nrun.mjs: ABORTED: ${e.message}\n`);
    aborted = true;
  } finally {
    // Jugdirs and output files are scratch; only the report files survive.
    for (const f of readdirSync(WORK)) {
      if (!f.startsWith('RESULTS-quick')) rmSync(join(WORK, f), { recursive: true, force: true });
    }
  }

  // Merge into the stored results so separately-run workloads accumulate in one report.
  const jsonPath = opts.out.replace(/\.md$/i, '') + '.json';
  let store = { workloads: {} };
  if (existsSync(jsonPath)) {
    try {
      store = JSON.parse(readFileSync(jsonPath, 'utf8'));
      store.workloads ??= {};
    } catch {
      store = { workloads: {} };
    }
  }
  for (const [w, result] of Object.entries(results)) store.workloads[w] = { ...latest, result };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(store, null, 2) + '\n');
  writeFileSync(opts.out, renderMarkdown(store, latest));
  process.stdout.write(`\nWrote ${relative(process.cwd(), opts.out)} (and ${relative(process.cwd(), jsonPath)}).\n`);
  return aborted ? 1 : 0;
}

process.exitCode = await main();
