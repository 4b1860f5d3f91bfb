/**
 * The jug package's root directory (the one holding its package.json), found from this module's
 * own location: built code runs from dist/ and from dist/chunks/ (scripts/build.mjs), tests run
 * src/ through tsx, so no fixed number of `..` fits every case.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`jug: no package.json above ${start}`);
  }
}

/** Absolute path of the jug package's root directory. */
export const PACKAGE_ROOT = findRoot();
