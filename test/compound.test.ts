/**
 * CompoundTask / CompoundTaskGenerator (src/compound.ts): unit tests through executeTask with a
 * MemoryStore, then the CLI (serial and --threads 2) on generated jugfiles. Ports upstream
 * test_compound.py, the barrier cases (test_w_barrier, test_non_simple) included.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CompoundTask, CompoundTaskGenerator } from '../src/compound.js';
import { TaskDefinitionError } from '../src/errors.js';
import { hashTask } from '../src/hash.js';
import { mapreduce } from '../src/mapreduce.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { TaskGenerator, type Task } from '../src/task.js';
import { value } from '../src/value.js';
import { declared, failures, freshLoad, runAll } from './run-graph.js';
import { makeTempDir, parseTable, readResults, removeTempDir, runJug, show, storedHashes } from './helpers.js';

function add(a: number, b: number): number {
  return a + b;
}
function square(x: number): number {
  return x * x;
}
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('CompoundTask (unit)', () => {
  let store: MemoryStore;
  let calls: number;
  function sumOfSquares(n: number) {
    calls++;
    return mapreduce(add, square, range(n), { mapStep: 2, reduceStep: 2 });
  }
  beforeEach(() => {
    store = new MemoryStore();
    calls = 0;
    freshLoad(store, new Set());
  });

  it('not stored: calls fn at once, declares its sub-graph and a wrapper with the compound hash', async () => {
    const t = CompoundTask(sumOfSquares, 10);
    assert.equal(calls, 1);
    assert.equal(t.name, 'compound.test.sumOfSquares');
    assert.equal(t.hash(), hashTask('compound.test.sumOfSquares', [10]));
    const tasks = declared();
    assert.ok(tasks.length > 3);
    assert.equal(tasks.at(-1), t, 'the wrapper comes after the sub-graph');
    assert.equal(t.dependencies().length, 1);
    await runAll(store);
    assert.equal(await value(t), range(10).map(square).reduce(add));
  });

  it('stored: fn is not called, one task stands for the result (same hash, same value)', async () => {
    const first = CompoundTask(sumOfSquares, 10);
    await runAll(store);
    const result = await value(first);

    freshLoad(store, await store.list());
    const again = CompoundTask(sumOfSquares, 10);
    assert.equal(calls, 1, 'fn not called again');
    assert.deepEqual(
      declared().map((x) => x.name),
      ['compound.test.sumOfSquares'],
      'the sub-graph is not declared',
    );
    assert.equal(again.hash(), first.hash());
    assert.equal(await value(again), result);
    // Other arguments: another compound, built.
    CompoundTask(sumOfSquares, 11);
    assert.equal(calls, 2);
  });

  it('stores the inner result once, under the compound hash only (no double dump)', async () => {
    const t = CompoundTask(sumOfSquares, 4);
    const outcomes = await runAll(store);
    assert.equal(outcomes.get(t as Task)?.kind, 'executed');
    const wrapperRuns = [...outcomes.keys()].filter((x) => x.hash() === t.hash());
    assert.equal(wrapperRuns.length, 1);
    assert.equal(store.results.size, new Set(declared().map((x) => x.hash())).size);
  });

  it('fn may return a structure of tasks; arguments may be tasks', async () => {
    const base = TaskGenerator(function base(n: number) {
      return n + 1;
    });
    const b = base(1);
    function pair(x: typeof b) {
      return { sum: mapreduce(add, square, [x, 3]), plain: 'p', list: [x, base(5)] };
    }
    const t = CompoundTask(pair, b);
    await runAll(store);
    assert.deepEqual(await value(t), { sum: 13, plain: 'p', list: [2, 6] });

    // Stored: the stand-in still depends on the argument tasks.
    freshLoad(store, await store.list());
    const b2 = base(1);
    const t2 = CompoundTask(pair, b2);
    assert.deepEqual(t2.dependencies(), [b2 as Task]);
    assert.deepEqual(await value(t2), { sum: 13, plain: 'p', list: [2, 6] });
  });

  it('the stand-in fails with an explanation if its result vanished after the load', async () => {
    CompoundTask(sumOfSquares, 3);
    await runAll(store);
    freshLoad(store, await store.list());
    const t = CompoundTask(sumOfSquares, 3);
    await store.remove(t.hash());
    const msgs = failures(await runAll(store));
    assert.equal(msgs.length, 1);
    assert.match(msgs[0]!, /removed after the jugfile was loaded.*jug execute/s);
  });

  it('CompoundTaskGenerator: each call is a CompoundTask; options.name names it', async () => {
    const g = CompoundTaskGenerator(sumOfSquares);
    assert.equal(g.taskName, 'compound.test.sumOfSquares');
    const t = g(6);
    assert.equal(t.hash(), hashTask(g.taskName, [6]));
    const named = CompoundTaskGenerator(sumOfSquares, { name: 'pipelines.squares' });
    assert.equal(named(6).name, 'pipelines.squares');
    await runAll(store);
    assert.equal(await value(t), 55);
    assert.throws(() => CompoundTaskGenerator(sumOfSquares, { name: 'jug.mine' }), TaskDefinitionError);
  });

  it('rejects async functions, TaskGenerators and anonymous functions', () => {
    async function later() {
      return square(2);
    }
    assert.throws(() => CompoundTask(later), /returned a Promise/);
    const g = TaskGenerator(square, { name: 'c.square' });
    assert.throws(() => CompoundTask(g as never, 2), /is a TaskGenerator/);
    assert.throws(() => CompoundTask((() => 1) as () => number), /named function/);
  });
});

describe('CompoundTask and mapreduce through the CLI', () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('compound');
  });
  after(() => removeTempDir(tmp));

  const JUGFILE = `
import { CompoundTask, TaskGenerator, map, mapreduce, reduce, currymap, identity } from 'jug';

export const square = TaskGenerator(function square(x: number): number {
  return x * x;
});
function add(a: number, b: number): number {
  return a + b;
}
function mul(a: number, b: number): number {
  return a * b;
}

function pipeline(n: number) {
  const squares = map(square, Array.from({ length: n }, (_, i) => i), { chunkSize: 3 });
  return reduce(add, squares.slice(0, undefined, 2));
}
export const compound = CompoundTask(pipeline, 20);
export const total = mapreduce(add, square, Array.from({ length: 30 }, (_, i) => i), { mapStep: 4, reduceStep: 3 });
export const products = currymap(mul, [[1, 2], [3, 4], [5, 6]], { chunkSize: 2 });
export const singles = map(square, [7, 8, 9], { chunkSize: 1 });
export const all = identity({ compound, total, products, singles });
`;

  function write(dir: string): string {
    mkdirSync(dir);
    const jugfile = join(dir, 'mr.ts');
    writeFileSync(jugfile, JUGFILE);
    return jugfile;
  }

  const expected = {
    compound: range(20).map((i) => i * i).filter((_, i) => i % 2 === 0).reduce(add),
    total: range(30).map(square).reduce(add),
    products: [2, 12, 30],
    singles: [49, 64, 81],
  };

  it('serial: status shows the sub-graph before, only the compound task after; results as computed directly', async () => {
    const jugfile = write(join(tmp, 'serial'));
    const before = await runJug(['status', jugfile]);
    assert.equal(before.code, 0, show(before));
    const rows = parseTable(before.stdout).rows;
    assert.ok(rows.has('jug.mapreduce.map'), before.stdout);
    assert.ok(rows.has('mr.pipeline'), before.stdout);

    const r = await runJug(['execute', jugfile]);
    assert.equal(r.code, 0, show(r));
    const read = await readResults(jugfile, undefined, ['all']);
    assert.deepEqual(read.values['all'], expected);

    const afterStatus = await runJug(['status', jugfile]);
    assert.equal(afterStatus.code, 0, show(afterStatus));
    const afterRows = parseTable(afterStatus.stdout).rows;
    assert.deepEqual(afterRows.get('mr.pipeline'), [0, 0, 1, 0, 0], afterStatus.stdout);
    // The compound's sub-graph (its map's chunk tasks, the only jug.mapreduce.map tasks of this
    // jugfile, and its reduce) is no longer declared.
    assert.equal(afterRows.get('jug.mapreduce.map'), undefined, afterStatus.stdout);

    const again = await runJug(['execute', jugfile]);
    assert.equal(again.code, 0, show(again));
    assert.deepEqual((await readResults(jugfile, undefined, ['compound'])).values['compound'], expected.compound);
  });

  it('--threads 2 computes the same results and stores the same hashes as a serial run', async () => {
    const serial = write(join(tmp, 'a'));
    const threaded = write(join(tmp, 'b'));
    const r1 = await runJug(['execute', serial]);
    assert.equal(r1.code, 0, show(r1));
    const r2 = await runJug(['execute', '--threads', '2', threaded]);
    assert.equal(r2.code, 0, show(r2));
    const v1 = await readResults(serial, undefined, ['all']);
    const v2 = await readResults(threaded, undefined, ['all']);
    assert.deepEqual(v2.values, v1.values);
    assert.deepEqual(v2.values['all'], expected);
    assert.deepEqual(storedHashes(join(tmp, 'b', 'mr.jugdata')), storedHashes(join(tmp, 'a', 'mr.jugdata')));
    // A second threaded run, where the compound is stored: workers agree with the parent's graph.
    const r3 = await runJug(['execute', '--threads', '2', threaded]);
    assert.equal(r3.code, 0, show(r3));
  });

  for (const threads of [undefined, '2']) {
    const how = threads === undefined ? 'serial' : `--threads ${threads}`;

    it(`a barrier inside the compound function (upstream test_w_barrier), ${how}`, async () => {
      const dir = join(tmp, `wbarrier-${threads ?? 1}`);
      mkdirSync(dir);
      const jugfile = join(dir, 'wb.ts');
      writeFileSync(
        jugfile,
        `
import { CompoundTask, TaskGenerator, barrier } from 'jug';
const double = TaskGenerator(function double(x: number): number {
  return 2 * x;
});
function twice(x: number) {
  const t = double(x);
  barrier();
  return double(t);
}
export const sixteen = CompoundTask(twice, 4);
`,
      );
      const args = threads === undefined ? ['execute', jugfile] : ['execute', '--threads', threads, jugfile];
      const r = await runJug(args);
      assert.equal(r.code, 0, show(r));
      assert.equal((await readResults(jugfile, undefined, ['sixteen'])).values['sixteen'], 16);
      const st = await runJug(['status', jugfile]);
      assert.deepEqual([...parseTable(st.stdout).rows.keys()], ['wb.twice', 'Total:'], st.stdout);
    });

    it(`the execute summary counts the compound's inner tasks run before a barrier (as Python Jug), ${how}`, async () => {
      const dir = join(tmp, `counts-${threads ?? 1}`);
      mkdirSync(dir);
      const jugfile = join(dir, 'cj.ts');
      writeFileSync(
        jugfile,
        `
import { CompoundTask, TaskGenerator, barrier, value } from 'jug';
export const double = TaskGenerator(function double(x: number): number { return 2 * x; });
export const add = TaskGenerator(function add(a: number, b: number): number { return a + b; });
function pipeline(n: number) {
  return add(double(n), double(n + 1));
}
export const first = [0, 1, 2].map((i) => double(i));
export const c = CompoundTask(pipeline, 10);
barrier();
export const final = add(await value(c), 1);
`,
      );
      const threadArgs = threads === undefined ? [] : ['--threads', threads];
      // Python Jug 2.5 on the same jugfile: Executed add 2, double 5, and the compound once.
      const r = await runJug(['execute', ...threadArgs, jugfile]);
      assert.equal(r.code, 0, show(r));
      const rows = parseTable(r.stdout).rows;
      assert.deepEqual(rows.get('cj.double'), [5, 0], show(r));
      assert.deepEqual(rows.get('cj.add'), [2, 0], show(r));
      assert.deepEqual(rows.get('cj.pipeline'), [1, 0], show(r));
      assert.deepEqual(rows.get('Total:'), [8, 0], show(r));
      // Inner tasks stored by an earlier run are loaded in the first pass only: Loaded, each once.
      const st = await runJug(['invalidate', '--target', 'cj.pipeline', jugfile]);
      assert.equal(st.code, 0, show(st));
      const again = await runJug(['execute', ...threadArgs, jugfile]);
      assert.equal(again.code, 0, show(again));
      const rows2 = parseTable(again.stdout).rows;
      assert.deepEqual(rows2.get('cj.double'), [0, 5], show(again));
      assert.deepEqual(rows2.get('cj.pipeline'), [1, 0], show(again));
      assert.deepEqual(rows2.get('cj.add'), [0, 2], show(again));
    });

    it(`a compound returning several tasks, then bvalue, identity and barrier (upstream test_non_simple), ${how}`, async () => {
      const dir = join(tmp, `nonsimple-${threads ?? 1}`);
      mkdirSync(dir);
      const jugfile = join(dir, 'ns.ts');
      writeFileSync(
        jugfile,
        `
import { CompoundTask, TaskGenerator, barrier, bvalue, identity } from 'jug';
const double = TaskGenerator(function double(x: number): number {
  return 2 * x;
});
function pair(x: number) {
  const a = double(x);
  return [a, double(a)];
}
export const both = CompoundTask(pair, 2);
const [, eight] = await bvalue(both);
export const id = identity(eight);
barrier();
export const sixteen = double(id);
`,
      );
      const args = threads === undefined ? ['execute', jugfile] : ['execute', '--threads', threads, jugfile];
      const r = await runJug(args);
      assert.equal(r.code, 0, show(r));
      const read = await readResults(jugfile, undefined, ['both', 'sixteen']);
      assert.deepEqual(read.values, { both: [4, 8], sixteen: 16 });
      const again = await runJug(args);
      assert.equal(again.code, 0, show(again));
      // Stored: one ns.pair task, and of ns.double only the task outside the compound (sixteen).
      const st = await runJug(['status', jugfile]);
      const table = parseTable(st.stdout);
      const finished = table.columns.indexOf('Finished');
      assert.equal(table.rows.get('ns.pair')?.[finished], 1, st.stdout);
      assert.equal(table.rows.get('ns.double')?.[finished], 1, st.stdout);
      assert.equal(table.rows.get('Total:')?.reduce((a, b) => a + b), 3, st.stdout);
    });
  }
});
