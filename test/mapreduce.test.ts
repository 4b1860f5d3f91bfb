/**
 * Unit tests of map / currymap / reduce / mapreduce and LazyList (src/mapreduce.ts,
 * src/lazy-list.ts), run through executeTask against a MemoryStore. Ports upstream
 * test_mapreduce.py and fixes Python Jug's §7.15 (slice length with a stride, chunk size 1 with a
 * TaskGenerator) and the missing dependencies of slices (§7.13).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { TaskDefinitionError } from '../src/errors.js';
import { currymap, map, mapreduce, reduce } from '../src/mapreduce.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { Task, TaskGenerator, Tasklet } from '../src/task.js';
import { value } from '../src/value.js';
import { canRun, declared, failures, freshLoad, runAll } from './run-graph.js';

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
  freshLoad(store);
});

function double(x: number): number {
  return 2 * x;
}
function add(a: number, b: number): number {
  return a + b;
}
function square(x: number): number {
  return x * x;
}
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Python's slice of an array (start/end as in Array.prototype.slice, any non-zero step). */
function pySlice<T>(xs: readonly T[], start: number | undefined, end: number | undefined, step: number): T[] {
  const n = xs.length;
  const [lo, hi] = step > 0 ? [0, n] : [-1, n - 1];
  const norm = (v: number | undefined, d: number): number => {
    if (v === undefined) return d;
    const x = v < 0 ? v + n : v;
    return Math.min(Math.max(x, lo), hi);
  };
  const s = norm(start, step > 0 ? lo : hi);
  const e = norm(end, step > 0 ? hi : lo);
  const out: T[] = [];
  if (step > 0) for (let i = s; i < e; i += step) out.push(xs[i]!);
  else for (let i = s; i > e; i += step) out.push(xs[i]!);
  return out;
}

describe('map', () => {
  it('gives the same values as Array.prototype.map for every chunk size (plain function)', async () => {
    const inputs = range(23);
    for (const chunkSize of [1, 2, 3, 4, 23, 100]) {
      freshLoad(store);
      const m = map(double, inputs, { chunkSize });
      assert.equal(m.length, 23);
      await runAll(store);
      assert.deepEqual(await value(m), inputs.map(double), `chunkSize ${chunkSize}`);
      assert.equal(m.dependencies().length, Math.ceil(23 / chunkSize));
    }
  });

  it('chunkSize 1 with a TaskGenerator makes one task per input, the generator\'s own tasks (fix §7.15)', async () => {
    const dbl = TaskGenerator(double, { name: 'mr.double' });
    const m = map(dbl, [1, 2, 3], { chunkSize: 1 });
    const tasks = declared();
    assert.deepEqual(
      tasks.map((t) => t.name),
      ['mr.double', 'mr.double', 'mr.double'],
    );
    // The elements are the tasks dbl(x) itself would declare (same hashes).
    assert.equal(m.at(1).hash(), dbl(2).hash());
    assert.ok(m.at(1) instanceof Task);
    await runAll(store);
    assert.deepEqual(await value(m), [2, 4, 6]);
  });

  it('chunks run as tasks named jug.mapreduce.map, the mapper (TaskGenerator or plain) unwrapped', async () => {
    const dbl = TaskGenerator(double, { name: 'mr.double' });
    const a = map(dbl, range(10));
    const b = map(square, range(10), { chunkSize: 5 });
    const names = declared().map((t) => t.name);
    assert.deepEqual([...new Set(names)], ['jug.mapreduce.map']);
    assert.equal(names.length, 3 + 2);
    await runAll(store);
    assert.deepEqual(await value(a), range(10).map(double));
    assert.deepEqual(await value(b), range(10).map(square));
  });

  it('of no inputs is an empty list whose value is []', async () => {
    const m = map(double, []);
    assert.equal(m.length, 0);
    assert.deepEqual(m.dependencies(), []);
    assert.deepEqual(await value(m), []);
    const sum = TaskGenerator(function sumAll(xs: number[]) {
      return xs.reduce(add, 0);
    });
    const t = sum(m);
    assert.deepEqual(t.dependencies(), []);
    await runAll(store);
    assert.equal(await value(t), 0);
  });

  it('awaits async mappers', async () => {
    const m = map(async function slowDouble(x: number) {
      await new Promise((r) => setImmediate(r));
      return 2 * x;
    }, range(5), { chunkSize: 2 });
    await runAll(store);
    assert.deepEqual(await value(m), [0, 2, 4, 6, 8]);
  });

  it('has a stable hash: same inputs, same hash in a fresh load; other inputs or chunking, another', () => {
    const h1 = map(double, range(10)).hash();
    freshLoad(store);
    assert.equal(map(double, range(10)).hash(), h1);
    assert.notEqual(map(double, range(11)).hash(), h1);
    assert.notEqual(map(double, range(10), { chunkSize: 3 }).hash(), h1);
    assert.notEqual(map(square, range(10)).hash(), h1);
    assert.match(h1, /^[0-9a-f]{40}$/);
  });

  it('rejects inputs of unknown length and bad chunk sizes', () => {
    const t = TaskGenerator(function makeList(): number[] {
      return [1];
    })();
    assert.throws(() => map(double, t as never), (e: unknown) => e instanceof TaskDefinitionError && /length/.test(e.message));
    assert.throws(() => map(double, [1], { chunkSize: 0 }), TaskDefinitionError);
    assert.throws(() => map(double, [1], { chunkSize: 1.5 }), TaskDefinitionError);
    assert.throws(() => map((x: number) => x, [1]), /named function/);
  });

  it('a task using a map result waits for its blocks and receives the array', async () => {
    const m = map(double, range(16), { chunkSize: 4 });
    const total = TaskGenerator(function total(xs: number[]) {
      return xs.reduce(add, 0);
    })(m);
    assert.equal(total.dependencies().length, 4);
    assert.equal(await canRun(total, store), false);
    await runAll(store, (t) => t !== total);
    assert.equal(await canRun(total, store), true);
    await runAll(store);
    assert.equal(await value(total), 2 * range(16).reduce(add, 0));
  });

  it('maps over the result of another map (map of a map), 16 elements each', async () => {
    const m1 = map(double, range(16));
    const m2 = map(square, m1, { chunkSize: 3 });
    const first = declared().filter((t) => m1.dependencies().includes(t));
    assert.equal(first.length, 4);
    // A block of the second map depends on blocks of the first.
    for (const b of m2.dependencies()) assert.ok(b.dependencies().every((d) => first.includes(d)));
    await runAll(store);
    assert.deepEqual(await value(m1), range(16).map(double));
    assert.deepEqual(await value(m2), range(16).map((x) => square(double(x))));
  });
});

describe('LazyList', () => {
  it('at(i) is a Tasklet into its block (negative from the end); out of range throws', async () => {
    const m = map(double, range(10), { chunkSize: 4 });
    const x = m.at(5);
    assert.ok(x instanceof Tasklet);
    assert.equal(x.base, m.dependencies()[1]);
    assert.throws(() => m.at(10), TaskDefinitionError);
    assert.throws(() => m.at(-11), TaskDefinitionError);
    assert.throws(() => m.at(1.5), TaskDefinitionError);
    await runAll(store);
    assert.equal(await value(m.at(5)), 10);
    assert.equal(await value(m.at(-1)), 18);
    assert.deepEqual(await value([...m]), range(10).map(double));
    const [a, b] = m;
    assert.deepEqual(await value([a, b]), [0, 2]);
  });

  it('slices lazily with the right length and values for any start, end and step (fix §7.15)', async () => {
    const inputs = range(17);
    const expected = inputs.map(double);
    const m = map(double, inputs, { chunkSize: 4 });
    await runAll(store);
    const bounds = [undefined, -20, -5, -1, 0, 1, 3, 8, 16, 17, 30];
    for (const step of [1, 2, 3, 5, 20, -1, -2, -4]) {
      for (const start of bounds) {
        for (const end of bounds) {
          const s = m.slice(start, end, step);
          const want = pySlice(expected, start, end, step);
          assert.equal(s.length, want.length, `slice(${start}, ${end}, ${step}).length`);
          assert.deepEqual(await value(s), want, `slice(${start}, ${end}, ${step})`);
        }
      }
    }
    // Slices of slices compose.
    const s = m.slice(1, undefined, 2).slice(undefined, undefined, -3).slice(1);
    assert.deepEqual(await value(s), pySlice(pySlice(pySlice(expected, 1, undefined, 2), undefined, undefined, -3), 1, undefined, 1));
    assert.equal(s.at(0).hash(), m.at(pySlice(pySlice(inputs, 1, undefined, 2), undefined, undefined, -3)[1]!).hash());
    assert.throws(() => m.slice(0, 3, 0), TaskDefinitionError);
  });

  it('a slice depends only on the blocks it covers (fix §7.13) and has its own stable hash', async () => {
    const m = map(double, range(12), { chunkSize: 4 });
    const blocks = m.dependencies();
    const tail = m.slice(8);
    assert.deepEqual(tail.dependencies(), [blocks[2]]);
    assert.deepEqual(m.slice(0, 12, 4).dependencies(), blocks);
    assert.equal(m.slice(0), m, 'the whole slice is the list itself');
    assert.notEqual(tail.hash(), m.hash());
    assert.equal(tail.hash(), m.slice(8, 100).hash());
    assert.notEqual(tail.hash(), m.slice(7).hash());
    const useTail = TaskGenerator(function useTail(xs: number[]) {
      return xs.length;
    })(tail);
    assert.deepEqual(useTail.dependencies(), [blocks[2]]);
    await runAll(store, (t) => t === blocks[2]);
    assert.equal(await canRun(useTail, store), true);
    await runAll(store, (t) => t === useTail);
    assert.equal(await value(useTail), 4);
  });
});

describe('currymap', () => {
  it('calls fn(...args) per input, for every chunk size', async () => {
    const A = range(9);
    for (const chunkSize of [1, 2, 4]) {
      freshLoad(store);
      const m = currymap(add, A.map((a) => [a, a] as [number, number]), { chunkSize });
      await runAll(store);
      assert.deepEqual(await value(m), A.map((a) => 2 * a), `chunkSize ${chunkSize}`);
    }
  });

  it('accepts lazy argument tuples in chunks; chunkSize 1 needs written-out arrays', async () => {
    const pair = TaskGenerator(function pair(n: number): [number, number] {
      return [n, 10 * n];
    });
    const m = currymap(add, [pair(1), pair(2), [5, 5]], { chunkSize: 2 });
    assert.equal(new Set(declared().map((t) => t.name)).has('jug.mapreduce.currymap'), true);
    await runAll(store);
    assert.deepEqual(await value(m), [11, 22, 10]);
    assert.throws(() => currymap(add, [pair(1)], { chunkSize: 1 }), TaskDefinitionError);
  });
});

describe('reduce and mapreduce', () => {
  it('reduce equals Array.prototype.reduce, as a tree of jug.mapreduce tasks', async () => {
    const inputs = range(100).map((i) => (i * 37) % 101);
    const t = reduce(add, inputs, { reduceStep: 3 });
    const names = new Set(declared().map((x) => x.name));
    assert.deepEqual([...names].sort(), ['jug.mapreduce.mapreduce', 'jug.mapreduce.reduce']);
    await runAll(store);
    assert.equal(await value(t), inputs.reduce(add));
  });

  it('keeps the order of the inputs (an associative, non-commutative reducer)', async () => {
    const concat = (a: string, b: string): string => a + b;
    Object.defineProperty(concat, 'name', { value: 'concat' });
    const words = range(50).map((i) => String.fromCharCode(65 + (i % 26)));
    const t = mapreduce(concat, undefined, words, { mapStep: 3, reduceStep: 2 });
    await runAll(store);
    assert.equal(await value(t), words.join(''));
  });

  it('mapreduce: sum of squares of 10 000 numbers', async () => {
    const A = range(10_000).map((i) => i / 100);
    const t = mapreduce(add, square, A);
    await runAll(store);
    const want = A.map(square).reduce(add);
    assert.ok(Math.abs((await value(t)) - want) < 1e-6 * want);
  });

  it('with TaskGenerator reducer and mapper: 2 * sum(range(10))', async () => {
    const r = TaskGenerator(add, { name: 'mr.add' });
    const m = TaskGenerator(double, { name: 'mr.double' });
    const t = mapreduce(r, m, range(10), { mapStep: 2, reduceStep: 2 });
    await runAll(store);
    assert.equal(await value(t), 90);
  });

  it('takes tasks as inputs, and an initial value (the only value when there are no inputs)', async () => {
    const five = TaskGenerator(function five() {
      return 5;
    })();
    const t = reduce(add, [five, 1, five], { initial: 100 });
    assert.ok(t.dependencies().includes(five as Task));
    const empty = reduce(add, [], { initial: 7 });
    assert.equal(empty.name, 'jug.identity');
    await runAll(store);
    assert.equal(await value(t), 111);
    assert.equal(await value(empty), 7);
  });

  it('rejects no inputs without an initial value, and reduceStep < 2', () => {
    assert.throws(() => reduce(add, []), (e: unknown) => e instanceof TaskDefinitionError && /initial/.test(e.message));
    assert.throws(() => mapreduce(add, double, [1, 2], { reduceStep: 1 }), TaskDefinitionError);
  });

  it('a failing mapper fails its chunk task with the mapper\'s error', async () => {
    function explode(x: number): number {
      if (x === 3) throw new Error('three is not allowed');
      return x;
    }
    mapreduce(add, explode, range(8));
    const msgs = failures(await runAll(store));
    assert.ok(msgs.includes('three is not allowed'), msgs.join('\n'));
  });
});
