import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressLine, progressMode } from '../src/cli/progress.js';
import { StatusTable, TaskState } from '../src/status-table.js';

describe('progress display', () => {
  it('uses the spinner only on a terminal with a width, outside CI', () => {
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}), 'spinner');
    assert.equal(progressMode({ isTTY: true, columns: 0 }, {}), 'lines', 'ora loops forever at 0 columns');
    assert.equal(progressMode({ isTTY: true }, {}), 'lines');
    assert.equal(progressMode({ isTTY: false, columns: 80 }, {}), 'lines');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, { CI: 'true' }), 'lines');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}, true), 'none');
  });

  it('reads counts, rate and ETA from the status table', () => {
    const t = StatusTable.create(10, 2);
    [TaskState.Executed, TaskState.Executed, TaskState.Loaded, TaskState.Running, TaskState.Ready].forEach((s, i) => t.set(i, s));
    t.set(5, TaskState.Failed);
    t.set(6, TaskState.LockedElsewhere);
    const now = Date.now();
    const line = progressLine(t, now - 2000, 1, now);
    assert.match(line, /^3\/10 finished, 1 running \(\+1 in other processes\), 1 ready, 3 waiting, 1 failed · 1\.0 tasks\/s · ETA 6s$/);
  });
});

describe('progress through the CLI (not a terminal)', () => {
  it('prints periodic plain lines to stderr, none with --quiet, and keeps stdout for the table', async () => {
    const { runJug, makeTempDir, removeTempDir, FIXTURES } = await import('./helpers.js');
    const { join } = await import('node:path');
    const dir = makeTempDir('progress');
    try {
      const env = { JUG_N: '40', JUG_DELAY_MS: '25', JUG_PROGRESS_INTERVAL: '0.2' };
      const args = ['execute', join(FIXTURES, 'many.ts')];
      const shown = await runJug([...args, '--jugdir', join(dir, 'a.jugdata')], { env });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stderr, /^\[jug\] \d+\/41 finished, \d+ running, \d+ ready, \d+ waiting, 0 failed · /m);
      assert.doesNotMatch(shown.stdout, /\[jug\]/);
      const quiet = await runJug([...args, '--jugdir', join(dir, 'b.jugdata'), '--quiet'], { env });
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.doesNotMatch(quiet.stderr, /\[jug\]/);
      // A bad interval: a warning and the 10 s default (it used to print a line every millisecond).
      const bad = await runJug([...args, '--jugdir', join(dir, 'c.jugdata')], { env: { ...env, JUG_PROGRESS_INTERVAL: 'abc' } });
      assert.equal(bad.code, 0, bad.stderr);
      assert.match(bad.stderr, /warning: JUG_PROGRESS_INTERVAL='abc' is not a positive number of seconds; using 10/);
      assert.ok(bad.stderr.split('\n').filter((l) => l.startsWith('[jug]')).length <= 1, bad.stderr);
    } finally {
      removeTempDir(dir);
    }
  });
});
