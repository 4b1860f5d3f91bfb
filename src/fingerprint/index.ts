/**
 * Code fingerprints: which code computed a result, so that a result computed by code that has
 * changed since can be shown as outdated (never recomputed silently, and the task's hash, its
 * identity in the store, never changes).
 *
 * A task function's fingerprint covers, in normal form (normalize.ts: comments, whitespace,
 * formatting and local names do not count):
 * - the task function's own code, found statically in the file that declares the task
 *   (module-index.ts);
 * - the top-level definitions of that file it uses — functions, classes, constants — and those
 *   they use in turn (a name used is included even where a local of the same name shadows it:
 *   a conservative superset);
 * - the `version` given to TaskGenerator, for code the fingerprint cannot see (other files,
 *   npm packages, data files).
 * Code imported from other modules is not covered. Where the declaring file cannot be read or
 * parsed, or the function is not found in it, the function's own `toString()` in normal form is
 * used instead (then the fingerprint may differ between loaders: serial and --threads).
 */
import { createHash } from 'node:crypto';
import { moduleIndex, type Definition } from './module-index.js';
import { normalizeCode } from './normalize.js';

export { normalizeCode } from './normalize.js';
export { indexSource, moduleIndex } from './module-index.js';

/** A fingerprint, and the fingerprints of its parts (to tell which one changed). */
export interface CodeFingerprint {
  /** 16 hex digits over every part and the version. */
  readonly hash: string;
  /** Per part, its name (the task function's own under its function name) and 12 hex digits. */
  readonly parts: Readonly<Record<string, string>>;
  /** Where each part is defined, `file:line`, for messages. */
  readonly where: Readonly<Record<string, string>>;
}

/** What identifies the code of a task function. */
export interface FingerprintTarget {
  /** The function (its `toString()` is the fallback). */
  readonly fn: (...args: never[]) => unknown;
  /** The name it has in its file (`fn.name`). */
  readonly fnName: string;
  /** The file that declares it (the TaskGenerator call's file), absolute. */
  readonly file?: string | undefined;
  /** TaskGenerator's `version`: bumped by hand for changes the fingerprint cannot see. */
  readonly version?: string | number | undefined;
}

const short = (text: string, n: number): string => createHash('sha256').update(text).digest('hex').slice(0, n);

/** The fingerprint of a task function's code (see the module comment). */
export function codeFingerprint(target: FingerprintTarget): CodeFingerprint {
  const parts = collectParts(target);
  const names = [...parts.keys()].sort();
  const hashes: Record<string, string> = {};
  const where: Record<string, string> = {};
  for (const n of names) {
    hashes[n] = short(parts.get(n)!.code, 12);
    where[n] = parts.get(n)!.where;
  }
  const version = target.version === undefined ? '' : String(target.version);
  return { hash: short(JSON.stringify([names.map((n) => [n, hashes[n]]), version]), 16), parts: hashes, where };
}

/** The task function and every top-level definition it reaches, by name. */
function collectParts(target: FingerprintTarget): Map<string, { code: string; where: string }> {
  const out = new Map<string, { code: string; where: string }>();
  const index = target.file === undefined ? undefined : moduleIndex(target.file);
  const own = index?.functions.get(target.fnName) ?? index?.topLevel.get(target.fnName);
  const base = target.file?.split(/[\\/]/).pop() ?? '?';
  if (index === undefined || own === undefined) {
    out.set(target.fnName, { code: fallbackCode(target.fn), where: base });
    return out;
  }
  const at = (d: Definition): string => `${base}:${d.line}`;
  out.set(target.fnName, { code: own.code, where: at(own) });
  const queue = [...own.uses];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (out.has(name)) continue;
    const def = index.topLevel.get(name);
    if (def === undefined) continue;
    out.set(name, { code: def.code, where: at(def) });
    queue.push(...def.uses);
  }
  return out;
}

function fallbackCode(fn: (...args: never[]) => unknown): string {
  const text = Function.prototype.toString.call(fn);
  try {
    return normalizeCode(text, text.startsWith('class') ? 'class' : 'function');
  } catch {
    return text; // e.g. a method's shorthand text, not an expression: as written
  }
}
