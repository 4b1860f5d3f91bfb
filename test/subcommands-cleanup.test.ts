/**
 * `jug cleanup` through the real CLI: unused results go, foreign files and used results stay;
 * failure marks and stale locks go, live locks (this host or another) stay; the mode
 * flags and --dry-run. Then the barrier rule on a MemoryStore, and Store.removeFailedLock.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildGraph } from '../src/graph.js';
import { FileStore } from '../src/store/file-store.js';
import { MemoryStore } from '../src/store/memory-store.js';
import type { Store } from '../src/store/store.js';
import { TaskGenerator, type Task } from '../src/task.js';
import { cleanupProject } from '../src/cli/commands/cleanup.js';
import {
  FIXTURES,
  entries,
  makeTempDir,
  removeTempDir,
  runJug,
  runNode,
  show,
  startJug,
  storedHashes,
  waitFor,
  type RunResult,
} from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('cleanup');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

const HOST = hostname();
const H = (c: string): string => c.repeat(40);

/** The pid of a process that has exited (so a lock naming it on this host is stale). */
async function deadPid(): Promise<number> {
  const r = await runNode(['-e', 'console.log(process.pid)']);
  return Number(r.stdout.trim());
}

/**
 * chain.ts executed with CHAIN_SEED=2 and then 1: 4 results the current jugfile no longer uses.
 * Plus foreign files, and four locks: live (this process), live on another host, stale, failed.
 */
async function setUp(dir: string): Promise<{ jugfile: string; jugdir: string; locks: string[] }> {
  mkdirSync(join(tmp, dir));
  const jugfile = join(tmp, dir, 'chain.ts');
  copyFileSync(join(FIXTURES, 'chain.ts'), jugfile);
  const jugdir = join(tmp, dir, 'chain.jugdata');
  expectCode(await runJug(['execute', '-q', jugfile], { env: { CHAIN_SEED: '2' } }), 0);
  expectCode(await runJug(['execute', '-q', jugfile]), 0);
  assert.equal(storedHashes(jugdir).length, 9);
  writeFileSync(join(jugdir, 'README'), 'notes\n');
  writeFileSync(join(jugdir, storedHashes(jugdir)[0]!.slice(0, 2), 'notes.txt'), 'mine\n'); // in a shard
  mkdirSync(join(jugdir, 'ab'), { recursive: true });
  writeFileSync(join(jugdir, 'ab', 'not-a-hash'), 'mine\n');
  const locks = join(jugdir, 'locks');
  mkdirSync(locks, { recursive: true });
  writeFileSync(join(locks, `${H('a')}.lock`), `PID ${process.pid} on HOSTNAME ${HOST}\n`);
  writeFileSync(join(locks, `${H('b')}.lock`), `PID 1 on HOSTNAME not-${HOST}\n`);
  writeFileSync(join(locks, `${H('c')}.lock`), `PID ${await deadPid()} on HOSTNAME ${HOST}\n`);
  writeFileSync(join(locks, `${H('d')}.lock`), `PID ${process.pid} on HOSTNAME ${HOST}\n`);
  utimesSync(join(locks, `${H('d')}.lock`), 1, 1); // failure mark
  writeFileSync(join(locks, 'notes.txt'), 'mine\n');
  return { jugfile, jugdir, locks: entries(locks) };
}

function foreignFilesIntact(jugdir: string): void {
  assert.equal(readFileSync(join(jugdir, 'README'), 'utf8'), 'notes\n');
  assert.equal(readFileSync(join(jugdir, 'ab', 'not-a-hash'), 'utf8'), 'mine\n');
  assert.equal(readFileSync(join(jugdir, 'locks', 'notes.txt'), 'utf8'), 'mine\n');
  const shards = entries(jugdir).filter((e) => /^[0-9a-f]{2}$/.test(e));
  assert.equal(shards.filter((s) => entries(join(jugdir, s)).includes('notes.txt')).length, 1);
}

describe('jug cleanup (CLI)', { concurrency: 2 }, () => {
  test('default: unused results, failure marks and stale locks go; used results, live locks, foreign files stay', async () => {
    const { jugfile, jugdir } = await setUp('default');
    const r = await runJug(['cleanup', jugfile]);
    expectCode(r, 0);
    assert.equal(
      r.stdout,
      'Removed 4 results\nCompacted the run records: 4 records of removed results or older runs dropped\n' +
        'Removed 1 failure mark and 1 stale lock\nKept 2 locks held by running processes\n',
    );
    assert.equal(storedHashes(jugdir).length, 5);
    assert.deepEqual(entries(join(jugdir, 'locks')), [`${H('a')}.lock`, `${H('b')}.lock`, 'notes.txt']);
    foreignFilesIntact(jugdir);
    const st = await runJug(['status', '--short', jugfile]);
    assert.equal(st.stdout, 'All tasks complete (5 tasks).\n', show(st));
    // Nothing left to do the second time.
    const again = await runJug(['cleanup', jugfile]);
    assert.match(again.stdout, /^Removed 0 results\nRemoved 0 failure marks and 0 stale locks\n/);
  });

  test('--dry-run lists what would go and removes nothing', async () => {
    const { jugfile, jugdir, locks } = await setUp('dry');
    const results = storedHashes(jugdir);
    const r = await runJug(['cleanup', '--dry-run', jugfile]);
    expectCode(r, 0);
    assert.equal(r.stdout.match(/^would remove result [0-9a-f]{10} \(not in the jugfile\)$/gm)?.length, 4, show(r));
    assert.match(r.stdout, new RegExp(`^would remove failure mark ${H('d').slice(0, 10)} \\(not in the jugfile\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^would remove stale lock ${H('c').slice(0, 10)} `, 'm'));
    assert.match(r.stdout, /^Would remove 4 results$/m);
    assert.match(r.stdout, /Dry run: nothing was removed\.\n$/);
    assert.deepEqual(storedHashes(jugdir), results);
    assert.deepEqual(entries(join(jugdir, 'locks')), locks);
  });

  test('--dry-run names the tasks of the jugfile (and the short hash); others are "(not in the jugfile)"', async () => {
    mkdirSync(join(tmp, 'names'));
    const jugfile = join(tmp, 'names', 'risk.ts');
    writeFileSync(
      jugfile,
      `import { TaskGenerator } from 'jug';
export const risky = TaskGenerator(function risky(x: number): number {
  if (x === 2) throw new Error('two');
  return x;
});
const base = Number(process.env['BASE'] ?? 0);
export const all = [base + 1, 2].map((x) => risky(x));
`,
    );
    expectCode(await runJug(['execute', '-q', '--keep-going', jugfile], { env: { BASE: '10' } }), 1);
    expectCode(await runJug(['execute', '-q', '--keep-going', '--keep-failed', jugfile]), 1);
    const marks = entries(join(tmp, 'names', 'risk.jugdata', 'locks'));
    assert.equal(marks.length, 1, marks.join());
    const r = await runJug(['cleanup', '-n', jugfile]);
    expectCode(r, 0);
    // risky(11) of the first run is no task of the jugfile now; risky(2) failed and is marked.
    assert.match(r.stdout, /^would remove result [0-9a-f]{10} \(not in the jugfile\)$/m, show(r));
    assert.match(r.stdout, new RegExp(`^would remove failure mark risk\\.risky \\(${marks[0]!.slice(0, 10)}\\)$`, 'm'), show(r));
    assert.doesNotMatch(r.stdout, /[0-9a-f]{40}/, show(r));
  });

  test('--locks-only, --failed-only, --stale, --keep-locks each touch only their part', async () => {
    const { jugfile, jugdir } = await setUp('modes');
    const locksDir = join(jugdir, 'locks');

    const failed = await runJug(['cleanup', '--failed-only', jugfile]);
    expectCode(failed, 0);
    assert.equal(failed.stdout, 'Removed 1 failure mark\nKept 2 locks held by running processes\n');
    assert.equal(existsSync(join(locksDir, `${H('d')}.lock`)), false);
    assert.equal(existsSync(join(locksDir, `${H('c')}.lock`)), true);
    assert.equal(storedHashes(jugdir).length, 9);

    const stale = await runJug(['cleanup', '--stale', jugfile]);
    expectCode(stale, 0);
    assert.equal(stale.stdout, 'Removed 1 stale lock\nKept 2 locks held by running processes\n');
    assert.equal(existsSync(join(locksDir, `${H('c')}.lock`)), false);

    utimesSync(join(locksDir, `${H('a')}.lock`), 1, 1); // now a failure mark
    const keep = await runJug(['cleanup', '--keep-locks', jugfile]);
    expectCode(keep, 0);
    assert.equal(keep.stdout, 'Removed 4 results\nCompacted the run records: 4 records of removed results or older runs dropped\n');
    assert.equal(existsSync(join(locksDir, `${H('a')}.lock`)), true);

    const locksOnly = await runJug(['cleanup', '--locks-only', jugfile]);
    expectCode(locksOnly, 0);
    assert.equal(locksOnly.stdout, 'Removed 1 failure mark and 0 stale locks\nKept 1 lock held by running processes\n');
    assert.deepEqual(entries(locksDir), [`${H('b')}.lock`, 'notes.txt']);
    assert.equal(storedHashes(jugdir).length, 5);
    foreignFilesIntact(jugdir);
  });

  test('conflicting mode flags are a usage error (exit 2)', async () => {
    const { jugfile } = await setUp('conflict');
    for (const [a, b] of [
      ['--locks-only', '--keep-locks'],
      ['--failed-only', '--stale'],
      ['--keep-locks', '--failed-only'],
    ] as const) {
      const r = await runJug(['cleanup', a, b, jugfile]);
      expectCode(r, 2);
      assert.match(r.stderr, /cannot be used with option/);
    }
  });

  test("a running jug execute's lock survives cleanup; once the process is killed, --stale removes it", async () => {
    mkdirSync(join(tmp, 'live'));
    const jugfile = join(tmp, 'live', 'many.ts');
    copyFileSync(join(FIXTURES, 'many.ts'), jugfile);
    const jugdir = join(tmp, 'live', 'many.jugdata');
    const locksDir = join(jugdir, 'locks');
    // Two tasks of 20 s each: the first holds its lock for the whole test.
    const run = startJug(['execute', '-q', jugfile], { env: { JUG_N: '2', JUG_DELAY_MS: '20000' } });
    try {
      assert.ok(await waitFor(() => entries(locksDir).length > 0, 30_000), 'no lock appeared');
      const held = entries(locksDir);
      const r = await runJug(['cleanup', jugfile]);
      expectCode(r, 0);
      assert.match(r.stdout, /^Removed 0 results\nRemoved 0 failure marks and 0 stale locks\nKept 1 lock held by running processes\n$/);
      assert.deepEqual(entries(locksDir), held);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
    }
    // The killed process's lock is stale now.
    const dry = await runJug(['cleanup', '--stale', '--dry-run', jugfile]);
    const [held] = entries(locksDir);
    assert.match(dry.stdout, new RegExp(`^would remove stale lock many\\.work \\(${held!.slice(0, 10)}\\)$`, 'm'), show(dry));
    const r = await runJug(['cleanup', '--stale', jugfile]);
    expectCode(r, 0);
    // Its owner file (every lock of a process is a hard link to it) goes too.
    assert.equal(r.stdout, 'Removed 1 stale lock\nRemoved 1 file left in tempfiles/ by processes that are gone\n');
    assert.deepEqual(entries(locksDir), []);
    assert.deepEqual(entries(join(jugdir, 'tempfiles')), []);
  });
});

describe('jug cleanup at a barrier (CLI)', () => {
  test('keeps every result while the jugfile stops at a barrier (results after it would look unused); exit 1', async () => {
    mkdirSync(join(tmp, 'barrier'));
    const jugfile = join(tmp, 'barrier', 'two-stage.ts');
    copyFileSync(join(FIXTURES, 'two-stage.ts'), jugfile);
    const jugdir = join(tmp, 'barrier', 'two-stage.jugdata');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    expectCode(await runJug(['invalidate', jugfile, '--target', 'other']), 0);
    const stored = storedHashes(jugdir);
    assert.equal(stored.length, 2); // `early`, and `late` after the barrier
    const r = await runJug(['cleanup', jugfile]);
    expectCode(r, 1);
    assert.match(r.stderr, /no results removed: the jugfile stops at barrier\(\) \(.*two-stage\.ts:\d+\)/);
    assert.match(r.stdout, /^Removed 0 failure marks and 0 stale locks\n$/);
    assert.deepEqual(storedHashes(jugdir), stored);
    // Past the barrier again, nothing is unused.
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    const after = await runJug(['cleanup', jugfile]);
    expectCode(after, 0);
    assert.match(after.stdout, /^Removed 0 results\n/);
    assert.equal(storedHashes(jugdir).length, 3);
  });
});

describe('cleanup core', () => {
  const one = TaskGenerator(function one(): number {
    return 1;
  }, { name: 'cl.one' });

  test('stopped at a barrier: no results removed (exit 1, says why), locks still cleaned', async () => {
    const t = one();
    const store = new MemoryStore();
    await store.dump(t.hash(), 1);
    await store.dump(H('e'), 'after the barrier');
    const failed = store.lock(H('f'));
    await failed.get();
    await failed.fail();
    const project = { jugfile: 'x.ts', store, graph: buildGraph([t as Task]), exports: {}, stored: new Set<string>(), barrier: { where: 'x.ts:9', tasksBefore: 1, missing: 1 } };
    let out = '';
    let err = '';
    const code = await cleanupProject(project, {}, (s) => (out += s), (s) => (err += s));
    assert.equal(code, 1);
    assert.match(err, /no results removed: the jugfile stops at barrier\(\) \(x\.ts:9\).*locks were still cleaned up/s);
    assert.equal((await store.list()).size, 2);
    assert.equal((await store.listLocks()).size, 0);
    assert.equal(out, 'Removed 1 failure mark and 0 stale locks\n');

    const locksOnly = await cleanupProject(project, { locksOnly: true }, () => {}, () => {});
    assert.equal(locksOnly, 0, 'cleaning locks only is fine at a barrier');
    const withoutBarrier = { ...project, barrier: undefined };
    assert.equal(await cleanupProject(withoutBarrier, {}, () => {}, () => {}), 0);
    assert.deepEqual([...(await store.list())], [t.hash()]);
  });

  for (const [kind, make] of [
    ['FileStore', () => new FileStore(join(tmp, `rfl-${Math.random().toString(36).slice(2)}`))],
    ['MemoryStore', () => new MemoryStore()],
  ] as const) {
    test(`${kind}.removeFailedLock removes failure marks only`, async () => {
      const store: Store = make();
      assert.equal(await store.removeFailedLock(H('1')), false, 'no lock');
      const live = store.lock(H('2'));
      assert.equal(await live.get(), true);
      assert.equal(await store.removeFailedLock(H('2')), false, 'a live lock is never removed');
      assert.equal(await live.isLocked(), true);
      const bad = store.lock(H('3'));
      await bad.get();
      await bad.fail();
      assert.equal(await store.removeFailedLock(H('3')), true);
      assert.equal(await store.lock(H('3')).isLocked(), false);
      assert.equal(await store.lock(H('3')).get(), true, 'the task can run again');
      assert.deepEqual([...(await store.listLocks()).keys()].sort(), [H('2'), H('3')]);
    });
  }
});
