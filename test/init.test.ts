/**
 * init(): loading a jugfile from a script (here, the test process) and reading results with
 * value(), against results written by a real `jug execute` subprocess.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  MemoryStore,
  NotComputedError,
  Task,
  init,
  isJugRunning,
  value,
  type TaskLike,
} from '../src/index.js';
import { FIXTURES, ROOT, makeTempDir, removeTempDir, runJug, show, storedHashes } from './helpers.js';

const SMALL = join(FIXTURES, 'small.ts');

interface SmallExports {
  sum: TaskLike<number>;
  total: TaskLike<number>;
  loud: TaskLike<string>;
  add: unknown;
}

let tmp: string;
before(() => {
  tmp = makeTempDir('init');
});
after(() => removeTempDir(tmp));

test('init() returns the store, the declared tasks and the exports', async () => {
  const jugdir = join(tmp, 'shape.jugdata');
  const { store, tasks, exports } = await init<SmallExports>(SMALL, { jugdir });
  assert.equal(store.location, jugdir);
  assert.equal(tasks.length, 3);
  assert.deepEqual(
    tasks.map((t) => t.name),
    ['small.add', 'small.add', 'small.shout'],
  );
  for (const name of ['sum', 'total', 'loud'] as const) {
    assert.ok(exports[name] instanceof Task, `${name} is a Task`);
    assert.ok(tasks.includes(exports[name] as Task), `${name} is among the declared tasks`);
  }
  assert.equal(typeof exports.add, 'function');
  assert.equal(isJugRunning(), false);
});

test('value() of a task not run yet throws NotComputedError', async () => {
  const jugdir = join(tmp, 'not-run.jugdata');
  const { exports } = await init<SmallExports>(SMALL, { jugdir });
  await assert.rejects(value(exports.total), (e: unknown) => {
    assert.ok(e instanceof NotComputedError, `expected NotComputedError, got ${String(e)}`);
    assert.match(e.message, /small\.add/);
    return true;
  });
  // Plain values pass through value() untouched, even with nothing computed.
  assert.deepEqual(await value({ a: 1, b: [2, 'x'] }), { a: 1, b: [2, 'x'] });
});

test('after `jug execute` in a subprocess, value() returns the results', async () => {
  const jugdir = join(tmp, 'executed.jugdata');
  const { exports } = await init<SmallExports>(SMALL, { jugdir });
  await assert.rejects(value(exports.sum), NotComputedError);

  const r = await runJug(['execute', SMALL, '--jugdir', jugdir]);
  assert.equal(r.code, 0, show(r));

  assert.equal(await value(exports.sum), 5);
  assert.equal(await value(exports.total), 15);
  assert.deepEqual(await value([exports.sum, exports.loud]), [5, 'QUIET']);
  assert.deepEqual(await value({ s: exports.sum, nested: { l: exports.loud } }), { s: 5, nested: { l: 'QUIET' } });
  assert.deepEqual(await value(new Map([['t', exports.total]])), new Map([['t', 15]]));
});

test('the default jugdir of init() is the one the CLI uses', async () => {
  const dir = makeTempDir('init-default');
  try {
    const jugfile = join(dir, 'small.ts');
    copyFileSync(SMALL, jugfile);
    const { store, exports } = await init<SmallExports>(jugfile);
    assert.equal(store.location, join(dir, 'small.jugdata'));
    await assert.rejects(value(exports.total), NotComputedError);

    // The CLI with no --jugdir (run from elsewhere) writes where init() reads.
    const r = await runJug(['execute', jugfile], { cwd: ROOT });
    assert.equal(r.code, 0, show(r));
    assert.equal(storedHashes(join(dir, 'small.jugdata')).length, 3);
    assert.equal(await value(exports.total), 15);
  } finally {
    removeTempDir(dir);
  }
});

test('init() accepts a Store object, and a later init() replaces the graph', async () => {
  const mem = new MemoryStore();
  const small = await init<SmallExports>(SMALL, { jugdir: mem });
  assert.equal(small.store, mem);
  await assert.rejects(value(small.exports.sum), NotComputedError);
  await mem.dump((small.exports.sum as Task).hash(), 5, 'small.add');
  assert.equal(await value(small.exports.sum), 5);

  const jugdir = join(tmp, 'tasklets.jugdata');
  const other = await init<{ first: TaskLike<number> }>(join(FIXTURES, 'tasklets.ts'), { jugdir });
  assert.equal(other.tasks.length, 4);
  assert.ok(other.tasks.every((t) => t.name.startsWith('tasklets.')));
  await assert.rejects(value(other.exports.first), NotComputedError);
});
