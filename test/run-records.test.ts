/**
 * Run records through the real CLI (issue 17 §1–2): what `jug execute` records, serial and with
 * --threads (one file per process, one record per task executed or failed, with its times, host,
 * pid, thread, size, version, arguments, error and code fingerprint); a killed process loses no
 * record of a stored result; a partial or damaged line is skipped; `jug invalidate` and
 * `jug cleanup` keep what the records show consistent with the results; `jug status --json` and
 * `--timing` against what the store holds, with failures and a task running in another process.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../src/run-records-types.js';
import { parseRunLines } from '../src/run-records.js';
import { HOST_SAFE, startToken } from '../src/store/lock-owner.js';
import type { StatusSnapshot } from '../src/cli/commands/status/snapshot.js';
import type { TimingSnapshot } from '../src/cli/commands/status/timing.js';
import { FIXTURES, ROOT, makeTempDir, removeTempDir, runJug, show, startJug, storedHashes, waitFor, type RunResult } from './helpers.js';

let tmp: string;
before(() => (tmp = makeTempDir('records')));
after(() => removeTempDir(tmp));

const JUGFILE = join(FIXTURES, 'records.ts');
const HOST = hostname();
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let dirs = 0;
const jugdirOf = (label: string): string => join(tmp, `${label}-${++dirs}.jugdata`);

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

/** The record files of a jugdir and their records (parsed as the store does). */
function runFiles(jugdir: string): Map<string, RunRecord[]> {
  const dir = join(jugdir, 'runs');
  const out = new Map<string, RunRecord[]>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) out.set(name, parseRunLines(readFileSync(join(dir, name), 'utf8')));
  return out;
}

const allRecords = (jugdir: string): RunRecord[] => [...runFiles(jugdir).values()].flat();

async function statusJson(jugdir: string, env: Record<string, string> = {}): Promise<StatusSnapshot> {
  const r = await runJug(['status', JUGFILE, '--jugdir', jugdir, '--json'], { env });
  expectCode(r, 0);
  return JSON.parse(r.stdout) as StatusSnapshot;
}

async function timingJson(jugdir: string, env: Record<string, string> = {}): Promise<TimingSnapshot> {
  const r = await runJug(['status', JUGFILE, '--jugdir', jugdir, '--timing', '--json'], { env });
  expectCode(r, 0);
  return JSON.parse(r.stdout) as TimingSnapshot;
}

describe('jug execute records every task it runs', () => {
  for (const threads of [[], ['--threads', '2']]) {
    const mode = threads.length === 0 ? 'serial' : '--threads 2';
    test(`${mode}: one file for the process, one record per task, with its fields`, async () => {
      const jugdir = jugdirOf('write');
      const r = await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', ...threads], { env: { REC_N: '12' } });
      expectCode(r, 0);
      const files = runFiles(jugdir);
      assert.equal(files.size, 1, `one file per process: ${[...files.keys()].join(', ')}`);
      const [name, records] = [...files][0]!;
      assert.match(name, new RegExp(`^\\d+-[sr][0-9a-f]+-${HOST.replace(/[^A-Za-z0-9._-]/g, '_')}\\.jsonl$`));
      const stored = storedHashes(jugdir);
      assert.equal(stored.length, 13);
      assert.deepEqual(records.map((x) => x.hash).sort(), stored, 'one record per stored result, no other');
      const pid = Number(name.split('-')[0]);
      for (const rec of records) {
        assert.equal(rec.v, 1);
        assert.equal(rec.outcome, 'done');
        assert.equal(rec.host, HOST);
        assert.equal(rec.pid, pid);
        assert.equal(rec.jug, VERSION);
        assert.ok(rec.start <= rec.end && rec.end <= Date.now(), JSON.stringify(rec));
        assert.ok(typeof rec.bytes === 'number' && rec.bytes > 0, 'encoded size');
        assert.match(rec.code ?? '', /^[0-9a-f]{16}$/, 'code fingerprint');
        if (threads.length === 0) assert.equal(rec.thread, undefined, 'main thread: no thread id');
        // With threads, tiny task functions run in the main thread once measured (inline-policy.ts).
        else if (rec.thread !== undefined) assert.ok(Number.isInteger(rec.thread) && rec.thread > 0, `thread id in ${JSON.stringify(rec)}`);
      }
      if (threads.length > 0) assert.ok(records.filter((x) => x.thread !== undefined).length >= 8, 'the first runs are in worker threads');
      const work = records.filter((x) => x.task === 'records.work');
      assert.equal(work.length, 12);
      assert.deepEqual(work.map((x) => x.args).sort(), Array.from({ length: 12 }, (_, i) => String(i)).sort());
      // The fingerprint's parts: the task function and the top-level definitions it uses.
      assert.deepEqual(Object.keys(work[0]!.parts ?? {}), ['DELAY_MS', 'FAIL', 'cell', 'work']);
      const totalRec = records.find((x) => x.task === 'records.total')!;
      assert.match(totalRec.args ?? '', /^\[records\.work\(0\), records\.work\(1\)/);
      assert.notEqual(totalRec.code, work[0]!.code);
    });
  }

  test('a failure is recorded with the first line of its error; --keep-failed marks show in status --json', async () => {
    const jugdir = jugdirOf('fail');
    const env = { REC_N: '6', REC_FAIL: '2,4' };
    const r = await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', '--keep-going', '--keep-failed'], { env });
    expectCode(r, 1);
    const failed = allRecords(jugdir).filter((x) => x.outcome === 'failed');
    assert.deepEqual(failed.map((x) => x.args).sort(), ['2', '4']);
    for (const f of failed) {
      assert.match(f.error ?? '', /^Error: records-marker: bad input [24]$/, 'first line only');
      assert.equal(f.bytes, undefined);
    }
    const snap = await statusJson(jugdir, env);
    assert.deepEqual(snap.tasks['records.work'], { waiting: 0, ready: 0, running: 0, finished: 4, failed: 2, stale: 0 });
    assert.deepEqual(snap.tasks['records.total'], { waiting: 1, ready: 0, running: 0, finished: 0, failed: 0, stale: 0 });
    assert.deepEqual(snap.totals, { waiting: 1, ready: 0, running: 0, finished: 4, failed: 2, stale: 0, total: 7 });
    assert.equal(snap.failures.length, 2);
    for (const f of snap.failures) {
      assert.equal(f.name, 'records.work');
      assert.match(f.hash, /^[0-9a-f]{40}$/);
      assert.ok(failed.some((x) => x.hash === f.hash));
      assert.match(f.error ?? '', /^Error: records-marker: bad input [24]$/);
      assert.equal(f.host, HOST);
      assert.ok(f.when !== null && !Number.isNaN(Date.parse(f.when)));
    }
    assert.deepEqual(snap.failures.map((f) => f.args), ['2', '4'], 'graph order');
    // Retried and fixed: the latest record of each is 'done', and --timing counts all six.
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', '--retry-failed'], { env: { REC_N: '6' } }), 0);
    const timing = await timingJson(jugdir, { REC_N: '6' });
    assert.equal(timing.tasks['records.work']?.finished, 6);
    assert.equal(timing.tasks['records.total']?.finished, 1);
  });
});

describe('a crash loses no record of a stored result', () => {
  for (const threads of [[], ['--threads', '2']]) {
    const mode = threads.length === 0 ? 'serial' : '--threads 2';
    test(`${mode}: killed with SIGKILL mid-run, every result it stored has its record`, async () => {
      const jugdir = jugdirOf('killed');
      const env = { REC_N: '400', REC_DELAY_MS: '15' };
      const run = startJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', ...threads], { env });
      assert.ok(await waitFor(() => storedHashes(jugdir).length >= 40, 60_000, 20), 'the run stored nothing');
      run.child.kill('SIGKILL');
      await run.done;
      const stored = new Set(storedHashes(jugdir));
      assert.ok(stored.size < 401, 'killed before the end');
      const done = new Set(allRecords(jugdir).filter((x) => x.outcome === 'done').map((x) => x.hash));
      const missing = [...stored].filter((h) => !done.has(h));
      assert.deepEqual(missing, [], 'stored results without a record');
      // Records of results it had not committed yet show as nothing: the timing counts stored ones only.
      const timing = await timingJson(jugdir, env);
      assert.equal(timing.tasks['records.work']?.finished, stored.size);
      // The next run completes the records.
      expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env: { REC_N: '400' } }), 0);
      assert.equal((await timingJson(jugdir, env)).tasks['records.work']?.finished, 400);
    });
  }
});

describe('reading records', () => {
  test('a partial last line and damaged lines are skipped, never an error', async () => {
    const jugdir = jugdirOf('partial');
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env: { REC_N: '5' } }), 0);
    const [name, records] = [...runFiles(jugdir)][0]!;
    const path = join(jugdir, 'runs', name);
    const copy = { ...records[0]!, end: records[0]!.end + 1e6 }; // would be the latest, and 1000 s long
    appendFileSync(path, 'not json\n{"v":2,"hash":"x"}\n{"v":1,"hash":"abc"}\n' + JSON.stringify(copy).slice(0, 60));
    writeFileSync(join(jugdir, 'runs', '1-r0-otherhost.jsonl'), JSON.stringify(copy).slice(0, -1));
    const timing = await timingJson(jugdir, { REC_N: '5' });
    assert.equal(timing.tasks['records.work']?.finished, 5);
    assert.ok(timing.tasks['records.work']!.maxMs < 1e6, 'the partial record was not read');
    assert.deepEqual(Object.keys(timing.hosts), [HOST]);
    const text = await runJug(['status', JUGFILE, '--jugdir', jugdir, '--timing'], { env: { REC_N: '5' } });
    expectCode(text, 0);
    assert.equal(text.stderr, '');
  });
});

describe('invalidate and cleanup keep the records consistent with the results', () => {
  test('jug invalidate: records of removed results no longer count; a re-run counts each task once', async () => {
    const jugdir = jugdirOf('invalidate');
    const env = { REC_N: '8' };
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env }), 0);
    assert.equal((await timingJson(jugdir, env)).tasks['records.work']?.finished, 8);
    expectCode(await runJug(['invalidate', JUGFILE, '--jugdir', jugdir, '--target', 'records.work'], { env }), 0);
    const after = await timingJson(jugdir, env);
    assert.deepEqual(after.tasks, {}, 'no finished task shown for removed results');
    assert.deepEqual(after.slowest, []);
    assert.equal((await statusJson(jugdir, env)).totals.finished, 0);
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env }), 0);
    const again = await timingJson(jugdir, env);
    assert.equal(again.tasks['records.work']?.finished, 8);
    assert.equal(again.tasks['records.total']?.finished, 1);
    assert.equal(again.hosts[HOST]?.tasks, 9);
    assert.equal(allRecords(jugdir).length, 9, 'invalidate compacted the log: the removed results\' records are gone');
  });

  test('jug cleanup: records of results it removes no longer count', async () => {
    const jugdir = jugdirOf('cleanup');
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env: { REC_N: '10' } }), 0);
    expectCode(await runJug(['cleanup', JUGFILE, '--jugdir', jugdir], { env: { REC_N: '4' } }), 0);
    const timing = await timingJson(jugdir, { REC_N: '4' });
    assert.equal(timing.tasks['records.work']?.finished, 4);
    assert.equal(timing.tasks['records.total'], undefined, 'the old total was removed (its hash changed with N)');
    assert.equal(timing.unrecorded, 0);
  });

  test('jug cleanup compacts the records: the latest per stored result and last failures kept, a live process\'s file untouched', async () => {
    const jugdir = jugdirOf('compact');
    const env = { REC_N: '6', REC_FAIL: '5' };
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env }), 1);
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', '--target', 'records.work'], { env: { ...env, REC_N: '8' } }), 1);
    const before = allRecords(jugdir);
    assert.equal(runFiles(jugdir).size, 2);
    // A process still running (this test's own pid and start token): its file may be appended to, so it is left as it is.
    const live = `${process.pid}-${startToken(process.pid)!}-${HOST_SAFE}.jsonl`;
    const liveText = `${JSON.stringify({ ...before[0]!, hash: 'f'.repeat(40), pid: process.pid })}\n`;
    writeFileSync(join(jugdir, 'runs', live), liveText);

    const r = await runJug(['cleanup', JUGFILE, '--jugdir', jugdir], { env: { REC_N: '4' } });
    expectCode(r, 0);
    assert.match(r.stdout, /Compacted the run records: \d+ records of removed results or older runs dropped/);
    const files = runFiles(jugdir);
    assert.equal(readFileSync(join(jugdir, 'runs', live), 'utf8'), liveText, 'the live process\'s file is untouched');
    const compacted = [...files.keys()].filter((n) => n !== live);
    assert.equal(compacted.length, 1, `the dead processes' files became one: ${compacted.join(', ')}`);
    assert.match(compacted[0]!, /^compacted-\d+-[sr][0-9a-f]+-.+\.jsonl$/);
    const kept = files.get(compacted[0]!)!;
    const stored = new Set(storedHashes(jugdir));
    const done = kept.filter((k) => k.outcome === 'done');
    assert.equal(done.length, 4, 'one record per stored work(0..3)');
    assert.ok(done.every((k) => stored.has(k.hash)));
    const failed = kept.filter((k) => k.outcome === 'failed');
    assert.deepEqual(failed.map((k) => k.args), ['5'], 'the last of the two failed runs of work(5): `jug why` says so');
    const timing = await timingJson(jugdir, { REC_N: '4' });
    assert.equal(timing.tasks['records.work']?.finished, 4);
    assert.equal(timing.unrecorded, 0);

    // Again: nothing left to drop, the compacted log is not rewritten.
    const again = await runJug(['cleanup', JUGFILE, '--jugdir', jugdir], { env: { REC_N: '4' } });
    expectCode(again, 0);
    assert.doesNotMatch(again.stdout, /Compacted/);
    assert.deepEqual([...runFiles(jugdir).keys()].sort(), [...files.keys()].sort());
  });
});

describe('jug status --json', () => {
  for (const threads of [[], ['--threads', '2']]) {
    const mode = threads.length === 0 ? 'serial' : '--threads 2';
    test(`${mode}: counts, a running task held by another process (with its start and thread), totals: equal to the store`, async () => {
      const jugdir = jugdirOf('json');
      const hold = join(tmp, `hold-${dirs}`);
      const env = { REC_N: '5', REC_HOLD: hold };
      // Another process runs `held` and stays in it until the file appears.
      const other = startJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', '--target', 'records.held', ...threads], { env });
      const notes = (): string[] => (existsSync(join(jugdir, 'runs')) ? readdirSync(join(jugdir, 'runs')).filter((n) => n.endsWith('.running')) : []);
      try {
        assert.ok(await waitFor(() => existsSync(`${hold}.started`), 60_000, 20), 'held never started');
        assert.ok(await waitFor(() => notes().length === 1, 10_000, 20), 'no running note');
        const snap = await statusJson(jugdir, env);
        assert.equal(snap.schema, 1);
        assert.deepEqual(Object.keys(snap), ['schema', 'jugdir', 'time', 'tasks', 'totals', 'running', 'failures', 'outdated', 'barrier']);
        assert.deepEqual(Object.keys(snap.tasks), ['records.held', 'records.total', 'records.work'], 'sorted names');
        assert.deepEqual(snap.tasks['records.held'], { waiting: 0, ready: 0, running: 1, finished: 0, failed: 0, stale: 0 });
        assert.deepEqual(snap.tasks['records.work'], { waiting: 0, ready: 5, running: 0, finished: 0, failed: 0, stale: 0 });
        assert.deepEqual(snap.totals, { waiting: 1, ready: 5, running: 1, finished: 0, failed: 0, stale: 0, total: 7 });
        assert.equal(snap.running.length, 1);
        const running = snap.running[0]!;
        assert.deepEqual(Object.keys(running), ['name', 'hash', 'host', 'pid', 'thread', 'since', 'heartbeat']);
        assert.equal(running.name, 'records.held');
        assert.match(running.hash, /^[0-9a-f]{40}$/);
        assert.equal(running.host, HOST);
        assert.equal(running.pid, other.child.pid);
        const started = Number(readFileSync(`${hold}.started`, 'utf8')) === other.child.pid;
        assert.ok(started, 'held runs in that process');
        assert.ok(running.since !== null, 'since, from the running note');
        const since = Date.parse(running.since);
        assert.ok(since <= Date.parse(snap.time) && Date.parse(snap.time) - since < 120_000, `since ${running.since}, now ${snap.time}`);
        if (threads.length === 0) assert.equal(running.thread, null, 'the main thread');
        else assert.ok(Number.isInteger(running.thread) && running.thread! > 0, `a worker thread: ${running.thread}`);
        assert.ok(running.heartbeat !== null && Math.abs(Date.parse(running.heartbeat) - Date.now()) < 60_000);
        assert.deepEqual(snap.failures, []);
        assert.equal(snap.barrier, null);
        assert.equal(snap.jugdir, jugdir);
      } finally {
        writeFileSync(hold, '');
        expectCode(await other.done, 0);
      }
      assert.deepEqual(notes(), [], 'the notes go when the process closes the store');
      expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q'], { env }), 0);
      const done = await statusJson(jugdir, env);
      assert.deepEqual(done.totals, { waiting: 0, ready: 0, running: 0, finished: 7, failed: 0, stale: 0, total: 7 });
      assert.deepEqual(done.running, []);
      // The two processes' records, in two files.
      assert.equal(runFiles(jugdir).size, 2);
      const timing = await timingJson(jugdir, env);
      assert.equal(timing.hosts[HOST]?.tasks, 7);
    });
  }
});

describe('jug status --timing', () => {
  test('per task name, the 10 slowest with their arguments, per host', async () => {
    const jugdir = jugdirOf('timing');
    const env = { REC_N: '14', REC_DELAY_MS: '3' };
    expectCode(await runJug(['execute', JUGFILE, '--jugdir', jugdir, '-q', '--threads', '2'], { env }), 0);
    const r = await runJug(['status', JUGFILE, '--jugdir', jugdir, '--timing'], { env });
    expectCode(r, 0);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^Task name\s+Finished\s+Total\s+Median\s+Max$/);
    assert.match(r.stdout, /\nrecords\.work\s+14\s+\d+(\.\d+)? (ms|s)\s+\d+(\.\d+)? (ms|s)\s+\d+(\.\d+)? (ms|s)\n/);
    assert.match(r.stdout, /\nrecords\.total\s+1\s/);
    assert.match(r.stdout, /\nTotal:\s+15\s/);
    const slow = lines.slice(lines.indexOf('Slowest tasks:') + 1, lines.indexOf('Hosts:') - 1);
    assert.equal(slow.length, 10, r.stdout);
    for (const l of slow) assert.match(l, /^\s+\d+(\.\d+)? (ms|s)\s+records\.(work\(\d+\)|total\(\[.*)\s+[0-9a-f]{12} on \S+ thread \d+$/);
    assert.match(r.stdout, new RegExp(`\\nHosts:\\n  ${HOST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 15 tasks, busy \\d`));
    // The JSON form says the same.
    const t = await timingJson(jugdir, env);
    assert.equal(t.tasks['records.work']!.finished, 14);
    assert.ok(t.tasks['records.work']!.medianMs >= 2.5, `each work task waits 3 ms: ${JSON.stringify(t.tasks)}`);
    assert.ok(t.tasks['records.work']!.maxMs >= t.tasks['records.work']!.medianMs);
    assert.equal(t.slowest.length, 10);
    for (let i = 1; i < t.slowest.length; i++) assert.ok(t.slowest[i - 1]!.ms >= t.slowest[i]!.ms, 'slowest first');
  });

  test('no records: says so', async () => {
    const jugdir = jugdirOf('empty');
    const r = await runJug(['status', JUGFILE, '--jugdir', jugdir, '--timing'], { env: { REC_N: '3' } });
    expectCode(r, 0);
    assert.match(r.stdout, /^No run records of stored results/);
    assert.ok(!existsSync(jugdir), 'status creates nothing');
  });
});
