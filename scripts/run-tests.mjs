#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test under tsx. Node 20's test runner neither expands
// globs nor discovers .ts files, so we list them here. Extra arguments filter by substring:
//   node scripts/run-tests.mjs hash store
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures') walk(p);
    else if (e.isFile() && e.name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
const filters = process.argv.slice(2);
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...selected],
  // A `--threads` run remembers, per jugfile, that its tasks all ran in the main thread
  // (src/executors/thread-verdict.ts), and the next run then skips the probes: tests that run a
  // fixture several times, in any order, would take different paths. Off here; the tests of the
  // verdict turn it on (and keep their own cache directory).
  { cwd: root, stdio: 'inherit', env: { ...process.env, JUG_THREAD_VERDICT: process.env.JUG_THREAD_VERDICT ?? '0' } },
);
process.exit(r.status ?? 1);
