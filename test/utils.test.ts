/**
 * Unit tests of the jugfile helpers: identity, returnTuple, CustomHash, timedPath, NoHash,
 * NoLoad, describe, jugExecute. Run through executeTask against a MemoryStore (a FileStore where
 * the store's metadata matters). Ports upstream test_utils_*, test_no_load, test_tasklet's
 * return_tuple case, test_hash's NoHash case and test_io's describe, with the fixes of §7.13
 * (CustomHash / NoHash contents are dependencies and resolved) and §7.27 (describe recurses into
 * arrays).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { describe as describeTask, describeArguments, describeBrief, type TaskDescription } from '../src/describe.js';
import { HashError, TaskDefinitionError } from '../src/errors.js';
import { hashTask } from '../src/hash.js';
import { CustomHash, NoHash, timedPath } from '../src/hash-wrappers.js';
import { map } from '../src/mapreduce.js';
import { NoLoad } from '../src/no-load.js';
import { FileStore } from '../src/store/file-store.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { Task, TaskGenerator } from '../src/task.js';
import { identity, jugExecute, returnTuple } from '../src/utils.js';
import { value } from '../src/value.js';
import { makeTempDir, removeTempDir } from './helpers.js';
import { canRun, declared, failures, freshLoad, runAll } from './run-graph.js';

let store: MemoryStore;
let tmp: string;
before(() => {
  tmp = makeTempDir('utils');
});
after(() => removeTempDir(tmp));
beforeEach(() => {
  store = new MemoryStore();
  freshLoad(store);
});

const echo = TaskGenerator(function echo<T>(x: T): T {
  return x;
});
const num = TaskGenerator(function num(x: number): number {
  return x;
});
const nums = TaskGenerator(function nums(xs: number[]): number[] {
  return xs;
});

describe('identity', () => {
  it('is a jug.identity task for a value, resolving tasks inside; a task is returned as is', async () => {
    const t = identity(2);
    assert.equal(t.name, 'jug.identity');
    assert.equal(t.hash(), identity(2).hash());
    assert.notEqual(t.hash(), identity(3).hash());
    const e = echo(5);
    assert.equal(identity(e), e);
    const both = identity({ two: t, five: e, list: map(echo, [1, 2]) });
    assert.deepEqual(new Set(both.dependencies().map((d) => d.name)), new Set(['jug.identity', 'utils.test.echo', 'jug.mapreduce.map']));
    await runAll(store);
    assert.equal(await value(t), 2);
    assert.deepEqual(await value(both), { two: 2, five: 5, list: [1, 2] });
  });
});

describe('returnTuple', () => {
  const minMax = returnTuple(
    2,
    TaskGenerator(function minMax(xs: number[]): [number, number] {
      return [Math.min(...xs), Math.max(...xs)];
    }),
  );
  const wrongLength = returnTuple(3)(
    TaskGenerator(function wrongLength(n: number): number[] {
      return Array.from({ length: n }, (_, i) => i);
    }),
  );

  it('gives n tasklets over one task, destructurable', async () => {
    const [lo, hi] = minMax([3, 1, 4, 1, 5]);
    assert.equal(lo.base, hi.base);
    assert.equal(declared().length, 1);
    const spread = echo([hi, lo]);
    await runAll(store);
    assert.deepEqual(await value([lo, hi]), [1, 5]);
    assert.deepEqual(await value(spread), [5, 1]);
  });

  it('checks the length when used: a task using it fails naming the task and both lengths', async () => {
    const [a] = wrongLength(2);
    const user = echo(a);
    const msgs = failures(await runAll(store));
    assert.equal(msgs.length, 1);
    assert.match(msgs[0]!, /utils\.test\.wrongLength.*tuple of 3 elements.*array of 2/);
    assert.equal(await store.has(user.hash()), false);
    await assert.rejects(value(a), /tuple of 3/);
    const [x, y, z] = wrongLength(3);
    await runAll(store);
    assert.deepEqual(await value([x, y, z]), [0, 1, 2]);
  });

  it('tasklet indexed by a task: the index task is a dependency too (upstream slice_task)', async () => {
    const r = nums([10, 20, 30]);
    const z = num(0);
    const [first, second] = minMax([0, 1]);
    const picked = r.get(z);
    const user = echo([picked, first, second]);
    assert.ok(user.dependencies().includes(z as Task));
    assert.equal(await canRun(user, store), false);
    await runAll(store);
    assert.deepEqual(await value(user), [10, 0, 1]);
  });

  it('rejects a negative n and a non-generator', () => {
    assert.throws(() => returnTuple(-1), TaskDefinitionError);
    assert.throws(() => returnTuple(2, ((x: number) => x) as never), TaskDefinitionError);
  });

  it('a tasklet past the end of an array, or of a missing key, is an error naming the task (not undefined)', async () => {
    const r = nums([10, 20, 30]);
    const m = TaskGenerator(function aMap(): Map<string, number> {
      return new Map([['a', 1]]);
    })();
    const o = TaskGenerator(function anObject(): { x: number; y: number | undefined } {
      return { x: 1, y: undefined };
    })();
    await runAll(store);
    assert.equal(await value(r.get(-1)), 30, 'negative indices count from the end, as in Python');
    assert.equal(await value(o.get('y')), undefined, 'a key that is there with the value undefined');
    await assert.rejects(value(r.get(3)), /the result of 'utils\.test\.nums' has 3 element\(s\): index 3 is out of range/);
    await assert.rejects(value(r.get(-4)), /index -4 is out of range/);
    await assert.rejects(value(m.get('b')), /a Map of 1 entries\) has no key 'b'/);
    await assert.rejects(value(o.get('z' as 'x')), /has no key 'z' \(its keys: 'x', 'y'\)/);
  });

  it('destructuring or spreading a task (a JavaScript jugfile) says to use iterateTask / bvalue', () => {
    const t = nums([1, 2]) as unknown as Iterable<unknown>;
    const expected = { name: 'TaskDefinitionError', message: /cannot be destructured or iterated.*iterateTask\(task, n\).*bvalue/ };
    assert.throws(() => {
      const [a] = t;
      return a;
    }, expected);
    assert.throws(() => [...(t.constructor === Task ? t : [])], expected);
    assert.throws(() => [...(nums([3]).get(0) as unknown as Iterable<unknown>)], expected);
  });
});

describe('CustomHash and timedPath', () => {
  it('identity comes from the hash function; tasks inside are dependencies and resolved (fix §7.13)', async () => {
    let called = 0;
    const five = echo(5);
    const wrapped = CustomHash({ n: five, big: [1, 2, 3] }, (v) => {
      called++;
      assert.equal(v.n, five);
      return 'dataset-v1';
    });
    assert.equal(called, 1);
    const t = echo(wrapped);
    const same = echo(CustomHash({ other: 'contents' }, () => 'dataset-v1'));
    const other = echo(CustomHash({ n: five, big: [1, 2, 3] }, () => 'dataset-v2'));
    assert.equal(t.hash(), same.hash());
    assert.notEqual(t.hash(), other.hash());
    assert.deepEqual(t.dependencies(), [five]);
    await runAll(store, (x) => x !== same && x !== other);
    assert.deepEqual(await value(t), { n: 5, big: [1, 2, 3] });
    assert.throws(() => CustomHash(1, () => 7 as never), HashError);
  });

  it('timedPath: same file same hash; rewriting it (size or mtime) changes the hash; the task gets the path', async () => {
    const file = join(tmp, 'data.txt');
    writeFileSync(file, 'abc');
    utimesSync(file, 1_000_000, 1_000_000);
    const h1 = echo(timedPath(file)).hash();
    assert.equal(echo(timedPath(file)).hash(), h1);
    utimesSync(file, 1_000_000, 1_000_001);
    const h2 = echo(timedPath(file)).hash();
    assert.notEqual(h2, h1);
    writeFileSync(file, 'abcd');
    utimesSync(file, 1_000_000, 1_000_001);
    assert.notEqual(echo(timedPath(file)).hash(), h2, 'same mtime, other size');
    freshLoad(store);
    const t = echo(timedPath(file));
    await runAll(store);
    assert.equal(await value(t), file);
    assert.throws(() => timedPath(join(tmp, 'missing.txt')), /missing\.txt/);
  });
});

describe('NoHash', () => {
  it('is left out of the identity: [1, 2, NoHash(3)] and [1, 2, NoHash(7)] hash the same', () => {
    assert.equal(echo([1, 2, NoHash(3)]).hash(), echo([1, 2, NoHash(7)]).hash());
    assert.notEqual(echo([1, 2, NoHash(3)]).hash(), echo([1, 3, NoHash(3)]).hash());
  });

  it('its value is resolved and its tasks are dependencies (fix §7.13)', async () => {
    const five = echo(5);
    const t = echo([1, NoHash({ n: five })]);
    assert.deepEqual(t.dependencies(), [five]);
    await runAll(store);
    assert.deepEqual(await value(t), [1, { n: 5 }]);
  });
});

describe('NoLoad', () => {
  it('the task waits for the wrapped tasks but receives wrappers and loads explicitly', async () => {
    const bases = [echo(1), echo(2), echo([3])];
    let received: unknown[] = [];
    const user = TaskGenerator(async function loadSome(xs: NoLoad<unknown>[]) {
      received = xs;
      return [await xs[0]!.load(), await xs[2]!.load()];
    })(bases.map((b) => NoLoad(b)));
    assert.deepEqual(user.dependencies(), bases);
    assert.equal(await canRun(user, store), false);
    await runAll(store, (t) => t !== user);
    assert.equal(await canRun(user, store), true);
    await runAll(store, (t) => t === user);
    assert.deepEqual(await value(user), [1, [3]]);
    assert.equal(received.length, 3);
    assert.ok(received.every((r) => r instanceof Object && 'load' in r && !(r instanceof Task)));
    // The hash follows the wrapped task's.
    assert.notEqual(NoLoad(echo(1)).hash(), NoLoad(echo(2)).hash());
    assert.equal(NoLoad(echo(1)).hash(), NoLoad(echo(1)).hash());
    assert.throws(() => NoLoad(3 as never), TaskDefinitionError);
  });
});

describe('describe', () => {
  it('describes a task and its arguments recursively, one entry per argument (test_describe)', async () => {
    const a = num(1);
    const b = TaskGenerator(function pairUp(x: number, ys: number[], o: { k: number }) {
      return [x, ys, o];
    })(a, [a, 2], { k: 3 });
    const d = (await describeTask(b)) as TaskDescription;
    assert.equal(d.kind, 'task');
    assert.equal(d.name, 'utils.test.pairUp');
    assert.equal(d.hash, b.hash());
    assert.equal(d.args?.length, 3);
    const [da, dys, dobj] = d.args as [TaskDescription, unknown[], { k: number }];
    assert.equal(da.name, 'utils.test.num');
    assert.deepEqual(da.args, [1]);
    assert.equal((dys[0] as TaskDescription).hash, a.hash(), 'arrays are recursed into (fix §7.27)');
    assert.equal(dys[0], da, 'a shared task is described once');
    assert.deepEqual(dobj, { k: 3 });
    assert.deepEqual(da.meta, { computed: false });
  });

  it('tasklets, map results and wrappers', async () => {
    const t = nums([1, 2]);
    const d = (await describeTask([t.get(0), map(echo, [1, 2, 3]), NoLoad(t), NoHash(4)])) as unknown[];
    assert.deepEqual(Object.keys(d[0] as object), ['kind', 'hash', 'key', 'base']);
    assert.equal((d[0] as { key: unknown }).key, 0);
    assert.equal((d[1] as { kind: string; length: number; blocks: unknown[] }).blocks.length, 1);
    assert.equal((d[1] as { length: number }).length, 3);
    assert.equal((d[2] as { kind: string }).kind, 'no-load');
    assert.deepEqual(d[3], { kind: 'no-hash', hash: 'nohash', value: 4 });
  });

  it('meta from a file store: computed and when (test_describe_load)', async () => {
    const fs = new FileStore(join(tmp, 'describe.jugdata'));
    freshLoad(fs);
    const t = echo('x');
    const before = (await describeTask(t)) as TaskDescription;
    assert.deepEqual(before.meta, { computed: false });
    await runAll(fs);
    fs.flush();
    const done = (await describeTask(t)) as TaskDescription;
    assert.equal(done.meta?.computed, true);
    assert.ok(!Number.isNaN(Date.parse(done.meta?.completed ?? '')), JSON.stringify(done.meta));
    // No active store: no meta.
    freshLoad(undefined);
    assert.equal('meta' in ((await describeTask(echo(1))) as object), false);
  });
});

describe('describeBrief and describeArguments', () => {
  it('one line for tasks, tasklets, lists, wrappers and every container kind', () => {
    const t = nums([1, 2]);
    class Foo {}
    const values = [new Set([1, 2]), new Map<unknown, unknown>([[1, 'a']]), { a: 1, 'b c': 2 }, new Float64Array(3), new Date(0), 5n, () => 1, null, undefined, new Foo(), NoHash(3), CustomHash(4, () => 'h'), NoLoad(t), t.get(0), map(echo, [1, 2, 3])];
    assert.equal(
      describeBrief(values, 1000),
      '[Set(2) {1, 2}, Map(1) {1 => "a"}, {a: 1, "b c": 2}, Float64Array(3), 1970-01-01T00:00:00.000Z, 5n, [function anonymous], ' +
        'null, undefined, Foo {…}, no-hash(3), custom-hash(4), no-load(utils.test.nums([1, 2])), utils.test.nums([1, 2])[0], list(3)]',
    );
  });

  it('stops at maxChars with …', () => {
    assert.equal(describeBrief('x'.repeat(100), 10), '"xxxxxxxx…');
    assert.equal(describeArguments([1, 'a', [2, 3]], 9), '1, "a", …');
  });
});

describe('jugExecute', () => {
  it('runs a command without a shell and returns its exit code', async () => {
    const out = join(tmp, 'argv.json');
    const script = 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))';
    const t = jugExecute([process.execPath, '-e', script, out, '$HOME', 'a b', '*']);
    assert.equal(t.name, 'jug.execute');
    await runAll(store);
    assert.equal(await value(t), 0);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ['$HOME', 'a b', '*']);
    rmSync(out);
  });

  it('a non-zero exit fails the task naming the command and the code; checkExit: false returns it', async () => {
    const failing = jugExecute([process.execPath, '-e', 'process.exit(3)']);
    const tolerated = jugExecute([process.execPath, '-e', 'process.exit(4)'], { checkExit: false });
    const missing = jugExecute(['/nonexistent/command-xyz']);
    const outcomes = await runAll(store);
    const msgs = failures(outcomes);
    assert.equal(msgs.length, 2, msgs.join('\n'));
    assert.ok(msgs.some((m) => m.includes(process.execPath) && /exited with code 3/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /could not run `\/nonexistent\/command-xyz`/.test(m)), msgs.join('\n'));
    assert.equal(outcomes.get(failing as Task)?.kind, 'failed');
    assert.equal(outcomes.get(missing as Task)?.kind, 'failed');
    assert.equal(await value(tolerated), 4);
  });

  it('a literal argv is checked when declared (empty, not strings): TaskDefinitionError', () => {
    assert.throws(() => jugExecute([]), { name: 'TaskDefinitionError', message: /non-empty array of strings/ });
    assert.throws(() => jugExecute([1 as unknown as string]), { name: 'TaskDefinitionError' });
    jugExecute([echo('ls') as unknown as string]); // a task inside: checked when it runs
  });

  it('after: orders it behind other tasks, which count in its identity', () => {
    const before1 = echo(1);
    const t = jugExecute(['true'], { after: [before1] });
    assert.deepEqual(t.dependencies(), [before1]);
    assert.notEqual(t.hash(), jugExecute(['true']).hash());
    assert.equal(jugExecute(['true']).hash(), hashTask('jug.execute', [['true'], { checkExit: true }]));
  });
});
