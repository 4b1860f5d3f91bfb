/**
 * Loading a jugfile: a TypeScript (.ts, .mts, .cts) or JavaScript (.js, .mjs, .cjs) ES module
 * that declares tasks, with no compile step for the user. By default the jugfile is bundled once
 * with esbuild (bundle.ts) and imported from the bundle, in the parent and in every worker
 * thread alike; JUG_LOADER=tsx imports it through tsx's loader hooks instead. The registry is
 * reset before each load and each load imports a fresh module URL, so each builds a fresh graph.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, extname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JugError, JugfileError, describeError } from './errors.js';
import { beginLoad, registry } from './registry.js';
import { Task } from './task.js';
import { BundleError, bundleJugfile, type JugfileBundle } from './bundle.js';
import { BarrierError, type BarrierStop } from './barrier.js';
import { clearHooksForReload } from './hooks.js';
import type { Store } from './store/store.js';
import { isRedisUrl, withDefaultPrefix } from './store/redis-url.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JUGFILE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** What loading a jugfile produced. */
export interface LoadedJugfile {
  /** Absolute path of the jugfile. */
  readonly path: string;
  /** Tasks declared during the load, in declaration order. */
  readonly tasks: Task[];
  /** The jugfile module's exports (partial when the load stopped at a barrier). */
  readonly exports: Record<string, unknown>;
  /** Set when the load stopped at a `barrier()` / `bvalue()`: `tasks` are those declared before it. */
  readonly barrier: BarrierStop | undefined;
  /** The listing of stored hashes the load's barrier checks used. */
  readonly stored: ReadonlySet<string>;
}

/** Options of {@link loadJugfile}. */
export interface LoadOptions {
  /** The bundle to import (default: bundle the jugfile now). */
  bundle?: Promise<JugfileBundle>;
  /**
   * Hashes stored right now, for `barrier()` / `bvalue()` / `CompoundTask` during the load.
   * @default one listing of the active store (none stored if no store is active)
   */
  stored?: ReadonlySet<string>;
}

let tsxReady: Promise<void> | undefined;

/** Installs tsx's ESM and CJS hooks in this thread (once): the `JUG_LOADER=tsx` path. */
function ensureTypeScript(): Promise<void> {
  tsxReady ??= (async () => {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    esm.register();
    cjs.register();
  })();
  return tsxReady;
}

/**
 * How jugfiles are imported. `bundle` (default): esbuild bundles the jugfile with its local
 * modules once (see bundle.ts) and the parent and every worker thread import that same file.
 * `tsx`: tsx's loader hooks import the jugfile directly (slower start; worker threads still use
 * the bundle). Set with the environment variable JUG_LOADER.
 */
export function loaderKind(): 'bundle' | 'tsx' {
  return process.env['JUG_LOADER'] === 'tsx' ? 'tsx' : 'bundle';
}

/** Default jugfile when none is named: the first of jugfile.ts, .mts, .js, .mjs in `cwd`. */
export function findDefaultJugfile(cwd = process.cwd()): string {
  for (const ext of JUGFILE_EXTENSIONS) {
    const p = resolve(cwd, `jugfile${ext}`);
    if (existsSync(p)) return p;
  }
  throw new JugfileError(
    `No jugfile given and none found in ${cwd} (looked for jugfile.ts, jugfile.mts, jugfile.js, jugfile.mjs). ` +
      `Name it on the command line, e.g. \`jug execute primes.ts\`.`,
  );
}

/** Default jugdir for a jugfile: the path without its extension plus `.jugdata`. */
export function defaultJugdir(jugfile: string): string {
  const ext = extname(jugfile);
  return (ext ? jugfile.slice(0, -ext.length) : jugfile) + '.jugdata';
}

/**
 * The jugdir of `jugfile`: `jugdir` (from `--jugdir` or a config file) with Python Jug's
 * placeholders filled in — `%(jugfile)s`, the jugfile's path without its extension, and
 * `%(date)s`, today's date (YYYY-MM-DD, local time) — or, when not given, {@link defaultJugdir}. A
 * Redis URL without `prefix=` gets the default prefix `jug:<jugfile name>`.
 */
export function jugdirFor(jugdir: string | undefined, jugfile: string): string {
  if (jugdir === undefined) return defaultJugdir(jugfile);
  if (isRedisUrl(jugdir)) return withDefaultPrefix(jugdir, jugfile);
  if (!jugdir.includes('%(')) return jugdir;
  const ext = extname(jugfile);
  const now = new Date();
  const two = (n: number): string => String(n).padStart(2, '0');
  return jugdir
    .replaceAll('%(jugfile)s', ext ? jugfile.slice(0, -ext.length) : jugfile)
    .replaceAll('%(date)s', `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`);
}

let loadCount = 0;

/**
 * Under the CLI, a jugfile sees `process.argv` as if run by `node jugfile args...`: the jugfile's
 * path, then the arguments given after it on the command line (none by default), in every thread.
 */
export function setJugfileArgv(path: string, args = registry().jugfileArgs): void {
  if (args !== undefined) process.argv = [process.argv[0] ?? process.execPath, path, ...args];
}

/**
 * The jugdir the jugfile chose with `setJugdir()` during its last load, if it is not `current`'s
 * location: the path, or the Store object it passed. Undefined when it chose none, or the same.
 */
export function jugdirChosen(current: Store): string | Store | undefined {
  const choice = registry().jugdirChoice;
  if (choice === undefined || choice === current) return undefined;
  const location = typeof choice === 'string' ? choice : choice.location;
  const same = location === ':memory:' || current.location === ':memory:' ? location === current.location : resolve(location) === resolve(current.location);
  // A Store object of its own (a custom store) is taken as it is, even at the same location.
  return same && typeof choice === 'string' ? undefined : choice;
}

/**
 * Loads the jugfile against `store`: its listing is what the jugfile's barriers see. A jugfile may
 * choose its own jugdir with `setJugdir()`; the load is then repeated once against that store
 * (opened with `open`, so with the caller's options), so that its barriers, `bvalue()` calls and
 * CompoundTasks see that store's results. Returns the load and the store in effect, made active.
 */
export async function loadAgainst(
  jugfile: string,
  store: Store,
  open: (jugdir: string) => Store,
  bundle?: Promise<JugfileBundle>,
): Promise<LoadedJugfile & { readonly store: Store }> {
  const reg = registry();
  reg.store = store;
  let loaded = await loadJugfile(jugfile, { bundle, stored: await store.list() });
  const choice = jugdirChosen(store);
  if (choice !== undefined) {
    store = typeof choice === 'string' ? open(choice) : choice;
    reg.store = store;
    loaded = await loadJugfile(jugfile, { bundle, stored: await store.list() });
  }
  reg.store = store;
  return { ...loaded, store };
}

/** Imports the jugfile and returns the tasks it declared. */
export async function loadJugfile(jugfile: string, options: LoadOptions = {}): Promise<LoadedJugfile> {
  const path = resolve(jugfile);
  if (!existsSync(path)) {
    throw new JugfileError(
      `Jugfile '${jugfile}' not found (resolved to ${path}). Check the name and the current directory; ` +
        `a jugfile is a .ts, .mts, .js or .mjs file, e.g. \`jug execute primes.ts\`.`,
    );
  }
  if (statSync(path).isDirectory()) {
    throw new JugfileError(`Jugfile '${jugfile}' is a directory, not a file.`);
  }
  let bundle: Promise<JugfileBundle> | undefined = options.bundle;
  const getBundle = (): Promise<JugfileBundle> => (bundle ??= bundleJugfile(path));
  // A bundle made here is only needed for this import (callers sharing one with worker
  // threads pass it in and dispose of it themselves).
  const disposeOwn = (): void => {
    if (options.bundle === undefined) bundle?.then((b) => b.dispose(), () => {});
  };
  const reg = registry();
  const stored = options.stored ?? (reg.store === undefined ? new Set<string>() : await reg.store.list());
  let exports: Record<string, unknown> = {};
  try {
    // Each load imports a fresh module instance (a new URL), so a reload re-runs the jugfile.
    const fresh = loadCount++ > 0 ? `?jug-load=${loadCount}` : '';
    let url: string;
    if (loaderKind() === 'bundle') {
      url = (await getBundle()).url + fresh;
      process.setSourceMapsEnabled(true); // stack frames name the user's files, not the bundle
    } else {
      if (extname(path) !== '.mjs') await ensureTypeScript();
      url = pathToFileURL(path).href + fresh;
    }
    beginLoad();
    clearHooksForReload();
    reg.stored = stored;
    setJugfileArgv(path);
    try {
      exports = (await import(url)) as Record<string, unknown>;
    } finally {
      reg.stored = undefined; // the load is over: barrier() / bvalue() called later read the store
    }
  } catch (e) {
    disposeOwn();
    if (!(e instanceof BarrierError)) {
      if (e instanceof JugError && !(e instanceof JugfileError)) throw withLocation(e, path);
      throw new JugfileError(`Could not load jugfile '${jugfile}': ${formatLoadError(e, path)}`, { cause: e });
    }
  }
  disposeOwn();
  const barrier = reg.barrier;
  // Tasks declared after a barrier the jugfile caught (or did not await) are not part of the graph.
  const declared = barrier === undefined ? reg.tasks : reg.tasks.slice(0, barrier.tasksBefore);
  const tasks = declared.filter((t): t is Task => t instanceof Task);
  return { path, tasks, exports, barrier, stored };
}

/** Whether a path names a TypeScript file. */
export function isTypeScript(path: string): boolean {
  return TS_EXTENSIONS.has(extname(path));
}

/** Adds the jugfile line that raised a jug error (e.g. an unhashable argument) to its message. */
function withLocation(e: JugError, path: string): JugError {
  const at = userFrame(e, path);
  // Messages may already name the place as `file:line` (basename); don't repeat it.
  if (at !== undefined && !e.message.includes(at.shown) && !e.message.includes(`${basename(at.file)}:${at.line}`)) {
    e.message += ` (at ${at.shown})`;
  }
  return e;
}

/** A stack frame in the user's code. */
interface Frame {
  /** Absolute path. */
  readonly file: string;
  readonly line: number;
  /** `file:line:col`, the file relative to cwd. */
  readonly shown: string;
}

/**
 * First stack frame in the user's code (the jugfile if it appears, else any file outside
 * node_modules and jug itself). Paths must start a frame location: Node's own frames
 * (`node:internal/...`) are never taken for files.
 */
function userFrame(e: unknown, path: string): Frame | undefined {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const frames = [...stack.matchAll(/(?:^|[\s(])(?:file:\/\/)?(\/[^\s():?]+)(?:\?[^\s():]*)?:(\d+):(\d+)\)?/gm)];
  const inJugfile = frames.find((m) => m[1] === path);
  const chosen = inJugfile ?? frames.find((m) => !m[1]!.includes('/node_modules/') && !m[1]!.includes('/jug/dist/'));
  if (chosen === undefined) return undefined;
  const file = chosen[1]!;
  return { file, line: Number(chosen[2]), shown: `${relative(process.cwd(), file) || basename(file)}:${chosen[2]}:${chosen[3]}` };
}

/**
 * Where `node --check` places a syntax error in a JavaScript file, as `file:line`. Node 20 does
 * not put the location of a syntax error in an ES module into the error it throws from import().
 */
function syntaxErrorLocation(path: string): string | undefined {
  if (isTypeScript(path)) return undefined;
  const r = spawnSync(process.execPath, ['--check', path], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0 || typeof r.stderr !== 'string') return undefined;
  const m = /^(?:file:\/\/)?(\/[^\n]*?):(\d+)$/m.exec(r.stderr);
  if (m === null) return undefined;
  return `${relative(process.cwd(), m[1]!) || basename(m[1]!)}:${m[2]}`;
}

/**
 * Node's "Cannot find package 'x' imported from /path/file.ts" (the JUG_LOADER=tsx path; bundles
 * report it in bundle.ts) as the same advice: which file imports it, and `npm install x`.
 */
function missingPackage(e: Error): string | undefined {
  if ((e as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const m = /Cannot find package '([^']+)' imported from (.+)$/m.exec(e.message);
  if (m === null) return undefined;
  const file = m[2]!.startsWith('file://') ? fileURLToPath(m[2]!) : m[2]!;
  const name = m[1]!.startsWith('@') ? m[1]!.split('/').slice(0, 2).join('/') : m[1]!.split('/')[0]!;
  const fix = name === 'jug' ? 'npm install jug, or npm link jug' : `npm install ${name}`;
  return `${relative(process.cwd(), file) || basename(file)} imports '${m[1]}', which is not installed (${fix}).`;
}

/** Message of an import failure with the file:line where it happened. */
function formatLoadError(e: unknown, path: string): string {
  if (!(e instanceof Error)) return String(e);
  if (e instanceof BundleError) return e.message; // says where and what to do already
  const missing = missingPackage(e);
  if (missing !== undefined) return missing;
  // esbuild (through tsx) reports syntax errors as "file:line:col: ERROR: message".
  const esbuild = /([^\s:]+\.[cm]?[jt]sx?):(\d+):(\d+): ERROR: (.*)/.exec(e.message);
  if (esbuild !== null) {
    return `${esbuild[4]}\n  at ${relative(process.cwd(), esbuild[1]!)}:${esbuild[2]}:${esbuild[3]}`;
  }
  // V8 syntax errors in plain JavaScript put "file:line" first in the stack.
  const v8Syntax = e instanceof SyntaxError ? /^(\/[^\s:]+|file:\/\/\S+?):(\d+)\n/.exec(e.stack ?? '') : null;
  if (v8Syntax !== null) {
    const file = v8Syntax[1]!.replace(/^file:\/\//, '');
    return `SyntaxError: ${e.message}\n  at ${relative(process.cwd(), file)}:${v8Syntax[2]}`;
  }
  if (e instanceof SyntaxError) {
    const where = syntaxErrorLocation(path);
    if (where !== undefined) return `SyntaxError: ${e.message}\n  at ${where}`;
  }
  const at = userFrame(e, path);
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${name}${describeError(e)}` + (at === undefined ? '' : `\n  at ${at.shown}`);
}
