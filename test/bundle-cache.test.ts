/**
 * The bundle cache (src/bundle.ts): a jugfile is bundled once and the bundle reused while nothing
 * it was made from changes; editing the jugfile or any local module it imports — even keeping
 * the file's size — makes the next command bundle again.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, parseTable, removeTempDir, runJug, show } from './helpers.js';

let dir: string;
before(() => {
  dir = makeTempDir('bundle-cache');
});
after(() => removeTempDir(dir));

const cacheDir = join(tmpdir(), `jug-bundles-${process.getuid?.() ?? 'user'}`);

function total(stdout: string): number[] {
  return parseTable(stdout).rows.get('Total:')!;
}

describe('bundle cache', () => {
  it('reuses the bundle while inputs are unchanged, and rebundles when a local module changes (same size)', async () => {
    const jugfile = join(dir, 'cached.ts');
    const lib = join(dir, 'cached-lib.ts');
    writeFileSync(lib, 'export const N = 3;\n');
    writeFileSync(
      jugfile,
      `import { TaskGenerator } from 'jug';\nimport { N } from './cached-lib.ts';\n` +
        `export const inc = TaskGenerator(function inc(x: number): number { return x + 1; });\n` +
        `export const all = Array.from({ length: N }, (_, i) => inc(i));\n`,
    );
    const first = await runJug(['status', jugfile]);
    assert.equal(first.code, 0, show(first));
    assert.equal(total(first.stdout)[1], 3);
    const manifests = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    const mine = manifests.find((f) => readFileSync(join(cacheDir, f), 'utf8').includes(JSON.stringify(jugfile)));
    assert.ok(mine !== undefined, 'a cache manifest names the jugfile');
    const manifest = JSON.parse(readFileSync(join(cacheDir, mine), 'utf8')) as { bundle: string; files: [string][] };
    assert.ok(manifest.files.some(([p]) => p === lib), 'the local module is an input');
    assert.ok(manifest.files.some(([p]) => p.endsWith(join('dist', 'index.js'))), 'the jug package is an input');

    // Unchanged: the same bundle is used (the manifest is not rewritten).
    const before = readFileSync(join(cacheDir, mine), 'utf8');
    assert.equal(total((await runJug(['status', jugfile])).stdout)[1], 3);
    assert.equal(readFileSync(join(cacheDir, mine), 'utf8'), before);

    // Same size, new content and mtime: rebundled.
    writeFileSync(lib, 'export const N = 5;\n');
    const later = (Date.now() + 2000) / 1000;
    utimesSync(lib, later, later);
    const second = await runJug(['status', jugfile]);
    assert.equal(second.code, 0, show(second));
    assert.equal(total(second.stdout)[1], 5);
    assert.notEqual(readFileSync(join(cacheDir, mine), 'utf8'), before);
  });

  it('JUG_BUNDLE_CACHE=0 bundles every time (and still works)', async () => {
    const jugfile = join(dir, 'nocache.ts');
    writeFileSync(jugfile, `import { TaskGenerator } from 'jug';\nexport const f = TaskGenerator(function f(): number { return 1; });\nexport const t = f();\n`);
    const r = await runJug(['execute', jugfile, '--short'], { env: { JUG_BUNDLE_CACHE: '0' } });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  1 tasks/);
    assert.ok(
      !readdirSync(cacheDir)
        .filter((f) => f.endsWith('.json'))
        .some((f) => readFileSync(join(cacheDir, f), 'utf8').includes(JSON.stringify(jugfile))),
      'no manifest for it',
    );
  });
});
