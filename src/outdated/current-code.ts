/**
 * The code fingerprint of each task name of the loaded jugfile, as the code is now: computed once
 * per task name and load (the function registered under the name, the file its TaskGenerator was
 * called from, its `version`), so thousands of tasks of one function cost one fingerprint.
 * Run records store it when a task runs; `jug status`, `jug why` and `--rerun-outdated` compare.
 */
import { codeFingerprint, type CodeFingerprint } from '../fingerprint/index.js';
import { functionEntry } from '../registry.js';

interface Cached {
  readonly fn: unknown;
  readonly file: string | undefined;
  readonly version: string | number | undefined;
  readonly fingerprint: CodeFingerprint;
}

/** Per task name, the last fingerprint and what it was computed from (a new load may change them). */
const cache = new Map<string, Cached>();

/**
 * The fingerprint of the code of tasks named `name` now, or undefined for a name no function is
 * registered under in this thread (e.g. jug's own tasks are registered too: they get one).
 */
export function currentCode(name: string): CodeFingerprint | undefined {
  const entry = functionEntry(name);
  if (entry === undefined) return undefined;
  const hit = cache.get(name);
  if (hit !== undefined && hit.fn === entry.fn && hit.file === entry.file && hit.version === entry.version) return hit.fingerprint;
  const fingerprint = codeFingerprint({
    fn: entry.fn as (...args: never[]) => unknown,
    fnName: functionNameIn(entry.fn, name),
    file: entry.file,
    version: entry.version,
  });
  cache.set(name, { fn: entry.fn, file: entry.file, version: entry.version, fingerprint });
  return fingerprint;
}

/**
 * The name the function has in its file: its `name`, unless a loader renamed it (esbuild gives
 * `function first` the name `first2` when another `first` is in scope of the bundle, and keepNames
 * then restores it only sometimes); then the task name's function part.
 */
function functionNameIn(fn: { name: string }, taskName: string): string {
  const own = fn.name;
  const fromTask = taskName.slice(taskName.lastIndexOf('.') + 1);
  if (own === '' || own === fromTask) return fromTask;
  return /^(.*\D)\d+$/.exec(own)?.[1] === fromTask ? fromTask : own;
}
