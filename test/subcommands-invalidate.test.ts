/**
 * `jug invalidate` through the real CLI (removal cascades through Tasklets to every dependant,
 * only those; messages; failure marks; usage errors), and the invalidation core on a MemoryStore
 * (locks of running tasks, the barrier refusal).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildGraph } from '../src/graph.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { TaskGenerator, type Task } from '../src/task.js';
import { invalidate, withDependants } from '../src/cli/invalidation.js';
import { invalidateProject } from '../src/cli/commands/invalidate.js';
import { taskTarget } from '../src/cli/common.js';
import { FIXTURES, entries, makeTempDir, parseTable, removeTempDir, runJug, show, storedHashes, type RunResult } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('invalidate');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

/** A copy of a fixture in its own directory; returns the jugfile and its jugdir. */
function copyFixture(name: string, dir: string): { jugfile: string; jugdir: string } {
  mkdirSync(join(tmp, dir));
  const jugfile = join(tmp, dir, name);
  copyFileSync(join(FIXTURES, name), jugfile);
  return { jugfile, jugdir: jugfile.replace(/\.ts$/, '.jugdata') };
}

describe('jug invalidate (CLI)', { concurrency: 2 }, () => {
  test('removes the matching tasks and everything depending on them (through Tasklets), nothing else', async () => {
    const { jugfile, jugdir } = copyFixture('chain.ts', 'cascade');
    const before = await runJug(['invalidate', jugfile, '--target', 'makeSeed']);
    expectCode(before, 0);
    assert.equal(before.stdout, 'Tasks matched, but none had a stored result.\n');

    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    const all = storedHashes(jugdir);
    assert.equal(all.length, 5);

    const r = await runJug(['invalidate', jugfile, '--target', 'makeSeed']);
    expectCode(r, 0);
    const { columns, rows } = parseTable(r.stdout);
    assert.deepEqual(columns, ['Invalidated']);
    assert.deepEqual(
      Object.fromEntries(rows),
      { 'chain.makeSeed': [1], 'chain.makePair': [1], 'chain.double': [1], 'chain.addOne': [1], 'Total:': [4] },
      show(r),
    );
    // `independent` (also chain.double, but depending on nothing) keeps its result.
    assert.equal(storedHashes(jugdir).length, 1);
    const st = await runJug(['status', jugfile]);
    assert.deepEqual(parseTable(st.stdout).rows.get('chain.double'), [1, 0, 1, 0, 0], show(st));

    // The next run computes exactly the invalidated tasks again.
    const ex = await runJug(['execute', '-q', jugfile]);
    expectCode(ex, 0);
    assert.deepEqual(parseTable(ex.stdout).rows.get('Total:'), [4, 1], show(ex));
    assert.deepEqual(storedHashes(jugdir), all);
  });

  test('a target in the middle invalidates only its dependants; --short prints one line', async () => {
    const { jugfile, jugdir } = copyFixture('chain.ts', 'middle');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    const r = await runJug(['invalidate', jugfile, '--target', 'chain.double', '--short']);
    expectCode(r, 0);
    // Both chain.double tasks and addOne (which depends on one of them).
    assert.equal(r.stdout, 'Invalidated:  3 tasks\n** Total: 3 tasks.\n');
    assert.equal(storedHashes(jugdir).length, 2);
    const again = await runJug(['invalidate', jugfile, '--target', '/^chain\\.(double|addOne)$/']);
    expectCode(again, 0);
    assert.equal(again.stdout, 'Tasks matched, but none had a stored result.\n');
  });

  test('no matching name: "No results invalidated.", the names on stderr, exit 0', async () => {
    const { jugfile, jugdir } = copyFixture('chain.ts', 'nomatch');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    const r = await runJug(['invalidate', jugfile, '--target', 'nosuch']);
    expectCode(r, 0);
    assert.equal(r.stdout, 'No results invalidated.\n');
    assert.match(r.stderr, /no task name matches --target 'nosuch' \(task names: chain\.addOne, chain\.double, chain\.makePair, chain\.makeSeed\)/);
    assert.equal(storedHashes(jugdir).length, 5);
  });

  test('usage errors: missing --target and a bad regular expression exit 2', async () => {
    const { jugfile } = copyFixture('chain.ts', 'usage');
    const r = await runJug(['invalidate', jugfile]);
    expectCode(r, 2);
    assert.match(r.stderr, /jug invalidate needs --target PATTERN \(tasks by name or hash\) or --outdated/);
    const bad = await runJug(['invalidate', jugfile, '--target', '/(/']);
    expectCode(bad, 2);
    assert.match(bad.stderr, /invalid regular expression/);
  });

  test('clears the failure marks of the invalidated tasks, so they run again', async () => {
    const { jugfile, jugdir } = copyFixture('failing.ts', 'failed');
    const ex = await runJug(['execute', '-q', '--keep-going', '--keep-failed', jugfile]);
    expectCode(ex, 1);
    assert.equal(entries(join(jugdir, 'locks')).length, 1);
    const r = await runJug(['invalidate', jugfile, '--target', 'boom']);
    expectCode(r, 0);
    assert.equal(r.stdout, 'Tasks matched, but none had a stored result.\n');
    assert.match(r.stderr, /removed 1 failure mark\(s\)/);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    const st = await runJug(['status', jugfile]);
    assert.deepEqual(parseTable(st.stdout).rows.get('failing.boom'), [0, 1, 0, 0, 0], show(st));
  });

  test("keeps a running task's lock and warns that its result will be stale", async () => {
    const { jugfile, jugdir } = copyFixture('chain.ts', 'running');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    const before = new Set(storedHashes(jugdir));
    // Invalidate addOne only: its one task is the one whose hash disappears.
    expectCode(await runJug(['invalidate', jugfile, '--target', 'addOne']), 0);
    const addOneHash = [...before].find((h) => !storedHashes(jugdir).includes(h))!;
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    // A live process (this test) holds addOne's lock.
    mkdirSync(join(jugdir, 'locks'), { recursive: true });
    const lock = join(jugdir, 'locks', `${addOneHash}.lock`);
    writeFileSync(lock, `PID ${process.pid} on HOSTNAME ${hostname()}\n`);
    const r = await runJug(['invalidate', jugfile, '--target', 'addOne']);
    expectCode(r, 0);
    assert.match(r.stderr, /1 invalidated task\(s\) are running in another process now \(chain\.addOne ×1\)/);
    assert.deepEqual(entries(join(jugdir, 'locks')), [`${addOneHash}.lock`]);
    // A failure mark on the same lock is removed.
    utimesSync(lock, 1, 1);
    const r2 = await runJug(['invalidate', jugfile, '--target', 'addOne']);
    expectCode(r2, 0);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
  });
});

describe('invalidation core', () => {
  const src = TaskGenerator(function src(): number {
    return 1;
  }, { name: 'inv.src' });
  const inc = TaskGenerator(function inc(x: number): number {
    return x + 1;
  }, { name: 'inv.inc' });
  const pair = TaskGenerator(function pair(x: number): [number, number] {
    return [x, x];
  }, { name: 'inv.pair' });
  const sum = TaskGenerator(function sum(xs: number[]): number {
    return xs.reduce((a, b) => a + b, 0);
  }, { name: 'inv.sum' });

  function diamond(): { tasks: Task[]; graph: ReturnType<typeof buildGraph> } {
    const a = src();
    const p = pair(a);
    const b = inc(p.get(0));
    const c = inc(p.get(1));
    const d = sum([b, c]);
    const other = inc(41);
    const tasks = [a, p, b, c, d, other] as Task[];
    return { tasks, graph: buildGraph(tasks) };
  }

  test('withDependants: the transitive dependants through Tasklets, in graph order, each once', () => {
    const { tasks, graph } = diamond();
    const idx = (t: Task): number => graph.index.get(t.hash())!;
    const got = withDependants(graph, [idx(tasks[0]!)]);
    assert.deepEqual(new Set(got), new Set(tasks.slice(0, 5).map(idx)));
    assert.deepEqual(got, [...got].sort((x, y) => x - y));
    assert.deepEqual(withDependants(graph, [idx(tasks[3]!)]), [idx(tasks[3]!), idx(tasks[4]!)].sort((x, y) => x - y));
  });

  test('removes results and failure marks, keeps and reports running locks', async () => {
    const { tasks, graph } = diamond();
    const store = new MemoryStore();
    for (const t of tasks) await store.dump(t.hash(), 1);
    const running = store.lock(tasks[4]!.hash());
    assert.equal(await running.get(), true);
    const failing = store.lock(tasks[2]!.hash());
    await store.remove(tasks[2]!.hash());
    assert.equal(await failing.get(), true);
    assert.equal(await failing.fail(), true);

    const r = await invalidate(graph, store, [graph.index.get(tasks[0]!.hash())!]);
    assert.equal(r.tasks.length, 5);
    assert.equal(r.removed.length, 4);
    assert.equal(r.failureMarksRemoved, 1);
    assert.deepEqual(r.running, [graph.index.get(tasks[4]!.hash())!]);
    assert.deepEqual([...(await store.list())], [tasks[5]!.hash()]);
    assert.deepEqual([...(await store.listLocks()).keys()], [tasks[4]!.hash()]);
  });

  test('refuses when the jugfile stopped at a barrier (tasks after it are unknown), unless --ignore-barrier', async () => {
    const { tasks, graph } = diamond();
    const store = new MemoryStore();
    for (const t of tasks) await store.dump(t.hash(), 1);
    const project = { jugfile: 'x.ts', store, graph, exports: {}, stored: new Set<string>(), barrier: { where: 'x.ts:7', tasksBefore: 6, missing: 1 } };
    let out = '';
    let err = '';
    const code = await invalidateProject(project, taskTarget('inv.src', project.graph.tasks), { target: 'inv.src' }, (s) => (out += s), (s) => (err += s));
    assert.equal(code, 1);
    assert.match(err, /stops at barrier\(\) \(x\.ts:7\).*Nothing was removed/s);
    assert.equal(out, '');
    assert.equal((await store.list()).size, 6);
    const forced = await invalidateProject(
      project,
      taskTarget('inv.src', project.graph.tasks),
      { target: 'inv.src', ignoreBarrier: true, short: true },
      (s) => (out += s),
      () => {},
    );
    assert.equal(forced, 0);
    assert.equal(out, 'Invalidated:  5 tasks\n** Total: 5 tasks.\n');
    assert.equal((await store.list()).size, 1);
    // A target matching no task before the barrier may name tasks after it: refused, not "no match".
    err = '';
    const unknown = await invalidateProject(project, taskTarget('later', project.graph.tasks), { target: 'later' }, () => {}, (s) => (err += s));
    assert.equal(unknown, 1);
    assert.match(err, /no task declared before barrier\(\) \(x\.ts:7\) matches --target 'later'.*Nothing was removed/s);
  });
});

describe('jug invalidate at a barrier (CLI)', () => {
  test('refuses while the jugfile stops at a barrier (results after it may depend on the target); --ignore-barrier', async () => {
    const { jugfile, jugdir } = copyFixture('two-stage.ts', 'barrier');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    assert.equal(storedHashes(jugdir).length, 3);
    // Barrier passed: the whole graph is visible, and `late` goes with `early` across the barrier.
    const all = await runJug(['invalidate', jugfile, '--target', 'first', '--short']);
    expectCode(all, 0);
    assert.equal(all.stdout, 'Invalidated:  2 tasks\n** Total: 2 tasks.\n');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);

    // Now make the load stop at the barrier: `side` (before it) has no result.
    expectCode(await runJug(['invalidate', jugfile, '--target', 'other']), 0);
    const stored = storedHashes(jugdir);
    assert.equal(stored.length, 2);
    const r = await runJug(['invalidate', jugfile, '--target', 'first']);
    expectCode(r, 1);
    assert.match(r.stderr, /stops at barrier\(\) \(.*two-stage\.ts:\d+\).*Nothing was removed.*--ignore-barrier/s);
    assert.equal(r.stdout, '');
    assert.deepEqual(storedHashes(jugdir), stored);

    const forced = await runJug(['invalidate', jugfile, '--target', 'first', '--ignore-barrier', '--short']);
    expectCode(forced, 0);
    assert.equal(forced.stdout, 'Invalidated:  1 tasks\n** Total: 1 tasks.\n');
    assert.equal(storedHashes(jugdir).length, 1, '`late` (after the barrier) is not visible, so it stays');
  });
});
