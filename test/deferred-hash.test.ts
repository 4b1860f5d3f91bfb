/**
 * Hashes computed when first asked for (registry's `hashWhenAsked`, set under `jug check` once a
 * task declared is not stored: `hashUntilMissing`): the same
 * hash as computed at declaration for every kind of argument that may wait, dependencies hashed
 * first without recursion, and arguments that could fail to hash (or change) still hashed, and
 * failing, at the declaration.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HashError } from '../src/errors.js';
import { taskRef } from '../src/hash.js';
import { beginLoad, registry } from '../src/registry.js';
import { TaskGenerator, iterateTask, type Task } from '../src/task.js';

beginLoad();
const id = TaskGenerator(function id(x: unknown): unknown {
  return x;
}, { name: 'deferred-test.id' });
const many = TaskGenerator(function many(...xs: unknown[]): unknown {
  return xs.length;
}, { name: 'deferred-test.many' });
const pair = TaskGenerator(function pair(n: number): [number, number] {
  return [n, -n];
}, { name: 'deferred-test.pair' });

/** The tasks of `declare()` with hashes computed at declaration, then with hashes computed when asked for. */
function bothWays(declare: () => Task[]): { eager: string[]; deferred: Task[] } {
  registry().hashWhenAsked = false;
  const eager = declare().map((t) => t.hash());
  registry().hashWhenAsked = true;
  return { eager, deferred: declare() };
}

describe('hashes computed when asked for (jug check)', () => {
  beforeEach(() => beginLoad());
  afterEach(() => {
    registry().hashWhenAsked = false;
  });

  it('equal the hashes computed at declaration, for every kind of argument that may wait', () => {
    const { eager, deferred } = bothWays(() => {
      const leaves: Task[] = [id(1), id(-0.5), id('text'), id('ünïcödé ✓'), id(true), id(undefined), id(null), id(12345678901234567890n), many()];
      const [lo, hi] = iterateTask(pair(7), 2);
      const derived: Task[] = [id(lo), many(lo, hi, 3), id((leaves[0] as Task<Record<string, unknown>>).get('x'))];
      const reduce = id([...leaves, ...derived, 1, 'two', null]);
      return [...leaves, ...derived, reduce, many(reduce, [reduce, leaves[1]], 'x')];
    });
    // Asked for in reverse: the last one hashes everything it depends on first.
    const hashes = deferred.reverse().map((t) => t.hash()).reverse();
    assert.deepEqual(hashes, eager);
  });

  it('are not computed at declaration, and once when asked for', () => {
    // A Task of another copy of the library stands in here: it counts how often its hash is read.
    let reads = 0;
    const foreign = { [Symbol.for('jug.Task')]: true, [taskRef]: () => (reads++, 'f'.repeat(40)) };
    registry().hashWhenAsked = true;
    const t = many(foreign, 1);
    const reduce = id([t, t]);
    assert.equal(reads, 0);
    reduce.hash();
    assert.equal(reads, 1, 'hashing the reduce hashed the task it depends on');
    t.hash();
    assert.equal(reads, 1, 'a hash is computed once');
    registry().hashWhenAsked = false;
    assert.equal(many(foreign, 1).hash(), t.hash());
    assert.equal(reads, 2);
  });

  it('under jug check (hashUntilMissing): hashed when declared up to the first task not stored, when asked for after it', () => {
    let reads = 0;
    const foreign = { [Symbol.for('jug.Task')]: true, [taskRef]: () => (reads++, 'f'.repeat(40)) };
    const stored = new Set([many(foreign, 0).hash(), many(foreign, 1).hash()]);
    beginLoad();
    reads = 0;
    const r = registry();
    r.hashUntilMissing = true;
    r.stored = stored;
    try {
      const tasks = [0, 1, 2, 3, 4].map((i) => many(foreign, i));
      assert.equal(reads, 3, 'the two stored and the first missing one are hashed when declared');
      assert.equal(r.hashWhenAsked, true);
      assert.deepEqual(
        tasks.map((t) => stored.has(t.hash())),
        [true, true, false, false, false],
      );
      assert.equal(reads, 5);
      beginLoad();
      assert.equal(r.hashWhenAsked, false, 'each load starts hashing at declaration');
    } finally {
      r.hashUntilMissing = false;
      r.stored = undefined;
    }
  });

  it('a chain of 100,000 tasks, each on the one before: the last hash without a stack overflow, as at declaration', () => {
    const chain = (): Task[] => {
      let t = id(0);
      for (let i = 0; i < 100_000; i++) t = id([t, i]);
      return [t];
    };
    const { eager, deferred } = bothWays(chain);
    assert.equal(deferred[0]!.hash(), eager[0]);
  });

  it('arguments that could fail to hash still fail at the declaration', () => {
    registry().hashWhenAsked = true;
    assert.throws(() => id(Symbol('s')), HashError);
    assert.throws(() => id([1, Symbol('s')]), HashError);
    assert.throws(() => id(new (class Opaque {})()), /Cannot hash argument 1 of task 'deferred-test\.id': it is an instance of Opaque/);
    assert.throws(() => id(function notATask() {}), HashError);
  });

  it('objects and nested arrays are hashed as declared: a change made after the declaration does not move the task', () => {
    const config = { n: 1 };
    const nested = [[1, 2]];
    registry().hashWhenAsked = false;
    const eager = [id(config).hash(), id(nested).hash()];
    registry().hashWhenAsked = true;
    const tasks = [id(config), id(nested)];
    config.n = 2;
    nested[0]!.push(3);
    assert.deepEqual(
      tasks.map((t) => t.hash()),
      eager,
    );
  });
});
