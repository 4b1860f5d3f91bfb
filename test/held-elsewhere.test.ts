/**
 * Tasks held by another process are re-checked on their own back-off timer while this process's
 * own tasks run (as --wait-cycle-time's help says), not only when one of its own tasks ends: with
 * --threads 2, one thread busy with a long task, a free thread takes up the work that the other
 * process's result unblocks at once (issue 15's "a free thread waits for a busy one").
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show, startJug, waitFor } from './helpers.js';

let tmp = '';
before(() => (tmp = makeTempDir('held')));
after(() => removeTempDir(tmp));

/** The log's events in order (`slow-start`, `shared-start <pid>`, …), without their times. */
const events = (log: string): string[] =>
  existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(/ \d+$/, '')) : [];

describe('tasks held by another process, while our own tasks run', () => {
  it('--threads 2: a result another process stores is seen while a long task still runs, and its dependant starts then', async () => {
    const jugdir = join(tmp, 'a.jugdata');
    const log = join(tmp, 'a.log');
    const env = { HELD_LOG: log, HELD_SLOW_MS: '6000' };
    const jugfile = join(FIXTURES, 'held-elsewhere.ts');
    // The other process takes `shared` first (and only it).
    const other = startJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'held-elsewhere.shared', '-q'], { env });
    assert.ok(await waitFor(() => events(log).some((e) => e.startsWith('shared-start')), 30_000, 20), 'the other process never started shared');
    const r = await runJug(['execute', jugfile, '--jugdir', jugdir, '--threads', '2', '-q'], { env, timeoutMs: 60_000 });
    const o = await other.done;
    assert.equal(o.code, 0, show(o));
    assert.equal(r.code, 0, show(r));
    const seen = events(log);
    // `shared` ran once, in the other process; `after` started before the long task ended.
    assert.equal(seen.filter((e) => e.startsWith('shared-start')).length, 1, seen.join('\n'));
    assert.ok(seen.includes(`shared-start ${other.child.pid}`), seen.join('\n'));
    assert.ok(seen.indexOf('after-start') >= 0 && seen.indexOf('after-start') < seen.indexOf('slow-end'), seen.join('\n'));
  });

  it('--nr-wait-cycles: gives up on a task another process holds, names it, and exits 1', async () => {
    const jugdir = join(tmp, 'b.jugdata');
    const log = join(tmp, 'b.log');
    const env = { HELD_LOG: log, HELD_SHARED_MS: '60000' };
    const jugfile = join(FIXTURES, 'held-elsewhere.ts');
    const other = startJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'held-elsewhere.shared', '-q'], { env });
    try {
      assert.ok(await waitFor(() => events(log).some((e) => e.startsWith('shared-start')), 30_000, 20), 'the other process never started shared');
      const args = ['execute', jugfile, '--jugdir', jugdir, '--target', 'held-elsewhere.after'];
      const r = await runJug([...args, '--nr-wait-cycles', '2', '--wait-cycle-time', '0.05'], { env, timeoutMs: 60_000 });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /gave up waiting for 1 task\(s\) locked by other processes \(e\.g\. held-elsewhere\.shared [0-9a-f]{10}\); 1 task\(s\) depending on them not run\./);
      assert.match(r.stderr, /Run `jug execute` again later, or see `jug status`/);
      assert.ok(!events(log).includes('after-start'), 'after must not run before shared is stored');
    } finally {
      other.child.kill('SIGKILL');
      await other.done;
    }
  });
});
