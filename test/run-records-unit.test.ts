/**
 * Unit tests of run records' internals: building a record from an outcome, parsing the JSON-lines
 * form (partial and damaged lines skipped), the readers that keep records consistent with the
 * store's listing, the stores' recordRun / runLog (FileStore: one file per process, written with
 * the commits of results; MemoryStore), the timing document, and the code fingerprints' cache.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../src/store/file-store.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RUN_FILE, RUNNING_FILE } from '../src/store/run-log-file.js';
import { HOST_SAFE } from '../src/store/lock-owner.js';
import type { RunRecord } from '../src/run-records-types.js';
import {
  finishedRuns,
  latestRuns,
  makeRunRecord,
  parseRunLines,
  parseRunRecord,
  runDetails,
  RunRecorder,
} from '../src/run-records.js';
import { recordsToKeep, runRecordLine } from '../src/run-record-lines.js';
import { fmtMs, timingSnapshot } from '../src/cli/commands/status/timing.js';
import { Task, TaskGenerator } from '../src/task.js';
import { beginLoad } from '../src/registry.js';
import { prepareTaskCode, taskCode } from '../src/record-code.js';

let tmp: string;
before(() => (tmp = fs.mkdtempSync(join(os.tmpdir(), 'jug-records-unit-'))));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const H = (c: string): string => c.repeat(40);
function rec(over: Partial<RunRecord> = {}): RunRecord {
  return { v: 1, hash: H('a'), task: 'm.f', outcome: 'done', start: 1000, end: 1010, host: 'h1', pid: 7, jug: '0.1.0', ...over };
}

describe('parsing records', () => {
  it('accepts a well-formed record, rejects other versions and wrong shapes', () => {
    assert.deepEqual(parseRunRecord(rec()), rec());
    assert.equal(parseRunRecord({ ...rec(), v: 2 }), undefined);
    assert.equal(parseRunRecord({ ...rec(), hash: 'xyz' }), undefined);
    assert.equal(parseRunRecord({ ...rec(), outcome: 'running' }), undefined);
    assert.equal(parseRunRecord({ ...rec(), start: '1000' }), undefined);
    assert.equal(parseRunRecord({ ...rec(), thread: 'x' }), undefined);
    assert.equal(parseRunRecord({ ...rec(), parts: { f: 1 } }), undefined);
    assert.equal(parseRunRecord(null), undefined);
    assert.equal(parseRunRecord([]), undefined);
  });

  it('skips a partial last line, blank lines, text that is not JSON', () => {
    const a = rec();
    const b = rec({ hash: H('b') });
    const text = `${JSON.stringify(a)}\n\nnot json\n{"v":1}\n${JSON.stringify(b)}\n${JSON.stringify(rec({ hash: H('c') })).slice(0, -3)}`;
    assert.deepEqual(parseRunLines(text), [a, b]);
    assert.deepEqual(parseRunLines(''), []);
    assert.deepEqual(parseRunLines(JSON.stringify(a)), [], 'a single line without its newline is partial');
  });
});

describe('writing records as lines', () => {
  it('runRecordLine: the same JSON as JSON.stringify for records built in field order, every field', () => {
    const parts = { f: 'd'.repeat(12), 'g"h': 'e'.repeat(12) };
    const full: RunRecord = {
      v: 1, hash: H('a'), task: 'm.f', args: '1, "two", m.g(3)', outcome: 'failed', start: 1796281762794, end: 1796281762794.124,
      host: 'h1', pid: 7, thread: 3, bytes: 17, attempt: 2, jug: '0.1.0', error: 'Error: a "quoted" \\ back\tslash \u0001 \ud800', code: 'c'.repeat(16), parts,
    };
    for (const r of [full, rec(), rec({ task: 'naïve.é\u2028' })]) {
      assert.equal(runRecordLine(r), `${JSON.stringify(r)}\n`);
      assert.deepEqual(parseRunLines(runRecordLine(r)), [r]);
    }
    const escaped = rec({ args: 'x\ny "z"' }); // args added last: the same record, fields in record order
    assert.deepEqual(JSON.parse(runRecordLine(escaped)), escaped);
    assert.equal(runRecordLine({ ...full, parts }), `${JSON.stringify(full)}\n`, 'the same parts object again (cached text)');
  });

  it('runRecordLine: undefined fields are left out, fields in the record order whatever the object\'s', () => {
    const r = { jug: '1', pid: 2, host: 'h', end: 2, start: 1, outcome: 'done', task: 't', hash: H('b'), v: 1, thread: undefined } as const;
    assert.equal(runRecordLine(r), '{"v":1,"hash":"' + H('b') + '","task":"t","outcome":"done","start":1,"end":2,"host":"h","pid":2,"jug":"1"}\n');
  });
});

describe('compacting records', () => {
  it('recordsToKeep: per stored result its latest done record (and a later failure), a not-stored hash\'s last failure, in log order', () => {
    const a1 = rec({ hash: H('a'), end: 10 });
    const a2 = rec({ hash: H('a'), end: 30 });
    const aFail = rec({ hash: H('a'), outcome: 'failed', end: 40 });
    const b = rec({ hash: H('b'), end: 20 }); // result removed
    const cFail1 = rec({ hash: H('c'), outcome: 'failed', end: 5 });
    const cFail2 = rec({ hash: H('c'), outcome: 'failed', end: 6 });
    const dFail = rec({ hash: H('d'), outcome: 'failed', end: 1 });
    const dDone = rec({ hash: H('d'), end: 2 }); // recomputed, then removed: nothing to say
    const stored = new Set([H('a')]);
    assert.deepEqual(recordsToKeep([a1, b, cFail1, a2, dFail, cFail2, aFail, dDone], stored), [a2, cFail2, aFail]);
    assert.deepEqual(recordsToKeep([], stored), []);
  });

  it('MemoryStore.compactRunLog: keeps what recordsToKeep keeps', async () => {
    const store = new MemoryStore();
    await store.recordRun(rec({ hash: H('a'), end: 1 }));
    await store.recordRun(rec({ hash: H('a'), end: 2 }));
    await store.recordRun(rec({ hash: H('b'), end: 3 }));
    assert.deepEqual(await store.compactRunLog(new Set([H('a')])), { read: 3, kept: 1 });
    assert.deepEqual(await store.runLog(), [rec({ hash: H('a'), end: 2 })]);
  });
});

describe('reading records consistently with the store', () => {
  const runs = [
    rec({ hash: H('a'), end: 10 }),
    rec({ hash: H('a'), end: 30, host: 'h2' }),
    rec({ hash: H('a'), end: 20, outcome: 'failed' }),
    rec({ hash: H('b'), end: 40 }),
    rec({ hash: H('c'), end: 50, outcome: 'failed' }),
  ];
  it('latestRuns: the last record of each hash, by end time', () => {
    const latest = latestRuns(runs);
    assert.equal(latest.get(H('a'))?.host, 'h2');
    assert.equal(latest.get(H('c'))?.outcome, 'failed');
  });
  it('finishedRuns: the latest done record of each result stored now; removed results do not show', () => {
    const fin = finishedRuns(runs, new Set([H('a'), H('c')]));
    assert.deepEqual([...fin.keys()], [H('a')]);
    assert.equal(fin.get(H('a'))?.end, 30);
    assert.equal(finishedRuns(runs, new Set()).size, 0);
  });
});

describe('building a record', () => {
  it('from an executed outcome: start, end, bytes, thread, attempts; code from codeOf', () => {
    beginLoad();
    const f = TaskGenerator(function f(x: number) {
      return x;
    });
    const t = f(3) as Task;
    const d = runDetails({ kind: 'executed', ms: 2.5, startedAt: 5000, bytes: 17, thread: 4, attempts: 2 })!;
    const r = makeRunRecord(t, d, () => ({ code: 'c'.repeat(16), parts: { f: 'd'.repeat(12) } }));
    assert.equal(r.hash, t.hash());
    assert.equal(r.task, t.name);
    assert.equal(r.args, '3');
    assert.equal(r.outcome, 'done');
    assert.equal(r.start, 5000);
    assert.equal(r.end, 5002.5);
    assert.equal(r.bytes, 17);
    assert.equal(r.thread, 4);
    assert.equal(r.attempt, 2);
    assert.equal(r.pid, process.pid);
    assert.equal(r.host, os.hostname());
    assert.equal(r.code, 'c'.repeat(16));
    assert.deepEqual(parseRunRecord(JSON.parse(JSON.stringify(r))), r, 'what is written is read back');
  });

  it('from a failed outcome: the error first line, cut; nothing for outcomes of tasks not run here', () => {
    beginLoad();
    const t = new Task(function g() {
      return 1;
    }) as Task;
    const error = { name: 'TypeError', message: `${'x'.repeat(600)}\nline 2`, stack: '', internal: false };
    const d = runDetails({ kind: 'failed', error, keptFailed: false, startedAt: 100 }, 200)!;
    const r = makeRunRecord(t, d);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.error!.length, 500);
    assert.ok(r.error!.startsWith('TypeError: xxx') && r.error!.endsWith('…'));
    assert.equal(r.code, undefined);
    assert.equal(runDetails({ kind: 'loaded' }), undefined);
    assert.equal(runDetails({ kind: 'locked', failed: false }), undefined);
    assert.equal(runDetails({ kind: 'cancelled' }), undefined);
  });
});

describe('stores keep records', () => {
  it('MemoryStore: copies, in order', async () => {
    const s = new MemoryStore();
    const a = rec();
    await s.recordRun(a);
    await s.recordRun(rec({ hash: H('b') }));
    const log = await s.runLog();
    assert.deepEqual(log.map((r) => r.hash), [H('a'), H('b')]);
    assert.notEqual(log[0], a);
  });

  it('FileStore: buffered until a commit of results, one file for this process, read by any store', async () => {
    const dir = join(tmp, 'fs');
    const s = new FileStore(dir, { fsync: false });
    await s.recordRun(rec({ hash: H('1') }));
    assert.ok(!fs.existsSync(join(dir, 'runs')), 'buffered, nothing written yet');
    await s.dump(H('1'), 42);
    assert.deepEqual(fs.readdirSync(join(dir, 'runs')), [RUN_FILE], 'written with the commit');
    assert.deepEqual((await new FileStore(dir).runLog()).map((r) => r.hash), [H('1')]);
    await s.recordRun(rec({ hash: H('2'), outcome: 'failed' }), true);
    assert.equal((await new FileStore(dir).runLog()).length, 2, 'urgent: written at once');
    await s.recordRun(rec({ hash: H('3') }));
    await s.close();
    assert.deepEqual((await new FileStore(dir).runLog()).map((r) => r.hash), [H('1'), H('2'), H('3')], 'close writes the rest');
  });

  it('FileStore: a damaged file or line in runs/ is skipped; no runs/ at all is an empty log', async () => {
    const dir = join(tmp, 'fs2');
    assert.deepEqual(await new FileStore(dir).runLog(), []);
    fs.mkdirSync(join(dir, 'runs'), { recursive: true });
    fs.writeFileSync(join(dir, 'runs', '1-r00-x.jsonl'), `${JSON.stringify(rec())}\n{"v":1,"ha`);
    fs.writeFileSync(join(dir, 'runs', 'notes.txt'), `${JSON.stringify(rec({ hash: H('f') }))}\n`);
    fs.mkdirSync(join(dir, 'runs', 'sub.jsonl'));
    assert.deepEqual((await new FileStore(dir).runLog()).map((r) => r.hash), [H('a')]);
  });

  it('FileStore: running notes replaced as a whole, read by any store, removed at close; a dead process\'s removed by the next run', async () => {
    const dir = join(tmp, 'notes');
    const s = new FileStore(dir, { fsync: false });
    const note = { hash: H('a'), start: 1, host: os.hostname(), pid: process.pid };
    await s.noteRunning([note, { ...note, hash: H('b'), thread: 3 }]);
    await s.noteRunning([{ ...note, hash: H('b'), thread: 3 }]);
    assert.deepEqual(await new FileStore(dir).runningNotes(), [{ ...note, hash: H('b'), thread: 3 }]);
    const runs = join(dir, 'runs');
    fs.writeFileSync(join(runs, `999999999-s1-${HOST_SAFE}.running`), JSON.stringify([{ ...note, pid: 999999999 }]));
    fs.writeFileSync(join(runs, '5-s1-elsewhere.running'), JSON.stringify([{ ...note, host: 'elsewhere', pid: 5 }, { bad: 1 }]));
    fs.writeFileSync(join(runs, '6-s1-elsewhere2.running'), '[{"hash":');
    assert.equal((await new FileStore(dir).runningNotes()).length, 3, 'bad entries and files skipped');
    await new FileStore(dir).clearDeadWrites();
    assert.deepEqual(fs.readdirSync(runs).sort(), ['5-s1-elsewhere.running', '6-s1-elsewhere2.running', RUNNING_FILE].sort());
    await s.close();
    assert.ok(!fs.existsSync(join(runs, RUNNING_FILE)));
  });

  it('RunRecorder: hands records to the store, none to a store without run records', async () => {
    beginLoad();
    const t = new Task(function h() {
      return 1;
    }) as Task;
    const s = new MemoryStore();
    new RunRecorder(s).record(t, { kind: 'executed', ms: 1 });
    new RunRecorder(s).record(t, { kind: 'loaded' });
    assert.equal((await s.runLog()).length, 1);
    const bare = Object.assign(Object.create(MemoryStore.prototype) as MemoryStore, { recordRun: undefined });
    assert.equal(new RunRecorder(bare).active, false);
  });
});

describe('timing', () => {
  it('per name, slowest first, per host, only stored results', () => {
    const runs = [
      rec({ hash: H('1'), task: 'm.a', start: 0, end: 10, host: 'x', args: '1' }),
      rec({ hash: H('2'), task: 'm.a', start: 0, end: 30, host: 'y', args: '2' }),
      rec({ hash: H('3'), task: 'm.a', start: 0, end: 20, host: 'x', args: '3' }),
      rec({ hash: H('4'), task: 'm.b', start: 0, end: 5, host: 'x' }),
      rec({ hash: H('5'), task: 'm.b', start: 0, end: 500, host: 'x' }), // not stored any more
    ];
    const t = timingSnapshot(runs, new Set([H('1'), H('2'), H('3'), H('4'), H('6')]));
    assert.deepEqual(t.tasks['m.a'], { finished: 3, totalMs: 60, medianMs: 20, maxMs: 30 });
    assert.deepEqual(t.tasks['m.b'], { finished: 1, totalMs: 5, medianMs: 5, maxMs: 5 });
    assert.deepEqual(t.slowest.map((s) => s.args), ['2', '3', '1', null]);
    assert.deepEqual(t.hosts, { x: { tasks: 3, busyMs: 35 }, y: { tasks: 1, busyMs: 30 } });
    assert.equal(t.unrecorded, 1);
  });

  it('formats durations for people', () => {
    assert.equal(fmtMs(0.123), '0.12 ms');
    assert.equal(fmtMs(12.34), '12.3 ms');
    assert.equal(fmtMs(250), '250 ms');
    assert.equal(fmtMs(1250), '1.25 s');
    assert.equal(fmtMs(123_000), '2m03s');
    assert.equal(fmtMs(3_725_000), '1h02m');
  });
});

describe('code fingerprints for records', () => {
  it('prepared once per function from its file, then a lookup; jug.* tasks have none', async () => {
    const file = join(tmp, 'jf-code.ts');
    fs.writeFileSync(file, 'export function k(x: number): number {\n  return x + 1;\n}\n');
    beginLoad();
    const mod = (await import(`${file.replace(/\.ts$/, '.ts')}?v=1`)) as { k: (x: number) => number };
    const gen = TaskGenerator(mod.k, { version: 2 });
    const t = gen(1) as Task;
    // The origin is this test file (where TaskGenerator is called): its fingerprint is made from it.
    assert.equal(taskCode(t), undefined, 'not prepared: no fingerprint, never computed on the spot');
    await prepareTaskCode([t]);
    const code = taskCode(gen(2) as Task);
    assert.match(code?.code ?? '', /^[0-9a-f]{16}$/);
    assert.ok('k' in (code?.parts ?? {}));
  });
});
