/**
 * The last `--threads` run's verdict on a jugfile (src/executors/thread-verdict.ts): after a run in
 * which every task ran in the main thread, the next run of the same code boots no thread at start
 * and runs the remembered functions inline from their first task; a stale verdict (the tasks are
 * slow now) still gets threads, and is dropped. The real CLI on test/fixtures-threads/inline.ts,
 * with JUG_TRACE=1 (a thread that boots says `[thread N] worker modules loaded`), each test with its own bundle
 * cache (TMPDIR). scripts/run-tests.mjs turns verdicts off for the other tests; these turn them on.
 * Needs a build (`npm run build`): the CLI runs from dist/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleJugfile } from '../src/bundle.js';
import type { TaskOutcome } from '../src/execute-task.js';
import { InlinePolicy, LONG_ONCE_MS, MIN_SAMPLES } from '../src/executors/inline-policy.js';
import { readVerdict, recordVerdict } from '../src/executors/thread-verdict.js';
import type { RunRecord } from '../src/run-records-types.js';
import { parseRunLines } from '../src/run-records.js';
import type { Task } from '../src/task.js';
import { ROOT, makeTempDir, removeTempDir, runJug, show, startJug, storedHashes, waitFor, type RunResult } from './helpers.js';

const JUGFILE = join(ROOT, 'test', 'fixtures-threads', 'inline.ts');
let tmp: string;
before(() => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'run `npm run build` first: bin/jug.js runs dist/');
  tmp = makeTempDir('verdict');
});
after(() => removeTempDir(tmp));
let dirs = 0;

/** A fresh directory with its own bundle cache (TMPDIR) for a sequence of runs. */
function scene(label: string): { dir: string; env: Record<string, string> } {
  const dir = join(tmp, `${label}-${++dirs}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  return { dir, env: { TMPDIR: join(dir, 'tmp'), JUG_THREAD_VERDICT: '1', JUG_TRACE: '1', INLINE_SIDE: join(dir, 'side.txt') } };
}

function records(jugdir: string): RunRecord[] {
  const dir = join(jugdir, 'runs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => parseRunLines(readFileSync(join(dir, name), 'utf8')));
}

const loads = (side: string): string[] => (existsSync(side) ? readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith('load ')) : []);

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

/** A worker thread booted (its own trace line). */
const VERDICT_WRITTEN = /thread verdict: every task ran in the main thread \(inline\.tick tiny\)/;

/**
 * Runs until a run leaves a verdict (at most 4 runs): on a loaded machine a probe stalled past the
 * load gate's patience lets the booted thread load the jugfile, and that run leaves none.
 */
async function leaveVerdict(run: (n: number) => Promise<RunResult>, written = VERDICT_WRITTEN): Promise<RunResult> {
  let r: RunResult | undefined;
  for (let n = 1; n <= 4; n++) {
    r = await run(100 + n);
    expectCode(r, 0);
    if (written.test(r.stderr)) return r;
  }
  assert.fail(`no run left a verdict: ${show(r!)}`);
}

const THREAD_STARTS = /\[thread \d+\] worker modules loaded/;

describe('jug execute --threads remembers a jugfile whose tasks all ran in the main thread', () => {
  test('the next run boots no thread and runs every task in the main thread', async () => {
    const { dir, env } = scene('remembered');
    const run = (n: number): Promise<RunResult> =>
      runJug(['execute', JUGFILE, '--jugdir', join(dir, `jugdata-${n}`), '--threads', '2', '-q'], { env: { ...env, INLINE_N: '300' } });
    const first = await leaveVerdict(run);
    assert.match(first.stderr, THREAD_STARTS, 'no verdict yet: the first wave boots at start');
    // The side file is the scene's: a first run retried (a thread loaded) left its `load` lines there.
    rmSync(join(dir, 'side.txt'), { force: true });
    const second = await run(2);
    expectCode(second, 0);
    assert.doesNotMatch(second.stderr, THREAD_STARTS, 'a thread started although the verdict said none was needed');
    assert.match(second.stderr, /no thread pool yet: none until a task needs a thread \(last run: inline\.tick tiny/);
    assert.doesNotMatch(second.stderr, /probe: inline\.tick/, 'the remembered function is not probed again');
    const recs = records(join(dir, 'jugdata-2'));
    assert.equal(recs.length, 301);
    assert.deepEqual(recs.filter((x) => x.thread !== undefined), [], 'every task ran in the main thread');
    assert.deepEqual(loads(join(dir, 'side.txt')), [], 'no worker thread loaded the jugfile');
  });

  test('a stale verdict (the same code, its tasks slow now) still gets threads, and is dropped', async () => {
    const { dir, env } = scene('stale');
    const run = (n: number, extra: Record<string, string>): Promise<RunResult> =>
      runJug(['execute', JUGFILE, '--jugdir', join(dir, `jugdata-${n}`), '--threads', '8', '-q'], { env: { ...env, ...extra }, timeoutMs: 120_000 });
    await leaveVerdict((n) => run(n, { INLINE_N: '300' }));
    // Each tick now takes LONG_ONCE_MS and more: one run in the main thread sends the function to
    // the threads for good, and the pool starts threads for the tasks waiting.
    const slow = await run(2, { INLINE_N: '16', INLINE_TICK_MS: String(LONG_ONCE_MS + 50) });
    expectCode(slow, 0);
    assert.match(slow.stderr, /no thread pool yet/, 'the verdict applied');
    assert.match(slow.stderr, THREAD_STARTS, 'no thread started for the slow tasks');
    const recs = records(join(dir, 'jugdata-2')).filter((x) => x.task === 'inline.tick');
    assert.equal(recs.length, 16);
    // One tick ran in the main thread; the others, though handed over before it ended (the
    // scheduler's window: 2 per thread, 16 here), waited for its verdict and went to the threads.
    const here = recs.filter((x) => x.thread === undefined).map((x) => x.args);
    assert.equal(here.length, 1, `ticks ${here.join(', ')} ran in the main thread`);
    assert.match(slow.stderr, /thread verdict: threads loaded the jugfile, none remembered/);
    const after = await run(3, { INLINE_N: '300' });
    expectCode(after, 0);
    assert.doesNotMatch(after.stderr, /no thread pool yet/, 'the stale verdict was kept');
    assert.match(after.stderr, THREAD_STARTS);
  });
});

describe('a run that starts no pool (a verdict)', () => {
  test('SIGINT while the remembered tasks run inline: it stops, no lock left, and no pool is started for the rest', async () => {
    const { dir, env } = scene('sigint');
    await leaveVerdict((n) => runJug(['execute', JUGFILE, '--jugdir', join(dir, `jugdata-${n}`), '--threads', '2', '-q'], { env: { ...env, INLINE_N: '300' } }));
    const jugdir = join(dir, 'jugdata');
    const side = join(dir, 'side-sigint.txt');
    const run = startJug(['execute', JUGFILE, '--jugdir', jugdir, '--threads', '2'], { env: { ...env, INLINE_N: '20000', INLINE_SIDE: side }, timeoutMs: 120_000 });
    let trace = '';
    run.child.stderr!.on('data', (s: string) => (trace += s));
    assert.ok(await waitFor(() => /inline\.tick: .* runs inline from now/.test(trace), 60_000), 'the ticks never ran inline');
    run.child.kill('SIGINT');
    const r = await run.done;
    expectCode(r, 130);
    assert.doesNotMatch(r.stderr, THREAD_STARTS, 'a thread started');
    const ran = readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith('tick '));
    assert.ok(ran.length < 20_000, 'the run ended before the signal could stop it');
    assert.equal(new Set(ran).size, ran.length, 'a tick ran twice');
    assert.equal(storedHashes(jugdir).length, ran.length, 'a tick that ran is not stored, or the reverse');
    assert.equal(records(jugdir).length, ran.length);
    assert.deepEqual(existsSync(join(jugdir, 'locks')) ? readdirSync(join(jugdir, 'locks')) : [], []);
  });
});

describe('a pool started late (a verdict) whose threads never finish loading', () => {
  test('the warning counts from the pool\'s start, not from the main thread\'s load', async () => {
    const { dir, env } = scene('late-hang');
    const run = (n: number, extra: Record<string, string>) =>
      startJug(['execute', JUGFILE, '--jugdir', join(dir, `jugdata-${n}`), '--threads', '2', '-q'], { env: { ...env, ...extra }, timeoutMs: 120_000 });
    await leaveVerdict(async (n) => await run(n, { INLINE_N: '300' }).done);
    // The ticks sleep now (async): the first ends after 2 s in the main thread and sends the
    // others to the threads; the pool starts then, seconds after the load, and its threads hang.
    // A watch counted from the load (300 ms) found no pool then and said nothing, ever.
    const late = run(2, { INLINE_N: '8', INLINE_TICK_NAP_MS: '2000', INLINE_THREAD_HANG: '1', JUG_TEST_LOAD_WATCH_MS: '300' });
    let stderr = '';
    late.child.stderr!.on('data', (s: string) => (stderr += s));
    const warned = await waitFor(() => /warning: no worker thread has finished loading the jugfile 0\.3 s after the threads started/.test(stderr), 30_000);
    late.child.kill('SIGINT');
    const r = await late.done;
    assert.ok(warned, `no warning: ${show(r)}`);
    assert.match(r.stderr, /no thread pool yet/, 'the verdict applied');
    const pool = r.stderr.indexOf('[thread');
    assert.ok(pool >= 0 && pool < r.stderr.indexOf('warning: no worker thread'), `the warning came before any thread booted: ${show(r)}`);
    expectCode(r, 130);
    const locks = join(dir, 'jugdata-2', 'locks');
    assert.deepEqual(existsSync(locks) ? readdirSync(locks) : [], []);
  });
});

describe('the verdict file', () => {
  test('applies only to the code and arguments it was drawn from', async () => {
    const dir = join(tmp, `file-${++dirs}`);
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const saved = { TMPDIR: process.env['TMPDIR'], JUG_THREAD_VERDICT: process.env['JUG_THREAD_VERDICT'] };
    process.env['TMPDIR'] = join(dir, 'tmp');
    process.env['JUG_THREAD_VERDICT'] = '1';
    try {
      const jugfile = join(dir, 'jugfile.mjs');
      writeFileSync(jugfile, 'export const x = 1;\n');
      await bundleJugfile(jugfile);
      assert.equal(readVerdict(jugfile, []), undefined);
      recordVerdict(jugfile, ['a'], { tiny: ['j.f'] }, undefined);
      assert.deepEqual(readVerdict(jugfile, ['a']), { tiny: ['j.f'] });
      assert.equal(readVerdict(jugfile, ['b']), undefined, 'other arguments');
      process.env['JUG_THREAD_VERDICT'] = '0';
      assert.equal(readVerdict(jugfile, ['a']), undefined, 'turned off');
      process.env['JUG_THREAD_VERDICT'] = '1';
      recordVerdict(jugfile, ['a'], undefined, undefined);
      assert.deepEqual(readVerdict(jugfile, ['a']), { tiny: ['j.f'] }, 'a run that says nothing keeps it');
      writeFileSync(jugfile, 'export const x = 22;\n');
      assert.equal(readVerdict(jugfile, ['a']), undefined, 'the jugfile changed: its bundle is stale');
      await bundleJugfile(jugfile);
      assert.equal(readVerdict(jugfile, ['a']), undefined, 'drawn from another bundle');
      recordVerdict(jugfile, ['a'], { tiny: ['j.f'] }, undefined);
      recordVerdict(jugfile, ['a'], 'threads', { tiny: ['j.f'] });
      assert.equal(readVerdict(jugfile, ['a']), undefined, 'threads loaded: dropped');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('InlinePolicy: a remembered function runs inline from its first task until its own runs decide', () => {
    const task = (name: string): Task => ({ name }) as unknown as Task;
    const policy = { attempts: 1, delayMs: 0, timeoutMs: undefined };
    const ran = (ms: number): TaskOutcome => ({ kind: 'executed', ms });
    const p = new InlinePolicy();
    const t = task('f.tiny');
    p.remember(['f.tiny']);
    assert.equal(p.inline(t, policy), true);
    assert.equal(p.undecided(t), false, 'no probe');
    assert.equal(p.inline(t, { ...policy, timeoutMs: 1000 }), false, 'a time limit needs a thread');
    assert.equal(p.inline(task('f.other'), policy), false);
    assert.equal(p.onTrial(t), true, 'inline on the last run\'s word only');
    assert.equal(p.onTrial(task('f.other')), false);
    assert.deepEqual(p.tinyFunctions(), [], 'remembered, not decided by this run');
    for (let i = 0; i < MIN_SAMPLES; i++) p.observe(t, ran(0.01));
    assert.equal(p.onTrial(t), false, 'its own runs confirmed it');
    assert.deepEqual(p.tinyFunctions(), ['f.tiny']);
    const slow = new InlinePolicy();
    slow.remember(['f.tiny']);
    slow.observe(t, ran(LONG_ONCE_MS));
    assert.equal(slow.inline(t, policy), false, 'one very long run: to the threads');
    assert.equal(slow.onTrial(t), false);
    const medium = new InlinePolicy();
    medium.remember(['f.tiny']);
    for (let i = 0; i < MIN_SAMPLES - 1; i++) medium.observe(t, ran(5));
    assert.equal(medium.inline(t, policy), true, 'undecided yet');
    medium.observe(t, ran(5));
    assert.equal(medium.inline(t, policy), false, 'its own runs decide: not tiny');
    assert.deepEqual(medium.tinyFunctions(), []);
  });
});
