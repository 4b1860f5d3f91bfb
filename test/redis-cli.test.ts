/**
 * The commands that read run records and running notes, through the real CLI on a `redis://`
 * jugdir of a real redis-server this test starts (test/redis-server.ts): `jug status --json`,
 * `jug why` and the `jug webstatus` snapshot show a running task with its start, host, pid and
 * thread (the Redis store's running notes); `jug status --timing`; `jug status --outdated` and
 * `jug invalidate --outdated` after an edit of a task function.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StatusSnapshot } from '../src/cli/commands/status/snapshot.js';
import type { TimingSnapshot } from '../src/cli/commands/status/timing.js';
import type { WebSnapshot } from '../src/web/snapshot-types.js';
import { FIXTURES, makeTempDir, parseTable, removeTempDir, runJug, show, startJug, waitFor, type RunResult } from './helpers.js';
import { SKIP_REDIS, TestRedis } from './redis-server.js';

const RECORDS = join(FIXTURES, 'records.ts');
const HOST = hostname();

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve(JSON.parse(body) as T));
    })
      .on('error', reject)
      .end();
  });
}

describe('a redis:// jugdir through the real CLI: status --json / --timing / --outdated, why, webstatus', { skip: SKIP_REDIS }, () => {
  let redis: TestRedis;
  let tmp: string;
  let db = 0;
  before(async () => {
    redis = await TestRedis.start();
    tmp = makeTempDir('redis-cli');
  });
  after(async () => {
    await redis?.destroy();
    if (tmp !== undefined) removeTempDir(tmp);
  });

  for (const threads of [[], ['--threads', '2']]) {
    const mode = threads.length === 0 ? 'serial' : '--threads 2';
    test(`${mode}: a running task shows its start, host, pid and thread in status --json, why and webstatus; its note goes at the end`, async () => {
      const n = ++db;
      const url = redis.url(n);
      const hold = join(tmp, `hold-${n}`);
      const env = { REC_N: '5', REC_HOLD: hold };
      const notes = (): number => Number(redis.cli('-n', String(n), 'HLEN', 'jug:records:running').stdout.trim());
      const other = startJug(['execute', RECORDS, '--jugdir', url, '-q', '--target', 'records.held', ...threads], { env });
      let web: ReturnType<typeof startJug> | undefined;
      try {
        assert.ok(await waitFor(() => existsSync(`${hold}.started`), 60_000, 20), 'held never started');
        assert.ok(await waitFor(() => notes() === 1, 10_000, 20), 'no running note in Redis');
        const r = await runJug(['status', RECORDS, '--jugdir', url, '--json'], { env });
        expectCode(r, 0);
        const snap = JSON.parse(r.stdout) as StatusSnapshot;
        assert.deepEqual(snap.totals, { waiting: 1, ready: 5, running: 1, finished: 0, failed: 0, stale: 0, total: 7 });
        const running = snap.running[0]!;
        assert.equal(running.name, 'records.held');
        assert.equal(running.host, HOST);
        assert.equal(running.pid, other.child.pid);
        assert.ok(running.since !== null, `since, from the running note: ${r.stdout}`);
        assert.ok(Date.parse(snap.time) - Date.parse(running.since) < 120_000 && Date.parse(running.since) <= Date.parse(snap.time));
        if (threads.length === 0) assert.equal(running.thread, null, 'the main thread');
        else assert.ok(Number.isInteger(running.thread) && running.thread! > 0, `a worker thread: ${running.thread}`);
        assert.ok(running.heartbeat !== null, 'the heartbeat, from the lease');

        const why = await runJug(['why', 'held', RECORDS, '--jugdir', url], { env });
        expectCode(why, 0);
        const thread = running.thread === null ? '' : `, thread ${running.thread}`;
        assert.match(why.stdout, new RegExp(`Running: pid ${other.child.pid}${thread} on ${HOST} holds its lock since \\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC`), show(why));

        web = startJug(['webstatus', RECORDS, '--jugdir', url, '--port', '0', '--interval', '0.2'], { env });
        let out = '';
        web.child.stdout!.on('data', (d: Buffer) => (out += String(d)));
        assert.ok(await waitFor(() => /http:\/\/\S+\//.test(out), 30_000, 50), 'webstatus did not start');
        const ws = await getJson<WebSnapshot>(`${/http:\/\/\S+\//.exec(out)![0]}api/status`);
        assert.equal(ws.running.length, 1, JSON.stringify(ws.running));
        const task = ws.running[0]!;
        assert.equal(task.name, 'records.held');
        assert.equal(task.pid, other.child.pid);
        assert.equal(task.sinceSeen, false, 'since from the running note, not from when the server saw the lock');
        assert.equal(task.since, Date.parse(running.since));
        assert.equal(task.thread, running.thread ?? undefined);
      } finally {
        web?.child.kill('SIGTERM');
        await web?.done;
        writeFileSync(hold, '');
        expectCode(await other.done, 0);
      }
      assert.equal(notes(), 0, 'the note goes when the process closes the store');
    });
  }

  test('status --timing: per task name, the slowest, per host', async () => {
    const url = redis.url(++db);
    const env = { REC_N: '12', REC_DELAY_MS: '3' };
    expectCode(await runJug(['execute', RECORDS, '--jugdir', url, '-q', '--threads', '2'], { env }), 0);
    const r = await runJug(['status', RECORDS, '--jugdir', url, '--timing'], { env });
    expectCode(r, 0);
    assert.match(r.stdout, /^Task name\s+Finished\s+Total\s+Median\s+Max\n/);
    assert.match(r.stdout, /\nrecords\.work\s+12\s+\d+(\.\d+)? (ms|s)\s/);
    assert.match(r.stdout, /\nTotal:\s+13\s/);
    const j = await runJug(['status', RECORDS, '--jugdir', url, '--timing', '--json'], { env });
    expectCode(j, 0);
    const t = JSON.parse(j.stdout) as TimingSnapshot;
    assert.equal(t.tasks['records.work']!.finished, 12);
    assert.ok(t.tasks['records.work']!.medianMs >= 2.5, `each work task waits 3 ms: ${j.stdout}`);
    assert.equal(t.hosts[HOST]?.tasks, 13);
  });

  test('status --outdated and invalidate --outdated after an edit: exactly the edited function and its dependants run again', async () => {
    const url = redis.url(++db);
    const jugfile = join(tmp, 'edits.ts');
    const log = join(tmp, 'edits.log');
    writeFileSync(
      jugfile,
      "import { TaskGenerator } from 'jug';\nimport { appendFileSync } from 'node:fs';\n" +
        "const LOG = process.env['SIDE_LOG']!;\n" +
        'export const work = TaskGenerator(function work(n: number): number {\n  appendFileSync(LOG, `work ${n}\\n`);\n  return n * 2;\n});\n' +
        "export const other = TaskGenerator(function other(n: number): number {\n  appendFileSync(LOG, `other ${n}\\n`);\n  return n;\n});\n" +
        "export const total = TaskGenerator(function total(xs: number[]): number {\n  appendFileSync(LOG, 'total\\n');\n  return xs.reduce((a, b) => a + b, 0);\n});\n" +
        'export const t = total([work(1), work(2), other(3)]);\n',
    );
    const env = { SIDE_LOG: log };
    const jug = (...args: string[]): Promise<RunResult> => runJug([args[0]!, jugfile, '--jugdir', url, ...args.slice(1)], { env });
    const takeLog = (): string[] => {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
      writeFileSync(log, '');
      return lines.sort();
    };
    expectCode(await jug('execute', '-q'), 0);
    assert.deepEqual(takeLog(), ['other 3', 'total', 'work 1', 'work 2']);
    // The plain table decides from the records' raw text (Store.runLogTexts) whether to show outdated results.
    const before = await jug('status');
    expectCode(before, 0);
    assert.doesNotMatch(before.stdout, /utdated/, show(before));
    writeFileSync(jugfile, readFileSync(jugfile, 'utf8').replace('return n * 2;', 'return n * 3;'));
    const table = await jug('status');
    expectCode(table, 0);
    assert.match(table.stdout, /Outdated/, show(table));
    assert.match(table.stdout, /edits\.work/, show(table));
    const listing = await jug('status', '--outdated');
    expectCode(listing, 0);
    assert.match(listing.stdout, /edits\.work: 2 outdated results\n {4}work: changed \(edits\.ts:\d+\)/, show(listing));
    const inv = await jug('invalidate', '--outdated');
    expectCode(inv, 0);
    assert.deepEqual(Object.fromEntries(parseTable(inv.stdout).rows), { 'edits.work': [2], 'edits.total': [1], 'Total:': [3] }, show(inv));
    expectCode(await jug('execute', '-q'), 0);
    assert.deepEqual(takeLog(), ['total', 'work 1', 'work 2']);
    const after = await jug('status', '--outdated');
    expectCode(after, 0);
    assert.match(after.stdout, /^No outdated results/, show(after));
  });
});
