/**
 * The code of the loaded jugfile's task functions now, as the comparisons with run records need
 * it: per task, the fingerprint its next run record would carry (src/record-code.ts: the same
 * function, the same disk cache, so a result just computed is never called outdated), and, for
 * the few functions whose code changed, where each part is (`file:line`) for messages.
 */
import { codeFingerprint, type CodeFingerprint } from '../fingerprint/index.js';
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

const whereCache = new Map<string, { fn: unknown; fingerprint: CodeFingerprint }>();

/**
 * Where the parts of the code of tasks named `name` are now (`file:line` per part name), or an
 * empty record for a name no function is registered under. Parses the file (once per name).
 */
export function partsWhere(name: string): Readonly<Record<string, string>> {
  const fn = functionByName(name);
  if (fn === undefined) return {};
  const hit = whereCache.get(name);
  if (hit !== undefined && hit.fn === fn) return hit.fingerprint.where;
  const origin = codeOrigin(fn);
  const fingerprint = codeFingerprint({ fn, fnName: functionNameIn(fn, name), file: origin?.file, version: origin?.version });
  whereCache.set(name, { fn, fingerprint });
  return fingerprint.where;
}
