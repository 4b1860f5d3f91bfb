/**
 * The cheap "may anything be outdated?" scan of the raw run-record text
 * (src/outdated/quick-check.ts) and its use before the full analysis (mayHaveOutdated in
 * src/cli/outdated-state.ts): it must never say "no" when the full analysis finds an outdated
 * result; it may say "maybe" when unsure (then the full analysis runs).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mayHaveOutdated } from '../src/cli/outdated-state.js';
import { buildGraph } from '../src/graph.js';
import { analyse, latestDone } from '../src/outdated/analysis.js';
import { recordsMayBeOutdated } from '../src/outdated/quick-check.js';
import { parseRunLines } from '../src/run-record-lines.js';
import type { RunRecord } from '../src/run-records-types.js';
import { FileStore } from '../src/store/file-store.js';
import type { RecordCode } from '../src/record-code.js';
import { beginLoad } from '../src/registry.js';
import { TaskGenerator, type Task } from '../src/task.js';
import { makeTempDir, removeTempDir } from './helpers.js';

const tmp = makeTempDir('quick-check');
after(() => removeTempDir(tmp));

const H = (c: string): string => c.repeat(40).slice(0, 40);

function line(task: string, code?: string, extra: Record<string, unknown> = {}): string {
  const r = { v: 1, hash: H('a'), task, args: '1', outcome: 'done', start: 1, end: 2, host: 'h', pid: 1, jug: '0', ...(code === undefined ? {} : { code, parts: { f: 'aaaaaaaaaaaa' } }), ...extra };
  return JSON.stringify(r) + '\n';
}

describe('recordsMayBeOutdated (raw text scan)', () => {
  const now = new Map<string, string | null>([
    ['m.f', 'code-f-now'],
    ['m.g', 'code-g-now'],
    ['m.mixed', null],
  ]);

  it('every record with the current code of its task, or no code, or a task without a fingerprint now: no', () => {
    const text = line('m.f', 'code-f-now') + line('m.g', 'code-g-now') + line('m.f') + line('other.task', 'whatever');
    assert.equal(recordsMayBeOutdated([text, ''], now), false);
    assert.equal(recordsMayBeOutdated([], now), false);
  });

  it('one record with another code for its task: yes, in any file, at any line', () => {
    assert.equal(recordsMayBeOutdated([line('m.f', 'code-f-now'), line('m.g', 'code-g-now') + line('m.f', 'code-f-old')], now), true);
    // Another task's current code is not this task's: paired by line, not by set.
    assert.equal(recordsMayBeOutdated([line('m.f', 'code-g-now')], now), true);
  });

  it('a failure record with an old code answers yes too (conservative: only the full analysis knows which records count)', () => {
    assert.equal(recordsMayBeOutdated([line('m.f', 'code-f-old', { outcome: 'failed' })], now), true);
  });

  it('unsure lines answer yes: a part named "code" or "task", an escaped task name, a name whose tasks differ', () => {
    const partCode = JSON.stringify({ v: 1, hash: H('a'), task: 'm.f', outcome: 'done', start: 1, end: 2, host: 'h', pid: 1, jug: '0', code: 'code-f-now', parts: { code: 'bbbbbbbbbbbb' } }) + '\n';
    assert.equal(recordsMayBeOutdated([partCode], now), true);
    const partTask = JSON.stringify({ v: 1, hash: H('a'), task: 'm.f', outcome: 'done', start: 1, end: 2, host: 'h', pid: 1, jug: '0', code: 'code-f-now', parts: { task: 'bbbbbbbbbbbb' } }) + '\n';
    assert.equal(recordsMayBeOutdated([partTask], now), true);
    assert.equal(recordsMayBeOutdated([line('m."f', 'code-f-now')], new Map([['m."f', 'code-f-now']])), true);
    assert.equal(recordsMayBeOutdated([line('m.mixed', 'anything')], now), true);
  });

  it('a line cut short (no closing quote before the end) answers yes; text in other fields cannot fake a key', () => {
    assert.equal(recordsMayBeOutdated([line('m.f', 'code-f-now') + '{"v":1,"task":"m.f","code":"code-f-n'], now), true);
    // An args string holding `"code":"` is escaped in JSON: not taken for the key.
    assert.equal(recordsMayBeOutdated([line('m.f', 'code-f-now', { args: '{"code":"old"}' })], now), false);
  });
});

describe('mayHaveOutdated never says no where the full analysis finds outdated results', () => {
  beginLoad();
  const f = TaskGenerator(function f(x: number): number {
    return x;
  }, { name: 'q.f' });
  const g = TaskGenerator(function g(x: number): number {
    return x;
  }, { name: 'q.g' });
  const f1 = f(1) as unknown as Task;
  const f2 = f(2) as unknown as Task;
  const g1 = g(f1 as never) as unknown as Task;
  const graph = buildGraph([g1, f2]);

  function rec(task: Task, end: number, code: string | undefined): RunRecord {
    return { v: 1, hash: task.hash(), task: task.name, outcome: 'done', start: end - 1, end, host: 'h', pid: 1, jug: '0', ...(code === undefined ? {} : { code, parts: { x: 'cccccccccccc' } }) };
  }

  it('FileStore: runLogTexts() parses to runLog(); the scan agrees with the analysis on each case', async () => {
    // The codes "now" are what prepareTaskCode makes of these functions: take them from a real run's view.
    const { prepareTaskCode, taskCode } = await import('../src/record-code.js');
    await prepareTaskCode(graph.tasks);
    const codeF = taskCode(f1)?.code;
    const codeG = taskCode(g1)?.code;
    assert.ok(codeF !== undefined && codeG !== undefined, 'fingerprints made for the test functions');
    const codeOf = (t: Task): RecordCode | undefined => taskCode(t);
    const cases: { name: string; log: RunRecord[]; expectOutdated: boolean; expectMaybe: boolean }[] = [
      { name: 'all current', log: [rec(f1, 1, codeF), rec(f2, 1, codeF), rec(g1, 2, codeG)], expectOutdated: false, expectMaybe: false },
      { name: 'no fingerprints', log: [rec(f1, 1, undefined), rec(g1, 2, undefined)], expectOutdated: false, expectMaybe: false },
      { name: 'one old code', log: [rec(f1, 1, 'old-code-000000'), rec(f2, 1, codeF), rec(g1, 2, codeG)], expectOutdated: true, expectMaybe: true },
      { name: 'old code superseded by a later run', log: [rec(f1, 1, 'old-code-000000'), rec(f1, 5, codeF), rec(g1, 6, codeG)], expectOutdated: false, expectMaybe: true },
    ];
    const stored = new Set(graph.tasks.map((t) => t.hash()));
    for (const [i, c] of cases.entries()) {
      const dir = join(tmp, `store-${i}`);
      fs.mkdirSync(join(dir, 'runs'), { recursive: true });
      fs.writeFileSync(join(dir, 'runs', '1-r00-h.jsonl'), c.log.map((r) => JSON.stringify(r) + '\n').join(''));
      const store = new FileStore(dir, { fsync: false });
      const texts = await store.runLogTexts();
      assert.deepEqual(texts.flatMap(parseRunLines), await store.runLog(), c.name);
      const a = analyse(graph, stored, latestDone(await store.runLog()), codeOf);
      assert.equal(a.outdated > 0, c.expectOutdated, `${c.name}: analysis`);
      assert.equal(await mayHaveOutdated(graph, store, stored), c.expectMaybe, `${c.name}: scan`);
      await store.close();
    }
  });

  it('nothing stored: no, without reading', async () => {
    const store = new FileStore(join(tmp, 'empty'), { fsync: false });
    assert.equal(await mayHaveOutdated(graph, store, new Set()), false);
    await store.close();
  });
});
