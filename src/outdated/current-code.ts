/**
 * The code of the loaded jugfile's task functions now, as the comparisons with run records need
 * it: per task, the fingerprint its next run record would carry (src/record-code.ts: the same
 * function, the same disk cache, so a result just computed is never called outdated), and, for
 * the few functions whose code changed, where each part is (`file:line`) for messages.
 */
import { functionNameIn, prepareTaskCode, taskCode, type RecordCode } from '../record-code.js';
import { codeOrigin, functionByName } from '../registry.js';
import type { Task } from '../task.js';

/** Prepares the fingerprints of `tasks`' functions (cached on disk); then {@link codeNow} is a lookup. */
export async function prepareCodeNow(tasks: readonly Task[]): Promise<void> {
  await prepareTaskCode(tasks);
}

/** The fingerprint `task`'s next run record would carry; undefined for jug's own tasks. */
export function codeNow(task: Task): RecordCode | undefined {
  return taskCode(task);
}

/**
 * Where the parts of the code of tasks named by `names` are now (`file:line` per part name; an
 * empty record for a name no function is registered under). Parses their files; the fingerprint
 * modules are loaded only here, when some result is outdated.
 */
export async function partsWhere(names: Iterable<string>): Promise<Map<string, Readonly<Record<string, string>>>> {
  const { codeFingerprint } = await import('../fingerprint/index.js');
  const out = new Map<string, Readonly<Record<string, string>>>();
  for (const name of names) {
    const fn = functionByName(name);
    if (fn === undefined) {
      out.set(name, {});
      continue;
    }
    const origin = codeOrigin(fn);
    out.set(name, codeFingerprint({ fn, fnName: functionNameIn(fn, name), file: origin?.file, version: origin?.version }).where);
  }
  return out;
}
