#!/usr/bin/env node
// Builds dist/ (run by `npm run build`, and so by `npm install` through `prepare`).
//
// - JavaScript: esbuild bundles jug's three entry points — the library (dist/index.js), the CLI
//   (dist/cli/main.js) and the worker-thread module (dist/worker.js) — with code splitting: each
//   source module is in exactly one output file, shared code in dist/chunks/. A worker thread then
//   loads a handful of files instead of ~40 modules, which is most of what a thread costs to start
//   after Node itself (measured: a Piscina thread's first result 68 → 52 ms; see
//   docs/design.md, "Thread start-up"). Packages stay external (node_modules).
// - Types: tsc writes the declarations (dist/**/*.d.ts, with maps), one per source module.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts', worker: 'src/worker.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  keepNames: true,
  logLevel: 'warning',
});
