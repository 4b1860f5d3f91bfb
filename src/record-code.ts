/**
 * The code fingerprint a run record carries (`RunRecord.code` / `parts`, issue 18), per task
 * function: from the file that turned it into a task (the registry's code origin: the
 * TaskGenerator or `new Task` call's file) and TaskGenerator's `version`. Its own module so that
 * the fingerprint's cost and policy can be tuned without touching how records are written.
 *
 * Cost: fingerprinting parses the file (esbuild strips types, acorn parses), and loading those
 * modules alone costs ~100–150 ms; the first synchronous esbuild call of a process as much again.
 * So `jug execute` computes the fingerprints before each pass, asynchronously
 * ({@link prepareTaskCode}), and keeps them on disk in the bundle cache's directory under the hash
 * of the file's contents, the function's name and version and this jug build: a run whose files
 * did not change since the last one loads neither esbuild nor acorn. {@link taskCode} is then a
 * lookup; it never computes (a function not prepared gets no fingerprint).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './bundle.js';
import { codeOrigin, type TaskFunction } from './registry.js';
import type { Task } from './task.js';
import { trace, tracing } from './trace.js';


/** What a record says of the code that computed it. */
export interface RecordCode {
  /** Fingerprint of the task function and what it uses, 16 hex digits. */
  readonly code: string;
  /** Per part (function or definition name), 12 hex digits. */
  readonly parts: Readonly<Record<string, string>>;
}

/** Fingerprints by origin key (file, function name, version); null: none could be made. */
const byKey = new Map<string, RecordCode | null>();
/** The same per function object (a lookup per task). */
const byFn = new WeakMap<TaskFunction, RecordCode | null>();

/** What identifies a task function's code: its origin (undefined for jug's own `jug.*` tasks). */
function originKey(task: Task): string | undefined {
  if (task.name.startsWith('jug.')) return undefined;
  const origin = codeOrigin(task.fn);
  // No origin: a function jug declared the task with (a CompoundTask's stand-in for its result,
  // which differs between loads): no fingerprint, so its results count as unknown, never outdated.
  if (origin === undefined) return undefined;
  return JSON.stringify([origin?.file ?? null, functionNameIn(task.fn, task.name), origin?.version ?? null]);
}

/**
 * The name a task function has in its file: its `name`, unless a loader renamed it (esbuild gives
 * `function first` the name `first2` when another `first` is in scope of a bundle, and keepNames
 * restores it only in some transforms); then the task name's last part when that is the name
 * without its digits.
 */
export function functionNameIn(fn: { readonly name: string }, taskName: string): string {
  const own = fn.name;
  const fromTask = taskName.slice(taskName.lastIndexOf('.') + 1);
  if (own === '' || own === fromTask) return fromTask;
  return /^(.*\D)\d+$/.exec(own)?.[1] === fromTask ? fromTask : own;
}

/**
 * The code fingerprint of `task`'s function, as prepared by {@link prepareTaskCode}; undefined
 * for functions jug declared itself (`jug.*` tasks of map(), mapreduce(), CompoundTask), and
 * those not prepared or whose fingerprint could not be made.
 */
export function taskCode(task: Task): RecordCode | undefined {
  const fn = task.fn;
  let code = byFn.get(fn);
  if (code === undefined) {
    const key = originKey(task);
    code = key === undefined ? null : byKey.get(key);
    if (code === undefined) return undefined; // not prepared (yet)
    byFn.set(fn, code);
  }
  return code ?? undefined;
}

/**
 * Computes (or reads from the disk cache) the fingerprints of the task functions of `tasks`, so
 * that {@link taskCode} finds them. Never fails: a fingerprint that cannot be made is left out.
 */
export async function prepareTaskCode(tasks: readonly Task[]): Promise<void> {
  if (process.env['JUG_RECORD_CODE'] === '0') return; // records without fingerprints (see the README)
  // One look per function, not per task (thousands of tasks share a few functions).
  const seen = new Set<TaskFunction>();
  const todo = new Map<string, Task>();
  const waits: Promise<void>[] = [];
  for (const t of tasks) {
    if (seen.has(t.fn)) continue;
    seen.add(t.fn);
    const key = originKey(t);
    if (key === undefined || byKey.has(key) || todo.has(key)) continue;
    const pending = inFlight.get(key);
    if (pending !== undefined) waits.push(pending);
    else todo.set(key, t);
  }
  let made = 0;
  const sources = new Map<string, string | undefined>(); // file → hash of its source, read once per file
  for (const [key, task] of todo) {
    // From the disk cache synchronously; computing (esbuild's async API) only on a miss.
    const at = cacheLookup(task, sources);
    if (at.cached !== undefined) {
      byKey.set(key, at.cached);
      continue;
    }
    made++;
    const pending = fingerprintOf(task, at).then(
      (code) => void byKey.set(key, code),
      () => void byKey.set(key, null), // a record without a fingerprint counts as "unknown", never as an error
    );
    inFlight.set(key, pending);
    void pending.finally(() => inFlight.delete(key));
    waits.push(pending);
  }
  await Promise.all(waits);
  if (tracing && todo.size > 0) trace(`task code: ${todo.size} function(s), ${made} computed`);
}

/** Fingerprints being computed, by origin key (a second prepareTaskCode() waits for the first's). */
const inFlight = new Map<string, Promise<void>>();

/** Where `task`'s function's fingerprint is cached on disk, and what is there. */
interface CacheLookup {
  readonly fnName: string;
  readonly path: string | undefined;
  readonly cached: RecordCode | undefined;
}

function cacheLookup(task: Task, sources: Map<string, string | undefined>): CacheLookup {
  const origin = codeOrigin(task.fn);
  const file = origin?.file;
  const source = file === undefined ? undefined : sourceHash(file, sources);
  const fnName = functionNameIn(task.fn, task.name);
  const path = source === undefined ? undefined : cachePath(source, fnName, origin?.version);
  return { fnName, path, cached: path === undefined ? undefined : readCached(path) };
}

/** The hash of `file`'s source, read and hashed once per file for all its task functions (memo in `sources`). */
function sourceHash(file: string, sources: Map<string, string | undefined>): string | undefined {
  if (sources.has(file)) return sources.get(file);
  let hash: string | undefined;
  try {
    hash = createHash('sha1').update(readFileSync(file)).digest('hex');
  } catch {
    hash = undefined; // unreadable: no cached fingerprint
  }
  sources.set(file, hash);
  return hash;
}

/** `task`'s function's fingerprint, computed (and cached on disk). */
async function fingerprintOf(task: Task, { fnName, path }: CacheLookup): Promise<RecordCode> {
  const origin = codeOrigin(task.fn);
  const file = origin?.file;
  const { codeFingerprint } = await import('./fingerprint/index.js');
  const { moduleIndexAsync } = await import('./fingerprint/module-index.js');
  if (file !== undefined) await moduleIndexAsync(file); // parsed with esbuild's async API
  const fp = codeFingerprint({ fn: task.fn, fnName, file, version: origin?.version });
  const code: RecordCode = { code: fp.hash, parts: fp.parts };
  // Only a fingerprint made from the file is cached (the fallback, fn.toString(), is not the file's).
  if (path !== undefined && fp.parts[fnName] !== undefined && fp.where[fnName]?.includes(':')) writeCached(path, code);
  return code;
}

/** This jug build (its fingerprints may differ from another's). */
const BUILD = ((): string => {
  const self = fileURLToPath(import.meta.url);
  try {
    const st = statSync(self);
    return `${self}\0${st.mtimeMs}\0${st.size}`;
  } catch {
    return self;
  }
})();

function cachePath(sourceHash: string, fnName: string, version: string | number | undefined): string | undefined {
  const dir = cacheDir();
  if (dir === undefined) return undefined;
  const key = createHash('sha1').update(JSON.stringify(['fp2', BUILD, fnName, version ?? null, sourceHash])).digest('hex');
  return join(dir, `code-${key}.json`);
}

function readCached(path: string): RecordCode | undefined {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<RecordCode>;
    if (typeof r.code !== 'string' || typeof r.parts !== 'object' || r.parts === null) return undefined;
    return { code: r.code, parts: r.parts };
  } catch {
    return undefined;
  }
}

/** Best-effort (no cache: the next run computes it again). */
function writeCached(path: string, code: RecordCode): void {
  const tmp = `${path}.${process.pid}-${Math.random().toString(16).slice(2)}`;
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify(code), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // not writable
  }
}
