/**
 * Bundling the jugfile once for worker threads (see docs/design.md, "Loading jugfiles in
 * threads"). Loading TypeScript through tsx inside every worker costs ~0.2 s per thread; instead
 * the parent bundles the jugfile and its local modules with esbuild (~20 ms) and workers import
 * plain JavaScript.
 *
 * - Packages (bare imports, `jug` included) are resolved by esbuild from the importing file and
 *   left external as absolute paths, so the bundle can live anywhere (a temp directory) and
 *   workers load the very same package files the parent did.
 * - Local modules are inlined; `import.meta.url` / `dirname` / `filename` in each of them are
 *   replaced by that file's own values, so path logic relative to a module keeps working.
 * - An inline source map makes stack traces (and thereby task names, see naming.ts) point at the
 *   original files.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BuildFailure, Message, Plugin } from 'esbuild';
import { JugfileError } from './errors.js';
import { PACKAGE_ROOT } from './package-root.js';
import { processAlive } from './store/lock-owner.js';

/** A jugfile that cannot be bundled, with a message that says why and what to do (no esbuild jargon). */
export class BundleError extends JugfileError {
  override readonly name = 'BundleError';
}

/** `csv-parser/lib/x` → `csv-parser`, `@scope/pkg/sub` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Whether `node_modules/<name>` exists in `dir` or a parent. */
function installedFrom(dir: string, name: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', name))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * What to say about an import esbuild could not resolve (marked by externalPackages): which file
 * and line imports which package, and the command that installs it. For `jug` itself: how to make
 * this installation of jug resolvable from the jugfile's directory.
 */
function unresolvedPackage(m: Message, jugfile: string): string {
  const { unresolved, resolveDir } = m.detail as { unresolved: string; resolveDir: string };
  const name = packageName(unresolved);
  const loc = m.location;
  const file = loc === null ? jugfile : resolve(dirname(jugfile), loc.file);
  const shown = relative(process.cwd(), file) || basename(file);
  const who = `${file === jugfile ? 'jugfile' : 'module'} ${shown}${loc === null ? '' : `:${loc.line}`}`;
  if (installedFrom(resolveDir, name)) {
    return `${who} imports '${unresolved}': package '${name}' is installed but does not provide it (${m.text}).`;
  }
  if (name === 'jug') {
    return (
      `${who} imports 'jug', which is not installed where the jugfile is (${resolveDir}). The jugfile must import ` +
      `the jug running it: in that directory (or a parent), \`npm install jug\`, or for this installation ` +
      `\`npm install ${PACKAGE_ROOT}\` (or \`npm link\` in ${PACKAGE_ROOT}, then \`npm link jug\` there).`
    );
  }
  return `${who} imports '${unresolved}', which is not installed (npm install ${name}).`;
}

/** A bundled jugfile: import `url` in a worker; `dispose()` removes the file. */
export interface JugfileBundle {
  readonly url: string;
  dispose(): void;
}

const LOADERS: Record<string, 'ts' | 'tsx' | 'js' | 'jsx'> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/** Leaves packages external, as absolute file URLs; records the files they resolve to in `resolved`. */
function externalPackages(resolved: Set<string>): Plugin {
  return {
    name: 'jug-external-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]|^\.[^./]|^\.\.[^/]/ }, async (args) => {
        if (args.pluginData === 'jug-resolving' || args.kind === 'entry-point') return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'jug-resolving',
        });
        if (r.errors.length > 0) {
          // Marked so that bundleJugfile reports it as a missing package (see unresolvedPackage).
          return { errors: r.errors.map((e) => ({ ...e, detail: { unresolved: args.path, resolveDir: args.resolveDir } })) };
        }
        if (r.external) return { path: r.path, external: true };
        resolved.add(r.path);
        return { path: pathToFileURL(r.path).href, external: true };
      });
    },
  };
}

const moduleMeta: Plugin = {
  name: 'jug-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const loader = LOADERS[extname(args.path)];
      if (loader === undefined) return undefined;
      const source = readFileSync(args.path, 'utf8')
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents: source, loader, resolveDir: dirname(args.path) };
    });
  },
};

/** Removes bundle directories of processes that no longer run (killed before their exit hook). */
function removeAbandonedBundles(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^jug-bundle-(\d+)-/.exec(name);
    if (m === null || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * The bundle cache: `<tmpdir>/jug-bundles-<uid>/`. A bundle is stored under the hash of its
 * contents (immutable, so a process importing it is never disturbed), and `<key>.json` — key: the
 * jugfile's path and this jug installation — names the bundle and every file it was made from
 * (the jugfile, its local modules, the package files it imports, this module) with their mtime
 * and size. When none changed, the bundle is reused: no esbuild run (~0.1 s off every command).
 * JUG_BUNDLE_CACHE=0 turns it off.
 */
interface CacheManifest {
  readonly bundle: string;
  readonly files: ReadonlyArray<readonly [path: string, mtimeMs: number, size: number]>;
}

const SELF = fileURLToPath(import.meta.url);

/** Writes `path` in the cache directory `dir` atomically; false if the cache is not writable. */
export function cacheWrite(dir: string, path: string, data: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeAtomic(path, data);
    return true;
  } catch {
    return false;
  }
}

/** The bundle cache's directory (also holds the code fingerprints' stripped sources); undefined: turned off. */
export function cacheDir(): string | undefined {
  if (process.env['JUG_BUNDLE_CACHE'] === '0') return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `jug-bundles-${uid}`);
}

/** The cache's key for `jugfile`: its path, this jug installation and Node's version. */
export function cacheKey(jugfile: string): string {
  return createHash('sha1').update(`${jugfile}\0${SELF}\0${process.version}`).digest('hex').slice(0, 24);
}

function fileStamp(path: string): readonly [string, number, number] | undefined {
  try {
    const st = statSync(path);
    return [path, st.mtimeMs, st.size];
  } catch {
    return undefined;
  }
}

/** The cached bundle of `jugfile`, if every file it was made from is unchanged. */
function cachedBundle(dir: string, jugfile: string): string | undefined {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, `${cacheKey(jugfile)}.json`), 'utf8')) as CacheManifest;
  } catch {
    return undefined;
  }
  for (const [path, mtimeMs, size] of manifest.files) {
    const now = fileStamp(path);
    if (now === undefined || now[1] !== mtimeMs || now[2] !== size) return undefined;
  }
  const bundle = join(dir, manifest.bundle);
  return existsSync(bundle) ? bundle : undefined;
}

/**
 * The name (in {@link cacheDir}) of `jugfile`'s cached bundle — the hash of its contents — if
 * the cache holds one and nothing it was made from changed; undefined otherwise (synchronous: a
 * few stat calls).
 */
export function cachedBundleName(jugfile: string): string | undefined {
  const dir = cacheDir();
  const hit = dir === undefined ? undefined : cachedBundle(dir, jugfile);
  return hit === undefined ? undefined : basename(hit);
}

/** Writes `path` atomically (temporary name, then rename). */
function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}-${Math.random().toString(16).slice(2)}`;
  try {
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Stores a fresh bundle in the cache; returns its path, or undefined if the cache is not writable. */
function storeBundle(dir: string, jugfile: string, code: Uint8Array, inputs: readonly string[]): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = `${createHash('sha1').update(code).digest('hex')}.mjs`;
    const bundle = join(dir, name);
    if (!existsSync(bundle)) writeAtomic(bundle, code);
    const files = [...new Set([...inputs, SELF])].map(fileStamp).filter((f) => f !== undefined);
    writeAtomic(join(dir, `${cacheKey(jugfile)}.json`), JSON.stringify({ bundle: name, files } satisfies CacheManifest));
    return bundle;
  } catch {
    return undefined;
  }
}

/**
 * Bundles `jugfile` (absolute path) into an ES module, or reuses the cached bundle when nothing it
 * was made from changed. esbuild's errors (syntax errors with file:line:col) are thrown as they
 * are. Without a usable cache the bundle is a temporary file, removed by `dispose()` or, at the
 * latest, when the process exits.
 */
export async function bundleJugfile(jugfile: string): Promise<JugfileBundle> {
  const dir = cacheDir();
  const hit = dir === undefined ? undefined : cachedBundle(dir, jugfile);
  if (hit !== undefined) return { url: pathToFileURL(hit).href, dispose: () => {} };

  const { build } = await import('esbuild');
  const resolved = new Set<string>();
  let result: Awaited<ReturnType<typeof build<{ write: false; metafile: true }>>>;
  try {
    result = await build({
      entryPoints: [jugfile],
      outfile: join(dirname(jugfile), 'jugfile.bundle.mjs'), // not written: names the output only
      write: false,
      metafile: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      // Stack traces only need the mappings; without the sources the map each thread parses is small.
      sourcesContent: false,
      // Source paths are relative to the (unwritten) outfile's directory; the root makes them
      // absolute, so stack traces name the user's files wherever the bundle is stored.
      sourceRoot: pathToFileURL(dirname(jugfile)).href + '/',
      keepNames: true, // function names make task names
      logLevel: 'silent',
      absWorkingDir: dirname(jugfile),
      plugins: [externalPackages(resolved), moduleMeta],
    });
  } catch (e) {
    const missing = ((e as Partial<BuildFailure>).errors ?? []).filter((m) => (m.detail as { unresolved?: unknown } | undefined)?.unresolved);
    if (missing.length === 0) throw e;
    // Every missing package at once (the jugfile's first), each with its file and line.
    const lines = missing.map((m) => unresolvedPackage(m, jugfile)).sort((a, b) => Number(b.startsWith('jugfile ')) - Number(a.startsWith('jugfile ')));
    throw new BundleError([...new Set(lines)].join('\n'));
  }
  const code = result.outputFiles[0]!.contents;
  const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(dirname(jugfile), p));
  const cached = dir === undefined ? undefined : storeBundle(dir, jugfile, code, [...inputs, ...resolved]);
  if (cached !== undefined) return { url: pathToFileURL(cached).href, dispose: () => {} };

  removeAbandonedBundles();
  const tmp = mkdtempSync(join(tmpdir(), `jug-bundle-${process.pid}-`));
  const remove = (): void => rmSync(tmp, { recursive: true, force: true });
  const outfile = join(tmp, 'jugfile.mjs');
  writeFileSync(outfile, code);
  process.once('exit', remove);
  return {
    url: pathToFileURL(outfile).href,
    dispose: () => {
      process.off('exit', remove);
      remove();
    },
  };
}
