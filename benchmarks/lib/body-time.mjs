/**
 * primes_cpu's fairness: the task bodies of both sides must take the same time on this machine,
 * measured the same way, or the side-by-side ratio compares body speeds instead of frameworks.
 * Python Jug's body is its jugfile's own function (../shared/pyjug/jugfiles/primes_cpu.py, a loop
 * over ~1e6 divisors); ours is a loop whose length (`limit`) we choose. Both are timed here
 * outside any jug, each in a fresh interpreter as a jugfile's function runs (no warm-up beyond
 * the calls themselves): the median of `calls` calls on the workload's own arguments, in CPU
 * time (on a shared machine, wall time also counts the time other processes had the core).
 */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { BenchError, JUGFILES, median } from './harness.mjs';
import { requirePyJug } from './pyjug.mjs';

/**
 * Runs the Python jugfile with a stand-in `jug` module whose TaskGenerator only records the
 * calls, then times the first `calls` recorded task calls. Prints the median in ms.
 */
const PY_TIMER = `
import runpy, statistics, sys, time, types
calls = []
class TaskGenerator:
    def __init__(self, f): self.f = f
    def __call__(self, *a, **k): calls.append((self.f, a, k))
jug = types.ModuleType('jug'); jug.TaskGenerator = TaskGenerator
sys.modules['jug'] = jug
runpy.run_path(sys.argv[1], run_name='jugfile')
times = []
for f, a, k in calls[:int(sys.argv[2])]:
    t0 = time.thread_time(); f(*a, **k); times.append((time.thread_time() - t0) * 1000)
print(statistics.median(times))
`;

/** Median ms of one task body of Python Jug's `jugfile` (python3, outside jug). */
export function pyBodyMs(jugfile, calls = 15) {
  const { python } = requirePyJug();
  const out = execFileSync(python, ['-c', PY_TIMER, jugfile, String(calls)], { encoding: 'utf8' });
  const ms = Number(out.trim());
  if (!(ms > 0)) throw new BenchError(`timing the body of ${jugfile} in python3 printed ${JSON.stringify(out)}`);
  return ms;
}

/** Median ms of one of our task bodies, countDivisors(1_000_003 + i, limit), in a fresh Node. */
export function ourBodyMs(limit, calls = 15) {
  const url = pathToFileURL(join(JUGFILES, 'divisors.mjs')).href;
  const script = `
    const { countDivisors } = await import(${JSON.stringify(url)});
    const times = [];
    for (let i = 0; i < ${calls}; i++) {
      const t0 = process.cpuUsage();
      countDivisors(1_000_003 + i, ${limit});
      const t = process.cpuUsage(t0);
      times.push((t.user + t.system) / 1000);
    }
    times.sort((a, b) => a - b);
    console.log(times[${calls} >> 1]);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.trim());
}

/**
 * Chooses `limit` so that our body takes as long as Python Jug's on this machine now. `pairs`
 * pairs are measured in alternation (Python, ours, Python, ours…, so that drift of the machine's
 * speed cancels); the median of their ratios scales the limit (the loop's time is linear in it),
 * and the pairs at the scaled limit check it, until they agree within 3 % (at most `rounds`
 * rounds). Returns the limit, both bodies' medians over the last pairs and the median of their
 * per-pair ratios (ours / Python).
 */
export function calibrateToPython(pyJugfilePath, startLimit, pairs = 3, rounds = 4) {
  const measurePairs = (limit) => {
    const py = [];
    const ours = [];
    for (let i = 0; i < pairs; i++) {
      py.push(pyBodyMs(pyJugfilePath));
      ours.push(ourBodyMs(limit));
    }
    return { limit, pyMs: median(py), ourMs: median(ours), ratio: median(ours.map((o, i) => o / py[i])) };
  };
  let last = measurePairs(startLimit);
  for (let round = 1; round < rounds && Math.abs(last.ratio - 1) >= 0.03; round++) {
    last = measurePairs(Math.max(100_000, Math.round(last.limit / last.ratio / 1000) * 1000));
  }
  return last;
}
