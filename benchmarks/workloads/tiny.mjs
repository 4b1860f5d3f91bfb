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
import { PYJUG_LABEL, fmtRatio, pyJugfile, ratioTo, runPyJug, timePyGroup, warmPyJug } from '../lib/pyjug.mjs';

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
  // Python Jug side by side: its tiny.py and graph50k.py (copies with a smaller N for --quick).
  await warmPyJug();
  const pyTiny = pyJugfile('tiny.py', n === 5000 ? [] : [[/^N = 5000$/m, `N = ${n}`]]);
  const pyBig = pyJugfile('graph50k.py', nBig === 50_000 ? [] : [[/^N = 50000$/m, `N = ${nBig}`]]);
  const pyExec = {
    key: PY_EXEC,
    run: async () => {
      const dir = freshDir('tiny-python');
      const { ms } = await timePyGroup([['execute', pyTiny, '--jugdir', dir]], 'Python Jug tiny execute');
      await pyCheck(pyTiny, dir);
      return ms;
    },
  };
  const execConfigs = [pyExec, cfg('execute, serial', 1, []), cfg('execute, --threads 2', 1, ['--threads', '2']), cfg('execute, --threads 8', 1, ['--threads', '8']), cfg('execute, 2 processes', 2, [])];

  // Rotated: serial does not always run before the --threads runs (issue 19 §3 compares them).
  const m1 = await measureAll('tiny', execConfigs, reps, { rotate: true });
  // The jugdir for the all-done measurements: one untimed serial run, checked.
  log('[tiny] preparing an all-done jugdir (untimed)');
  const doneDir = (await timeExecute({ label: 'tiny prepare all-done', jugfile: TINY_JUGFILE, env, dirName: 'tiny-done' })).dir;
  const bigDir = freshDir('graph50k-empty');
  log('[tiny] preparing Python Jug\'s all-done jugdir (untimed)');
  const pyDoneDir = freshDir('tiny-python-done');
  await timePyGroup([['execute', pyTiny, '--jugdir', pyDoneDir]], 'Python Jug tiny prepare all-done');
  await pyCheck(pyTiny, pyDoneDir);
  const pyBigDir = freshDir('graph50k-python-empty');

  // Read-only commands: each repetition is one more process on an existing jugdir.
  const timed = (key, args, e, expectCode = 0) => ({
    key,
    run: async () => (await timeGroup([args], e, `tiny ${key}`, expectCode)).ms,
  });
  const pyTimed = (key, args, expectCode = 0) => ({
    key,
    run: async () => (await timePyGroup([args], `Python Jug tiny ${key}`, { expectCode })).ms,
  });
  const big = `graph${nBig / 1000}k`;
  // Ours and Python Jug's, each read-only command right after the other's (A, B, A, B …).
  const readOnly = [
    ['execute again, all done', timed('execute again, all done', executeArgs(TINY_JUGFILE, doneDir), env), ['execute', pyTiny, '--jugdir', pyDoneDir]],
    ['status, all done', timed('status, all done', ['status', TINY_JUGFILE, '--jugdir', doneDir], env), ['status', pyTiny, '--jugdir', pyDoneDir]],
    ['check, all done', timed('check, all done', ['check', TINY_JUGFILE, '--jugdir', doneDir], env), ['check', pyTiny, '--jugdir', pyDoneDir]],
    [`${big} status, nothing run`, timed(`${big} status, nothing run`, ['status', TINY_JUGFILE, '--jugdir', bigDir], envBig), ['status', pyBig, '--jugdir', pyBigDir]],
    [`${big} check, nothing run (exit 1)`, timed(`${big} check, nothing run (exit 1)`, ['check', TINY_JUGFILE, '--jugdir', bigDir], envBig, 1), ['check', pyBig, '--jugdir', pyBigDir], 1],
  ];
  // Python Jug 2.5's `status` exits with the number of finished tasks (mod 256): not checked.
  const doneConfigs = readOnly.flatMap(([key, ours, pyArgs, code]) => [pyTimed(`Python Jug: ${key}`, pyArgs, pyArgs[0] === 'status' ? null : code), ours]);

  const m2 = await measureAll('tiny', doneConfigs, reps);

  const rate = (key) => nTasks / (m1.get(key).median / 1000);
  const rows = [];
  const pyExecMs = m1.get(PY_EXEC).median;
  rows.push({ config: `${PY_EXEC} (${nTasks} tasks)`, ...m1.get(PY_EXEC), ratio: `${fmtRate(nTasks / (pyExecMs / 1000))} tasks/s (baseline of the same-run ratios)`, anchor: `${PY.tiny.serial} s = ${fmtRate(PY.tiny.serialRate)} tasks/s (anchors)` });
  const vsPyExec = (key) => `; ${fmtRatio(ratioTo(m1, key, PY_EXEC))} Python's time (same run)`;
  rows.push({
    config: `execute, serial (${nTasks} tasks)`,
    ...m1.get('execute, serial'),
    ratio: `${fmtRate(rate('execute, serial'))} tasks/s = ${fmtX(rate('execute, serial') / PY.tiny.serialRate)} Python (anchor)${vsPyExec('execute, serial')}`,
    anchor: `${PY.tiny.serial} s = ${fmtRate(PY.tiny.serialRate)} tasks/s (1 process)`,
  });
  rows.push({
    config: 'execute, --threads 2',
    ...m1.get('execute, --threads 2'),
    ratio: `${fmtRate(rate('execute, --threads 2'))} tasks/s = ${fmtX(rate('execute, --threads 2') / PY.tiny.procs2Rate)} Python 2 procs (anchor)${vsPyExec('execute, --threads 2')}`,
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
    ratio: `${fmtRate(rate('execute, 2 processes'))} tasks/s = ${fmtX(rate('execute, 2 processes') / PY.tiny.procs2Rate)} Python 2 procs (anchor)${vsPyExec('execute, 2 processes')}`,
    anchor: `${PY.tiny.procs2} s = ${fmtRate(PY.tiny.procs2Rate)} tasks/s`,
  });
  const anchorsDone = [PY.tiny.again, PY.tiny.status, PY.tiny.check, PY.graph50k.status, PY.graph50k.check];
  const readOnlyRatio = new Map();
  readOnly.forEach(([key], i) => {
    const s = m2.get(key);
    const py = m2.get(`Python Jug: ${key}`);
    const r = ratioTo(m2, key, `Python Jug: ${key}`);
    readOnlyRatio.set(key, r);
    rows.push({
      config: key,
      ...s,
      ratio: `${fmtRatio(r)} Python's time (same run)`,
      anchor: `${fmtS(py.median)} (${fmtS(py.min)}–${fmtS(py.max)}) same run; anchors ${anchorsDone[i].toFixed(2)} s`,
    });
  });

  const serialRate = rate('execute, serial');
  const goals = [
    {
      text: 'tiny, serial execute from an empty jugdir ≥ 4,360 tasks/s (5× Python Jug\'s 872 tasks/s)',
      measured: `${nTasks} tasks / ${fmtS(m1.get('execute, serial').median)} = ${fmtRate(serialRate)} tasks/s (${fmtX(serialRate / PY.tiny.serialRate)} Python)`,
      met: serialRate >= 5 * PY.tiny.serialRate,
    },
    ...readOnly.map(([key]) => {
      const limit = key.startsWith('graph') ? 0.33 : 0.6;
      const r = readOnlyRatio.get(key);
      return {
        text: `${key.startsWith('graph') ? '' : 'tiny '}${key}: ≤ ${limit}× Python Jug's time (same run)`,
        measured: `${fmtRatio(r)} (${fmtS(m2.get(key).median)} vs ${fmtS(m2.get(`Python Jug: ${key}`).median)})`,
        met: r.median <= limit,
      };
    }),
    // Issue 19 §3: threads never slower than serial (tiny tasks run in the main thread: inline-policy.ts).
    ...[2, 8].map((n) => {
      const r = rate(`execute, --threads ${n}`);
      const paired = ratioTo(m1, 'execute, serial', `execute, --threads ${n}`);
      return {
        text: `tiny, \`--threads ${n}\` ≥ serial tasks/s (same run, medians)`,
        measured: `${fmtRate(r)} vs ${fmtRate(serialRate)} tasks/s = ${fmtX(r / serialRate)} serial; per repetition (serial wall / threads wall) ${fmtRatio(paired)}: ${paired.ratios.map((x) => x.toFixed(2)).join(', ')}`,
        met: r >= serialRate,
      };
    }),
  ];
  const notes = [
    `${n.toLocaleString('en-US')} trivial tasks \`double(i)\` plus one \`total(xs)\` over all of them (${nTasks} tasks), from an empty jugdir; tasks/s = ${nTasks} / wall (start-up included, as for Python Jug).`,
    'Results are fsynced (file and directory) before a task counts as stored: durable across power loss. This is the default and cannot be turned off from the CLI; Python Jug fsyncs each result file too (and its temporary directory).',
    'Sensitive to recent file deletions on the same filesystem (ext4 without a journal skips inodes freed in the last 60–360 s): run it on a filesystem at rest (see benchmarks/README.md).',
    `"all done" rows: on a jugdir where every task is stored. graph${nBig / 1000}k: the same jugfile with ${nBig.toLocaleString('en-US')} leaves, on an empty jugdir (\`check\` correctly exits 1 there).`,
    `Side by side: Python Jug runs ${PYJUG_LABEL}/jugfiles/tiny.py and graph50k.py${n === 5000 ? '' : ` (copies with N = ${n} and ${nBig})`} with \`python3 ${PYJUG_LABEL}/bin/jug\`; its serial execute (fresh jugdir, checked) runs in every repetition with ours, the order of the five execute configurations rotated by one each repetition (so serial is not always before \`--threads\`), and each read-only command of Python Jug right before the same command of ours, on its own all-done (prepared untimed) or empty jugdir. Ratio = ours / Python Jug's time *of the same repetition*: median (min–max); below 1× = faster than Python Jug.`,
  ];
  return { title: 'tiny — per-task overhead (and graph50k)', rows, goals, notes };
}


const PY_EXEC = 'Python Jug: execute, serial';

async function pyCheck(jugfile, jugdir) {
  const r = await runPyJug(['check', jugfile, '--jugdir', jugdir]);
  if (r.code !== 0) throw new BenchError(`Python Jug tiny: \`jug check\` exited ${r.code} after the run: not every task is stored.`);
}

export default { name: 'tiny', run: benchTiny };
