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

const TINY_JUGFILE = join(JUGFILES, 'tiny.ts');

// ---------------------------------------------------------------------------------------------
// Workload 3: tiny (and graph50k)

async function benchTiny({ reps, quick }) {
  const n = quick ? 1000 : 5000;
  const nBig = quick ? 10_000 : 50_000;
  const nTasks = n + 1;
  const env = { TINY_N: String(n) };
  const envBig = { TINY_N: String(nBig) };
  const cfg = (key, procs, extra) => ({
    key,
    run: async () =>
      (await timeExecute({ label: `tiny ${key}`, jugfile: TINY_JUGFILE, env, procs, extra, dirName: `tiny-${key.replace(/\W+/g, '_')}` })).ms,
  });
  const execConfigs = [
    cfg('execute, serial', 1, []),
    cfg('execute, --threads 2', 1, ['--threads', '2']),
    cfg('execute, --threads 8', 1, ['--threads', '8']),
    cfg('execute, 2 processes', 2, []),
  ];

  const m1 = await measureAll('tiny', execConfigs, reps);
  // The jugdir for the all-done measurements: one untimed serial run, checked.
  log('[tiny] preparing an all-done jugdir (untimed)');
  const doneDir = (await timeExecute({ label: 'tiny prepare all-done', jugfile: TINY_JUGFILE, env, dirName: 'tiny-done' })).dir;
  const bigDir = freshDir('graph50k-empty');

  // Read-only commands: each repetition is one more process on an existing jugdir.
  const timed = (key, args, e, expectCode = 0) => ({
    key,
    run: async () => (await timeGroup([args], e, `tiny ${key}`, expectCode)).ms,
  });
  const doneConfigs = [
    timed('execute again, all done', executeArgs(TINY_JUGFILE, doneDir), env),
    timed('status, all done', ['status', TINY_JUGFILE, '--jugdir', doneDir], env),
    timed('check, all done', ['check', TINY_JUGFILE, '--jugdir', doneDir], env),
    timed(`graph${nBig / 1000}k status, nothing run`, ['status', TINY_JUGFILE, '--jugdir', bigDir], envBig),
    timed(`graph${nBig / 1000}k check, nothing run (exit 1)`, ['check', TINY_JUGFILE, '--jugdir', bigDir], envBig, 1),
  ];

  const m2 = await measureAll('tiny', doneConfigs, reps);

  const rate = (key) => nTasks / (m1.get(key).median / 1000);
  const rows = [];
  rows.push({
    config: `execute, serial (${nTasks} tasks)`,
    ...m1.get('execute, serial'),
    ratio: `${fmtRate(rate('execute, serial'))} tasks/s = ${fmtX(rate('execute, serial') / PY.tiny.serialRate)} Python`,
    anchor: `${PY.tiny.serial} s = ${fmtRate(PY.tiny.serialRate)} tasks/s (1 process)`,
  });
  rows.push({
    config: 'execute, --threads 2',
    ...m1.get('execute, --threads 2'),
    ratio: `${fmtRate(rate('execute, --threads 2'))} tasks/s = ${fmtX(rate('execute, --threads 2') / PY.tiny.procs2Rate)} Python 2 procs`,
    anchor: `— (no threads; 2 processes ${fmtRate(PY.tiny.procs2Rate)} tasks/s)`,
  });
  rows.push({
    config: 'execute, --threads 8',
    ...m1.get('execute, --threads 8'),
    ratio: `${fmtRate(rate('execute, --threads 8'))} tasks/s = ${fmtX(rate('execute, --threads 8') / rate('execute, serial'))} serial`,
    anchor: '— (no threads)',
  });
  rows.push({
    config: 'execute, 2 processes',
    ...m1.get('execute, 2 processes'),
    ratio: `${fmtRate(rate('execute, 2 processes'))} tasks/s = ${fmtX(rate('execute, 2 processes') / PY.tiny.procs2Rate)} Python`,
    anchor: `${PY.tiny.procs2} s = ${fmtRate(PY.tiny.procs2Rate)} tasks/s`,
  });
  const vsPy = (ms, s) => `${fmtX((s * 1000) / ms)} Python's speed`;
  const anchorsDone = [PY.tiny.again, PY.tiny.status, PY.tiny.check, PY.graph50k.status, PY.graph50k.check];
  doneConfigs.forEach((c, i) => {
    const s = m2.get(c.key);
    rows.push({ config: c.key, ...s, ratio: vsPy(s.median, anchorsDone[i]), anchor: `${anchorsDone[i].toFixed(2)} s` });
  });

  const serialRate = rate('execute, serial');
  const goals = [
    {
      text: 'tiny, serial execute from an empty jugdir ≥ 4,360 tasks/s (5× Python Jug\'s 872 tasks/s)',
      measured: `${nTasks} tasks / ${fmtS(m1.get('execute, serial').median)} = ${fmtRate(serialRate)} tasks/s (${fmtX(serialRate / PY.tiny.serialRate)} Python)`,
      met: serialRate >= 5 * PY.tiny.serialRate,
    },
    // Issue 19 §3: threads never slower than serial (tiny tasks run in the main thread: inline-policy.ts).
    ...[2, 8].map((n) => {
      const r = rate(`execute, --threads ${n}`);
      return {
        text: `tiny, \`--threads ${n}\` ≥ serial tasks/s (same run, medians)`,
        measured: `${fmtRate(r)} vs ${fmtRate(serialRate)} tasks/s = ${fmtX(r / serialRate)} serial`,
        met: r >= serialRate,
      };
    }),
  ];
  const notes = [
    `${n.toLocaleString('en-US')} trivial tasks \`double(i)\` plus one \`total(xs)\` over all of them (${nTasks} tasks), from an empty jugdir; tasks/s = ${nTasks} / wall (start-up included, as for Python Jug).`,
    'Results are fsynced (file and directory) before a task counts as stored: durable across power loss. This is the default and cannot be turned off from the CLI; Python Jug fsyncs each result file too (and its temporary directory).',
    'Sensitive to recent file deletions on the same filesystem (ext4 without a journal skips inodes freed in the last 60–360 s): run it on a filesystem at rest (see benchmarks/README.md).',
    `"all done" rows: on a jugdir where every task is stored. graph${nBig / 1000}k: the same jugfile with ${nBig.toLocaleString('en-US')} leaves, on an empty jugdir (\`check\` correctly exits 1 there).`,
    'Ratio column for the read-only commands: Python Jug\'s time / ours (above 1× = faster than Python Jug).',
  ];
  return { title: 'tiny — per-task overhead (and graph50k)', rows, goals, notes };
}


export default { name: 'tiny', run: benchTiny };
