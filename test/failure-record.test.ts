/**
 * Unit tests of failure records: the Store methods (FileStore and MemoryStore), how the file store
 * keeps a record in the failure mark's lock file (Jug's owner text first, damaged records ignored),
 * and the helpers that make and print records (userStack, describeArguments, taskTarget,
 * formatFailure).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { FileStore } from '../src/store/file-store.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RECORD_PREFIX, parseFailureRecord, recordLine } from '../src/store/failure-record.js';
import { parseLockOwner, FAILED_MTIME, OWNER_TOKEN } from '../src/store/lock-owner.js';
import type { FailureRecord, Store } from '../src/store/store.js';
import { userStack } from '../src/stack.js';
import { describeArguments } from '../src/describe.js';
import { TaskGenerator, type Task } from '../src/task.js';
import { beginLoad } from '../src/registry.js';
import { taskTarget } from '../src/cli/common.js';
import { formatDuration, formatFailure, retryHint } from '../src/cli/failure-report.js';
import { UsageError } from '../src/errors.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { buildGraph } from '../src/graph.js';
import { failedList } from '../src/cli/failed-list.js';
import { FailureMarkClearer } from '../src/cli/retry-failed.js';

function h(label: string | number): string {
  return createHash('sha1').update(String(label)).digest('hex');
}

function record(hash: string, over: Partial<FailureRecord> = {}): FailureRecord {
  return {
    task: 'errs.risky',
    hash,
    args: '3, "item-3"',
    error: { name: 'Error', message: 'bad input 3', stack: 'Error: bad input 3\n    at risky (/home/u/errs.ts:3:26)' },
    host: 'node7',
    pid: 4242,
    thread: 2,
    time: '2026-12-02T16:49:56.123Z',
    durationMs: 12.5,
    ...over,
  };
}

let root: string;
let counter = 0;
before(() => {
  root = fs.mkdtempSync(join(os.tmpdir(), 'jug-failure-test-'));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => join(root, `jugdir-${++counter}`);

const kinds: ReadonlyArray<readonly [string, () => Store]> = [
  ['FileStore', () => new FileStore(freshDir(), { fsync: false })],
  ['MemoryStore', () => new MemoryStore()],
];

for (const [kind, make] of kinds) {
  describe(`${kind}: failure records`, () => {
    it('fail(record) stores the record with the mark; failures() and failureRecord() return it', async () => {
      const store = make();
      const lock = store.lock(h(1));
      assert.equal(await lock.get(), true);
      assert.equal(await lock.fail(record(h(1))), true);
      assert.deepEqual(await store.failureRecord(h(1)), record(h(1)));
      assert.deepEqual([...(await store.failures())], [[h(1), record(h(1))]]);
      assert.equal((await store.listLocks()).get(h(1))?.failed, true);
    });

    it('a mark without a record is listed with undefined; running locks and free tasks are not listed', async () => {
      const store = make();
      const marked = store.lock(h(2));
      await marked.get();
      await marked.fail();
      const running = store.lock(h(3));
      await running.get();
      assert.deepEqual([...(await store.failures())], [[h(2), undefined]]);
      assert.equal(await store.failureRecord(h(2)), undefined);
      assert.equal(await store.failureRecord(h(3)), undefined, 'a running lock has no record');
      assert.equal(await store.failureRecord(h(4)), undefined, 'no lock at all');
    });

    it('removing the failure mark removes its record; a new mark starts without the old record', async () => {
      const store = make();
      const lock = store.lock(h(5));
      await lock.get();
      await lock.fail(record(h(5)));
      assert.equal(await store.removeFailedLock(h(5)), true);
      assert.equal(await store.failureRecord(h(5)), undefined);
      assert.equal((await store.failures()).size, 0);
      const again = store.lock(h(5));
      assert.equal(await again.get(), true);
      await again.fail();
      assert.deepEqual([...(await store.failures())], [[h(5), undefined]]);
    });

    it('a record is kept bounded: a huge message is cut', async () => {
      const store = make();
      const lock = store.lock(h(6));
      await lock.get();
      const huge = 'x'.repeat(100_000);
      await lock.fail(record(h(6), { error: { name: 'Error', message: huge, stack: `Error: ${huge}` } }));
      const got = await store.failureRecord(h(6));
      assert.ok(got !== undefined);
      assert.ok(got.error.message.length <= 4000 && got.error.message.endsWith('…'), `${got.error.message.length}`);
      assert.ok(got.error.stack.length <= 16_000);
    });

    it('the record returned is a copy: changing it changes nothing stored', async () => {
      const store = make();
      const lock = store.lock(h(7));
      await lock.get();
      await lock.fail(record(h(7)));
      const got = (await store.failureRecord(h(7))) as { args: string };
      got.args = 'changed';
      assert.equal((await store.failureRecord(h(7)))?.args, '3, "item-3"');
    });
  });
}

describe('FileStore: the record in the lock file', () => {
  it("keeps Jug's owner text first (Python Jug and jug read the owner as before), mtime 1 s, then this process start's token, record on the next line", async () => {
    const dir = freshDir();
    const store = new FileStore(dir, { fsync: false });
    const lock = store.lock(h(10));
    await lock.get();
    await lock.fail(record(h(10)));
    const path = join(dir, 'locks', `${h(10)}.lock`);
    const text = fs.readFileSync(path, 'utf8');
    const lines = text.split('\n');
    assert.match(lines[0]!, /^PID \d+ on HOSTNAME \S+$/);
    assert.match(lines[1]!, /^Lock created on \d{4}-\d\d-\d\d \(\d\dh\d\d\.\d\d\)$/);
    assert.match(lines[2]!, /^Owner [sr][0-9a-f]+$/);
    assert.ok(lines[3]!.startsWith(RECORD_PREFIX), text);
    assert.equal(parseLockOwner(text)?.pid, process.pid);
    assert.equal(parseLockOwner(text)?.token, OWNER_TOKEN);
    assert.equal(Math.floor(fs.statSync(path).mtimeMs / 1000), FAILED_MTIME);
    await store.close();
  });

  it('a record cut short, not JSON, or of the wrong shape is ignored (no error); the mark still counts', async () => {
    const dir = freshDir();
    const store = new FileStore(dir, { fsync: false });
    fs.mkdirSync(join(dir, 'locks'), { recursive: true });
    const owner = 'PID 1 on HOSTNAME elsewhere\nLock created on 2026-12-01 (10h00.00)\n';
    const full = recordLine(record(h(11)));
    const bad = {
      [h(11)]: owner + full.slice(0, full.length - 20), // cut mid-record
      [h(12)]: owner + full.slice(0, -1), // whole JSON but no final newline: cut short too
      [h(13)]: `${owner}${RECORD_PREFIX}{not json}\n`,
      [h(14)]: `${owner}${RECORD_PREFIX}${JSON.stringify({ ...record(h(14)), pid: 'x' })}\n`,
      [h(15)]: owner, // Python Jug's mark: no record
      [h(16)]: '', // empty
    };
    for (const [hash, text] of Object.entries(bad)) {
      const p = join(dir, 'locks', `${hash}.lock`);
      fs.writeFileSync(p, text);
      fs.utimesSync(p, FAILED_MTIME, FAILED_MTIME);
    }
    const failures = await store.failures();
    assert.deepEqual([...failures.keys()].sort(), Object.keys(bad).sort());
    for (const [hash, r] of failures) assert.equal(r, undefined, hash);
    for (const hash of Object.keys(bad)) assert.equal(await store.failureRecord(hash), undefined);
    assert.equal(await store.lock(h(11)).isFailed(), true);
    assert.equal(await store.removeFailedLock(h(11)), true);
  });

  it('parseFailureRecord reads back exactly what recordLine wrote', () => {
    const r = record(h(20), { attempts: 3 });
    assert.deepEqual(parseFailureRecord(`PID 1 on HOSTNAME a\nLock created on x\n${recordLine(r)}`), r);
    const { thread: _t, durationMs: _d, ...minimal } = record(h(21));
    assert.deepEqual(parseFailureRecord(`x\n${recordLine(minimal)}`), minimal);
  });
});

describe('userStack on failure stacks', () => {
  const user = '    at risky (/home/u/project/errs.ts:3:26)';
  it("removes frames of jug's dist/ and src/ files (paths and file: URLs), node:internal and piscina; keeps the rest", () => {
    const stack = [
      'Error: bad input 3',
      '  second line of the message',
      user,
      `    at runTask (${PACKAGE_ROOT}/src/execute-task.ts:120:5)`,
      `    at ${pathToFileURL(join(PACKAGE_ROOT, 'dist', 'chunks', 'chunk-ABC.js')).href}:113:35`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at Object.run (/srv/app/node_modules/piscina/dist/worker.js:10:3)',
      '    at async Promise.all (index 0)',
      '    at readFileSync (node:fs:448:20)',
      '    at helper (/home/u/project/lib/helper.ts:9:1)',
    ].join('\n');
    assert.equal(
      userStack(stack),
      [
        'Error: bad input 3',
        '  second line of the message',
        user,
        '    at async Promise.all (index 0)',
        '    at readFileSync (node:fs:448:20)',
        '    at helper (/home/u/project/lib/helper.ts:9:1)',
      ].join('\n'),
    );
  });

  it('a user file inside the package directory but outside dist/ and src/ stays', () => {
    const frame = `    at f (${PACKAGE_ROOT}/test/fixtures/failing.ts:8:9)`;
    assert.equal(userStack(`Error: x\n${frame}`), `Error: x\n${frame}`);
  });
});

describe('describeArguments', () => {
  before(() => beginLoad());

  it('plain values in one line, as describeBrief shows them', () => {
    assert.equal(describeArguments([3, 'item-3', { a: [1, 2] }, null]), '3, "item-3", {a: [1, 2]}, null');
    assert.equal(describeArguments([]), '');
  });

  it('tasks as calls of their name; the whole cut at maxLength', () => {
    const load = TaskGenerator(function load(n: number): number {
      return n;
    }, { name: 'errs.load' });
    const dep = load(1);
    const text = describeArguments([dep, Array.from({ length: 100 }, (_, i) => i)]);
    assert.ok(text.startsWith('errs.load(1), [0, 1, 2,'), text);
    assert.equal(text.length, 200);
    assert.ok(text.endsWith('…'));
    const long = describeArguments(['y'.repeat(1000), 'z'.repeat(1000), 'w'.repeat(1000)], 100);
    assert.equal(long.length, 100);
    assert.ok(long.endsWith('…'));
    assert.ok(!long.includes('\n'));
  });
});

describe('taskTarget (--target by name, hash or hash prefix)', () => {
  const make = (): Task<unknown>[] => {
    beginLoad();
    const pick = TaskGenerator(function pick(n: number): number {
      return n;
    }, { name: 'prefix.pick' });
    const other = TaskGenerator(function other(n: number): number {
      return n;
    }, { name: 'prefix.other' });
    return [pick(1388), pick(1932), other(7)] as Task<unknown>[];
  };

  it('a whole hash or a unique prefix selects that one task', () => {
    const tasks = make();
    const h2 = tasks[2]!.hash();
    for (const p of [h2, h2.slice(0, 6), h2.slice(0, 12)]) {
      const sel = taskTarget(p, tasks);
      assert.deepEqual(tasks.map(sel), [false, false, true], p);
    }
  });

  it('a prefix of several hashes is a usage error listing them', () => {
    const tasks = make();
    // Found by search: these two tasks' hashes share their first 6 hex characters.
    assert.equal(tasks[0]!.hash().slice(0, 6), tasks[1]!.hash().slice(0, 6));
    assert.throws(
      () => taskTarget(tasks[0]!.hash().slice(0, 6), tasks),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.includes('start of 2 task hashes') &&
        e.message.includes(tasks[0]!.hash().slice(0, 12)) &&
        e.message.includes(tasks[1]!.hash().slice(0, 12)),
    );
    // One more character tells them apart.
    const seven = tasks[0]!.hash().slice(0, 7);
    assert.deepEqual(tasks.map(taskTarget(seven, tasks)), [true, false, false]);
  });

  it('names as before; short or unmatched hex strings are name patterns', () => {
    const tasks = make();
    assert.deepEqual(tasks.map(taskTarget('pick', tasks)), [true, true, false]);
    assert.deepEqual(tasks.map(taskTarget(tasks[2]!.hash().slice(0, 5), tasks)), [false, false, false]);
    assert.deepEqual(tasks.map(taskTarget('abcdef', tasks)).filter(Boolean).length, tasks.filter((t) => t.hash().startsWith('abcdef')).length);
  });

  it('a hex string that is both a hash prefix and a name pattern is a usage error', () => {
    beginLoad();
    const other = TaskGenerator(function other(n: number): number {
      return n;
    }, { name: 'x.other' })(1);
    const p = other.hash().slice(0, 6);
    const named = TaskGenerator(function named(n: number): number {
      return n;
    }, { name: `x.${p}ed` })(2);
    assert.throws(() => taskTarget(p, [other, named] as Task<unknown>[]), /both the start of the hash of x\.other .* and a pattern matching task names \(x\.[0-9a-f]{6}ed\)/);
  });
});

describe('formatFailure', () => {
  it('headline, arguments, duration, host/pid/thread, time, then the stack; stackLines cuts and counts', () => {
    const r = record(h(30), { error: { name: 'Error', message: 'm', stack: 'Error: m\n    at a (/x.ts:1:1)\n    at b (/x.ts:2:1)\n    at c (/x.ts:3:1)' } });
    assert.equal(
      formatFailure(r, { headline: 'HEAD', stackLines: 2 }),
      [
        'HEAD',
        '  arguments: 3, "item-3"',
        '  ran 13 ms on host node7 (pid 4242, thread 2), at 2026-12-02 16:49:56 UTC',
        '  Error: m',
        '      at a (/x.ts:1:1)',
        '  … 2 more lines',
        '',
      ].join('\n'),
    );
    const { thread: _t, durationMs: _d, ...bare } = r;
    const text = formatFailure({ ...bare, args: '' }, { headline: 'H', when: false });
    assert.match(text, /arguments: \(none\)\n  failed before it started, on host node7 \(pid 4242\)\n/);
  });

  it('a message missing from the stack is printed first', () => {
    const text = formatFailure(record(h(31), { error: { name: 'TypeError', message: 'boom', stack: '    at a (/x.ts:1:1)' } }), { headline: 'H' });
    assert.match(text, /\n {2}TypeError: boom\n {6}at a/);
  });

  it('durations', () => {
    assert.deepEqual([0.2, 12.4, 3400, 125_000, 3_780_000].map(formatDuration), ['<1 ms', '12 ms', '3.4 s', '2 min 5 s', '1 h 3 min']);
  });

  it('the retry hint names --retry-failed (one task: by hash prefix), never invalidate', () => {
    const one = retryHint(true, [h(40)]);
    assert.ok(one.includes(`\`jug execute --retry-failed --target ${h(40).slice(0, 12)}\``), one);
    const many = retryHint(true, [h(40), h(41)], 'risky');
    assert.ok(many.includes("`jug execute --retry-failed --target 'risky'`"), many);
    const released = retryHint(false, [h(40)]);
    for (const t of [one, many, released]) assert.ok(!t.includes('invalidate'), t);
  });
});

describe('through the Store interface (MemoryStore): status --failed and --retry-failed', () => {
  const setUp = async (): Promise<{ tasks: Task<unknown>[]; store: MemoryStore; graph: ReturnType<typeof buildGraph> }> => {
    beginLoad();
    const step = TaskGenerator(function step(n: number): number {
      return n;
    }, { name: 'mem.step' });
    const tasks = [step(1), step(2), step(3), step(4)] as Task<unknown>[];
    const store = new MemoryStore();
    await store.dump(tasks[0]!.hash(), 1);
    for (const i of [1, 2]) {
      const lock = store.lock(tasks[i]!.hash());
      await lock.get();
      await lock.fail(i === 1 ? record(tasks[i]!.hash(), { task: 'mem.step', args: String(i + 1) }) : undefined);
    }
    await store.lock(tasks[3]!.hash()).get(); // running
    return { tasks, store, graph: buildGraph(tasks) };
  };

  it('failedList: one block per mark in graph order, a mark without record said so; "No failed tasks."', async () => {
    const { tasks, store, graph } = await setUp();
    const text = await failedList(graph, store);
    assert.ok(text.startsWith('2 failed tasks:\n\n'), text);
    const at1 = text.indexOf(`mem.step, hash ${tasks[1]!.hash()}:\n  arguments: 2\n`);
    const at2 = text.indexOf(`mem.step, hash ${tasks[2]!.hash()}:\n  (no failure record`);
    assert.ok(at1 > 0 && at2 > at1, text);
    assert.equal(await failedList(buildGraph([]), new MemoryStore()), 'No failed tasks.\n');
  });

  it('FailureMarkClearer: removes the selected marks once per run; never a result or a live lock', async () => {
    const { tasks, store, graph } = await setUp();
    const said: string[] = [];
    const clearer = new FailureMarkClearer(store, (m) => said.push(m));
    const only2 = taskTarget(tasks[2]!.hash(), tasks);
    assert.equal(await clearer.clear(graph, only2), 1);
    assert.deepEqual([...(await store.failures()).keys()], [tasks[1]!.hash()]);
    assert.equal(await clearer.clear(graph, undefined), 1);
    assert.equal((await store.failures()).size, 0);
    assert.deepEqual([...(await store.list())], [tasks[0]!.hash()], 'the result stays');
    assert.equal((await store.listLocks()).get(tasks[3]!.hash())?.failed, false, 'the running lock stays');
    // Marked again during the run (the task failed again): not removed again by this run.
    const lock = store.lock(tasks[2]!.hash());
    await lock.get();
    await lock.fail();
    assert.equal(await clearer.clear(graph, undefined), 0);
    assert.equal((await store.failures()).size, 1);
    assert.deepEqual(said, ['jug: --retry-failed: removed 1 failure mark; running that task again.\n', 'jug: --retry-failed: removed 1 failure mark; running that task again.\n']);
  });
});
