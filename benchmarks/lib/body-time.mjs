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

/** Median ms (CPU time) of one of our task bodies, countDivisors(1_000_003 + i, limit), in a fresh Node. */
export function ourBodyMs(limit, calls = 15) {
  const url = pathToFileURL(join(JUGFILES, 'divisors.mjs')).href;
  const script = `
    const { countDivisors } = await import(${JSON.stringify(url)});
    const times = [];
    for (let i = 0; i < ${calls}; i++) {
      // The process's CPU time (getrusage: microseconds). /proc/thread-self/schedstat would count
      // this thread alone, but here it moves in 4-ms ticks; V8's compiler threads work only during
      // the first calls, which the median leaves out.
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
 * Chooses `limit` so that our body takes as long as Python Jug's on this machine now. Each round
 * measures `pairs` pairs in alternation (Python, ours, Python, ours…, so that drift of the
 * machine's speed cancels) at one limit; the next round's limit scales it by the median of the
 * pairs' ratios (the loop's time is linear in it). Rounds stop once a round agrees within 3 %;
 * the round closest to 1 is kept (a noisy round cannot leave the last, worse, limit in place:
 * on 2026-12-03 an oscillating calibration ended at ours/Python 1.62), and if even that one is
 * more than 5 % off the benchmark stops with an error rather than compare unequal bodies.
 * `log` gets one line per round. Returns the limit, both bodies' medians over that round's pairs
 * and the median of their per-pair ratios (ours / Python).
 */
export function calibrateToPython(pyJugfilePath, startLimit, pairs = 3, rounds = 6, log = () => {}) {
  const measurePairs = (limit) => {
    const py = [];
    const ours = [];
    for (let i = 0; i < pairs; i++) {
      py.push(pyBodyMs(pyJugfilePath));
      ours.push(ourBodyMs(limit));
    }
    const r = { limit, pyMs: median(py), ourMs: median(ours), ratio: median(ours.map((o, i) => o / py[i])) };
    log(`body calibration: limit ${limit.toLocaleString('en-US')}: Python ${py.map((x) => x.toFixed(1)).join('/')} ms, ours ${ours.map((x) => x.toFixed(1)).join('/')} ms, ratio ${r.ratio.toFixed(3)}`);
    return r;
  };
  let last = measurePairs(startLimit);
  let best = last;
  for (let round = 1; round < rounds && Math.abs(last.ratio - 1) >= 0.03; round++) {
    last = measurePairs(Math.max(100_000, Math.round(last.limit / last.ratio / 1000) * 1000));
    if (Math.abs(last.ratio - 1) < Math.abs(best.ratio - 1)) best = last;
  }
  if (Math.abs(best.ratio - 1) > 0.05) {
    throw new BenchError(`primes_cpu: could not calibrate our body to Python Jug's within 5 % in ${rounds} rounds (best ours/Python ${best.ratio.toFixed(3)} at limit ${best.limit}): the machine is too noisy now`);
  }
  return best;
}
