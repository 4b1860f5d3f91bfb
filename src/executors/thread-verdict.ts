/**
 * The last `--threads` run's verdict on a jugfile (issue 19 §3): "every task ran in the main
 * thread; these task functions proved tiny". A run of thousands of tiny tasks under `--threads N`
 * runs them all in the main thread (inline-policy.ts), but only the graph and the first runs tell
 * that, so every run booted a thread at start (Node's bootstrap of a thread and jug's modules, ~0.1 s
 * of CPU beside the main thread's) and loaded Piscina (~30–40 ms of the main thread's). With a
 * verdict, the next run of the same jugfile starts no pool: the functions it names run in the
 * main thread from their first task, and the pool (Piscina, its first wave) starts only when a task
 * needs a thread (lazy-pool.ts).
 *
 * Stored beside the bundle cache (bundle.ts) as `<key>.threads.json`, key as the bundle's: it
 * holds the name of the bundle it was drawn from (the hash of the jugfile's code and its local
 * modules) and the jugfile's arguments; it applies only while both are the same. A wrong or
 * stale verdict (the environment makes the tasks slow now) costs only time: a remembered
 * function still goes to the threads for good after two runs of LONG_MS or one of LONG_ONCE_MS,
 * or once its own MIN_SAMPLES runs are not tiny (inline-policy.ts), its tasks running in the main
 * thread one at a time until then (InlinePolicy.onTrial), and a run in which threads loaded the
 * jugfile removes the verdict. `JUG_THREAD_VERDICT=0` neither reads nor writes
 * verdicts (as does `JUG_BUNDLE_CACHE=0`, which turns the cache directory off).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, cacheKey, cacheWrite, cachedBundleName } from '../bundle.js';
import { trace, tracing } from '../trace.js';

/** What a `--threads` run leaves for the next run of the same jugfile. */
export interface ThreadVerdict {
  /** Task functions (by name) that ran in the main thread, proved tiny. Never empty. */
  readonly tiny: readonly string[];
}

/** The verdict file's contents. */
interface StoredVerdict extends ThreadVerdict {
  readonly bundle: string;
  readonly args: readonly string[];
}

/** Where `jugfile`'s verdict is, and the bundle it must match; undefined: none can apply. */
function verdictFile(jugfile: string): { readonly path: string; readonly bundle: string } | undefined {
  if (process.env['JUG_THREAD_VERDICT'] === '0') return undefined;
  const dir = cacheDir();
  const bundle = dir === undefined ? undefined : cachedBundleName(jugfile);
  if (dir === undefined || bundle === undefined) return undefined;
  return { path: join(dir, `${cacheKey(jugfile)}.threads.json`), bundle };
}

const sameArgs = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The verdict of the last run of `jugfile` with `args`, if it was drawn from the same code. */
export function readVerdict(jugfile: string, args: readonly string[]): ThreadVerdict | undefined {
  const at = verdictFile(jugfile);
  if (at === undefined) return undefined;
  let stored: Partial<StoredVerdict>;
  try {
    stored = JSON.parse(readFileSync(at.path, 'utf8')) as Partial<StoredVerdict>;
  } catch {
    return undefined;
  }
  const { tiny } = stored;
  if (stored.bundle !== at.bundle || !Array.isArray(stored.args) || !sameArgs(stored.args, args)) return undefined;
  if (!Array.isArray(tiny) || tiny.length === 0 || !tiny.every((n) => typeof n === 'string')) return undefined;
  return { tiny };
}

/**
 * Records how a run of `jugfile` went: `verdict` when no thread loaded the jugfile and some
 * functions proved tiny in the main thread; `threads` when threads loaded it (the verdict, if
 * any, goes); nothing to say (no task ran): left as it is. `before`: the verdict the run started
 * with (not written again when the same).
 */
export function recordVerdict(
  jugfile: string,
  args: readonly string[],
  outcome: ThreadVerdict | 'threads' | undefined,
  before: ThreadVerdict | undefined,
): void {
  if (outcome === undefined) return;
  const at = verdictFile(jugfile);
  if (at === undefined) return;
  if (outcome === 'threads') {
    if (tracing) trace('thread verdict: threads loaded the jugfile, none remembered');
    rmSync(at.path, { force: true });
    return;
  }
  const tiny = [...outcome.tiny].sort();
  if (before !== undefined && sameArgs([...before.tiny].sort(), tiny)) return;
  const stored: StoredVerdict = { bundle: at.bundle, args: [...args], tiny };
  if (cacheWrite(join(at.path, '..'), at.path, JSON.stringify(stored)) && tracing) {
    trace(`thread verdict: every task ran in the main thread (${tiny.join(', ')} tiny): the next run starts no thread pool until a task needs a thread`);
  }
}
