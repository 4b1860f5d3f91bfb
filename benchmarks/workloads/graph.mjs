/**
 * Workload graph (issue 19 §4): `jug status` on very large graphs, ours only (Python Jug is
 * compared on graph50k in the tiny workload). benchmarks/jugfiles/tiny.ts with TINY_N leaves plus
 * one reduce task, on an empty jugdir, at three sizes (100k, 300k and 1M tasks; --quick: 10k,
 * 30k, 100k), interleaved. Reports wall time and peak RSS (GNU time), per task, and how both grow
 * from one size to the next (the exponent k of time ∝ N^k: 1 = linear).
 */
import { join } from 'node:path';
import { JUGFILES, fmtS, freshDir, measureAll, median, timeCommand } from '../lib/harness.mjs';

const JUGFILE = join(JUGFILES, 'tiny.ts');
const LIMIT_MS = 10_000;
const LIMIT_MIB = 1024;

async function benchGraph({ reps, quick }) {
  const sizes = quick ? [10_000, 30_000, 100_000] : [100_000, 300_000, 1_000_000];
  const rss = new Map(sizes.map((n) => [n, []]));
  const label = (n) => `status, ${(n + 1).toLocaleString('en-US')} tasks, nothing run`;
  const configs = sizes.map((n) => {
    const dir = freshDir(`graph-${n}`);
    return {
      key: label(n),
      run: async () => {
        const r = await timeCommand(process.execPath, ['bin/jug.js', 'status', JUGFILE, '--jugdir', dir], `graph status ${n}`, {
          env: { TINY_N: String(n) },
          rss: true,
          label: 'node bin/jug.js',
        });
        if (r.rssMiB !== undefined) rss.get(n).push(r.rssMiB);
        return r.ms;
      },
    };
  });
  const m = await measureAll('graph', configs, reps);
  const fig = sizes.map((n) => ({ n, ms: m.get(label(n)).median, mib: rss.get(n).length ? median(rss.get(n)) : undefined }));
  const rows = fig.map((f, i) => {
    const perTask = `${((f.ms * 1000) / (f.n + 1)).toFixed(1)} µs/task`;
    const mem = f.mib !== undefined ? `; peak RSS ${f.mib.toFixed(0)} MiB = ${((f.mib * 1024) / (f.n + 1)).toFixed(2)} KiB/task` : '';
    let growth = '';
    if (i > 0) {
      const p = fig[i - 1];
      const k = Math.log(f.ms / p.ms) / Math.log(f.n / p.n);
      growth = `; from ${p.n / 1000}k: time ×${(f.ms / p.ms).toFixed(2)} for ×${(f.n / p.n).toFixed(1)} tasks (∝ N^${k.toFixed(2)})`;
      if (f.mib !== undefined && p.mib !== undefined) {
        growth += `, +${((((f.mib - p.mib) * 1024) / (f.n - p.n))).toFixed(2)} KiB per added task`;
      }
    }
    return { config: label(f.n), ...m.get(label(f.n)), ratio: `${perTask}${mem}${growth}`, anchor: '— (ours only)' };
  });
  const top = fig[fig.length - 1];
  const goals = [
    {
      text: `status on a ${(top.n + 1).toLocaleString('en-US')}-task graph (nothing run) ≤ ${LIMIT_MS / 1000} s and ≤ 1 GiB peak RSS`,
      measured: `${fmtS(top.ms)}, ${top.mib !== undefined ? `${top.mib.toFixed(0)} MiB` : 'RSS unknown (no GNU time)'}`,
      met: top.ms <= LIMIT_MS && top.mib !== undefined && top.mib <= LIMIT_MIB,
    },
  ];
  const notes = [
    `benchmarks/jugfiles/tiny.ts with TINY_N = ${sizes.map((n) => n.toLocaleString('en-US')).join(' / ')} leaves \`double(i)\` plus one \`total\` over all of them, \`jug status\` on an empty jugdir (nothing run: every task is looked up and reported waiting or ready). The three sizes interleaved in every repetition.`,
    'Peak RSS: GNU time (`%M`) around the process; per task = peak / tasks (includes Node\'s own ~40 MiB), "per added task" = the growth between two sizes.',
    'Ours only: Python Jug is compared side by side on graph50k in the tiny workload.',
  ];
  return { title: 'graph — `status` on 100k to 1M tasks', rows, goals, notes };
}

export default { name: 'graph', run: benchGraph };
