/**
 * Task names: `<module>.<function>`, where module is the basename (without extension) of the file
 * in which the function is turned into a task — the `TaskGenerator(...)` call, or the `new Task(...)`
 * call for a plain function. That is the file that defines the function in the usual pattern
 * `export const isPrime = TaskGenerator(function isPrime(n) { ... })`. We read it from the call
 * site's stack frame: Node maps frames through source maps (tsx, esbuild bundles), so the frame
 * names the user's `.ts` file even when it runs compiled.
 */
import { basename, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskDefinitionError } from './errors.js';
import { PACKAGE_ROOT } from './package-root.js';

/**
 * This library's own module directories. Built code lives in dist/, but with source maps enabled
 * (tsx, worker threads) its frames are reported at src/, so both are skipped.
 */
const LIB_DIRS = [join(PACKAGE_ROOT, 'src') + sep, join(PACKAGE_ROOT, 'dist') + sep];

/** A stack frame location outside the jug library. */
export interface CallSite {
  /** Absolute path of the file. */
  readonly file: string;
  readonly line: number;
  /** `file:line` for messages (basename only). */
  readonly where: string;
}

const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?$/;

/** The first stack frame that is not inside the jug library (nor Node internals). */
export function userCallSite(): CallSite | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line.trim());
    if (m === null) continue;
    let file = m[1]!;
    if (file.startsWith('node:') || file.startsWith('internal/')) continue;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file.replace(/\?.*$/, ''));
      } catch {
        continue;
      }
    }
    if (LIB_DIRS.some((d) => file.startsWith(d))) continue;
    if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) continue;
    const lineNo = Number(m[2]);
    return { file, line: lineNo, where: `${basename(file)}:${lineNo}` };
  }
  return undefined;
}

/** Module part of a task name for a file: `/x/primes.ts` → `primes`. */
export function moduleName(file: string): string {
  const base = basename(file);
  return base.slice(0, base.length - extname(base).length);
}

const VALID_FUNCTION_NAME = /^[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_]*$/u;

/**
 * Name for a task function: `explicit` when given, else `<module>.<fn.name>` from the call site.
 * Throws a TaskDefinitionError for anonymous functions.
 */
export function deriveTaskName(
  fn: { readonly name: string },
  explicit: string | undefined,
  site: CallSite | undefined,
  what: string,
): string {
  if (explicit !== undefined) {
    if (typeof explicit !== 'string' || explicit.length === 0) {
      throw new TaskDefinitionError(`${what}: option 'name' must be a non-empty string.`);
    }
    if (explicit.startsWith('jug.')) {
      throw new TaskDefinitionError(`${what}: task names starting with 'jug.' are reserved for jug itself, got '${explicit}'.`);
    }
    return explicit;
  }
  const fname = fn.name;
  const at = site === undefined ? '' : ` (at ${site.where})`;
  if (!fname || !VALID_FUNCTION_NAME.test(fname)) {
    const shown = fname ? `'${fname}'` : 'an anonymous function';
    throw new TaskDefinitionError(
      `${what} needs a named function, got ${shown}${at}. Task names come from function names: ` +
        `write ${what}(function double(x) { ... }) or declare 'const double = (x) => ...' first` +
        (/Generator$/.test(what) ? `, or pass { name: 'module.double' }.` : '.'),
    );
  }
  const mod = site === undefined ? 'jugfile' : moduleName(site.file);
  return `${mod}.${fname}`;
}
