/**
 * The outdated analysis (src/outdated/analysis.ts) on a small graph with hand-made run records:
 * which record counts (the latest 'done' one), outdated vs unknown, downstream through tasks that
 * are not stored, what changed (parts, version only).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGraph } from '../src/graph.js';
import { analyse, latestDone } from '../src/outdated/analysis.js';
import type { RecordCode } from '../src/record-code.js';
import { beginLoad } from '../src/registry.js';
import type { RunRecord } from '../src/run-records-types.js';
import { TaskGenerator, type Task } from '../src/task.js';

beginLoad();
const leaf = TaskGenerator(function leaf(x: number): number {
  return x;
}, { name: 'a.leaf' });
const mid = TaskGenerator(function mid(x: number): number {
  return x;
}, { name: 'a.mid' });
const top = TaskGenerator(function top(x: number): number {
  return x;
}, { name: 'a.top' });

// leaf(1) → mid → top; leaf(2) alone.
const l1 = leaf(1) as unknown as Task;
const l2 = leaf(2) as unknown as Task;
const m = mid(l1 as never) as unknown as Task;
const t = top(m as never) as unknown as Task;
const graph = buildGraph([t, l2]);

const NOW: Record<string, RecordCode> = {
  'a.leaf': { code: 'leafcode-new-000', parts: { leaf: 'aaaaaaaaaaaa', helper: 'cccccccccccc' } },
  'a.mid': { code: 'midcode-0000000', parts: { mid: 'bbbbbbbbbbbb' } },
  'a.top': { code: 'topcode-0000000', parts: { top: 'dddddddddddd' } },
};
const codeOf = (task: Task): RecordCode | undefined => NOW[task.name];

function rec(task: Task, end: number, code?: RecordCode, outcome: RunRecord['outcome'] = 'done'): RunRecord {
  return {
    v: 1,
    hash: task.hash(),
    task: task.name,
    outcome,
    start: end - 1,
    end,
    host: 'h',
    pid: 1,
    jug: '0',
    ...(code === undefined ? {} : { code: code.code, parts: code.parts }),
  };
}

const idx = (task: Task): number => graph.index.get(task.hash())!;

describe('outdated analysis', () => {
  it('the latest done record decides; a later failure does not hide a stored result', () => {
    const old = { code: 'leafcode-old-000', parts: { leaf: 'aaaaaaaaaaaa', helper: 'eeeeeeeeeeee' } };
    const log = [rec(l1, 10, NOW['a.leaf']), rec(l1, 20, old), rec(l1, 30, undefined, 'failed')];
    const done = latestDone(log);
    assert.equal(done.get(l1.hash())!.end, 20);
    const a = analyse(graph, new Set([l1.hash()]), done, codeOf, () => ({ helper: 'x.ts:3' }));
    assert.equal(a.states[idx(l1)], 'outdated');
    assert.deepEqual(a.changed, [{ task: 'a.leaf', results: 1, parts: [{ name: 'helper', where: 'x.ts:3', change: 'changed' }], versionOnly: false }]);
  });

  it('downstream through a task that is not stored; unknown without a fingerprint; current when equal', () => {
    const old = { code: 'leafcode-old-000', parts: { leaf: 'aaaaaaaaaaaa', helper: 'cccccccccccc' } };
    const stored = new Set([l1.hash(), l2.hash(), t.hash()]);
    const done = latestDone([rec(l1, 1, old), rec(l2, 1), rec(t, 3, NOW['a.top'])]);
    const a = analyse(graph, stored, done, codeOf);
    assert.equal(a.states[idx(l1)], 'outdated');
    assert.equal(a.states[idx(m)], undefined); // not stored
    assert.equal(a.states[idx(t)], 'downstream');
    assert.equal(a.states[idx(l2)], 'unknown');
    assert.deepEqual([a.outdated, a.downstream, a.unknown], [1, 1, 1]);
    // Same parts, another code: only the version (or what the fingerprint cannot name) changed.
    assert.equal(a.changed[0]!.versionOnly, true);
    const current = analyse(graph, stored, latestDone([rec(l1, 1, NOW['a.leaf']), rec(t, 3, NOW['a.top'])]), codeOf);
    assert.deepEqual([current.outdated, current.downstream, current.states[idx(t)]], [0, 0, 'current']);
  });
});
