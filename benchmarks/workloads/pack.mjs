/**
 * Workload `pack`: `jug pack` on tiny (5,001 small results), loose vs packed (issue 19 §5).
 *
 * Two copies of one finished tiny jugdir, one packed by `jug pack`. Measured on both, interleaved
 * (loose, packed, then packed, loose, …), medians and the ratio loose / packed per repetition:
 *   status     `jug status tiny.ts`
 *   noop       `jug execute tiny.ts` with everything computed
 *   load-all   benchmarks/pack-load.mjs: value() of the 5,000 results; the whole process, and the
 *              loads alone as timed inside it (wall and CPU)
 *   load-all, cold   the same with the page cache dropped before each run (only as root; closer
 *              to a network filesystem whose client holds nothing of the jugdir)
 * and the number of files in each jugdir. Goals: packed loads ≥ 5× faster; ≤ 10 files after packing.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, BENCH_DIR, JUG, JUGFILES, fmtS, fmtX, freshDir, log, measureAll, median, timeCommand } from '../lib/harness.mjs';

const PACK_LOAD = join(BENCH_DIR, 'pack-load.mjs');

/** Files (not directories) under `dir`, as `find dir -type f` counts them. */
function countFiles(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

/** Whether this process may drop the page cache (root on Linux). */
function canDropCaches() {
  try {
    accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function dropCaches() {
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** Runs `node <argv>` in benchmarks/jugfiles (so that `import 'jug'` resolves): wall ms and stdout. */
async function node(argv, what, env) {
  const { ms, result } = await timeCommand(process.execPath, argv, what, { cwd: JUGFILES, env });
  return { ms, out: result.stdout };
}

async function benchPack({ reps, quick }) {
  const n = quick ? 1000 : 5000;
  const env = { TINY_N: String(n), NO_COLOR: '1' };
  const loose = freshDir('pack-loose');
  const packed = freshDir('pack-packed');
  log('[pack] preparing: jug execute tiny.ts, then a copy packed by jug pack (untimed)');
  await node([JUG, 'execute', 'tiny.ts', '--jugdir', loose, '-q'], 'pack: execute tiny', env);
  cpSync(loose, packed, { recursive: true });
  const packRun = await node([JUG, 'pack', 'tiny.ts', '--jugdir', packed], 'pack: jug pack', env);
  const files = { loose: countFiles(loose), packed: countFiles(packed) };
  log(`[pack] ${packRun.out.trim()} files: loose ${files.loose}, packed ${files.packed}`);

  /** The loads alone, as pack-load.mjs measured them inside each run (by config key). */
  const inner = new Map();
  const loadRun = (key, dir, cold) => ({
    key,
    run: async () => {
      if (cold) dropCaches();
      const { ms, out } = await node([PACK_LOAD, 'tiny.ts', dir], `pack: ${key}`, env);
      const r = JSON.parse(out);
      if (r.loaded !== n) throw new BenchError(`pack: ${key} loaded ${r.loaded} results, expected ${n}`);
      if (!inner.has(key)) inner.set(key, { wall: [], cpu: [] });
      inner.get(key).wall.push(r.loadMs);
      inner.get(key).cpu.push(r.loadCpuMs);
      return ms;
    },
  });
  const cmdRun = (key, args) => ({ key, run: async () => (await node([JUG, ...args], `pack: ${key}`, env)).ms });
  // Each pair in both orders across repetitions: measureAll runs configs in list order, so the
  // list alternates loose-first and packed-first pairs.
  const configs = [
    cmdRun('status, loose', ['status', 'tiny.ts', '--jugdir', loose]),
    cmdRun('status, packed', ['status', 'tiny.ts', '--jugdir', packed]),
    cmdRun('no-op execute, packed', ['execute', 'tiny.ts', '--jugdir', packed, '-q']),
    cmdRun('no-op execute, loose', ['execute', 'tiny.ts', '--jugdir', loose, '-q']),
    loadRun('load all, loose', loose, false),
    loadRun('load all, packed', packed, false),
  ];
  const cold = canDropCaches() && process.env.JUG_BENCH_NO_DROP_CACHES !== '1';
  if (cold) configs.push(loadRun('load all cold, packed', packed, true), loadRun('load all cold, loose', loose, true));
  const m = await measureAll('pack', configs, reps);

  const ratios = (a, b) => a.map((x, i) => x / b[i]);
  const span = (xs) => `${fmtX(median(xs))} (${fmtX(Math.min(...xs))}–${fmtX(Math.max(...xs))})`;
  const rows = [];
  const pair = (label, looseKey, packedKey) => {
    const l = m.get(looseKey);
    const p = m.get(packedKey);
    rows.push({ config: `${label}, loose`, ...l, ratio: '', anchor: '—' });
    rows.push({ config: `${label}, packed`, ...p, ratio: `loose/packed ${span(ratios(l.walls, p.walls))}`, anchor: '—' });
  };
  pair('status', 'status, loose', 'status, packed');
  pair('no-op execute', 'no-op execute, loose', 'no-op execute, packed');
  pair('load all (whole process)', 'load all, loose', 'load all, packed');
  if (cold) pair('load all cold (whole process)', 'load all cold, loose', 'load all cold, packed');
  const innerRow = (label, key, looseKey) => {
    const s = inner.get(key);
    const l = inner.get(looseKey);
    const walls = s.wall;
    rows.push({
      config: `${label} (the loads alone)`,
      walls,
      median: median(walls),
      min: Math.min(...walls),
      max: Math.max(...walls),
      ratio: looseKey === key ? `CPU ${median(s.cpu).toFixed(0)} ms` : `loose/packed ${span(ratios(l.wall, walls))}; CPU ${median(s.cpu).toFixed(0)} ms, loose/packed ${span(ratios(l.cpu, s.cpu))}`,
      anchor: '—',
    });
  };
  innerRow('load all, loose', 'load all, loose', 'load all, loose');
  innerRow('load all, packed', 'load all, packed', 'load all, loose');
  if (cold) {
    innerRow('load all cold, loose', 'load all cold, loose', 'load all cold, loose');
    innerRow('load all cold, packed', 'load all cold, packed', 'load all cold, loose');
  }

  const warm = median(ratios(inner.get('load all, loose').wall, inner.get('load all, packed').wall));
  const warmCpu = median(ratios(inner.get('load all, loose').cpu, inner.get('load all, packed').cpu));
  const coldX = cold ? median(ratios(inner.get('load all cold, loose').wall, inner.get('load all cold, packed').wall)) : undefined;
  const goals = [
    {
      text: `packed loads ≥ 5× faster than loose (value() of all ${n.toLocaleString('en-US')} results, the loads alone, warm page cache${cold ? ' and cold' : ''})`,
      measured:
        `warm ${fmtX(warm)} (median of per-repetition loose/packed wall; CPU ${fmtX(warmCpu)})` +
        (coldX === undefined ? '; cold not measured (dropping the page cache needs root)' : `; cold ${fmtX(coldX)}`),
      met: warm >= 5 && (coldX === undefined || coldX >= 5),
    },
    {
      text: 'the jugdir holds ≤ 10 files after `jug pack`',
      measured: `${files.packed} files packed (${files.loose} loose)`,
      met: files.packed <= 10,
    },
  ];
  const notes = [
    `tiny: ${n.toLocaleString('en-US')} results of \`double(i)\` plus one sum; two copies of the finished jugdir, one packed (\`jug pack\`: ${packRun.out.trim().replace(/\S*\.work\/\S*/g, '<jugdir>/packs')}). Files counted as \`find -type f\` does.`,
    'Ratio column: loose / packed per repetition, median (min–max); above 1× packed is faster. Interleaved: each pair runs in both orders across repetitions.',
    '"The loads alone": `value()` of the results, timed inside benchmarks/pack-load.mjs after init() and hashing (wall, and the process\'s CPU time over the same span). The whole-process rows add Node\'s start, loading the jugfile and hashing its tasks, the same for both.',
    cold
      ? '"cold": the page cache dropped (`echo 3 > /proc/sys/vm/drop_caches`) before each of those runs — closer to a network filesystem whose client holds nothing of the jugdir; every loose result then costs an inode and a block read, the pack one read.'
      : 'Cold page cache not measured: dropping it needs root (or JUG_BENCH_NO_DROP_CACHES=1 was set).',
  ];
  return { title: `pack — ${n.toLocaleString("en-US")} small results, loose vs packed (\`jug pack\`)`, rows, goals, notes };
}

export default { name: 'pack', run: benchPack };
