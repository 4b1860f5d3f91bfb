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
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

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

const externalPackages: Plugin = {
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
      if (r.errors.length > 0) return { errors: r.errors };
      return { path: r.external ? r.path : pathToFileURL(r.path).href, external: true };
    });
  },
};

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
    if (m === null || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/**
 * Bundles `jugfile` (absolute path) into a temporary ES module. The file is removed by
 * `dispose()` or, at the latest, when the process exits. esbuild's errors (syntax errors with
 * file:line:col) are thrown as they are.
 */
export async function bundleJugfile(jugfile: string): Promise<JugfileBundle> {
  const { build } = await import('esbuild');
  removeAbandonedBundles();
  const dir = mkdtempSync(join(tmpdir(), `jug-bundle-${process.pid}-`));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const outfile = join(dir, 'jugfile.mjs');
  try {
    await build({
      entryPoints: [jugfile],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      keepNames: true, // function names make task names
      logLevel: 'silent',
      plugins: [externalPackages, moduleMeta],
    });
  } catch (e) {
    remove();
    throw e;
  }
  process.once('exit', remove);
  return {
    url: pathToFileURL(outfile).href,
    dispose: () => {
      process.off('exit', remove);
      remove();
    },
  };
}
