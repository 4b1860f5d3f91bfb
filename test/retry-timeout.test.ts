/**
 * End-to-end tests of `jug execute --retries / --retry-delay / --timeout` and the per-task
 * `{ retries, retryDelayMs, timeoutMs }`, through the real CLI on the jugfiles in
 * test/fixtures-retry/. The tasks record each attempt (with Date.now()) in a file, so delays are
 * checked between attempts, not on the whole run. Needs a build (`npm run build`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, entries, makeTempDir, parseTable, readResults, removeTempDir, runJug, show, startJug, waitFor, type RunResult } from './helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures-retry');
const FLAKY = join(FIXTURES, 'flaky.ts');
const TIMEOUTS = join(FIXTURES, 'timeouts.ts');

let dir: string;
let count = 0;
before(() => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'run `npm run build` first: bin/jug.js runs dist/');
  dir = makeTempDir('retry');
});
after(() => removeTempDir(dir));

interface Case {
  readonly jugdir: string;
  readonly log: string;
  readonly env: Record<string, string>;
}

/** A fresh jugdir and attempts log; `tasks` chooses the fixture's exports (FLAKY_TASKS / TIMEOUT_TASKS). */
function freshCase(tasks: string, extra: Record<string, string> = {}): Case {
  const n = ++count;
  const log = join(dir, `attempts-${n}.log`);
  return {
    jugdir: join(dir, `run-${n}.jugdata`),
    log,
    env: { ATTEMPTS_LOG: log, FLAKY_TASKS: tasks, TIMEOUT_TASKS: tasks, ...extra },
  };
}

function execute(jugfile: string, c: Case, args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runJug(['execute', jugfile, '--jugdir', c.jugdir, ...args], { cwd: dir, env: { ...c.env, ...env }, timeoutMs: 90_000 });
}

/** The attempts log: label → [attempt number, time] per line (lines `<label> <n> <ms>`). */
function attempts(c: Case, label: string): { n: number; at: number }[] {
  if (!existsSync(c.log)) return [];
  return readFileSync(c.log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${label} `))
    .map((l) => l.split(' '))
    .map(([, n, at]) => ({ n: Number(n), at: Number(at) }));
}

/** Lines of the log starting with `prefix`, with their times. */
function notes(c: Case, prefix: string): { line: string; at: number }[] {
  if (!existsSync(c.log)) return [];
  return readFileSync(c.log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => ({ line: l.slice(0, l.lastIndexOf(' ')), at: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
}

function row(r: RunResult, name: string): number[] | undefined {
  return parseTable(r.stdout).rows.get(name);
}

/** Lock files and temporary files left in a jugdir. */
function leftovers(jugdir: string): string[] {
  return [...entries(join(jugdir, 'locks')), ...entries(join(jugdir, 'tempfiles'))];
}

/** Whether process `pid` has ended (gone, or a zombie not reaped yet by its new parent). */
function ended(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

const SERIAL_AND_THREADS: readonly (readonly string[])[] = [[], ['--threads', '2']];

describe('jug execute --retries', () => {
  for (const mode of SERIAL_AND_THREADS) {
    const how = mode.length === 0 ? 'serial' : mode.join(' ');

    it(`a task failing twice then succeeding is retried, each failed attempt logged; result stored, exit 0 (${how})`, async () => {
      const c = freshCase('twice');
      const r = await execute(FLAKY, c, ['--retries', '2', '--retry-delay', '0.05', ...mode]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /jug: task flaky\.flaky \([0-9a-f]{10}\) attempt 1 of 3 failed: Error: twice fails on attempt 1; retrying in 0\.05 s\./, show(r));
      assert.match(r.stderr, /attempt 2 of 3 failed: Error: twice fails on attempt 2; retrying in 0\.1 s\./, show(r));
      assert.doesNotMatch(r.stderr, /attempt 3 of 3/);
      assert.deepEqual(attempts(c, 'twice').map((a) => a.n), [1, 2, 3]);
      assert.deepEqual(row(r, 'flaky.flaky'), [1, 0], show(r));
      assert.deepEqual(leftovers(c.jugdir), []);
      const { values } = await readResults(FLAKY, c.jugdir, ['twice'], { env: c.env });
      assert.equal(values['twice'], 'twice ok on attempt 3');
    });

    it(`a task that always fails fails for good after N+1 attempts: exit 1, no lock left (${how})`, async () => {
      const c = freshCase('always');
      const r = await execute(FLAKY, c, ['--retries', '2', '--retry-delay', '0.01', ...mode]);
      assert.equal(r.code, 1, show(r));
      assert.deepEqual(attempts(c, 'always').map((a) => a.n), [1, 2, 3]);
      assert.match(r.stderr, /attempt 2 of 3 failed: Error: always fails on attempt 2/);
      assert.match(r.stderr, /jug: task flaky\.flaky failed \(hash [0-9a-f]{40}, jugdir [^)]*\):\n  arguments: [^\n]*\n  ran [^\n]*, 3 attempts\n  Error: always fails on attempt 3/, show(r));
      assert.match(r.stderr, /1 task\(s\) failed/);
      assert.deepEqual(row(r, 'flaky.flaky'), [0, 0, 1], show(r));
      assert.deepEqual(leftovers(c.jugdir), []);
    });
  }

  for (const mode of SERIAL_AND_THREADS) {
    it(`Ctrl-C during a back-off ends the wait: the task fails with its last error, exit 130, no lock left (${mode.join(' ') || 'serial'})`, async () => {
      const c = freshCase('always');
      const started = startJug(['execute', FLAKY, '--jugdir', c.jugdir, '--retries', '5', '--retry-delay', '60', ...mode], {
        cwd: dir,
        env: c.env,
        timeoutMs: 60_000,
      });
      let stderr = '';
      started.child.stderr!.on('data', (d: Buffer | string) => (stderr += String(d)));
      assert.ok(await waitFor(() => /attempt 1 of 6 failed.*retrying in 60 s/.test(stderr), 30_000, 20), stderr);
      started.child.kill('SIGINT');
      const r = await started.done;
      assert.equal(r.code, 130, show(r));
      assert.deepEqual(attempts(c, 'always').map((a) => a.n), [1], 'a retry ran after Ctrl-C');
      assert.match(r.stderr, /jug: task flaky\.flaky failed \(hash [0-9a-f]{40}, jugdir [^)]*\):\n  arguments: [^\n]*\n  ran [^\n]*, 1 attempt\n  Error: always fails on attempt 1/, show(r));
      assert.deepEqual(leftovers(c.jugdir), []);
    });
  }

  it('with --keep-failed the final failure marks the lock failed (not the retried attempts)', async () => {
    const c = freshCase('always');
    const r = await execute(FLAKY, c, ['--retries', '1', '--retry-delay', '0', '--keep-failed']);
    assert.equal(r.code, 1, show(r));
    assert.deepEqual(attempts(c, 'always').map((a) => a.n), [1, 2]);
    assert.match(r.stderr, /, lock kept marked failed:\n  arguments: [^\n]*\n  ran [^\n]*, 2 attempts\n/, show(r));
    const locks = entries(join(c.jugdir, 'locks'));
    assert.equal(locks.length, 1, show(r));
    assert.equal(statSync(join(c.jugdir, 'locks', locks[0]!)).mtimeMs, 1000, 'the lock is not a failure mark');
  });

  it("a task's own retries win over --retries, in either direction; tasks without them take --retries", async () => {
    const c = freshCase('own,cli,none,viaTask');
    const r = await execute(FLAKY, c, ['--retries', '1', '--retry-delay', '0', '--keep-going']);
    assert.equal(r.code, 1, show(r));
    // own: { retries: 3 } beats --retries 1 (fails 3 times, succeeds on the 4th).
    assert.deepEqual(attempts(c, 'own').map((a) => a.n), [1, 2, 3, 4]);
    assert.match(r.stderr, /flaky\.ownRetries \([0-9a-f]{10}\) attempt 3 of 4 failed/);
    // cli: no own retries: --retries 1 (fails once, succeeds on the 2nd).
    assert.deepEqual(attempts(c, 'cli').map((a) => a.n), [1, 2]);
    // none: { retries: 0 } beats --retries 1: one attempt, failed.
    assert.deepEqual(attempts(c, 'none').map((a) => a.n), [1]);
    assert.match(r.stderr, /jug: task flaky\.noRetries failed \(hash [0-9a-f]{40}, jugdir [^)]*\):\n  arguments: [^\n]*\n  ran [^\n]*\n  Error: none fails on attempt 1/, show(r));
    // new Task(...).setRunOptions({ retries: 2 }).
    assert.deepEqual(attempts(c, 'viaTask').map((a) => a.n), [1, 2, 3]);
    assert.deepEqual(row(r, 'flaky.ownRetries'), [1, 0, 0], show(r));
    assert.deepEqual(row(r, 'flaky.noRetries'), [0, 0, 1], show(r));
    assert.deepEqual(row(r, 'flaky.flaky'), [1, 0, 0], show(r));
    assert.deepEqual(leftovers(c.jugdir), []);
  });

  it('waits retryDelayMs before the first retry and twice as long before the next (own delay over --retry-delay)', async () => {
    const c = freshCase('delayed');
    const r = await execute(FLAKY, c, ['--retries', '2', '--retry-delay', '0']);
    assert.equal(r.code, 0, show(r));
    const times = attempts(c, 'delayed').map((a) => a.at);
    assert.equal(times.length, 3, show(r));
    // Date.now() in the task vs the runner's timer: allow a few ms of clock granularity.
    assert.ok(times[1]! - times[0]! >= 145, `first retry after ${times[1]! - times[0]!} ms, expected ≥ 150`);
    assert.ok(times[2]! - times[1]! >= 295, `second retry after ${times[2]! - times[1]!} ms, expected ≥ 300`);
    assert.match(r.stderr, /retrying in 0\.15 s[\s\S]*retrying in 0\.3 s/, show(r));
  });

  it('--retries and --retry-delay are read from a configuration file', async () => {
    const c = freshCase('twice');
    const { writeFileSync, rmSync } = await import('node:fs');
    const rc = join(dir, '.jugrc');
    writeFileSync(rc, '[execute]\nretries = 2\nretry-delay = 0.02\n');
    try {
      const r = await execute(FLAKY, c, []);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /attempt 1 of 3 failed[\s\S]*retrying in 0\.02 s/, show(r));
    } finally {
      rmSync(rc);
    }
  });

  it('rejects a bad --retries with exit 2', async () => {
    const c = freshCase('twice');
    const r = await execute(FLAKY, c, ['--retries', '-1']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--retries/);
  });
});

describe('jug execute --timeout', () => {
  it('with --threads 2 terminates the thread of a synchronous task past its time; the others complete; a later run computes it', async () => {
    const c = freshCase('spin,quick');
    const r = await execute(TIMEOUTS, c, ['--threads', '2', '--timeout', '0.5', '--keep-going']);
    assert.equal(r.code, 1, show(r));
    assert.match(
      r.stderr,
      /jug: task timeouts\.spin failed \(hash [0-9a-f]{40}, jugdir [^)]*\):\n  arguments: [^\n]*\n  ran [^\n]*\n  TaskTimeoutError: task timeouts\.spin timed out after 0\.5 s: still running 1 s after its signal \(taskSignal\(\)\) was aborted, so its worker thread was terminated/,
      show(r),
    );
    assert.doesNotMatch(r.stderr, /warning: --timeout without --threads/);
    assert.doesNotMatch(r.stderr, /outside any task/, 'terminating the thread was reported as a fault');
    assert.deepEqual(row(r, 'timeouts.spin'), [0, 0, 1], show(r));
    assert.deepEqual(row(r, 'timeouts.quick'), [6, 0, 0], show(r));
    assert.equal(notes(c, 's start').length, 1);
    assert.deepEqual(leftovers(c.jugdir), [], 'a lock or a temporary file was left');
    // Without a timeout (and a short spin: same task, same hash), a later run computes it.
    const again = await execute(TIMEOUTS, c, ['--threads', '2'], { SPIN_MS: '50' });
    assert.equal(again.code, 0, show(again));
    assert.deepEqual(row(again, 'timeouts.spin'), [1, 0], show(again));
    assert.deepEqual(row(again, 'timeouts.quick'), [0, 6], show(again));
  });

  it('with --threads and --retries: the timed-out attempt is retried on a new thread after the back-off, then fails for good', async () => {
    const c = freshCase('spin');
    const r = await execute(TIMEOUTS, c, ['--threads', '2', '--timeout', '0.3', '--retries', '1', '--retry-delay', '0.2']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /jug: task timeouts\.spin \([0-9a-f]{10}\) attempt 1 of 2 failed: TaskTimeoutError: task timeouts\.spin timed out after 0\.3 s.*; retrying in 0\.2 s\./, show(r));
    assert.match(r.stderr, /failed \(hash [0-9a-f]{40}, jugdir [^)]*\):\n  arguments: [^\n]*\n  ran [^\n]*, 2 attempts\n  TaskTimeoutError/, show(r));
    const starts = notes(c, 's start').map((n) => n.at);
    assert.equal(starts.length, 2, show(r));
    // Terminated 1 s after its 0.3 s limit, then 0.2 s of back-off.
    assert.ok(starts[1]! - starts[0]! >= 1490, `second attempt ${starts[1]! - starts[0]!} ms after the first`);
    assert.deepEqual(leftovers(c.jugdir), []);
  });

  it("a task's own timeoutMs applies without --timeout, and a succeeding retry after a timeout stores the result", async () => {
    const c = freshCase('spinOwn');
    const r = await execute(join(FIXTURES, 'own-timeout.ts'), c, ['--threads', '2']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /attempt 1 of 2 failed: TaskTimeoutError: task own-timeout\.slowOnce timed out after 0\.2 s/, show(r));
    assert.deepEqual(row(r, 'own-timeout.slowOnce'), [1, 0], show(r));
    assert.deepEqual(leftovers(c.jugdir), []);
  });

  it('serial: an async task honouring taskSignal() fails "timed out" at the limit; one ignoring it is abandoned; one warning', async () => {
    const c = freshCase('waitSignal,ignoreSignal,quick');
    const r = await execute(TIMEOUTS, c, ['--timeout', '0.3', '--keep-going']);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr.match(/warning: --timeout without --threads: a synchronous task cannot be stopped/g)?.length, 1, show(r));
    assert.match(
      r.stderr,
      /jug: task timeouts\.waitSignal failed \(hash [0-9a-f]{40}, jugdir [^)]*\):\n  arguments: [^\n]*\n  ran [^\n]*\n  TaskTimeoutError: task timeouts\.waitSignal timed out after 0\.3 s: it threw once its signal was aborted: AbortError/,
      show(r),
    );
    assert.match(r.stderr, /task timeouts\.ignoreSignal timed out after 0\.3 s: it had not settled 1 s after its signal \(taskSignal\(\)\) was aborted, so it was abandoned/, show(r));
    // The task saw its own signal aborted, with the timeout as the reason.
    assert.deepEqual(notes(c, 'waitSignal aborted').map((n) => n.line), ['waitSignal aborted true TaskTimeoutError']);
    const started = notes(c, 'waitSignal start')[0]!.at;
    const aborted = notes(c, 'waitSignal aborted')[0]!.at;
    assert.ok(aborted - started >= 295, `aborted ${aborted - started} ms after it started`);
    assert.deepEqual(row(r, 'timeouts.quick'), [6, 0, 0], show(r));
    assert.deepEqual(leftovers(c.jugdir), []);
  });

  it('with --threads an async task honouring taskSignal() fails at the limit without its thread being terminated', async () => {
    const c = freshCase('waitSignal');
    const r = await execute(TIMEOUTS, c, ['--threads', '2', '--timeout', '0.3']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /TaskTimeoutError: task timeouts\.waitSignal timed out after 0\.3 s: it threw once its signal was aborted: AbortError/, show(r));
    assert.deepEqual(notes(c, 'waitSignal aborted').map((n) => n.line), ['waitSignal aborted true TaskTimeoutError']);
    assert.deepEqual(leftovers(c.jugdir), []);
  });

  it('serial: a second Ctrl-C aborts the running task\'s signal (no timeout needed) and exits 130', async () => {
    const c = freshCase('waitSignal');
    const started = startJug(['execute', TIMEOUTS, '--jugdir', c.jugdir], { cwd: dir, env: c.env, timeoutMs: 60_000 });
    assert.ok(await waitFor(() => notes(c, 'waitSignal start').length === 1, 30_000, 20));
    started.child.kill('SIGINT');
    let stderr = '';
    started.child.stderr!.on('data', (d: Buffer | string) => (stderr += String(d)));
    assert.ok(await waitFor(() => /SIGINT received/.test(stderr), 10_000, 10), stderr);
    started.child.kill('SIGINT');
    const r = await started.done;
    assert.equal(r.code, 130, show(r));
    assert.deepEqual(notes(c, 'waitSignal aborted').map((n) => n.line), ['waitSignal aborted true Error']);
    assert.deepEqual(leftovers(c.jugdir), []);
  });

  it('jugExecute() kills its command at the timeout (serial and threads): the task fails as timed out at once', async () => {
    for (const mode of SERIAL_AND_THREADS) {
      const c = freshCase('cmd');
      const r = await execute(TIMEOUTS, c, ['--timeout', '2', ...mode]);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /TaskTimeoutError: task jug\.execute timed out after 2 s: taskSignal\(\) was aborted at the limit/, show(r));
      const started = notes(c, 'cmd pid');
      assert.equal(started.length, 1, show(r));
      const pid = Number(started[0]!.line.split(' ')[2]);
      assert.ok(await waitFor(() => ended(pid), 5000, 50), `the command (pid ${pid}) still runs`);
      assert.deepEqual(leftovers(c.jugdir), []);
    }
  });

  it('serial: a synchronous task runs to its end (it cannot be pre-empted) and its result counts', async () => {
    const c = freshCase('spin');
    const r = await execute(TIMEOUTS, c, ['--timeout', '0.1'], { SPIN_MS: '400' });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /warning: --timeout without --threads/);
    assert.deepEqual(row(r, 'timeouts.spin'), [1, 0], show(r));
  });

  it('--help explains --retries, --retry-delay and --timeout, and that a serial run cannot stop a synchronous task', async () => {
    const r = await runJug(['execute', '--help']);
    assert.equal(r.code, 0, show(r));
    const help = r.stdout.replace(/\s+/g, ' ');
    assert.match(help, /--retries <n>/);
    assert.match(help, /--retry-delay <seconds>/);
    assert.match(help, /--timeout <seconds>.*terminating its thread.*Without --threads a synchronous task cannot be stopped/);
  });
});
