/**
 * A jugfile that chooses its own jugdir with setJugdir(): every command (and init()) uses that
 * store, barriers in the jugfile see its results, worker threads write there too, and --jugdir
 * still wins when given.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { entries, makeTempDir, removeTempDir, runJug, runNode, show, storedHashes, type RunResult } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('setjugdir');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

// A task before a barrier, then tasks declared from its value read past it.
const JUGFILE = `
import { TaskGenerator, barrier, bvalue, setJugdir } from 'jug';
setJugdir('results.jugdata');
export const gen = TaskGenerator(function gen(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
});
export const square = TaskGenerator(function square(x: number): number {
  return x * x;
});
export const g = gen(4);
barrier();
export const squares = (await bvalue(g)).map((x) => square(x));
`;

/** A directory holding sweep.ts (whose default jugdir would be sweep.jugdata). */
function project(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'sweep.ts'), JUGFILE);
  return dir;
}

describe('setJugdir() in the jugfile', { concurrency: 2 }, () => {
  for (const threads of [[], ['--threads', '2']]) {
    test(`execute ${threads.join(' ') || '(serial)'} stores in the chosen jugdir, past the barrier; status, check and init() read it`, async () => {
      const dir = project(`run${threads.length}`);
      const ex = await runJug(['execute', '-q', 'sweep.ts', ...threads], { cwd: dir });
      expectCode(ex, 0);
      assert.equal(storedHashes(join(dir, 'results.jugdata')).length, 5, 'gen and 4 squares in results.jugdata');
      assert.deepEqual(entries(join(dir, 'results.jugdata', 'locks')), [], 'no lock left');
      assert.equal(existsSync(join(dir, 'sweep.jugdata')), false, 'the default jugdir is not used');

      const st = await runJug(['status', '--short', 'sweep.ts'], { cwd: dir });
      expectCode(st, 0);
      assert.equal(st.stdout, 'All tasks complete (5 tasks).\n', show(st));
      expectCode(await runJug(['check', 'sweep.ts'], { cwd: dir }), 0);

      writeFileSync(
        join(dir, 'init.mjs'),
        "import { init, value } from 'jug';\n" +
          "const r = await init('sweep.ts');\n" +
          'console.log(JSON.stringify([r.tasks.length, r.store.location, await value(r.exports.squares)]));\n',
      );
      const script = await runNode(['init.mjs'], { cwd: dir });
      expectCode(script, 0);
      assert.deepEqual(JSON.parse(script.stdout), [5, 'results.jugdata', [0, 1, 4, 9]]);
    });
  }

  test('--jugdir and a config file\'s jugdir fill in %(jugfile)s and %(date)s; --will-cite is accepted', async () => {
    const dir = project('placeholders');
    const ex = await runJug(['execute', '-q', 'sweep.ts', '--will-cite', '--jugdir', '%(jugfile)s.x'], { cwd: dir });
    expectCode(ex, 0);
    assert.equal(storedHashes(join(dir, 'sweep.x')).length, 5);
    // With threads too, and with text before the placeholder (the workers fill it in the same way).
    const th = await runJug(['execute', '-q', 'sweep.ts', '--threads', '2', '--jugdir', 'out/%(jugfile)s.d'], { cwd: dir });
    expectCode(th, 0);
    assert.equal(storedHashes(join(dir, 'out', 'sweep.d')).length, 5);
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    writeFileSync(join(dir, '.jugrc'), '[main]\njugdir = runs/%(date)s/%(jugfile)s\n');
    const st = await runJug(['execute', '-q', 'sweep.ts'], { cwd: dir });
    expectCode(st, 0);
    assert.equal(storedHashes(join(dir, 'runs', today, 'sweep')).length, 5, show(st));
  });

  test('--jugdir wins over the jugfile\'s setJugdir()', async () => {
    const dir = project('given');
    const ex = await runJug(['execute', '-q', 'sweep.ts', '--threads', '2', '--jugdir', 'given.jugdata'], { cwd: dir });
    expectCode(ex, 0);
    assert.equal(storedHashes(join(dir, 'given.jugdata')).length, 5);
    assert.equal(existsSync(join(dir, 'results.jugdata')), false);
    const st = await runJug(['status', '--short', 'sweep.ts', '--jugdir', 'given.jugdata'], { cwd: dir });
    assert.equal(st.stdout, 'All tasks complete (5 tasks).\n', show(st));
  });
});
