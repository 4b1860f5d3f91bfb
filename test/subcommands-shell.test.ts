/**
 * `jug shell` through the real CLI, with commands piped to its stdin (not a terminal): exports
 * and helpers in scope, top-level await, awaited Promises, input run in order, invalidate()
 * cascading to dependants, loadAll() with per-name errors.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, makeTempDir, removeTempDir, runJug, runShell, show, storedHashes } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('shell');
});
after(() => removeTempDir(tmp));

/** The shell's answers, one per input line: the text after each prompt. */
function answers(stdout: string): string[] {
  return stdout.split('jug> ').slice(1).map((s) => s.trim());
}

describe('jug shell', { concurrency: 2 }, () => {
  test('exports and helpers in scope; await; Promises awaited; lines run in order; invalidate cascades', async () => {
    const dir = join(tmp, 'basic');
    mkdirSync(dir);
    const jugfile = join(dir, 'chain.ts');
    copyFileSync(join(FIXTURES, 'chain.ts'), jugfile);
    const jugdir = join(dir, 'chain.jugdata');
    const ex = await runJug(['execute', '-q', jugfile]);
    assert.equal(ex.code, 0, show(ex));

    const r = await runShell(
      ['chain.ts'],
      [
        'await value(deep)', // 1 → [1, 2] → 2*2 = 4 → 5
        'value(pair)', // a Promise, awaited before printing
        'getTasks().length',
        'seed.name',
        'invalidate(doubled)', // doubled and deep; `independent` (also chain.double) stays
        'value(independent)',
        'await loadAll()',
        'pair', // replaced by its value
        'jugfile.pair.name', // the task itself
        'throw new Error("oops")',
        'const x = 20',
        'function f(a) {',
        '  return a + x',
        '}',
        'f(1)',
        'Promise.all([value(pair), (async () => 7)()])', // Promises made in the REPL are awaited too
        '.exit',
        '999',
      ].join('\n') + '\n',
      dir,
    );
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^jug shell: chain\.ts, 5 tasks, results in .*chain\.jugdata\n/);
    assert.match(r.stdout, /In scope: the jugfile's exports \(.*\bdeep\b.*\), and\n/);
    const a = answers(r.stdout);
    assert.equal(a[0], '5', show(r));
    assert.equal(a[1], '[ 1, 2 ]');
    assert.equal(a[2], '5');
    assert.equal(a[3], "'chain.makeSeed'");
    assert.equal(a[4], 'Invalidated 2 result(s): chain.double ×1, chain.addOne ×1.');
    assert.equal(a[5], '200');
    assert.match(a[6]!, /^Error while loading deep: The result of task 'chain\.addOne' .* is not in the store/m);
    assert.match(a[6]!, /^Error while loading doubled: /m);
    assert.match(a[6]!, /^Loaded independent, pair, seed\.$/m);
    assert.equal(a[7], '[ 1, 2 ]');
    assert.equal(a[8], "'chain.makePair'");
    assert.match(a[9]!, /^Uncaught Error: oops/);
    // `const x` prints nothing; the function's continuation lines show the `...` prompt.
    assert.equal(a[10], '', show(r));
    assert.equal(a[11], '... ...');
    assert.equal(a[12], '21');
    assert.equal(a[13], '[ [ 1, 2 ], 7 ]', show(r));
    assert.equal(a.length, 15, `nothing after .exit runs: ${show(r)}`);
    assert.equal(a[14], '');
    assert.ok(!r.stdout.includes('999'));
    assert.equal(storedHashes(jugdir).length, 3);
  });

  test('invalidate() takes a name pattern; no match and nothing stored are reported', async () => {
    const dir = join(tmp, 'pattern');
    mkdirSync(dir);
    copyFileSync(join(FIXTURES, 'chain.ts'), join(dir, 'chain.ts'));
    const ex = await runJug(['execute', '-q', 'chain.ts'], { cwd: dir });
    assert.equal(ex.code, 0, show(ex));
    const r = await runShell(
      ['chain.ts'],
      "invalidate('makeSeed')\ninvalidate('makeSeed')\ninvalidate('nosuch')\nawait value(independent)\n",
      dir,
    );
    assert.equal(r.code, 0, show(r));
    const a = answers(r.stdout);
    assert.equal(a[0], 'Invalidated 4 result(s): chain.makeSeed ×1, chain.makePair ×1, chain.double ×1, chain.addOne ×1.');
    assert.equal(a[1], 'No stored results among the 4 task(s) (dependants included); nothing removed.');
    assert.equal(a[2], "No task matches 'nosuch'; nothing invalidated.");
    assert.equal(a[3], '200');
    assert.equal(storedHashes(join(dir, 'chain.jugdata')).length, 1);
  });

  test('input that simply ends (no .exit) still finishes pending work and exits 0', async () => {
    const dir = join(tmp, 'eof');
    mkdirSync(dir);
    copyFileSync(join(FIXTURES, 'chain.ts'), join(dir, 'chain.ts'));
    const r = await runShell(['chain.ts'], 'await new Promise((r) => setTimeout(r, 200)); 7', dir);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(answers(r.stdout), ['7', '']);
  });
});
