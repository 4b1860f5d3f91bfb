/**
 * Workload payload (issue 19 §2), side by side with Python Jug in one run: 50 tasks each
 * returning 262,144 numbers (2 MiB as float64), then one task summing them all. Ours in four
 * variants — a plain `number[]` or a `Float64Array`, of full 53-bit doubles (incompressible) or
 * of 31-bit LCG fractions (compressible) — against Python Jug on the anchors' payload.py (a list
 * of random.random() floats). Each repetition runs, in this order: Python Jug's execute from an
 * empty jugdir, its re-run of the final sum only, then the same two for each variant of ours;
 * then the store-throughput probe. Ratios are ours / Python Jug of the same repetition.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchError, JUGFILES, ROOT, WORK, fmtS, fmtX, freshDir, log, median, runJug, timeCommand } from '../lib/harness.mjs';
import { PYJUG_LABEL, fmtBaseline, fmtRatio, requirePyJug, runPyJug, sideBySide, timePyJug, warmPyJug } from '../lib/pyjug.mjs';

const JUGFILE = join(JUGFILES, 'payload.ts');
const VARIANTS = [
  { key: 'number[], 53-bit doubles', form: 'array', values: 'double' },
  { key: 'number[], 31-bit LCG values', form: 'array', values: 'lcg' },
  { key: 'Float64Array, 53-bit doubles', form: 'f64', values: 'double' },
  { key: 'Float64Array, 31-bit LCG values', form: 'f64', values: 'lcg' },
];
const PY_EXEC = 'Python Jug: execute';
const PY_SUM = 'Python Jug: re-run only the sum';

/** Python Jug's jugfile: the anchors' payload.py, or a copy with fewer tasks for --quick. */
function pythonJugfile(py, nTasks) {
  const original = join(py.jugfiles, 'payload.py');
  if (nTasks === 50) return original;
  const copy = join(WORK, 'payload-quick.py');
  mkdirSync(WORK, { recursive: true });
  writeFileSync(copy, readFileSync(original, 'utf8').replace(/^N_TASKS = 50$/m, `N_TASKS = ${nTasks}`));
  return copy;
}

/** An execute from an empty jugdir and a re-run of the sum on that jugdir, as two interleaved configs. */
function pairOfConfigs({ execKey, sumKey, execute, invalidate, check }) {
  let dir;
  return [
    {
      key: execKey,
      run: async () => {
        if (dir) rmSync(dir, { recursive: true, force: true });
        dir = freshDir(`payload-${execKey.replace(/\W+/g, '_')}`);
        const r = await execute(dir);
        await check(dir);
        return r;
      },
    },
    {
      key: sumKey,
      run: async () => {
        await invalidate(dir);
        const r = await execute(dir);
        await check(dir);
        return r;
      },
    },
  ];
}

function pythonConfigs(py, nTasks) {
  const jugfile = pythonJugfile(py, nTasks);
  const args = (cmd, dir, extra = []) => [cmd, jugfile, '--jugdir', dir, ...extra];
  return pairOfConfigs({
    execKey: PY_EXEC,
    sumKey: PY_SUM,
    execute: (dir) => timePyJug(args('execute', dir), 'Python Jug payload execute', { rss: true }),
    invalidate: async (dir) => {
      const r = await runPyJug(args('invalidate', dir, ['--target', 'payload.total']));
      if (r.code !== 0) throw new BenchError(`Python Jug invalidate exited ${r.code}: ${r.stderr}`);
    },
    check: async (dir) => {
      const r = await runPyJug(args('check', dir));
      if (r.code !== 0) throw new BenchError(`Python Jug check exited ${r.code} after the run: not every task is stored.`);
    },
  });
}

function ourConfigs(variant, nTasks) {
  const env = { PAYLOAD_FORM: variant.form, PAYLOAD_VALUES: variant.values, PAYLOAD_TASKS: String(nTasks) };
  const args = (cmd, dir, extra = []) => [cmd, JUGFILE, '--jugdir', dir, ...extra];
  return pairOfConfigs({
    execKey: `ours, ${variant.key}: execute`,
    sumKey: `ours, ${variant.key}: re-run only the sum`,
    execute: (dir) => timeCommand(process.execPath, ['bin/jug.js', ...args('execute', dir, ['-q'])], `payload ${variant.key}`, { env, rss: true, label: 'node bin/jug.js' }),
    invalidate: async (dir) => {
      const r = await runJug(args('invalidate', dir, ['--target', 'total', '--short']), env);
      if (r.code !== 0) throw new BenchError(`jug invalidate exited ${r.code}: ${r.stderr}`);
    },
    check: async (dir) => {
      const r = await runJug(args('check', dir), env);
      if (r.code !== 0) throw new BenchError(`payload ${variant.key}: jug check exited ${r.code} after the run.\n${r.stderr}`);
    },
  });
}

/** The store-throughput probe (../lib/store-throughput.mjs) for one kind of values, as a config. */
function throughputConfig(values, nTasks, figures) {
  return {
    key: `store throughput, Float64Array, ${values === 'lcg' ? '31-bit LCG values' : '53-bit doubles'}`,
    run: async () => {
      const dir = freshDir(`payload-throughput-${values}`);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['benchmarks/lib/store-throughput.mjs', dir, values, String(nTasks)], { cwd: ROOT, encoding: 'utf8' });
      const ms = performance.now() - t0;
      rmSync(dir, { recursive: true, force: true });
      if (r.status !== 0) throw new BenchError(`store throughput (${values}) exited ${r.status}:\n${r.stderr}`);
      const f = JSON.parse(r.stdout.trim().split('\n').pop());
      figures.push(f);
      log(
        `[payload] store throughput ${values}: write+fsync ${f.writeMBs.toFixed(0)} MB/s, load ${f.loadMBs.toFixed(0)} MB/s; ` +
          `without jug: write+fsync ${f.rawWriteMBs.toFixed(0)} MB/s, read into new arrays ${f.rawLoadMBs.toFixed(0)} MB/s, into a reused one ${f.reusedLoadMBs.toFixed(0)} MB/s`,
      );
      return { ms };
    },
  };
}

async function benchPayload({ reps, quick }) {
  const py = requirePyJug();
  const nTasks = quick ? 10 : 50;
  await warmPyJug();
  const throughput = { double: [], lcg: [] };
  const configs = [
    ...pythonConfigs(py, nTasks),
    ...VARIANTS.flatMap((v) => ourConfigs(v, nTasks)),
    throughputConfig('double', nTasks, throughput.double),
    throughputConfig('lcg', nTasks, throughput.lcg),
  ];
  const baselineOf = (key) => (key.startsWith('ours') ? (key.endsWith('execute') ? PY_EXEC : PY_SUM) : undefined);
  const m = await sideBySide('payload', configs, reps, baselineOf);

  const rows = configs.map(({ key }) => {
    const s = m.get(key);
    const base = baselineOf(key);
    let ratio = '';
    if (s.ratio) ratio = `${fmtRatio(s.ratio)} Python's time`;
    else if (key.startsWith('Python')) ratio = 'baseline';
    else {
      const f = throughput[key.includes('LCG') ? 'lcg' : 'double'];
      const m = (k) => median(f.map((x) => x[k])).toFixed(0);
      ratio = `write+fsync ${m('writeMBs')} MB/s, load ${m('loadMBs')} MB/s (medians); the machine without jug: write+fsync ${m('rawWriteMBs')} MB/s, read into new arrays ${m('rawLoadMBs')} MB/s, into a reused array ${m('reusedLoadMBs')} MB/s`;
    }
    if (s.rssMiB !== undefined) ratio += `; peak RSS ${s.rssMiB.toFixed(0)} MiB`;
    return { config: key, ...s, ratio, anchor: base ? `${fmtBaseline(m.get(base))} (same run)` : key.startsWith('Python') ? `${PYJUG_LABEL}, Python ${py.version}` : '—' };
  });

  const ratioOf = (key) => m.get(key).ratio.median;
  const goals = [];
  for (const v of VARIANTS) {
    const limit = v.form === 'array' ? 0.25 : 0.1;
    const key = `ours, ${v.key}: execute`;
    goals.push({
      text: `payload ${v.key}: execute ≤ ${limit}× Python Jug's time (same run)`,
      measured: `${fmtX(ratioOf(key))} (${fmtS(m.get(key).median)} vs ${fmtS(m.get(PY_EXEC).median)})`,
      met: ratioOf(key) <= limit,
    });
  }
  for (const v of VARIANTS) {
    const key = `ours, ${v.key}: re-run only the sum`;
    goals.push({
      text: `payload ${v.key}: re-running only the sum (loads all ${nTasks}) ≥ 4× faster than Python Jug`,
      measured: `${fmtX(ratioOf(key))} Python's time (${fmtS(m.get(key).median)} vs ${fmtS(m.get(PY_SUM).median)})`,
      met: ratioOf(key) <= 0.25,
    });
  }
  const pyRss = m.get(PY_EXEC).rssMiB;
  if (pyRss !== undefined) {
    const worst = Math.max(...VARIANTS.flatMap((v) => [m.get(`ours, ${v.key}: execute`).rssMiB, m.get(`ours, ${v.key}: re-run only the sum`).rssMiB]));
    goals.push({ text: 'payload: peak RSS ≤ Python Jug\'s (every run of ours vs its execute)', measured: `${worst.toFixed(0)} MiB (worst of ours) vs ${pyRss.toFixed(0)} MiB`, met: worst <= pyRss });
  }
  const med = (k, f) => median(throughput[k].map((x) => x[f]));
  const bounds = (k) =>
    `; without jug, the same run: plain write+fsync ${med(k, 'rawWriteMBs').toFixed(0)} MB/s, plain reads into new arrays ${med(k, 'rawLoadMBs').toFixed(0)} MB/s (into a reused array ${med(k, 'reusedLoadMBs').toFixed(0)} MB/s)`;
  goals.push({
    text: 'typed-array store throughput ≥ 300 MB/s write+fsync and ≥ 500 MB/s load (53-bit doubles: stored as they are)',
    measured: `${med('double', 'writeMBs').toFixed(0)} MB/s write, ${med('double', 'loadMBs').toFixed(0)} MB/s load${bounds('double')}`,
    met: med('double', 'writeMBs') >= 300 && med('double', 'loadMBs') >= 500,
  });
  goals.push({
    text: 'typed-array store throughput, compressible data (31-bit LCG values: shuffled + deflate)',
    measured: `${med('lcg', 'writeMBs').toFixed(0)} MB/s write, ${med('lcg', 'loadMBs').toFixed(0)} MB/s load${bounds('lcg')}`,
    met: med('lcg', 'writeMBs') >= 300 && med('lcg', 'loadMBs') >= 500,
  });

  const notes = [
    `${nTasks} tasks each returning 262,144 numbers (2 MiB as float64), then one task summing them all (${nTasks + 1} tasks). Python Jug: ${PYJUG_LABEL}/jugfiles/payload.py (a list of random.random() floats) run with \`python3 ${PYJUG_LABEL}/bin/jug\`; ours: benchmarks/jugfiles/payload.ts.`,
    'Interleaved: each repetition runs Python Jug (execute, then re-run of the sum), then each variant of ours (the same two), then the throughput probes. Ratio = ours / Python Jug *of the same repetition*: median (min–max) over the repetitions.',
    '"re-run only the sum": on the jugdir the execute just filled, the sum task is invalidated (untimed: `jug invalidate --target total`, Python: `--target payload.total`), then `execute` is timed: it loads all results and sums them.',
    'Peak RSS: GNU time (`time -f %M`) around each timed process, Python Jug and ours alike; median over the repetitions.',
    'Store throughput: benchmarks/lib/store-throughput.mjs writes 50 Float64Arrays of 262,144 elements through FileStore one after the other, each durable (fsync) before the next, then loads them with a new FileStore (from the page cache: decode speed, not disk read speed). MB = 10^6 bytes of array data. The machine\'s bounds in the same process, without jug: the same arrays written with plain fs calls (writev, fsync, rename, fsync of the directory), each interleaved with jug\'s write of the same array, which of the two writes an array first alternating (the kernel\'s first read of an array costs several times a later one here), read back with plain reads into new Float64Arrays, CRC-32 checked (each interleaved with jug\'s load of the same array, so both meet the same allocator state), and into one reused array (no page faults of fresh memory).',
  ];
  return { title: 'payload — big results, side by side with Python Jug', rows, goals, notes };
}

export default { name: 'payload', run: benchPayload };
