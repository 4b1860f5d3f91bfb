/**
 * `jug execute --threads N` runs tiny task functions in the main thread (src/executors/
 * inline-policy.ts): the real CLI on test/fixtures-threads/inline.ts. Which thread ran a task is
 * read from its run record (`thread` absent: the main thread). Checks that inline runs keep what
 * the threads guarantee: every task once across processes, a task with a time limit still stopped
 * in its worker, Ctrl-C letting the running task finish and leaving no lock behind.
 * Needs a build (`npm run build`): the CLI runs from dist/.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InlinePolicy, LONG_MS, LONG_ONCE_MS, MIN_SAMPLES, TINY_MS } from '../src/executors/inline-policy.js';
import type { TaskOutcome } from '../src/execute-task.js';
import type { RunRecord } from '../src/run-records-types.js';
import { parseRunLines } from '../src/run-records.js';
import type { Task } from '../src/task.js';
import { ROOT, makeTempDir, removeTempDir, runJug, show, startJug, storedHashes, waitFor, type RunResult } from './helpers.js';

const JUGFILE = join(ROOT, 'test', 'fixtures-threads', 'inline.ts');
let tmp: string;
before(() => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'run `npm run build` first: bin/jug.js runs dist/');
  tmp = makeTempDir('inline');
});
after(() => removeTempDir(tmp));
let dirs = 0;
const dirOf = (label: string): string => join(tmp, `${label}-${++dirs}`);

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

/** Every run record of a jugdir. */
function records(jugdir: string): RunRecord[] {
  const dir = join(jugdir, 'runs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => parseRunLines(readFileSync(join(dir, name), 'utf8')));
}

/** The `tick i` lines of the side-effect file. */
function ticks(side: string): string[] {
  return existsSync(side) ? readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith('tick ')) : [];
}

/** The `load <threadId>` lines of the side-effect file: worker threads that loaded the jugfile. */
function loads(side: string): string[] {
  return existsSync(side) ? readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith('load ')) : [];
}

/** The counts of one row of the summary table. */
function row(table: string, name: string): number[] | undefined {
  const line = table.split('\n').find((l) => l.split(/\s+/)[0] === name);
  return line?.trim().split(/\s+/).slice(1).map(Number);
}

const locks = (jugdir: string): string[] => (existsSync(join(jugdir, 'locks')) ? readdirSync(join(jugdir, 'locks')) : []);
const temps = (jugdir: string): string[] => (existsSync(join(jugdir, 'tempfiles')) ? readdirSync(join(jugdir, 'tempfiles')) : []);

describe('InlinePolicy', () => {
  const task = (name: string): Task => ({ name }) as unknown as Task;
  const policy = { attempts: 1, delayMs: 0, timeoutMs: undefined };
  const ran = (ms: number): TaskOutcome => ({ kind: 'executed', ms });

  test(`a function runs inline once ${MIN_SAMPLES} runs are seen, their median under ${TINY_MS} ms; never one with a time limit`, () => {
    const p = new InlinePolicy();
    const t = task('f.tiny');
    for (let i = 0; i < MIN_SAMPLES; i++) {
      assert.equal(p.inline(t, policy), false, `unknown after ${i} runs: to the threads`);
      assert.equal(p.undecided(t), true, `undecided after ${i} runs: a probe may run it`);
      p.observe(t, ran(i < 2 ? 5 : 0.05)); // each thread's first run is cold
    }
    assert.equal(p.inline(t, policy), true);
    assert.equal(p.undecided(t), false, 'decided: tiny');
    assert.equal(p.inline(t, { ...policy, timeoutMs: 5000 }), false, 'a time limit needs a thread');
    assert.equal(p.inline(task('f.other'), policy), false, 'per function');
    // Outcomes without a duration count for nothing.
    const q = new InlinePolicy();
    for (let i = 0; i < 2 * MIN_SAMPLES; i++) q.observe(t, { kind: 'loaded' });
    assert.equal(q.inline(t, policy), false);
  });

  test(`two runs of ${LONG_MS} ms, or one of ${LONG_ONCE_MS} ms, send the function back to the threads for good`, () => {
    const p = new InlinePolicy();
    const t = task('f.mixed');
    for (let i = 0; i < MIN_SAMPLES; i++) p.observe(t, ran(0.1));
    assert.equal(p.inline(t, policy), true);
    assert.equal(p.anySlow(), false);
    p.observe(t, ran(LONG_MS)); // one stall (a garbage collection, a loaded machine): still inline
    assert.equal(p.inline(t, policy), true);
    assert.equal(p.anySlow(), false);
    p.observe(t, ran(LONG_MS));
    assert.equal(p.inline(t, policy), false);
    assert.equal(p.anySlow(), true);
    const probed = new InlinePolicy();
    probed.observe(t, ran(LONG_ONCE_MS));
    assert.equal(probed.undecided(t), false, 'one long probe decides: to the threads, no more probes');
    const once = new InlinePolicy();
    for (let i = 0; i < MIN_SAMPLES; i++) once.observe(t, ran(0.1));
    once.observe(t, ran(LONG_ONCE_MS));
    assert.equal(once.inline(t, policy), false);
    for (let i = 0; i < 10 * MIN_SAMPLES; i++) p.observe(t, ran(0.1));
    assert.equal(p.inline(t, policy), false);
  });

  test('a function whose recent runs grow past tiny goes back to the threads while they stay so', () => {
    const p = new InlinePolicy();
    const t = task('f.growing');
    for (let i = 0; i < MIN_SAMPLES; i++) p.observe(t, ran(0.1));
    assert.equal(p.inline(t, policy), true);
    for (let i = 0; i < 16; i++) p.observe(t, ran(3 * TINY_MS));
    assert.equal(p.inline(t, policy), false);
    for (let i = 0; i < 16; i++) p.observe(t, ran(0.1));
    assert.equal(p.inline(t, policy), true);
  });
});

describe('jug execute --threads: tiny tasks run in the main thread', () => {
  test('the main thread probes the first runs and then runs every task inline, the sum too (the only task left); the task handed to a thread first comes back, and no thread loads the jugfile; each task recorded once', async () => {
    const dir = dirOf('records');
    const jugdir = join(dir, 'jugdata');
    const r = await runJug(['execute', JUGFILE, '--jugdir', jugdir, '--threads', '2', '-q'], {
      env: { INLINE_N: '300', INLINE_SIDE: join(dir, 'side.txt') },
    });
    expectCode(r, 0);
    const recs = records(jugdir);
    assert.deepEqual(recs.map((x) => x.hash).sort(), storedHashes(jugdir), 'one record per stored result');
    assert.equal(recs.length, 301);
    const tickRecs = recs.filter((x) => x.task === 'inline.tick');
    const inThreads = tickRecs.filter((x) => x.thread !== undefined);
    const inline = tickRecs.filter((x) => x.thread === undefined);
    for (const x of inThreads) assert.ok(Number.isInteger(x.thread) && x.thread! > 0, JSON.stringify(x));
    // The first task was handed to the threads before the main thread probed (so that a thread
    // booting has work if the probe blocks the main thread), but the threads wait for the main
    // thread's word before loading the jugfile (load-gate.ts): once the ticks proved tiny, that
    // task was withdrawn and ran here, and no thread ever loaded the jugfile.
    assert.deepEqual(inThreads, [], 'no tick runs in a worker thread');
    assert.deepEqual(loads(join(dir, 'side.txt')), [], 'no worker thread loaded the jugfile');
    // The sum is the only task in flight at the end: the main thread runs it (its inputs are in its memory).
    const sumRec = recs.find((x) => x.task === 'inline.sum')!;
    assert.equal(sumRec.thread, undefined, JSON.stringify(sumRec));
    assert.deepEqual(ticks(join(dir, 'side.txt')).sort(), Array.from({ length: 300 }, (_, i) => `tick ${i}`).sort());
    assert.deepEqual(locks(jugdir), []);
  });

  test('work a task left running in the main thread (an un-awaited timer) still finishes before the process ends, as after a serial run', async () => {
    // The case needs a run where every task ran in the main thread. On a loaded machine a probe
    // stalled past the load gate's patience lets the booted thread load the jugfile (and some tasks
    // run there): such a run does not test the case, so it is run again (at most 4 runs).
    let side = '';
    for (let n = 1; n <= 4; n++) {
      const dir = dirOf('late');
      side = join(dir, 'side.txt');
      const r = await runJug(['execute', JUGFILE, '--jugdir', join(dir, 'jugdata'), '--threads', '2', '-q'], {
        env: { INLINE_N: '100', INLINE_SIDE: side, INLINE_LATE_MS: '500' },
      });
      expectCode(r, 0);
      if (loads(side).length === 0) break;
    }
    assert.deepEqual(loads(side), [], 'every task ran in the main thread (in one of 4 runs)');
    assert.ok(readFileSync(side, 'utf8').split('\n').includes('late'), 'the timer sum started did not fire: the process ended at once');
  });

  test('the main thread runs a first task of an unmeasured function itself, before any worker thread has loaded the jugfile', async () => {
    // Worker threads of test/fixtures-threads/probe.ts wait at the jugfile's top level until a task
    // has run: only a task run by the main thread can let them load it.
    // Every run: each step once, the first in the main thread. That every step stays there is a
    // matter of timing: on a loaded machine a probe stalled past the load gate's patience (10 ms)
    // rightly lets a thread load the jugfile and run steps, so that part may take up to 4 runs.
    let jugdir = '';
    let recs: ReturnType<typeof records> = [];
    for (let n = 1; n <= 4; n++) {
      const dir = dirOf('probe');
      jugdir = join(dir, 'jugdata');
      const gate = join(dir, 'gate.txt');
      const r = await runJug(['execute', join(ROOT, 'test', 'fixtures-threads', 'probe.ts'), '--jugdir', jugdir, '--threads', '2', '-q'], {
        env: { PROBE_GATE: gate, PROBE_N: '300' },
        timeoutMs: 120_000,
      });
      expectCode(r, 0);
      const lines = readFileSync(gate, 'utf8').split('\n').filter((l) => l.startsWith('step '));
      assert.equal(lines.length, 300, 'each step once');
      assert.match(lines[0]!, /^step \d+ true$/, 'the first step to run ran in the main thread');
      recs = records(jugdir);
      assert.equal(recs.length, 301);
      assert.deepEqual(locks(jugdir), []);
      if (!recs.some((x) => x.task === 'probe.step' && x.thread !== undefined)) break;
    }
    // The step handed to the threads first came back once steps proved tiny (load-gate.ts).
    assert.ok(!recs.some((x) => x.task === 'probe.step' && x.thread !== undefined), 'every step ran in the main thread (in one of 4 runs)');
    assert.equal(recs.find((x) => x.task === 'probe.last')!.thread, undefined, 'the last task, alone in flight, runs in the main thread');
    assert.deepEqual(locks(jugdir), []);
  });

  test('threads waiting for the main thread to measure a function load the jugfile and run tasks while its probe blocks the main thread', async () => {
    // Every run of work() in the main thread blocks it for 1.5 s: the threads, told to wait while
    // it probes (many tasks of an unmeasured function), must not wait for the probe's end.
    const dir = dirOf('long-probe');
    const side = join(dir, 'side.txt');
    const r = await runJug(['execute', join(ROOT, 'test', 'fixtures-threads', 'long-probe.ts'), '--jugdir', join(dir, 'jugdata'), '--threads', '2', '-q'], {
      env: { LONG_PROBE_SIDE: side, LONG_PROBE_N: '80', LONG_PROBE_MS: '1500' },
      timeoutMs: 60_000,
    });
    expectCode(r, 0);
    const runs = readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith('work ')).map((l) => l.split(' '));
    assert.equal(new Set(runs.map((w) => w[1])).size, 80, 'each task once');
    const probes = runs.filter((w) => w[2] === 'main');
    assert.equal(probes.length, 1, 'one probe: a run of 1.5 s sends the function to the threads for good');
    const firstInThread = Math.min(...runs.filter((w) => w[2] === 'thread').map((w) => Number(w[3])));
    assert.ok(firstInThread < Number(probes[0]![4]), 'no task ran in a thread before the probe ended');
  });

  test('a second SIGINT while an async task runs in the main thread (the last task, alone) ends the run at once', async () => {
    const dir = dirOf('probe-sigint');
    const jugdir = join(dir, 'jugdata');
    const gate = join(dir, 'gate.txt');
    const env = { PROBE_GATE: gate, PROBE_N: '100', PROBE_LAST_MS: '60000', JUG_TRACE: '1' };
    const run = startJug(['execute', join(ROOT, 'test', 'fixtures-threads', 'probe.ts'), '--jugdir', jugdir, '--threads', '2'], { env, timeoutMs: 120_000 });
    let trace = '';
    run.child.stderr!.on('data', (s: string) => (trace += s));
    assert.ok(await waitFor(() => /probe: probe\.last runs in the main thread/.test(trace), 60_000), 'the last task never ran in the main thread');
    run.child.kill('SIGINT');
    assert.ok(await waitFor(() => /SIGINT received/.test(trace), 30_000), 'the first SIGINT was not taken');
    run.child.kill('SIGINT');
    const r = await run.done;
    // Before the fix, process.exit() stayed guarded while the async task was pending: the run's own
    // exit threw ("called process.exit(130) in the main thread") and the process ended with 1.
    expectCode(r, 130);
    assert.match(r.stderr, /second SIGINT/);
    assert.doesNotMatch(r.stderr, /called process\.exit/);
    assert.deepEqual(locks(jugdir), [], 'the aborted task kept its lock');
  });

  test('two thread pools and a plain process on one jugdir: every tiny task runs exactly once', async () => {
    const dir = dirOf('shared');
    const jugdir = join(dir, 'jugdata');
    const side = join(dir, 'side.txt');
    const env = { INLINE_N: '2000', INLINE_SIDE: side };
    const base = ['execute', JUGFILE, '--jugdir', jugdir, '--wait-cycle-time', '1'];
    const runs = await Promise.all([
      runJug([...base, '--threads', '2'], { env, timeoutMs: 120_000 }),
      runJug([...base, '--threads', '3'], { env, timeoutMs: 120_000 }),
      runJug(base, { env, timeoutMs: 120_000 }),
    ]);
    for (const r of runs) expectCode(r, 0);
    const lines = ticks(side);
    assert.equal(lines.length, 2000, 'some task ran twice or not at all');
    assert.equal(new Set(lines).size, 2000);
    const executed = runs.map((r) => row(r.stdout, 'Total:')?.[0] ?? Number.NaN);
    assert.equal(executed.reduce((a, b) => a + b, 0), 2001, `executed per run: ${executed.join(', ')}`);
    const recs = records(jugdir);
    assert.equal(recs.length, 2001, 'one record per task executed, in whichever process');
    assert.ok(recs.some((x) => x.task === 'inline.tick' && x.thread === undefined), 'no tick ran inline in any process');
    assert.equal(storedHashes(jugdir).length, 2001);
    assert.deepEqual(locks(jugdir), []);
    assert.deepEqual(temps(jugdir), []);
  });

  test('a task with a time limit never runs inline: after many tiny runs of its function, one past its limit is still stopped', async () => {
    const dir = dirOf('timed');
    const jugdir = join(dir, 'jugdata');
    // timed(40) spins for 60 s: only terminating its thread at the 1 s limit ends it before the helper's kill.
    const r = await runJug(['execute', JUGFILE, '--jugdir', jugdir, '--threads', '2', '--keep-going'], {
      env: { INLINE_N: '0', INLINE_TIMED: '60', INLINE_SPIN_AT: '40', INLINE_SIDE: join(dir, 'side.txt') },
      timeoutMs: 40_000,
    });
    expectCode(r, 1);
    assert.match(r.stderr, /TaskTimeoutError: task inline\.timed timed out after 1 s/, show(r));
    const timedRecs = records(jugdir).filter((x) => x.task === 'inline.timed');
    assert.equal(timedRecs.length, 60, 'one record per task, the failed one included');
    for (const x of timedRecs) assert.ok(x.thread !== undefined && x.thread > 0, `ran in the main thread: ${JSON.stringify(x)}`);
    assert.deepEqual(locks(jugdir), []);
  });

  test('a tiny task calling process.exit() in the main thread fails alone, as it would in a worker thread', async () => {
    const dir = dirOf('exit');
    const jugdir = join(dir, 'jugdata');
    const r = await runJug(['execute', JUGFILE, '--jugdir', jugdir, '--threads', '2', '--keep-going'], {
      env: { INLINE_N: '300', INLINE_EXIT_AT: '250', INLINE_SIDE: join(dir, 'side.txt') },
    });
    expectCode(r, 1);
    assert.match(r.stderr, /task inline\.tick failed[\s\S]*called process\.exit\(3\) in the main thread/, show(r));
    assert.deepEqual(row(r.stdout, 'inline.tick'), [299, 0, 1], show(r));
    assert.equal(ticks(join(dir, 'side.txt')).length, 299);
    const failed = records(jugdir).filter((x) => x.outcome === 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.args, '250');
    assert.equal(failed[0]!.thread, undefined, 'it ran in the main thread');
    assert.deepEqual(locks(jugdir), []);
  });

  test('SIGINT while tiny tasks run inline: no task starts after it, none is left half-done; a new run finishes exactly the rest', async () => {
    const dir = dirOf('sigint');
    const jugdir = join(dir, 'jugdata');
    const side = join(dir, 'side.txt');
    const env = { INLINE_N: '20000', INLINE_SIDE: side };
    // JUG_TRACE tells when the main thread starts running ticks itself.
    const run = startJug(['execute', JUGFILE, '--jugdir', jugdir, '--threads', '2'], { env: { ...env, JUG_TRACE: '1' }, timeoutMs: 120_000 });
    let trace = '';
    run.child.stderr!.on('data', (s: string) => (trace += s));
    assert.ok(await waitFor(() => /inline\.tick: .* runs inline from now/.test(trace), 60_000), 'the ticks never ran inline');
    const inlineFrom = ticks(side).length;
    assert.ok(await waitFor(() => ticks(side).length >= inlineFrom + 200, 60_000), 'the ticks stopped');
    run.child.kill('SIGINT');
    const r = await run.done;
    expectCode(r, 130);
    assert.match(r.stderr, /SIGINT received/);
    const ran = ticks(side);
    assert.ok(ran.length < 20_000, 'the run ended before the signal could stop it');
    assert.equal(new Set(ran).size, ran.length, 'a tick ran twice');
    // Every task that started finished and was stored, with its record; nothing else was.
    const recs = records(jugdir);
    assert.equal(storedHashes(jugdir).length, ran.length);
    assert.equal(recs.length, ran.length);
    assert.ok(recs.some((x) => x.thread === undefined), 'no tick ran inline before the signal');
    assert.deepEqual(locks(jugdir), []);
    assert.deepEqual(temps(jugdir), []);

    const again = await runJug(['execute', JUGFILE, '--jugdir', jugdir, '--threads', '2'], { env, timeoutMs: 120_000 });
    expectCode(again, 0);
    const all = ticks(side);
    assert.equal(all.length, 20_000, 'the second run did not run exactly the rest');
    assert.equal(new Set(all).size, 20_000);
    assert.deepEqual(row(again.stdout, 'inline.tick'), [20_000 - ran.length, ran.length], show(again));
  });
});
