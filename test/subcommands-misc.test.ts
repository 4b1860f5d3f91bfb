/** `jug count` and `jug demo` through the real CLI (the demo jugfile is executed too). */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, ROOT, makeTempDir, parseTable, removeTempDir, runJug, show, type RunResult } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('misc');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

describe('jug count', { concurrency: 2 }, () => {
  test('a Count column per task name (duplicates by hash counted once); --short; reads no store', async () => {
    const dir = join(tmp, 'count');
    mkdirSync(dir);
    const jugfile = join(dir, 'chain.ts');
    copyFileSync(join(FIXTURES, 'chain.ts'), jugfile);
    const r = await runJug(['count', jugfile]);
    expectCode(r, 0);
    const { columns, rows } = parseTable(r.stdout);
    assert.deepEqual(columns, ['Count']);
    assert.deepEqual(Object.fromEntries(rows), {
      'chain.addOne': [1],
      'chain.double': [2],
      'chain.makePair': [1],
      'chain.makeSeed': [1],
      'Total:': [5],
    });
    const short = await runJug(['count', '--short', jugfile]);
    expectCode(short, 0);
    assert.equal(short.stdout, 'Count:  5 tasks\n** Total: 5 tasks.\n');
    assert.equal(existsSync(join(dir, 'chain.jugdata')), false);
  });
});

describe('jug demo', { concurrency: 2 }, () => {
  test('creates jug-demo/primes.ts, says what to run, and the demo runs', async () => {
    const dir = join(tmp, 'demo');
    mkdirSync(dir);
    const r = await runJug(['demo'], { cwd: dir });
    expectCode(r, 0);
    const jugfile = join(dir, 'jug-demo', 'primes.ts');
    assert.equal(readFileSync(jugfile, 'utf8'), readFileSync(join(ROOT, 'examples', 'demo', 'primes.ts'), 'utf8'));
    assert.match(r.stdout, /cd jug-demo\n/);
    assert.match(r.stdout, /jug execute primes\.ts/);
    assert.match(r.stdout, /jug status primes\.ts/);

    const demoDir = join(dir, 'jug-demo');
    const opts = { cwd: demoDir, env: { PRIMES_SLEEP_MS: '0' } };
    const st = await runJug(['status', '--short', 'primes.ts'], opts);
    assert.equal(st.stdout, '101 tasks waiting to be run, 0 failed, 0 complete, (none active).\n', show(st));
    const ex = await runJug(['execute', '-q', 'primes.ts'], opts);
    expectCode(ex, 0);
    assert.deepEqual(parseTable(ex.stdout).rows.get('Total:'), [101, 0]);
    assert.equal(readFileSync(join(demoDir, 'output.txt'), 'utf8'), 'Found 25 primes <= 100.\n');
    const done = await runJug(['status', '--short', 'primes.ts'], opts);
    assert.equal(done.stdout, 'All tasks complete (101 tasks).\n');
  });

  test('an existing jug-demo is left alone: exit 1 and a message', async () => {
    const dir = join(tmp, 'demo-exists');
    mkdirSync(join(dir, 'jug-demo'), { recursive: true });
    writeFileSync(join(dir, 'jug-demo', 'primes.ts'), '// mine\n');
    const r = await runJug(['demo'], { cwd: dir });
    expectCode(r, 1);
    assert.match(r.stderr, /jug-demo already exists; nothing was changed/);
    assert.equal(readFileSync(join(dir, 'jug-demo', 'primes.ts'), 'utf8'), '// mine\n');
    const other = await runJug(['demo', '--dir', 'elsewhere'], { cwd: dir });
    expectCode(other, 0);
    assert.ok(existsSync(join(dir, 'elsewhere', 'primes.ts')));
    assert.match(other.stdout, /cd elsewhere\n/);
  });
});
