/**
 * buildGraph(): unique tasks by hash in a topological order, with dependency and dependant edges
 * as indices. The scheduler, `status` and `check` all start from it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGraph, type TaskGraph } from '../src/graph.js';
import { beginLoad } from '../src/registry.js';
import { TaskGenerator, type Task } from '../src/task.js';

beginLoad();
const leaf = TaskGenerator(function leaf(x: number): number {
  return x;
}, { name: 'graph-test.leaf' });
const sum = TaskGenerator(function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}, { name: 'graph-test.sum' });
const next = TaskGenerator(function next(x: number): number {
  return x + 1;
}, { name: 'graph-test.next' });

/** Every edge points backwards (dependencies first), and dependants mirror deps exactly. */
function assertConsistent(g: TaskGraph): void {
  assert.equal(g.deps.length, g.tasks.length);
  assert.equal(g.dependants.length, g.tasks.length);
  assert.equal(g.index.size, g.tasks.length);
  g.tasks.forEach((t, i) => assert.equal(g.index.get(t.hash()), i));
  const mirrored = g.tasks.map(() => [] as number[]);
  g.deps.forEach((ds, i) => {
    assert.equal(new Set(ds).size, ds.length, `deps of ${i} are unique`);
    for (const d of ds) {
      assert.ok(d < i, `dependency ${d} of ${i} comes first`);
      mirrored[d]!.push(i);
    }
  });
  assert.deepEqual(g.dependants, mirrored);
}

describe('buildGraph', () => {
  it('orders dependencies first and includes the ones not declared', () => {
    const a = leaf(1);
    const b = leaf(2);
    const s = sum([a, b]);
    const g = buildGraph([s, next(s)] as Task[]); // a and b only reached through s
    assertConsistent(g);
    assert.deepEqual(
      g.tasks.map((t) => t.hash()),
      [a, b, s].map((t) => t.hash()).concat(g.tasks[3]!.hash()),
    );
    assert.deepEqual(g.deps, [[], [], [0, 1], [2]]);
    assert.deepEqual(g.dependants, [[2], [2], [3], []]);
  });

  it('keeps one task per hash: twins declared twice, and a task depending on both twins', () => {
    // Distinct Task objects with the same function and arguments have the same hash.
    const twins = [leaf(7), leaf(7)];
    assert.notEqual(twins[0], twins[1]);
    const few = sum([...twins, leaf(8)]);
    // More than 16 dependencies takes the other path of the de-duplication.
    const many = sum([...Array.from({ length: 20 }, (_, i) => leaf(100 + i)), ...twins, leaf(7)]);
    const g = buildGraph([...twins, few, many] as Task[]);
    assertConsistent(g);
    assert.equal(g.tasks.length, 1 + 2 + 1 + 20);
    const seven = g.index.get(twins[0]!.hash())!;
    assert.deepEqual(g.deps[g.index.get(few.hash())!], [seven, g.index.get(leaf(8).hash())!]);
    const manyDeps = g.deps[g.index.get(many.hash())!]!;
    assert.equal(manyDeps.length, 21);
    assert.equal(manyDeps.filter((d) => d === seven).length, 1);
    assert.deepEqual(g.dependants[seven], [g.index.get(few.hash())!, g.index.get(many.hash())!]);
  });

  it('a chain of 100,000 tasks: no stack overflow, in chain order', () => {
    let t = leaf(0);
    const chain: unknown[] = [t];
    for (let i = 0; i < 100_000; i++) {
      t = next(t);
      chain.push(t);
    }
    const g = buildGraph([t as unknown as Task]); // only the last one declared: the rest is found on the way
    assert.equal(g.tasks.length, chain.length);
    assert.equal(g.tasks[0], chain[0]);
    assert.equal(g.tasks[chain.length - 1], t);
    assert.deepEqual(g.deps[1], [0]);
    assert.deepEqual(g.dependants[chain.length - 2], [chain.length - 1]);
  });
});
