/**
 * End-to-end tests of `jug execute --threads N` (alias -j): real `node bin/jug.js` subprocesses
 * on the jugfiles in test/fixtures-threads/ (and examples/primes.ts), checking exit codes,
 * messages and what is left in the jugdir: results that decode, locks released or marked failed,
 * no temporary files of an aborted run.
 *
 * Jugfiles import `jug` through the package's self-reference, which only resolves inside the
 * repository, so scratch jugdirs live under test/.tmp/ (git-ignored) and are removed afterwards.
 * Needs a build (`npm run build`): the CLI runs from dist/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../src/index.js';
import { waitFor } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JUG = join(ROOT, 'bin', 'jug.js');
const FIXTURES = join(ROOT, 'test', 'fixtures-threads');
const PRIMES = join(ROOT, 'examples', 'primes.ts');
const HASH40 = /[0-9a-f]{40}/;

let scratch: string;
let dirCount = 0;
before(() => {
  assert.ok(fs.existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'run `npm run build` first: bin/jug.js runs dist/');
  fs.mkdirSync(join(ROOT, 'test', '.tmp'), { recursive: true });
  scratch = fs.mkdtempSync(join(ROOT, 'test', '.tmp', 'threads-'));
});
after(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A fresh, empty directory under the scratch root. */
function freshDir(label: string): string {
  const dir = join(scratch, `${++dirCount}-${label}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const fixture = (name: string): string => join(FIXTURES, name);

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock run time, ms. */
  readonly ms: number;
}

interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<Run>;
}

/** The environment for jug subprocesses: ours without test-runner or loader variables, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete out['NODE_TEST_CONTEXT'];
  delete out['NODE_OPTIONS'];
  delete out['JUG_LOADER'];
  delete out['JUG_DEBUG'];
  return out;
}

/** Starts `node bin/jug.js ...args` in the repository root. */
function startJug(args: readonly string[], env: Record<string, string> = {}): Started {
  const t0 = Date.now();
  const child = spawn(process.execPath, [JUG, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
  return { child, done };
}

/** Runs jug to completion (killing it after `timeoutMs`, which then fails the test). */
async function jug(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Run> {
  const { child, done } = startJug(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const r = await done;
    assert.notEqual(r.signal, 'SIGKILL', `jug ${args.join(' ')} did not finish within ${timeoutMs} ms\n${r.stderr}`);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/** Shows a run's output in assertion messages. */
function show(r: Run): string {
  return `exit ${r.code} (signal ${r.signal})\n--- stdout:\n${r.stdout}--- stderr:\n${r.stderr}`;
}

/** Every stored result of a jugdir, decoded, by hash. */
async function results(jugdir: string): Promise<Map<string, unknown>> {
  const store = new FileStore(jugdir);
  const out = new Map<string, unknown>();
  for (const h of [...(await store.list())].sort()) out.set(h, await store.load(h));
  return out;
}

/** Every file under the jugdir's two-hex-character directories (whatever its name), decoded. */
async function decodeEveryResultFile(jugdir: string): Promise<number> {
  const store = new FileStore(jugdir);
  let n = 0;
  for (const shard of fs.existsSync(jugdir) ? fs.readdirSync(jugdir) : []) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const name of fs.readdirSync(join(jugdir, shard))) {
      assert.match(name, /^[0-9a-f]{38}$/, `unexpected file ${shard}/${name} in the jugdir`);
      await store.load(shard + name); // throws on a truncated or corrupt file
      n++;
    }
  }
  return n;
}

/** Names of the files in <jugdir>/locks (none if the directory does not exist). */
function lockFiles(jugdir: string): string[] {
  const dir = join(jugdir, 'locks');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** Names of the files in <jugdir>/tempfiles. */
function tempFiles(jugdir: string): string[] {
  const dir = join(jugdir, 'tempfiles');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** The counts of one row of a summary table (`name  n  n ...`), or undefined if the row is absent. */
function row(table: string, name: string): number[] | undefined {
  const line = table.split('\n').find((l) => l.split(/\s+/)[0] === name);
  return line?.trim().split(/\s+/).slice(1).map(Number);
}

/** The hash jug reports for a failed task in its stderr. */
function failedHash(stderr: string, taskName: string): string {
  const m = new RegExp(`task ${taskName.replace('.', '\\.')} failed \\(hash (${HASH40.source})`).exec(stderr);
  assert.ok(m, `stderr does not name the failed task ${taskName} with its hash:\n${stderr}`);
  return m[1]!;
}

/** Resolves once `file` has at least `n` lines starting with `prefix`; returns those lines. */
async function waitForLines(file: string, prefix: string, n: number, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith(prefix)) : [];
    if (lines.length >= n) return lines;
    assert.ok(Date.now() < deadline, `timed out waiting for ${n} '${prefix}' lines in ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function sideLines(file: string, prefix: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith(prefix)).sort();
}

describe('jug execute --threads', () => {
  it('runs the primes example like a serial run: same table, status, result files and values', async () => {
    const dir = freshDir('primes');
    const threadedDir = join(dir, 'threaded.jugdata');
    const serialDir = join(dir, 'serial.jugdata');
    const output = join(dir, 'primes-output.txt');
    // The output path is a task argument, so both runs must use the same one to get the same hashes.
    const env = { PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: output };

    const threaded = await jug(['execute', PRIMES, '--threads', '4', '--jugdir', threadedDir], env);
    assert.equal(threaded.code, 0, show(threaded));
    assert.deepEqual(row(threaded.stdout, 'primes.isPrime'), [99, 0], show(threaded));
    assert.deepEqual(row(threaded.stdout, 'primes.countPrimes'), [1, 0], show(threaded));
    assert.deepEqual(row(threaded.stdout, 'primes.writeOutput'), [1, 0], show(threaded));
    assert.deepEqual(row(threaded.stdout, 'Total:'), [101, 0], show(threaded));
    assert.equal(fs.readFileSync(output, 'utf8'), 'Found 25 primes <= 100.\n');
    fs.rmSync(output);

    const serial = await jug(['execute', PRIMES, '--jugdir', serialDir], env);
    assert.equal(serial.code, 0, show(serial));
    assert.equal(fs.readFileSync(output, 'utf8'), 'Found 25 primes <= 100.\n');
    assert.equal(threaded.stdout, serial.stdout, 'the Executed tables differ');

    const [threadedStatus, serialStatus] = await Promise.all([
      jug(['status', PRIMES, '--jugdir', threadedDir], env),
      jug(['status', PRIMES, '--jugdir', serialDir], env),
    ]);
    assert.equal(threadedStatus.code, 0, show(threadedStatus));
    assert.equal(serialStatus.code, 0, show(serialStatus));
    assert.deepEqual(row(threadedStatus.stdout, 'Total:'), [0, 0, 101, 0, 0], show(threadedStatus));
    assert.equal(threadedStatus.stdout, serialStatus.stdout, 'jug status differs between the threaded and the serial jugdir');

    const a = await results(threadedDir);
    const b = await results(serialDir);
    assert.equal(a.size, 101);
    assert.deepEqual([...a.keys()], [...b.keys()], 'the two runs stored different hashes');
    for (const [h, value] of a) {
      for (const d of [threadedDir, serialDir]) {
        assert.ok(fs.existsSync(join(d, h.slice(0, 2), h.slice(2))), `${d} lacks ${h.slice(0, 2)}/${h.slice(2)}`);
      }
      assert.deepEqual(value, b.get(h), `result ${h} differs`);
    }
    const values = [...a.values()];
    assert.equal(values.filter((v) => v === true).length, 25);
    assert.equal(values.filter((v) => v === false).length, 74);
    assert.ok(values.includes(25) && values.includes(output));
    assert.deepEqual(lockFiles(threadedDir), []);
  });

  it('a run with every task stored stops its threads at once; one missing result keeps them', async () => {
    const dir = freshDir('all-stored');
    const jugdir = join(dir, 'primes.jugdata');
    const env = { PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: join(dir, 'primes-output.txt') };
    const first = await jug(['execute', PRIMES, '--threads', '2', '--jugdir', jugdir], env);
    assert.equal(first.code, 0, show(first));

    // JUG_TRACE shows when the pool closes: right after the load, before the scheduler runs.
    const again = await jug(['execute', PRIMES, '--threads', '2', '--jugdir', jugdir], { ...env, JUG_TRACE: '1' });
    assert.equal(again.code, 0, show(again));
    assert.deepEqual(row(again.stdout, 'Total:'), [0, 101], show(again));
    assert.match(again.stderr, /pool closed: every task is stored/, show(again));
    assert.ok(!/\[thread \d+\] run /.test(again.stderr), 'no thread ran a task');

    // One result gone: the threads are needed and run it.
    const victim = [...(await results(jugdir)).entries()].find(([, v]) => v === 25)![0];
    fs.rmSync(join(jugdir, victim.slice(0, 2), victim.slice(2)));
    const partial = await jug(['execute', PRIMES, '--threads', '2', '--jugdir', jugdir], { ...env, JUG_TRACE: '1' });
    assert.equal(partial.code, 0, show(partial));
    assert.deepEqual(row(partial.stdout, 'primes.countPrimes'), [1, 0], show(partial));
    assert.doesNotMatch(partial.stderr, /every task is stored/, show(partial));
    assert.match(partial.stderr, /\[thread \d+\] run primes\.countPrimes/, show(partial));
    assert.deepEqual(lockFiles(jugdir), []);
  });

  it('output a task writes in its worker thread all reaches the terminal, however soon the run ends', async () => {
    // A worker's writes to stdout/stderr travel to the main thread as messages, and each waits
    // for the one before it to be taken: without the worker waiting for them before answering,
    // the last lines were lost when the pool was destroyed right after the run (seen in CI).
    const jugdir = join(freshDir('chatty'), 'chatty.jugdata');
    const r = await jug(['execute', fixture('chatty.ts'), '--threads', '2', '--jugdir', jugdir]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual([...(await results(jugdir)).values()], ['worker thread', 'worker thread'], 'the tasks did not run in threads');
    for (const n of [1, 2]) {
      for (const [stream, text] of [['out', r.stdout], ['err', r.stderr]] as const) {
        const lines = text.split('\n').filter((l) => l.startsWith(`${stream} ${n} `));
        assert.equal(lines.length, 201, `${stream} of task ${n}: ${lines.length} of 201 lines arrived`);
        assert.ok(lines.includes(`${stream} ${n} last`), `the last ${stream} line of task ${n} was lost`);
      }
    }
  });

  it('shares one jugdir between two thread pools and two plain processes: every task runs once', async () => {
    const dir = freshDir('mix');
    const jugdir = join(dir, 'mix.jugdata');
    const side = join(dir, 'side-effects.txt');
    const env = { MIX_SIDE: side };
    const base = ['execute', fixture('mix.ts'), '--jugdir', jugdir, '--wait-cycle-time', '1'];
    const runs = await Promise.all([
      jug([...base, '--threads', '3'], env, 45_000),
      jug(base, env, 45_000),
      jug(base, env, 45_000),
      jug([...base, '--threads', '2'], env, 45_000),
    ]);
    for (const r of runs) assert.equal(r.code, 0, show(r));

    const lines = fs.readFileSync(side, 'utf8').split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1000, 'some task ran twice or not at all');
    const distinct = new Set(lines.map(Number));
    assert.equal(distinct.size, 1000);
    for (let n = 0; n < 1000; n++) assert.ok(distinct.has(n), `task ${n} never ran`);

    // Each of the 1,001 tasks was executed by exactly one of the four runs.
    const executed = runs.map((r) => row(r.stdout, 'Total:')?.[0] ?? NaN);
    assert.equal(executed.reduce((x, y) => x + y, 0), 1001, `executed per run: ${executed.join(', ')}`);

    const stored = await results(jugdir);
    assert.equal(stored.size, 1001);
    const values = [...stored.values()];
    assert.deepEqual(values.filter((v) => typeof v === 'object'), [{ total: 999_000, count: 1000 }]);
    assert.deepEqual(
      values.filter((v): v is number => typeof v === 'number').sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, n) => 2 * n),
    );
    assert.deepEqual(lockFiles(jugdir), [], 'lock files left behind');
    assert.deepEqual(tempFiles(jugdir), [], 'temporary files left behind');
  });

  it('awaits async task functions in worker threads and stores the resolved values', async () => {
    const jugdir = join(freshDir('async'), 'async.jugdata');
    const r = await jug(['execute', fixture('async.ts'), '-j', '2', '--jugdir', jugdir]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(row(r.stdout, 'Total:'), [7, 0], show(r));
    const values = [...(await results(jugdir)).values()];
    assert.equal(values.length, 7);
    assert.ok(values.includes('sum=55'), `the dependant did not receive resolved values: ${JSON.stringify(values)}`);
    const squares = values
      .filter((v): v is { n: number; square: number; threadId: number } => typeof v === 'object' && v !== null)
      .sort((x, y) => x.n - y.n);
    assert.deepEqual(
      squares.map(({ n, square }) => ({ n, square })),
      [0, 1, 2, 3, 4, 5].map((n) => ({ n, square: n * n })),
    );
    for (const s of squares) assert.ok(s.threadId > 0, `task ${s.n} ran in the main thread`);
  });

  it('results encoded in worker threads: every codec path, read back exactly in threads and by the main thread', async () => {
    const jugdir = join(freshDir('arrays'), 'arrays.jugdata');
    const r = await jug(['execute', fixture('arrays.ts'), '--threads', '2', '--jugdir', jugdir]);
    assert.equal(r.code, 0, show(r));
    // What the files hold: prefix (and numeric codec) of every result.
    const kinds: string[] = [];
    for (const shard of fs.readdirSync(jugdir).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
      for (const f of fs.readdirSync(join(jugdir, shard))) {
        const bytes = fs.readFileSync(join(jugdir, shard, f));
        kinds.push(bytes[0] === 0x4e ? `N${bytes[14]}` : String.fromCharCode(bytes[0]!));
      }
    }
    kinds.sort();
    // N0: 53-bit doubles (plain and typed); N1/N2: LCG values (plain and typed, compressed); B: the three
    // fallbacks and the objects; the summary itself is small (V) or compressible (B).
    assert.equal(kinds.filter((k) => k === 'N0').length, 2, kinds.join(' '));
    assert.equal(kinds.filter((k) => k === 'N1' || k === 'N2').length, 2, kinds.join(' '));
    assert.equal(kinds.filter((k) => k === 'B').length >= 4, true, kinds.join(' '));
    const values = [...(await results(jugdir)).values()];
    const summary = values.find((v) => typeof v === 'object' && v !== null && 'threadId' in v) as Record<string, Record<string, unknown>>;
    assert.ok(summary, 'the summary task stored its result');
    assert.ok((summary['threadId'] as unknown as number) > 0, 'check ran in a worker thread');
    assert.deepEqual(summary['plain-lcg']!['type'], 'Array');
    assert.deepEqual(summary['plain-double']!['type'], 'Array');
    assert.deepEqual(summary['f64-lcg']!['type'], 'Float64Array');
    assert.deepEqual(summary['f64-double']!['type'], 'Float64Array');
    assert.equal(summary['holey']!['hasHole10'], true, 'the hole survived');
    assert.equal(summary['string-inside']!['at5'], 'five');
    assert.equal(summary['extra-property']!['unit'], 'm', 'the extra property survived');
    assert.equal(summary['objects']!['length'], 2000);
    for (const k of ['plain-lcg', 'plain-double', 'f64-lcg', 'f64-double']) assert.equal(summary[k]!['length'], 20_000, k);
    // The main thread reads the same values as the workers received.
    const plain = values.filter((v) => Array.isArray(v) && v.length === 20_000 && v.every((x) => typeof x === 'number')) as number[][];
    const firsts = new Set(plain.map((p) => p[0]));
    for (const k of ['plain-lcg', 'plain-double']) {
      assert.ok(firsts.has(summary[k]!['first'] as number), `the main thread reads the ${k} values the worker received`);
    }
  });

  describe('a task that throws', () => {
    it('exits 1 naming the task, its hash and the stack; releases its lock; stops before dependants', async () => {
      const jugdir = join(freshDir('throw'), 'fail.jugdata');
      // Independent tasks take 300 ms, so the failing one (dispatched first) fails while the
      // first of them runs and before any other could start.
      const r = await jug(['execute', fixture('fail.ts'), '--threads', '2', '--jugdir', jugdir], { FINE_MS: '300' });
      assert.equal(r.code, 1, show(r));
      const hash = failedHash(r.stderr, 'fail.boom');
      assert.match(r.stderr, /Error: boom-7 exploded on purpose\n\s+at .*boom.*fail\.ts:\d+:\d+/, show(r));
      assert.match(r.stderr, /stopped after the first failure/);
      assert.deepEqual(lockFiles(jugdir), [], 'the failed task kept its lock');
      assert.ok(!fs.existsSync(join(jugdir, hash.slice(0, 2), hash.slice(2))), 'a failed task has a result');
      assert.deepEqual(row(r.stdout, 'fail.boom'), [0, 0, 1], show(r));
      assert.deepEqual(row(r.stdout, 'fail.afterBoom'), [0, 0, 0], show(r));
      // Only the task already running beside the failing one may finish; queued tasks do not start.
      const stored = await results(jugdir);
      assert.ok(stored.size <= 1, `${stored.size} tasks ran after the failure without --keep-going`);
      assert.deepEqual(row(r.stdout, 'fail.fine')?.[0], stored.size);
    });

    it('with --keep-going runs every independent task but not the dependants', async () => {
      const jugdir = join(freshDir('keep-going'), 'fail.jugdata');
      const r = await jug(['execute', fixture('fail.ts'), '--threads', '2', '--keep-going', '--jugdir', jugdir]);
      assert.equal(r.code, 1, show(r));
      const hash = failedHash(r.stderr, 'fail.boom');
      assert.match(r.stderr, /boom-7 exploded on purpose/);
      assert.match(r.stderr, /1 task\(s\) depending on failed tasks were not run/);
      const stored = await results(jugdir);
      assert.deepEqual([...stored.values()].sort((x, y) => Number(x) - Number(y)), Array.from({ length: 20 }, (_, n) => n));
      assert.ok(!stored.has(hash));
      assert.deepEqual(row(r.stdout, 'fail.fine'), [20, 0, 0], show(r));
      assert.deepEqual(row(r.stdout, 'fail.afterBoom'), [0, 0, 0], show(r));
      assert.deepEqual(lockFiles(jugdir), []);
    });

    it('with --keep-failed leaves its lock marked failed (mtime 1 s after the epoch)', async () => {
      const jugdir = join(freshDir('keep-failed'), 'fail.jugdata');
      const r = await jug(['execute', fixture('fail.ts'), '--threads', '2', '--keep-failed', '--jugdir', jugdir]);
      assert.equal(r.code, 1, show(r));
      const hash = failedHash(r.stderr, 'fail.boom');
      assert.match(r.stderr, /lock kept marked failed/);
      assert.deepEqual(lockFiles(jugdir), [`${hash}.lock`]);
      assert.equal(fs.statSync(join(jugdir, 'locks', `${hash}.lock`)).mtimeMs, 1000);
      const status = await jug(['status', fixture('fail.ts'), '--jugdir', jugdir]);
      assert.deepEqual(row(status.stdout, 'fail.boom'), [0, 0, 0, 0, 1], show(status));
    });
  });

  describe('a worker thread that dies', () => {
    it('process.exit() in a task fails that task only: exit 1, lock released, dependants not run', async () => {
      const jugdir = join(freshDir('exit'), 'die.jugdata');
      const r = await jug(['execute', fixture('die.ts'), '--threads', '2', '--jugdir', jugdir]);
      assert.equal(r.code, 1, show(r));
      const hash = failedHash(r.stderr, 'die.dieNow');
      assert.match(r.stderr, /worker thread running it died: exit code 3 \(the task, or code it started, called process\.exit\(\)\)/, show(r));
      assert.doesNotMatch(r.stderr, /piscina/, 'no stack of the pool’s internals');
      assert.deepEqual(lockFiles(jugdir), [], 'the dead thread left its lock');
      assert.ok(!(await results(jugdir)).has(hash));
      assert.deepEqual(row(r.stdout, 'die.afterDeath'), [0, 0, 0], show(r));
    });

    it('with --keep-going --keep-failed the pool replaces the thread and the rest completes', async () => {
      const jugdir = join(freshDir('exit-keep'), 'die.jugdata');
      const r = await jug(['execute', fixture('die.ts'), '--threads', '2', '--keep-going', '--keep-failed', '--jugdir', jugdir]);
      assert.equal(r.code, 1, show(r));
      const hash = failedHash(r.stderr, 'die.dieNow');
      assert.match(r.stderr, /worker thread running it died/);
      assert.deepEqual(lockFiles(jugdir), [`${hash}.lock`]);
      assert.equal(fs.statSync(join(jugdir, 'locks', `${hash}.lock`)).mtimeMs, 1000);
      const fines = [...(await results(jugdir)).values()] as { n: number; threadId: number }[];
      assert.deepEqual(fines.map((f) => f.n).sort((x, y) => x - y), Array.from({ length: 12 }, (_, n) => n));
      assert.deepEqual(row(r.stdout, 'die.fine'), [12, 0, 0], show(r));
      // One of the two threads died at once; the tasks still ran on two threads, so it was replaced.
      const threads = new Set(fines.map((f) => f.threadId));
      assert.ok(threads.size >= 2, `all tasks ran on thread(s) ${[...threads].join(', ')}: the dead thread was not replaced`);
    });

    it('a thread dying with a batch of short tasks in hand: the others of the batch run again, nothing is lost', async () => {
      const dir = freshDir('die-batch');
      const jugdir = join(dir, 'die-batch.jugdata');
      const side = join(dir, 'side');
      const r = await jug(['execute', fixture('die-batch.ts'), '--threads', '2', '--keep-going', '--jugdir', jugdir], { JUG_TEST_SIDE: side });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /worker thread running it died/, show(r));
      assert.deepEqual(row(r.stdout, 'die-batch.short'), [299, 0, 1], show(r));
      const stored = [...(await results(jugdir)).values()] as number[];
      assert.deepEqual(stored.sort((a, b) => a - b), Array.from({ length: 300 }, (_, n) => 2 * n).filter((v) => v !== 400));
      assert.deepEqual(lockFiles(jugdir), [], 'a lock was left behind');
      // Tasks of the dead thread's batch that had run lost their results with it and ran again.
      const runs = sideLines(side, '').filter((l) => l !== '');
      assert.equal(new Set(runs).size, 299, 'some task never ran');
      // The next run clears what the dead thread wrote and finds everything but the dying task stored.
      const again = await jug(['execute', fixture('die-batch.ts'), '--threads', '2', '--keep-going', '--jugdir', jugdir], { JUG_TEST_SIDE: side });
      assert.equal(again.code, 1, show(again));
      assert.deepEqual(row(again.stdout, 'die-batch.short'), [0, 299, 1], show(again));
      assert.deepEqual(tempFiles(jugdir), [], 'temporary files were left behind');
    });

    it('a task running out of memory under --max-old-generation-size-mb fails alone', async () => {
      const jugdir = join(freshDir('oom'), 'oom.jugdata');
      const r = await jug(
        ['execute', fixture('oom.ts'), '--max-old-generation-size-mb', '64', '--threads', '2', '--keep-going', '--jugdir', jugdir],
        {},
        20_000,
      );
      assert.equal(r.code, 1, show(r));
      const hash = failedHash(r.stderr, 'oom.hog');
      assert.match(r.stderr, /worker thread running it died/, show(r));
      assert.match(r.stderr, /out of memory/i, show(r));
      const stored = await results(jugdir);
      assert.ok(!stored.has(hash));
      assert.deepEqual([...stored.values()].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(row(r.stdout, 'oom.fine'), [8, 0, 0], show(r));
      assert.deepEqual(lockFiles(jugdir), []);
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    });
  });

  describe('faults outside any task: reported, the run stops (exit 1), nothing left behind', () => {
    for (const threads of [[], ['--threads', '2']]) {
      for (const kind of ['reject', 'throw']) {
        it(`a task's leftover ${kind === 'reject' ? 'rejection' : 'exception'} (${threads.join(' ') || 'serial'})`, async () => {
          const jugdir = join(freshDir(`leftover-${kind}`), 'leftover.jugdata');
          const r = await jug(['execute', fixture('leftover.ts'), ...threads, '--jugdir', jugdir], { LEFTOVER: kind });
          assert.equal(r.code, 1, show(r));
          assert.match(r.stderr, /jug: error: .*leftover (rejection|exception) from careless\(\)/, show(r));
          assert.match(r.stderr, /Task code probably started work it did not await/);
          assert.match(r.stderr, /the run stopped after an error outside any task/);
          assert.match(r.stdout, /Total:/, 'the summary is printed');
          assert.deepEqual(lockFiles(jugdir), []);
          assert.deepEqual(tempFiles(jugdir), []);
        });
      }
    }

    it('a worker thread calling process.exit() while loading the jugfile', async () => {
      const jugdir = join(freshDir('load-exit'), 'load.jugdata');
      const r = await jug(['execute', fixture('load-fault.ts'), '--threads', '2', '--jugdir', jugdir], { LOAD_FAULT: 'exit' });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /jug: error: a worker thread exited \(code 9\) while loading the jugfile.*isMainThread/, show(r));
      assert.match(r.stdout, /Total:/);
      assert.deepEqual(lockFiles(jugdir), []);
    });

    it('a worker thread running out of memory while loading the jugfile', async () => {
      const jugdir = join(freshDir('load-oom'), 'load.jugdata');
      const r = await jug(
        ['execute', fixture('load-fault.ts'), '--threads', '2', '--max-old-generation-size-mb', '32', '--jugdir', jugdir],
        { LOAD_FAULT: 'oom' },
      );
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /jug: error: a worker thread ran out of memory .* --max-old-generation-size-mb 32: raise that limit/, show(r));
      assert.deepEqual(lockFiles(jugdir), []);
    });

    it('worker threads that never finish loading: a warning, and a first Ctrl-C stops the run at once', async () => {
      const jugdir = join(freshDir('load-hang'), 'load.jugdata');
      const run = startJug(['execute', fixture('load-fault.ts'), '--threads', '2', '--jugdir', jugdir], {
        LOAD_FAULT: 'hang',
        JUG_TEST_LOAD_WATCH_MS: '300',
      });
      let stderr = '';
      run.child.stderr!.on('data', (s: string) => (stderr += s));
      const warned = await waitFor(() => stderr.includes('warning: no worker thread has finished loading the jugfile'), 15_000);
      run.child.kill('SIGINT');
      const killer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      const r = await run.done;
      clearTimeout(killer);
      assert.ok(warned, show(r));
      assert.equal(r.code, 130, show(r));
      assert.match(r.stderr, /Ctrl-C stops the run/);
      assert.deepEqual(lockFiles(jugdir), []);
    });
  });

  describe('signals', () => {
    /** Starts sleepy.ts with two threads; resolves when both threads have started a task. */
    async function startNaps(label: string, napMs: number): Promise<{ jugdir: string; side: string; run: Started; started: string[] }> {
      const dir = freshDir(label);
      const jugdir = join(dir, 'sleepy.jugdata');
      const side = join(dir, 'side.txt');
      const run = startJug(['execute', fixture('sleepy.ts'), '--threads', '2', '--jugdir', jugdir], {
        NAP_SIDE: side,
        NAP_MS: String(napMs),
      });
      try {
        const started = await Promise.race([
          waitForLines(side, 'start ', 2),
          run.done.then((r) => assert.fail(`jug exited before its tasks started:\n${show(r)}`)),
        ]);
        return { jugdir, side, run, started: started.sort() };
      } catch (e) {
        run.child.kill('SIGKILL');
        const r = await run.done;
        throw new Error(`${(e as Error).message}\n${show(r)}`, { cause: e });
      }
    }

    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      it(`${signal} stops dispatching, lets running tasks finish and exits ${code}`, async () => {
        const { jugdir, side, run, started } = await startNaps(signal, 1500);
        run.child.kill(signal);
        const r = await run.done;
        assert.equal(r.code, code, show(r));
        assert.match(r.stderr, new RegExp(`${signal} received`));
        assert.deepEqual(sideLines(side, 'start '), started, 'a task started after the signal');
        assert.deepEqual(
          sideLines(side, 'end '),
          started.map((l) => l.replace('start', 'end')),
          'running tasks were not let finish',
        );
        assert.deepEqual(row(r.stdout, 'sleepy.nap'), [started.length, 0], show(r));
        assert.deepEqual(lockFiles(jugdir), []);
        const stored = [...(await results(jugdir)).values()] as { i: number; napped: number }[];
        assert.deepEqual(
          stored.map((v) => `start ${v.i}`).sort(),
          started,
          'the stored results are not those of the tasks that ran',
        );
        for (const v of stored) assert.equal(v.napped, 1500);
      });
    }

    it('a second SIGINT aborts at once without partial results; a new run resumes', async () => {
      const { jugdir, side, run } = await startNaps('double-sigint', 20_000);
      const pid = run.child.pid!;
      const t0 = Date.now();
      run.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 150));
      run.child.kill('SIGINT');
      const r = await run.done;
      const elapsed = Date.now() - t0;
      assert.equal(r.code, 130, show(r));
      assert.ok(elapsed < 5000, `took ${elapsed} ms after the first SIGINT: running tasks were not aborted`);
      assert.match(r.stderr, /second SIGINT/);
      assert.deepEqual(sideLines(side, 'end '), []);
      assert.deepEqual(lockFiles(jugdir), [], 'aborted tasks kept their locks');
      assert.equal(await decodeEveryResultFile(jugdir), 0);
      assert.deepEqual(
        tempFiles(jugdir).filter((f) => f.startsWith(`${pid}-`)),
        [],
        'temporary files of the aborted run remain',
      );

      const resumed = await jug(['execute', fixture('sleepy.ts'), '--threads', '2', '--jugdir', jugdir], {
        NAP_SIDE: side,
        NAP_MS: '0',
      });
      assert.equal(resumed.code, 0, show(resumed));
      assert.deepEqual(row(resumed.stdout, 'sleepy.nap'), [8, 0], show(resumed));
      assert.equal(await decodeEveryResultFile(jugdir), 8);
      assert.deepEqual(lockFiles(jugdir), []);
    });
  });

  it('rejects an invalid --threads with exit 2', async () => {
    const dir = freshDir('invalid');
    const jugdir = join(dir, 'never.jugdata');
    const runs = await Promise.all(
      ['0', '-2', 'abc', '1.5', '1e1', '0x2', '1025', '2147483647'].map(async (v) => [v, await jug(['execute', fixture('async.ts'), '--threads', v, '--jugdir', jugdir])] as const),
    );
    for (const [v, r] of runs) {
      assert.equal(r.code, 2, `--threads ${v}: ${show(r)}`);
      assert.match(r.stderr, /--threads/, `--threads ${v}: ${show(r)}`);
      assert.ok(r.stderr.includes(`'${v}'`), `--threads ${v}: the message does not quote the value:\n${r.stderr}`);
    }
    assert.ok(!fs.existsSync(jugdir), 'an invalid command line created the jugdir');
  });

  it('runs tasks in the worker threads, never in the main thread', async () => {
    const jugdir = join(freshDir('thread-id'), 'threadid.jugdata');
    const r = await jug(['execute', fixture('threadid.ts'), '--threads', '3', '--jugdir', jugdir]);
    assert.equal(r.code, 0, show(r));
    const values = [...(await results(jugdir)).values()] as { i: number; threadId: number; isMainThread: boolean }[];
    assert.equal(values.length, 30);
    const ids = new Set(values.map((v) => v.threadId));
    assert.ok(!ids.has(0), 'a task ran in the main thread');
    assert.ok(values.every((v) => !v.isMainThread));
    assert.ok(ids.size > 1, `all 30 tasks ran on thread ${[...ids].join(', ')}`);
    assert.ok(ids.size <= 3, `tasks ran on ${ids.size} threads with --threads 3`);
  });

  it('starts every thread asked for, more threads than cores included (threads start in waves)', async () => {
    // Six tasks that only finish once all six run at the same time, each in its own thread.
    const dir = freshDir('rendezvous');
    const meeting = join(dir, 'meeting');
    fs.mkdirSync(meeting);
    const jugdir = join(dir, 'rendezvous.jugdata');
    const r = await jug(['execute', fixture('rendezvous.ts'), '--threads', '6', '--jugdir', jugdir], {
      JUG_TEST_RENDEZVOUS: meeting,
      JUG_TEST_THREADS: '6',
    }, 60_000);
    assert.equal(r.code, 0, show(r));
    const values = [...(await results(jugdir)).values()] as { i: number; threadId: number; saw: number }[];
    assert.equal(values.length, 6);
    assert.equal(new Set(values.map((v) => v.threadId)).size, 6, JSON.stringify(values));
    assert.ok(values.every((v) => v.saw === 6), `not all six threads ran at once: ${JSON.stringify(values)}`);
  });

  it('a task waiting in a busy thread moves to a thread that falls idle (runs once)', async () => {
    // One of two tasks waits behind a task that only finishes once both have run (steal.ts).
    const dir = freshDir('steal');
    const jugdir = join(dir, 'steal.jugdata');
    const r = await jug(['execute', fixture('steal.ts'), '--threads', '2', '--jugdir', jugdir], { JUG_TEST_STEAL: dir }, 60_000);
    assert.equal(r.code, 0, show(r));
    const runs = fs.readFileSync(join(dir, 'runs'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(runs, ['blocker', 'left', 'right', 'warm1', 'warm2'], 'each task runs exactly once');
    const values = [...(await results(jugdir)).values()] as { name: string; threadId: number }[];
    const thread = new Map(values.map((v) => [v.name, v.threadId]));
    assert.notEqual(thread.get('left'), thread.get('blocker'), JSON.stringify(values));
    assert.notEqual(thread.get('right'), thread.get('blocker'), JSON.stringify(values));
  });

  it('threads stopped when few tasks were left start again for the next pass after a barrier', async () => {
    const dir = freshDir('rendezvous-barrier');
    const meeting = join(dir, 'meeting');
    fs.mkdirSync(meeting);
    const jugdir = join(dir, 'rb.jugdata');
    const r = await jug(
      ['execute', fixture('rendezvous-after-barrier.ts'), '--threads', '4', '--jugdir', jugdir],
      { JUG_TEST_RENDEZVOUS: meeting, JUG_TEST_THREADS: '4', JUG_TEST_RENDEZVOUS_DECLARE: '0' },
      60_000,
    );
    assert.equal(r.code, 0, show(r));
    const values = [...(await results(jugdir)).values()].filter((v) => typeof v === 'object') as { saw: number }[];
    assert.equal(values.length, 4, JSON.stringify(values));
    assert.ok(values.every((v) => v.saw === 4), `not all four threads ran at once: ${JSON.stringify(values)}`);
  });
});
