/**
 * Failures you can act on, through the real CLI: what a failure prints (arguments, duration, where
 * it ran, a stack without jug's frames); the failure record stored with a --keep-failed mark and
 * shown by later runs and `jug status --failed` in other processes; records going with their
 * marks (cleanup, invalidate) and damaged records ignored; `--target` by task hash or unique
 * prefix for execute, invalidate and cleanup; `jug execute --retry-failed`; hints that never
 * suggest removing good results.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, entries, makeTempDir, parseTable, removeTempDir, runJug, show, storedHashes, type RunResult } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('failures');
});
after(() => removeTempDir(tmp));

const FLAKY = join(FIXTURES, 'flaky.ts');
const PREFIX = join(FIXTURES, 'prefix.ts');
const HOST = hostname();
const RECORD_LINE = 'jug failure record v1: ';
let dirs = 0;
const jugdirOf = (label: string): string => join(tmp, `${label}-${++dirs}.jugdata`);

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

function row(stdout: string, name: string): number[] | undefined {
  return parseTable(stdout).rows.get(name);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Stack lines of jug's own code (built files, sources, Node internals) in a text. */
function jugFrames(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at /.test(l) && /\/dist\/|\/src\/|node:internal|chunk-/.test(l));
}

/** The hash of task risky(i) as a failure headline names it. */
function failedHash(stderr: string, i: number): string {
  const m = new RegExp(`task flaky\\.risky failed[^\\n]*\\(hash ([0-9a-f]{40})[^\\n]*\\n  arguments: ${i}, "item-${i}"`).exec(stderr);
  assert.ok(m, `no failure of risky(${i}) in:\n${stderr}`);
  return m[1]!;
}

/** flaky.ts run with --keep-going --keep-failed while risky(3) and risky(8) fail: their hashes. */
async function withMarks(jugdir: string): Promise<{ h3: string; h8: string; run: RunResult }> {
  const run = await runJug(['execute', FLAKY, '--jugdir', jugdir, '--keep-going', '--keep-failed', '-q'], { env: { FLAKY_FAIL: '3,8' } });
  expectCode(run, 1);
  return { h3: failedHash(run.stderr, 3), h8: failedHash(run.stderr, 8), run };
}

describe('what a failure prints', () => {
  for (const threads of [[], ['--threads', '2']]) {
    const mode = threads.length === 0 ? 'serial' : '--threads 2';
    test(`${mode}: the task, its arguments, how long it ran, where, and the stack without jug's frames`, async () => {
      const jugdir = jugdirOf('print');
      const r = await runJug(['execute', FLAKY, '--jugdir', jugdir, '-q', ...threads], { env: { FLAKY_FAIL: '3' } });
      expectCode(r, 1);
      const h = failedHash(r.stderr, 3);
      const thread = threads.length === 0 ? '' : ', thread \\d+';
      assert.match(r.stderr, new RegExp(`\\n  ran (<1|\\d+) ms on host ${escape(HOST)} \\(pid \\d+${thread}\\)\\n`), show(r));
      assert.match(r.stderr, /\n {2}Error: flaky-marker: bad input 3 \(item-3\)\n {6}at check \([^)]*flaky\.ts:10:\d+\)\n {6}at Task\.risky \([^)]*flaky\.ts:14:\d+\)/);
      assert.deepEqual(jugFrames(r.stderr), [], 'no frame of jug itself');
      // Without --keep-failed the lock is released: the hint says a plain re-run retries it.
      assert.match(r.stderr, /fix the cause and run `jug execute` again/);
      assert.doesNotMatch(r.stderr, /invalidate/);
      assert.deepEqual(entries(join(jugdir, 'locks')), []);
      assert.ok(!storedHashes(jugdir).includes(h));
    });
  }
});

describe('--keep-failed: the failure record is stored with the mark', () => {
  const jugdir = jugdirOf('kept');
  let h3 = '';
  let h8 = '';
  let firstPid = 0;

  test('the mark holds Jug\'s owner text, then the record; the hint names --retry-failed', async () => {
    const marks = await withMarks(jugdir);
    ({ h3, h8 } = marks);
    assert.deepEqual(entries(join(jugdir, 'locks')), [`${h3}.lock`, `${h8}.lock`].sort());
    const text = readFileSync(join(jugdir, 'locks', `${h3}.lock`), 'utf8');
    const [owner, created, token, record] = text.split('\n');
    assert.match(token!, /^Owner [sr][0-9a-f]+$/);
    firstPid = Number(/^PID (\d+) on HOSTNAME /.exec(owner!)?.[1]);
    assert.ok(firstPid > 0, text);
    assert.match(created!, /^Lock created on /);
    assert.ok(record!.startsWith(RECORD_LINE), text);
    const stored = JSON.parse(record!.slice(RECORD_LINE.length)) as Record<string, unknown>;
    assert.equal(stored['task'], 'flaky.risky');
    assert.equal(stored['hash'], h3);
    assert.equal(stored['args'], '3, "item-3"');
    assert.equal(Math.floor(statSync(join(jugdir, 'locks', `${h3}.lock`)).mtimeMs / 1000), 1, 'still a failure mark for Python Jug');
    assert.match(marks.run.stderr, /`jug execute --retry-failed`/);
    assert.doesNotMatch(marks.run.stderr, /invalidate/);
  });

  test('jug status --failed, in another process: one block per failed task, exit 0', async () => {
    const r = await runJug(['status', FLAKY, '--jugdir', jugdir, '--failed']);
    expectCode(r, 0);
    assert.match(r.stdout, /^2 failed tasks:\n/);
    for (const [i, h] of [[3, h3], [8, h8]] as const) {
      const block = new RegExp(
        `flaky\\.risky, hash ${h}:\\n  arguments: ${i}, "item-${i}"\\n  ran \\S+ ms on host ${escape(HOST)} \\(pid ${firstPid}\\), ` +
          `at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\n  Error: flaky-marker: bad input ${i} \\(item-${i}\\)\\n {6}at check`,
      );
      assert.match(r.stdout, block);
    }
    assert.deepEqual(jugFrames(r.stdout), []);
    assert.match(r.stdout, /`jug execute --retry-failed`/);
    const table = await runJug(['status', FLAKY, '--jugdir', jugdir]);
    expectCode(table, 0);
    assert.match(table.stdout, /`jug status --failed` shows why tasks failed; `jug execute --retry-failed` runs them again/);
  });

  test('a later run shows the stored record of the task it does not run, and the narrowest retry', async () => {
    const r = await runJug(['execute', FLAKY, '--jugdir', jugdir, '-q', '--keep-going'], { env: { FLAKY_FAIL: '' } });
    expectCode(r, 1);
    for (const [i, h] of [[3, h3], [8, h8]] as const) {
      assert.match(
        r.stderr,
        new RegExp(
          `task flaky\\.risky failed earlier \\(hash ${h}, [^)]*\\); its lock is kept marked failed \\(--keep-failed\\), so it was not run:\\n` +
            `  arguments: ${i}, "item-${i}"\\n  ran \\S+ ms on host ${escape(HOST)} \\(pid ${firstPid}\\), at [^\\n]+UTC\\n  Error: flaky-marker: bad input ${i}`,
        ),
      );
    }
    assert.match(r.stderr, /`jug execute --retry-failed`/);
    assert.doesNotMatch(r.stderr, /invalidate/);
    const one = await runJug(['execute', FLAKY, '--jugdir', jugdir, '-q', '--target', h3.slice(0, 8)]);
    expectCode(one, 1);
    assert.match(one.stderr, new RegExp(`\`jug execute --retry-failed --target ${h3.slice(0, 12)}\``), show(one));
  });

  test('sleep-until points at status --failed and --retry-failed', async () => {
    const r = await runJug(['sleep-until', FLAKY, '--jugdir', jugdir, '-q']);
    expectCode(r, 1);
    assert.match(r.stderr, /`jug status --failed` shows why; .*`jug execute --retry-failed`/);
    assert.doesNotMatch(r.stderr, /invalidate/);
  });
});

describe('records go with their marks', () => {
  test('cleanup --failed-only --target <prefix> removes that mark and its record only; invalidate --target <prefix> the other', async () => {
    const jugdir = jugdirOf('remove');
    const { h3, h8 } = await withMarks(jugdir);
    const good = storedHashes(jugdir);
    assert.equal(good.length, 8);
    const c = await runJug(['cleanup', FLAKY, '--jugdir', jugdir, '--failed-only', '--target', h3.slice(0, 7)]);
    expectCode(c, 0);
    assert.match(c.stdout, /Removed 1 failure mark\b/);
    assert.deepEqual(entries(join(jugdir, 'locks')), [`${h8}.lock`]);
    const listed = await runJug(['status', FLAKY, '--jugdir', jugdir, '--failed']);
    assert.match(listed.stdout, /^1 failed task:\n/);
    assert.ok(!listed.stdout.includes(h3) && listed.stdout.includes(h8), listed.stdout);
    const inv = await runJug(['invalidate', FLAKY, '--jugdir', jugdir, '--target', h8.slice(0, 10)]);
    expectCode(inv, 0);
    assert.match(inv.stderr, /removed 1 failure mark/);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    assert.deepEqual(storedHashes(jugdir), good, 'no good result was removed');
    const none = await runJug(['status', FLAKY, '--jugdir', jugdir, '--failed']);
    expectCode(none, 0);
    assert.equal(none.stdout, 'No failed tasks.\n');
  });

  test('a record cut short or damaged is ignored: status --failed and execute still work', async () => {
    const jugdir = jugdirOf('damaged');
    const { h3, h8 } = await withMarks(jugdir);
    const path3 = join(jugdir, 'locks', `${h3}.lock`);
    const text = readFileSync(path3, 'utf8');
    writeFileSync(path3, text.slice(0, text.length - 30)); // the record line cut mid-way
    const path8 = join(jugdir, 'locks', `${h8}.lock`);
    writeFileSync(path8, `${readFileSync(path8, 'utf8').split('\n').slice(0, 2).join('\n')}\n${RECORD_LINE}{"task": 12}\n`);
    for (const p of [path3, path8]) utimesSync(p, 1, 1);
    const r = await runJug(['status', FLAKY, '--jugdir', jugdir, '--failed']);
    expectCode(r, 0);
    for (const h of [h3, h8]) {
      assert.match(r.stdout, new RegExp(`flaky\\.risky, hash ${h}:\\n  \\(no failure record is stored with the mark`));
    }
    const ex = await runJug(['execute', FLAKY, '--jugdir', jugdir, '-q', '--keep-going']);
    expectCode(ex, 1);
    assert.match(ex.stderr, new RegExp(`failed earlier \\(hash ${h3}[^\\n]*\\n  \\(no failure record is stored with the mark`));
    assert.doesNotMatch(ex.stderr, /internal error/);
  });
});

describe('--retry-failed', () => {
  test('reruns only the failed tasks, keeps every good result; a task failing again is marked again', async () => {
    const jugdir = jugdirOf('retry');
    const { h3, h8 } = await withMarks(jugdir);
    const files = (): Map<string, string> =>
      new Map(storedHashes(jugdir).map((h) => {
        const st = statSync(join(jugdir, h.slice(0, 2), h.slice(2)));
        return [h, `${st.ino}:${st.mtimeMs}`];
      }));
    const before = files();
    assert.equal(before.size, 8);

    const again = await runJug(['execute', FLAKY, '--jugdir', jugdir, '--retry-failed', '--keep-failed', '--keep-going'], { env: { FLAKY_FAIL: '8' } });
    expectCode(again, 1);
    assert.match(again.stderr, /--retry-failed: removed 2 failure marks/);
    assert.deepEqual(row(again.stdout, 'flaky.risky'), [1, 8, 1], show(again));
    assert.deepEqual(entries(join(jugdir, 'locks')), [`${h8}.lock`], 'risky(8) failed again and is marked again');
    assert.ok(readFileSync(join(jugdir, 'locks', `${h8}.lock`), 'utf8').includes(RECORD_LINE));
    assert.ok(storedHashes(jugdir).includes(h3));

    const done = await runJug(['execute', FLAKY, '--jugdir', jugdir, '--retry-failed'], { env: { FLAKY_FAIL: '' } });
    expectCode(done, 0);
    assert.deepEqual(row(done.stdout, 'flaky.risky'), [1, 9]);
    assert.deepEqual(row(done.stdout, 'flaky.sum'), [1, 0]);
    const after = files();
    assert.equal(after.size, 11);
    for (const [h, id] of before) assert.equal(after.get(h), id, `good result ${h} untouched`);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
  });

  test('never touches a live lock, and removes nothing without failure marks', async () => {
    const jugdir = jugdirOf('live');
    const { h3, h8 } = await withMarks(jugdir);
    // risky(3) is now held by a live process (this test's), not marked failed.
    const live = join(jugdir, 'locks', `${h3}.lock`);
    const owner = `PID ${process.pid} on HOSTNAME ${HOST}\nLock created on 2026-12-02 (10h00.00)\n`;
    writeFileSync(live, owner);
    const r = await runJug(
      ['execute', FLAKY, '--jugdir', jugdir, '--retry-failed', '-q', '--keep-going', '--nr-wait-cycles', '1', '--wait-cycle-time', '0'],
      // (With --wait-cycle-time 0 the scheduler once polled the held task in a microtask loop
      // while risky(8) ran, and hung: the timeout turns a hang into a failure.)
      { env: { FLAKY_FAIL: '' }, timeoutMs: 30_000 },
    );
    expectCode(r, 1);
    assert.match(r.stderr, /--retry-failed: removed 1 failure mark;/);
    assert.equal(readFileSync(live, 'utf8'), owner, 'the live lock is untouched');
    assert.ok(storedHashes(jugdir).includes(h8));
    const none = await runJug(['execute', FLAKY, '--jugdir', jugdirOf('clean'), '--retry-failed', '-q']);
    expectCode(none, 0);
    assert.match(none.stderr, /--retry-failed: no selected task is marked failed/);
  });
});

describe('--target by task hash or unique hash prefix', () => {
  test('execute, invalidate and cleanup: an ambiguous prefix lists the candidates (exit 2); a longer one or the whole hash selects one task', async () => {
    const jugdir = jugdirOf('prefix');
    const args = [PREFIX, '--jugdir', jugdir];
    // pick(1388) and pick(1932) have hashes starting with a51b3d.
    const ambiguous = await runJug(['execute', ...args, '--target', 'a51b3d']);
    expectCode(ambiguous, 2);
    const m = /--target 'a51b3d' is the start of 2 task hashes: (a51b3d[0-9a-f]{6}) \(prefix\.pick\), (a51b3d[0-9a-f]{6}) \(prefix\.pick\)\. Give more of the hash/.exec(ambiguous.stderr);
    assert.ok(m, show(ambiguous));
    const [first, second] = [m[1]!, m[2]!];
    for (const cmd of [['invalidate'], ['cleanup', '--failed-only']]) {
      const r = await runJug([...cmd, ...args, '--target', 'a51b3d']);
      expectCode(r, 2);
      assert.match(r.stderr, /is the start of 2 task hashes: a51b3d/, show(r));
    }
    assert.deepEqual(storedHashes(jugdir), [], 'nothing ran');

    const one = await runJug(['execute', ...args, '--target', first.slice(0, 8), '-q']);
    expectCode(one, 0);
    assert.deepEqual(row(one.stdout, 'prefix.pick'), [1, 0]);
    assert.equal(storedHashes(jugdir).length, 1);
    assert.ok(storedHashes(jugdir)[0]!.startsWith(first));
    const other = await runJug(['execute', ...args, '--target', second, '-q']); // 12 characters
    expectCode(other, 0);
    assert.deepEqual(row(other.stdout, 'prefix.pick'), [1, 0]);
    const all = await runJug(['execute', ...args, '-q']);
    expectCode(all, 0);
    const whole = storedHashes(jugdir).find((h) => h.startsWith(first))!;

    const inv = await runJug(['invalidate', ...args, '--target', whole]);
    expectCode(inv, 0);
    assert.deepEqual(row(inv.stdout, 'prefix.pick'), [1]);
    assert.equal(storedHashes(jugdir).length, 2);
    assert.ok(!storedHashes(jugdir).includes(whole));

    const cl = await runJug(['cleanup', ...args, '--failed-only', '--target', second]);
    expectCode(cl, 0);
    assert.match(cl.stdout, /Removed 0 failure marks/);
    const noMode = await runJug(['cleanup', ...args, '--target', second]);
    expectCode(noMode, 2);
    assert.match(noMode.stderr, /use it with --failed-only/);
  });

  test('a hex string matching no hash is a name pattern; matching nothing, the error says hashes are accepted', async () => {
    const r = await runJug(['execute', PREFIX, '--jugdir', jugdirOf('nomatch'), '--target', 'abcdef0']);
    expectCode(r, 2);
    assert.match(r.stderr, /--target 'abcdef0' matches no task\. Task names are: prefix\.pick\. --target also takes a task hash/);
  });
});
