/**
 * Python Jug 2.5, run in place from ../shared/pyjug (`python3 ../shared/pyjug/bin/jug …` with the
 * anchors' Python jugfiles in ../shared/pyjug/jugfiles/), for side-by-side benchmarks: the same
 * workload with Python Jug and with ours, interleaved, in one run (see sideBySide()).
 *
 * The interpreter is resolved once to the real executable (`sys.executable`): `python3` on PATH
 * may be a pyenv shim, a shell script adding ~0.4 s to every start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchError, ROOT, WORK, describeRun, fmtS, fmtX, log, measureAll, median, runProcess, timeCommand } from './harness.mjs';

/** How reports name the shared copy: relative to the repository, never an absolute path of this machine. */
export const PYJUG_LABEL = '../shared/pyjug';

let found;

/**
 * Where Python Jug is: $JUG_PYJUG, or ../shared/pyjug next to the repository (a worktree one
 * level deeper finds ../../shared/pyjug). Returns `{ dir, jug, jugfiles, python, version }`, or
 * `{ missing }` saying why not.
 */
export function findPyJug() {
  if (found) return found;
  const candidates = [process.env['JUG_PYJUG'], resolve(ROOT, '..', 'shared', 'pyjug'), resolve(ROOT, '..', '..', 'shared', 'pyjug')];
  const dir = candidates.find((d) => d && existsSync(join(d, 'bin', 'jug')));
  if (!dir) return (found = { missing: `Python Jug not found at ${PYJUG_LABEL} (set JUG_PYJUG to its directory)` });
  let python;
  try {
    python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch (e) {
    return (found = { missing: `python3 does not run (${e.message.split('\n')[0]})` });
  }
  const version = execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).trim();
  return (found = { dir, jug: join(dir, 'bin', 'jug'), jugfiles: join(dir, 'jugfiles'), python, version });
}

/** The Python Jug installation, or a BenchError saying why there is none. */
export function requirePyJug() {
  const py = findPyJug();
  if (py.missing) throw new BenchError(`${py.missing}; side-by-side workloads need it.`);
  return py;
}

/** `python3 ../shared/pyjug/bin/jug ...args` as run by runProcess (options: env, cwd, rss). */
export function runPyJug(args, options = {}) {
  const py = requirePyJug();
  return runProcess(py.python, [py.jug, ...args], { ...options, label: `python3 ${PYJUG_LABEL}/bin/jug` });
}

/** Times `python3 ../shared/pyjug/bin/jug ...args` (see timeCommand). */
export function timePyJug(args, what, options = {}) {
  const py = requirePyJug();
  return timeCommand(py.python, [py.jug, ...args], what, { ...options, label: `python3 ${PYJUG_LABEL}/bin/jug` });
}

/**
 * The anchors' Python jugfile `name` (e.g. 'tiny.py'), or, when `edits` (`[regex, replacement]`
 * pairs, e.g. a smaller N for --quick) are given, a copy under benchmarks/.work with them applied.
 * Each edit must match: a jugfile that changed upstream stops the benchmark instead of silently
 * measuring something else.
 */
export function pyJugfile(name, edits = []) {
  const original = join(requirePyJug().jugfiles, name);
  if (edits.length === 0) return original;
  let text = readFileSync(original, 'utf8');
  for (const [re, by] of edits) {
    if (!re.test(text)) throw new BenchError(`${PYJUG_LABEL}/jugfiles/${name}: expected to find ${re} to edit; has the jugfile changed?`);
    text = text.replace(re, by);
  }
  mkdirSync(WORK, { recursive: true });
  // Same basename in its own directory: Python Jug names tasks after the jugfile's module.
  const dir = join(WORK, `pyjugfile-${process.pid}-${edits.map(([, by]) => by).join('-').replace(/\W+/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, name);
  writeFileSync(copy, text);
  return copy;
}

/** One untimed run so that Python Jug's byte-compiled cache exists before the first timed one. */
export async function warmPyJug() {
  const r = await runPyJug(['--version']);
  if (r.code !== 0) log(`[pyjug] warm-up exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
}

/**
 * Side by side: `configs` (each `{ key, run(rep) → { ms, rssMiB? } }`, one of them the Python
 * Jug baseline `pythonKey`) are run interleaved, rep by rep (measureAll). Returns, per key, the
 * timing statistics, the median peak RSS and the ratio to the baseline *of the same repetition*
 * (`ratios`, and their median, min and max).
 */
export async function sideBySide(workload, configs, reps, baselineOf) {
  const rss = new Map(configs.map((c) => [c.key, []]));
  const wrapped = configs.map((c) => ({
    key: c.key,
    run: async (rep) => {
      const { ms, rssMiB } = await c.run(rep);
      if (rssMiB !== undefined) rss.get(c.key).push(rssMiB);
      return ms;
    },
  }));
  const measured = await measureAll(workload, wrapped, reps);
  const out = new Map();
  for (const c of configs) {
    const s = measured.get(c.key);
    const base = baselineOf(c.key);
    const b = base === undefined || base === c.key ? undefined : measured.get(base);
    const ratios = b ? s.walls.map((w, i) => w / b.walls[i]) : undefined;
    const r = rss.get(c.key);
    out.set(c.key, {
      ...s,
      rssMiB: r.length ? median(r) : undefined,
      ratios,
      ratio: ratios ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) } : undefined,
    });
  }
  return out;
}

/**
 * Starts every argument list in `group` at once as Python Jug processes (cwd `cwd`), and returns
 * the wall time in ms from before the first spawn until the last exit. Stops the benchmark
 * unless each exits `expectCode` (`null`: any exit code, for `jug status`, whose exit code in
 * Python Jug 2.5 is the number of finished tasks modulo 256).
 */
export async function timePyGroup(group, what, { cwd, expectCode = 0 } = {}) {
  const t0 = performance.now();
  const results = await Promise.all(group.map((args) => runPyJug(args, { cwd })));
  const bad = results.filter((r) => (expectCode === null ? r.signal !== null : r.code !== expectCode));
  if (bad.length > 0) {
    throw new BenchError(`${what}: ${bad.length} of ${results.length} Python Jug process(es) did not exit ${expectCode}.\n${bad.map(describeRun).join('')}`);
  }
  return { ms: Math.max(...results.map((r) => r.end)) - t0 };
}

/**
 * Per-repetition ratio of config `key` to config `baseKey` in one measureAll() result (both ran in
 * every repetition, interleaved): `{ ratios, median, min, max }`.
 */
export function ratioTo(measured, key, baseKey) {
  const a = measured.get(key).walls;
  const b = measured.get(baseKey).walls;
  const ratios = a.map((w, i) => w / b[i]);
  return { ratios, median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/** "0.21× (0.19–0.24)": a per-repetition ratio's median and range. */
export function fmtRatio(r) {
  return `${fmtX(r.median)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
}

/** "12.3 s, 540 MiB": a baseline's median wall and peak RSS, for the anchor column. */
export function fmtBaseline(s) {
  return `${fmtS(s.median)} (${fmtS(s.min)}–${fmtS(s.max)})${s.rssMiB !== undefined ? `, ${s.rssMiB.toFixed(0)} MiB` : ''}`;
}
