/**
 * Who holds the locks, as `jug status` and `jug cleanup` tell it: the hosts running tasks, and a
 * holder on another host whose heartbeat stopped while its lease runs (a dead or frozen host),
 * said as such rather than "held by running processes".
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runningHostsLine, silentHolderLines, silentHolders, SILENT_AFTER_MS } from '../src/cli/lock-holders.js';
import type { LockInfo } from '../src/store/store.js';
import { FIXTURES, entries, makeTempDir, removeTempDir, runJug, show, startJug, storedHashes, waitFor } from './helpers.js';

const HOST = hostname();

describe('lock holders (unit)', () => {
  const now = 1_000_000_000;
  const lock = (host: string, pid: number, beatAgo: number, leaseMs = 300_000): LockInfo => ({
    failed: false,
    stale: false,
    holder: { host, pid },
    heartbeatAt: now - beatAgo,
    staleAt: now - beatAgo + leaseMs,
  });

  test('running hosts: busiest first, failure marks and stale locks left out', () => {
    const locks = [lock('node02', 1, 0), lock('node01', 5, 0), lock('node02', 2, 0), { failed: true, stale: false }, { ...lock('node03', 1, 0), stale: true }];
    assert.equal(runningHostsLine(locks), 'Running on node02 (2), node01 (1).\n');
    assert.equal(runningHostsLine([]), '');
  });

  test('a holder whose heartbeat stopped: one line per holder, how long ago, and when its locks become stale', () => {
    const locks = [lock('node02', 1, 47_000), lock('node02', 1, 47_000), lock('node01', 9, 1_000), lock('node03', 4, SILENT_AFTER_MS - 1)];
    const silent = silentHolders(locks, now);
    assert.equal(silent.length, 1);
    assert.equal(
      silentHolderLines(silent, now),
      '2 locks of PID 1 on node02: its heartbeat stopped 47s ago (a dead or frozen host?); they become stale in 4m13s ' +
        '(--lock-lease), then the next `jug execute` takes them over.\n',
    );
  });
});

describe('jug status and cleanup name the holders (CLI)', () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('holders');
  });
  after(() => removeTempDir(tmp));

  test('a running task shows its host; a lock of another host with a stopped heartbeat says when it becomes stale', async () => {
    const jugfile = join(tmp, 'many.ts');
    copyFileSync(join(FIXTURES, 'many.ts'), jugfile);
    const locksDir = join(tmp, 'many.jugdata', 'locks');
    const run = startJug(['execute', '-q', jugfile], { env: { JUG_N: '2', JUG_DELAY_MS: '20000' } });
    let held: string;
    try {
      assert.ok(await waitFor(() => entries(locksDir).length > 0, 30_000), 'no lock appeared');
      [held] = entries(locksDir) as [string];
      const status = await runJug(['status', jugfile]);
      assert.equal(status.code, 0, show(status));
      assert.match(status.stdout, new RegExp(`^Running on ${HOST.replace(/[.]/g, '\\.')} \\(1\\)\\.$`, 'm'), show(status));
      assert.doesNotMatch(status.stdout, /heartbeat stopped/);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
    }
    // The holder is now another host that stopped beating 40 s ago (a dead host, lease 300 s).
    const path = join(locksDir, held);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^PID \d+ on HOSTNAME \S+/, 'PID 1 on HOSTNAME node02.example'));
    const beat = (Date.now() - 40_000) / 1000;
    utimesSync(path, beat, beat);
    const status = await runJug(['status', jugfile]);
    assert.match(status.stdout, /^Running on node02\.example \(1\)\.$/m, show(status));
    assert.match(
      status.stdout,
      /^1 lock of PID 1 on node02\.example: its heartbeat stopped 4\ds ago \(a dead or frozen host\?\); it becomes stale in 4m[12]\ds /m,
      show(status),
    );
    const cleanup = await runJug(['cleanup', '--stale', jugfile]);
    assert.equal(cleanup.code, 0, show(cleanup));
    assert.match(cleanup.stdout, /^Removed 0 stale locks\nKept, not stale yet:\n1 lock of PID 1 on node02\.example: its heartbeat stopped/, show(cleanup));
    assert.deepEqual(entries(locksDir), [held]);
    // With a lease shorter than the silence, it is stale: said so, and removed.
    const short = await runJug(['status', '--lock-lease', '30', jugfile]);
    assert.match(short.stdout, /1 task\(s\) have a stale lock/, show(short));
    assert.doesNotMatch(short.stdout, /Running on/);
    const removed = await runJug(['cleanup', '--stale', '--lock-lease', '30', jugfile]);
    assert.match(removed.stdout, /^Removed 1 stale lock\n/, show(removed));
    assert.deepEqual(entries(locksDir), []);
  });

  test('a run removes, before it exits, the locks a dead holder left on results it had stored, once they are stale', async () => {
    const jugfile = join(tmp, 'survivor.ts');
    copyFileSync(join(FIXTURES, 'many.ts'), jugfile);
    const jugdir = join(tmp, 'survivor.jugdata');
    const first = await runJug(['execute', '-q', jugfile], { env: { JUG_N: '1', JUG_DELAY_MS: '0' } });
    assert.equal(first.code, 0, show(first));
    // A host that stored these results died before removing its locks; its heartbeat stopped 7 s
    // ago: not stale yet (lease 10 s) when the next run starts, stale before it ends.
    const done = storedHashes(jugdir);
    assert.equal(done.length, 2);
    const beat = (Date.now() - 7_000) / 1000;
    for (const h of done) {
      const path = join(jugdir, 'locks', `${h}.lock`);
      writeFileSync(path, 'PID 1 on HOSTNAME node09.example\nLock created on 2026-12-02 (10h00.00)\n');
      utimesSync(path, beat, beat);
    }
    const second = await runJug(['execute', '-q', '--lock-lease', '10', jugfile], { env: { JUG_N: '3', JUG_DELAY_MS: '2500' } });
    assert.equal(second.code, 0, show(second));
    assert.deepEqual(entries(join(jugdir, 'locks')), [], 'the dead host\'s locks of stored results are gone');
  });
});
