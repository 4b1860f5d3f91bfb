/**
 * The scheduler's handling of a dependency whose stored result turns out corrupt (the CLI side is
 * in bad-input.test.ts): it is moved aside, recomputed once, and its dependants wait for it; a
 * result that keeps coming back corrupt fails the dependant instead of looping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessExecutor } from '../src/executors/in-process.js';
import { buildGraph } from '../src/graph.js';
import { beginLoad } from '../src/registry.js';
import { runGraph, type SchedulerEvent } from '../src/scheduler.js';
import { StatusTable, TaskState } from '../src/status-table.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { TaskGenerator, type Task } from '../src/task.js';

/** A MemoryStore whose results for `bad` hashes are damaged as they are written (`times` times). */
class DamagingStore extends MemoryStore {
  constructor(
    readonly bad: Set<string>,
    public times: number,
  ) {
    super();
  }
  override async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    await super.dump(hash, value, taskName);
    if (this.bad.has(hash) && this.times-- > 0) this.results.get(hash)![20] ^= 0xff;
  }
}

function declare(): { graph: ReturnType<typeof buildGraph>; xs: Task<number[]>[]; total: Task<number>; runs: Map<number, number> } {
  beginLoad();
  const runs = new Map<number, number>();
  const sq = TaskGenerator(
    function sq(x: number): number[] {
      runs.set(x, (runs.get(x) ?? 0) + 1);
      return Array.from({ length: 20 }, () => x * x);
    },
    { name: 'corrupt-test.sq' },
  );
  const sum = TaskGenerator(function sum(xs: number[][]): number {
    return xs.reduce((a, b) => a + b[0]!, 0);
  }, { name: 'corrupt-test.sum' });
  const xs = [1, 2, 3].map((x) => sq(x));
  const total = sum(xs);
  return { graph: buildGraph([...xs, total] as unknown as Task[]), xs, total, runs };
}

async function run(store: MemoryStore, graph: ReturnType<typeof buildGraph>): Promise<{ events: SchedulerEvent[]; result: Awaited<ReturnType<typeof runGraph>> }> {
  const table = StatusTable.create(graph.tasks.length);
  const events: SchedulerEvent[] = [];
  const result = await runGraph(graph, store, new InProcessExecutor(store, table, false), { table, onEvent: (e) => events.push(e) });
  return { events, result };
}

/** A MemoryStore from which another "process" removes `hash`'s result just after it is stored, `times` times. */
class VanishingStore extends MemoryStore {
  constructor(
    readonly victim: string,
    public times: number,
  ) {
    super();
  }
  override async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    await super.dump(hash, value, taskName);
    if (hash === this.victim && this.times-- > 0) this.results.delete(hash); // a concurrent `jug invalidate`
  }
}

describe('corrupt dependency results', () => {
  it('a dependency whose result others remove (a concurrent invalidate) is recomputed more than twice', async () => {
    const { graph, xs, total, runs } = declare();
    const store = new VanishingStore(xs[1]!.hash(), 5);
    const { result } = await run(store, graph);
    assert.deepEqual(result.failures, []);
    assert.equal(runs.get(2), 6, 'computed once, then once per removal');
    assert.equal(await store.load(total.hash()), 14);
  });

  it('a dependency corrupt once is recomputed, with one warning, and the dependant then runs', async () => {
    const { graph, xs, total, runs } = declare();
    const store = new DamagingStore(new Set([xs[1]!.hash()]), 1);
    const { events, result } = await run(store, graph);
    assert.deepEqual(result.failures, []);
    const warnings = events.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1);
    assert.match((warnings[0] as { message: string }).message, /task corrupt-test\.sq .* is corrupt: checksum mismatch/);
    assert.deepEqual([...runs.entries()].sort(), [[1, 1], [2, 2], [3, 1]]);
    assert.equal(await store.load(total.hash()), 14);
    assert.equal(result.table.get(graph.index.get(total.hash())!), TaskState.Executed);
  });

  it('a dependency that keeps coming back corrupt fails the dependant after two recomputes', async () => {
    const { graph, xs, total, runs } = declare();
    const store = new DamagingStore(new Set([xs[1]!.hash()]), Infinity);
    const { result } = await run(store, graph);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0]!.task.hash(), total.hash());
    assert.match(result.failures[0]!.outcome.error.message, /task corrupt-test\.sum cannot read its argument: .*corrupt/);
    assert.equal(runs.get(2), 3, 'computed once, then recomputed twice');
    assert.equal(await store.has(total.hash()), false);
  });
});
