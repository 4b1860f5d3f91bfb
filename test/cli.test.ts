/**
 * End-to-end tests of the `jug` command: every test spawns the real `node bin/jug.js` (built in
 * dist/) on jugfiles under test/fixtures or in a temporary directory under test/.tmp.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FIXTURES,
  ROOT,
  entries,
  makeTempDir,
  parseTable,
  readResults,
  removeTempDir,
  runJug,
  show,
  storedHashes,
  type RunResult,
} from './helpers.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

let tmp: string;
before(() => {
  tmp = makeTempDir('cli');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

/** Counts of one row of a summary table. */
function row(stdout: string, name: string): number[] | undefined {
  return parseTable(stdout).rows.get(name);
}

/** Which numbers in 2..100 are prime, computed directly. */
function directPrimes(): boolean[] {
  return Array.from({ length: 99 }, (_, i) => {
    const n = i + 2;
    for (let j = 2; j * j <= n; j++) if (n % j === 0) return false;
    return true;
  });
}

describe('jug CLI', { concurrency: 3 }, () => {
  test('primes example: status, check, execute, re-execute, results from a plain script', async (t) => {
    const dir = join(tmp, 'primes');
    mkdirSync(dir);
    const jugfile = join(dir, 'primes.ts');
    copyFileSync(join(ROOT, 'examples', 'primes.ts'), jugfile);
    const output = join(dir, 'primes-output.txt');
    // Run from the repository root: the default jugdir follows the jugfile, not the cwd.
    const opts = { cwd: ROOT, env: { PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: output } };

    await t.test('status before execute: the exact table', async () => {
      const r = await runJug(['status', jugfile], opts);
      expectCode(r, 0);
      assert.equal(
        r.stdout,
        [
          'Task name                  Waiting       Ready    Finished     Running      Failed',
          '-'.repeat(82),
          'primes.countPrimes               1           0           0           0           0',
          'primes.isPrime                   0          99           0           0           0',
          'primes.writeOutput               1           0           0           0           0',
          '.'.repeat(82),
          'Total:                           2          99           0           0           0',
          '',
        ].join('\n'),
      );
      // Read-only commands create nothing.
      assert.equal(existsSync(join(dir, 'primes.jugdata')), false);
    });

    await t.test('check before execute: exit 1, prints nothing', async () => {
      const r = await runJug(['check', jugfile], opts);
      expectCode(r, 1);
      assert.equal(r.stdout, '');
    });

    await t.test('execute: 99 + 1 + 1 executed', async () => {
      const r = await runJug(['execute', jugfile], opts);
      expectCode(r, 0);
      const { columns, rows } = parseTable(r.stdout);
      assert.deepEqual(columns, ['Executed', 'Loaded']);
      assert.deepEqual(rows.get('primes.isPrime'), [99, 0]);
      assert.deepEqual(rows.get('primes.countPrimes'), [1, 0]);
      assert.deepEqual(rows.get('primes.writeOutput'), [1, 0]);
      assert.deepEqual(rows.get('Total:'), [101, 0]);
      assert.equal(readFileSync(output, 'utf8'), 'Found 25 primes <= 100.\n');
    });

    await t.test('default jugdir is <jugfile without extension>.jugdata next to the jugfile', () => {
      assert.equal(storedHashes(join(dir, 'primes.jugdata')).length, 101);
      assert.equal(existsSync(join(ROOT, 'primes.jugdata')), false);
      assert.deepEqual(entries(join(dir, 'primes.jugdata', 'locks')), []);
      assert.deepEqual(entries(join(dir, 'primes.jugdata', 'tempfiles')), []);
    });

    await t.test('status after execute: 101 finished', async () => {
      const r = await runJug(['status', jugfile], opts);
      expectCode(r, 0);
      assert.deepEqual(row(r.stdout, 'primes.isPrime'), [0, 0, 99, 0, 0]);
      assert.deepEqual(row(r.stdout, 'Total:'), [0, 0, 101, 0, 0]);
      const short = await runJug(['status', '--short', jugfile], opts);
      expectCode(short, 0);
      assert.equal(short.stdout, 'All tasks complete (101 tasks).\n');
    });

    await t.test('check after execute: exit 0', async () => {
      expectCode(await runJug(['check', jugfile], opts), 0);
    });

    await t.test('second execute: everything Loaded, nothing Executed', async () => {
      writeFileSync(output, 'untouched\n');
      const r = await runJug(['execute', jugfile], opts);
      expectCode(r, 0);
      assert.deepEqual(row(r.stdout, 'primes.isPrime'), [0, 99]);
      assert.deepEqual(row(r.stdout, 'Total:'), [0, 101]);
      assert.equal(readFileSync(output, 'utf8'), 'untouched\n', 'writeOutput must not run again');
    });

    await t.test("results from a plain Node script with init() + value() from 'jug'", async () => {
      const res = await readResults(jugfile, undefined, ['primes100', 'count', 'output'], opts);
      const flags = res.values['primes100'] as boolean[];
      assert.equal(res.tasks, 101);
      assert.equal(res.location, join(dir, 'primes.jugdata'));
      assert.equal(flags.filter(Boolean).length, 25);
      assert.deepEqual(flags, directPrimes());
      assert.equal(res.values['count'], 25);
      assert.equal(res.values['output'], output);
    });
  });

  test('--jugdir overrides the default jugdir', async () => {
    const jugdir = join(tmp, 'override.jugdata');
    const output = join(tmp, 'override-output.txt');
    // A copy of the example, so that a primes.jugdata left in examples/ by the Quick start doesn't matter.
    const jugfile = join(tmp, 'override-primes.ts');
    copyFileSync(join(ROOT, 'examples', 'primes.ts'), jugfile);
    const opts = { env: { PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: output } };
    const r = await runJug(['execute', '--jugdir', jugdir, jugfile], opts);
    expectCode(r, 0);
    assert.deepEqual(row(r.stdout, 'Total:'), [101, 0]);
    assert.equal(storedHashes(jugdir).length, 101);
    assert.equal(existsSync(join(tmp, 'override-primes.jugdata')), false, 'default jugdir must not be used');
    const short = await runJug(['status', '--short', jugfile, '--jugdir', jugdir], opts);
    assert.equal(short.stdout, 'All tasks complete (101 tasks).\n');
    expectCode(await runJug(['check', jugfile, `--jugdir=${jugdir}`], opts), 0);
    // Another jugdir is another (empty) store.
    expectCode(await runJug(['check', jugfile, '--jugdir', join(tmp, 'override-other.jugdata')], opts), 1);
    // Only the last task declared missing (check decides from the declared tasks before any graph): still 1.
    expectCode(await runJug(['invalidate', jugfile, '--jugdir', jugdir, '--target', 'writeOutput'], opts), 0);
    expectCode(await runJug(['check', jugfile, '--jugdir', jugdir], opts), 1);
    // Only a first task missing, with everything depending on it removed as well: 1.
    expectCode(await runJug(['invalidate', jugfile, '--jugdir', jugdir, '--target', 'isPrime'], opts), 0);
    expectCode(await runJug(['check', jugfile, '--jugdir', jugdir], opts), 1);
    expectCode(await runJug(['execute', jugfile, '--jugdir', jugdir], opts), 0);
    expectCode(await runJug(['check', jugfile, '--jugdir', jugdir], opts), 0);
  });

  describe('usage errors exit 2', { concurrency: true }, () => {
    const primes = join(ROOT, 'examples', 'primes.ts');
    test('unknown subcommand', async () => {
      const r = await runJug(['frobnicate', primes]);
      expectCode(r, 2);
      assert.match(r.stderr, /unknown command 'frobnicate'/);
    });
    test('unknown option', async () => {
      const r = await runJug(['execute', '--frobnicate', primes]);
      expectCode(r, 2);
      assert.match(r.stderr, /unknown option '--frobnicate'/);
    });
    test('--wait-cycle-time abc', async () => {
      const r = await runJug(['execute', '--wait-cycle-time', 'abc', primes]);
      expectCode(r, 2);
      assert.match(r.stderr, /--wait-cycle-time/);
      assert.match(r.stderr, /abc/);
    });
    test('no arguments', async () => {
      const r = await runJug([]);
      expectCode(r, 2);
      assert.match(r.stderr, /Usage: jug/);
    });
  });

  describe('version and help', { concurrency: true }, () => {
    test('--version prints the package version', async () => {
      const r = await runJug(['--version']);
      expectCode(r, 0);
      assert.equal(r.stdout.trim(), pkg.version);
    });
    test('--help lists the subcommands', async () => {
      const r = await runJug(['--help']);
      expectCode(r, 0);
      for (const c of ['execute', 'status', 'check']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
    });
    test('execute --help lists its options', async () => {
      const r = await runJug(['execute', '--help']);
      expectCode(r, 0);
      for (const o of ['--jugdir', '--keep-going', '--keep-failed', '--target', '--wait-cycle-time', '--nr-wait-cycles']) {
        assert.ok(r.stdout.includes(o), `execute --help should mention ${o}:\n${r.stdout}`);
      }
    });
  });

  describe('jugfile errors exit 1 with a message', { concurrency: true }, () => {
    /** Writes `name` into a fresh directory and runs `jug status` on it from there. */
    async function statusOf(name: string, source: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
      const dir = makeTempDir('jugfile-error');
      try {
        writeFileSync(join(dir, name), source);
        return await runJug(['status', name], { cwd: dir, env });
      } finally {
        removeTempDir(dir);
      }
    }

    test('missing jugfile is named', async () => {
      const r = await runJug(['status', 'no-such-jugfile.ts'], { cwd: tmp });
      expectCode(r, 1);
      assert.match(r.stderr, /no-such-jugfile\.ts/);
      assert.match(r.stderr, /not found/);
    });

    test('no jugfile named and none in the directory', async () => {
      const dir = makeTempDir('empty');
      try {
        const r = await runJug(['status'], { cwd: dir });
        expectCode(r, 1);
        assert.match(r.stderr, /jugfile\.ts/);
      } finally {
        removeTempDir(dir);
      }
    });

    // Both ways of importing jugfiles: the esbuild bundle (default) and tsx's loader hooks.
    for (const loader of ['bundle', 'tsx']) {
      const env = { JUG_LOADER: loader === 'bundle' ? undefined : loader };

      test(`[${loader}] syntax error in a .ts jugfile gives bad.ts:LINE`, async () => {
        const r = await statusOf('bad.ts', "import { TaskGenerator } from 'jug';\nconst x = 1;\nconst y = ;\n", env);
        expectCode(r, 1);
        assert.match(r.stderr, /bad\.ts:3\b/);
      });

      test(`[${loader}] syntax error in a .mjs jugfile gives bad.mjs:LINE`, async () => {
        const r = await statusOf('bad.mjs', "import { TaskGenerator } from 'jug';\n\n\nconst y = ;\n", env);
        expectCode(r, 1);
        assert.match(r.stderr, /bad\.mjs:4\b/);
        assert.doesNotMatch(r.stderr, /internal|modules\/esm/);
      });

      test(`[${loader}] a jugfile that throws at import: message and file:line`, async () => {
        const r = await statusOf(
          'throws.ts',
          "import { TaskGenerator } from 'jug';\nconst n: number = 1;\n\nthrow new Error(`bad-config-${n}`);\n",
          env,
        );
        expectCode(r, 1);
        assert.match(r.stderr, /bad-config-1/);
        assert.match(r.stderr, /throws\.ts:4\b/);
      });
    }

    test('anonymous task function', async () => {
      const r = await statusOf(
        'anon.ts',
        "import { TaskGenerator } from 'jug';\nexport const t = TaskGenerator((x: number) => x * 2);\nexport const a = t(1);\n",
      );
      expectCode(r, 1);
      assert.match(r.stderr, /named function/);
      assert.match(r.stderr, /anon\.ts:2\b/);
    });

    test('two different functions with one name: both places are named', async () => {
      const r = await statusOf(
        'dup.ts',
        [
          "import { TaskGenerator } from 'jug';",
          'export const a = TaskGenerator(function f(x: number) { return x; });',
          '',
          'export const b = TaskGenerator(function f(x: number) { return x + 1; });',
          '',
        ].join('\n'),
      );
      expectCode(r, 1);
      assert.match(r.stderr, /dup\.f/);
      assert.match(r.stderr, /dup\.ts:2\b/);
      assert.match(r.stderr, /dup\.ts:4\b/);
    });

    test('an unhashable argument names the task and the argument position', async () => {
      const r = await statusOf(
        'unhashable.ts',
        [
          "import { TaskGenerator } from 'jug';",
          'const f = TaskGenerator(function takesTwo(a: unknown, b: unknown): number { return 1; });',
          'export const ok = f(1, 2);',
          'export const bad = f(1, Symbol("nope"));',
          '',
        ].join('\n'),
      );
      expectCode(r, 1);
      assert.match(r.stderr, /unhashable\.takesTwo/);
      assert.match(r.stderr, /argument 2\b/);
    });
  });

  test('a failing task: exit 1; name, hash and stack; --keep-going; --keep-failed', async (t) => {
    const jugfile = join(FIXTURES, 'failing.ts');
    const firstDir = join(tmp, 'failing-first.jugdata');
    const jugdir = join(tmp, 'failing.jugdata');
    const args = [jugfile, '--jugdir', jugdir];

    let reportedHash = '';
    let first: RunResult | undefined;
    await t.test('without --keep-going: exit 1, the task name, its hash and the stack', async () => {
      const r = (first = await runJug(['execute', jugfile, '--jugdir', firstDir]));
      expectCode(r, 1);
      assert.match(r.stderr, /failing\.boom/);
      const m = /\b([0-9a-f]{40})\b/.exec(r.stderr);
      assert.ok(m, `stderr should show the 40-hex hash:\n${r.stderr}`);
      reportedHash = m[1]!;
      assert.match(r.stderr, /Error: kaboom-marker/);
      assert.match(r.stderr, /failing\.ts:8:\d+/, 'the stack points into the jugfile');
      assert.deepEqual(row(r.stdout, 'failing.boom')?.slice(2), [1], 'boom is counted as Failed');
      assert.deepEqual(row(r.stdout, 'failing.inc'), [0, 0, 0]);
      assert.ok(!storedHashes(firstDir).includes(reportedHash));
      assert.deepEqual(entries(join(firstDir, 'locks')), [], 'the lock is released');
    });

    await t.test(
      'without --keep-going: no task starts after the failure',
      () => {
        assert.ok(first);
        assert.deepEqual(row(first.stdout, 'failing.ok'), [0, 0, 0], show(first));
        assert.equal(storedHashes(firstDir).length, 0);
      },
    );

    await t.test('--keep-going: independent tasks run, dependants do not', async () => {
      const r = await runJug(['execute', '--keep-going', ...args]);
      expectCode(r, 1);
      assert.deepEqual(row(r.stdout, 'failing.ok'), [3, 0, 0]);
      assert.deepEqual(row(r.stdout, 'failing.inc'), [0, 0, 0]);
      assert.deepEqual(row(r.stdout, 'failing.boom'), [0, 0, 1]);
      assert.equal(storedHashes(jugdir).length, 3);
      assert.ok(!storedHashes(jugdir).includes(reportedHash));
      assert.match(r.stderr, /kaboom-marker/);
      assert.match(r.stderr, /1 task\(s\) depending on failed tasks were not run/);
    });

    await t.test('--keep-failed: the lock stays, marked failed (mtime 1 s after the epoch)', async () => {
      const r = await runJug(['execute', '--keep-failed', ...args]);
      expectCode(r, 1);
      const locks = entries(join(jugdir, 'locks'));
      assert.deepEqual(locks, [`${reportedHash}.lock`], 'the lock is the failed task’s, named by the reported hash');
      const st = statSync(join(jugdir, 'locks', locks[0]!));
      assert.equal(Math.floor(st.mtimeMs / 1000), 1);
    });

    await t.test('status shows the task under Failed', async () => {
      const r = await runJug(['status', ...args]);
      expectCode(r, 0);
      assert.deepEqual(row(r.stdout, 'failing.boom'), [0, 0, 0, 0, 1]);
      assert.deepEqual(row(r.stdout, 'failing.inc'), [1, 0, 0, 0, 0]);
      assert.deepEqual(row(r.stdout, 'failing.ok'), [0, 0, 3, 0, 0]);
      const short = await runJug(['status', '--short', ...args]);
      assert.match(short.stdout, /1 failed/);
      expectCode(await runJug(['check', ...args]), 1);
    });

    await t.test('execute again: the kept failure is reported at once, not waited on', async () => {
      const r = await runJug(['execute', ...args], { timeoutMs: 20_000 });
      expectCode(r, 1);
      assert.match(r.stderr, /failing\.boom failed earlier \(hash [0-9a-f]{40}, [^)]*\); its lock is kept marked failed/);
      assert.match(r.stderr, /`jug execute --retry-failed --target [0-9a-f]{12}`/, 'the hint retries exactly that task');
      assert.doesNotMatch(r.stderr, /invalidate/, 'no hint that would remove good results');
      assert.deepEqual(entries(join(jugdir, 'locks')), [`${reportedHash}.lock`], 'the failure mark stays');
    });
  });

  test('--target runs only matching tasks and their dependencies', async () => {
    const jugdir = join(tmp, 'target.jugdata');
    const output = join(tmp, 'target-output.txt');
    const jugfile = join(ROOT, 'examples', 'primes.ts');
    const opts = { env: { PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: output } };
    const r = await runJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'countPrimes'], opts);
    expectCode(r, 0);
    assert.deepEqual(row(r.stdout, 'primes.isPrime'), [99, 0]);
    assert.deepEqual(row(r.stdout, 'primes.countPrimes'), [1, 0]);
    assert.deepEqual(row(r.stdout, 'primes.writeOutput'), [0, 0]);
    assert.equal(storedHashes(jugdir).length, 100);
    assert.equal(existsSync(output), false, 'writeOutput was not targeted');

    const none = await runJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'noSuchTask'], opts);
    assert.notEqual(none.code, 0, show(none));
    assert.match(none.stderr, /noSuchTask/);
    for (const n of ['primes.countPrimes', 'primes.isPrime', 'primes.writeOutput']) assert.ok(none.stderr.includes(n), none.stderr);
    assert.equal(storedHashes(jugdir).length, 100);
  });

  test('a jugfile importing a local .ts module and an npm package', async () => {
    const jugfile = join(FIXTURES, 'uses-helper.ts');
    const jugdir = join(tmp, 'uses-helper.jugdata');
    const r = await runJug(['execute', jugfile, '--jugdir', jugdir]);
    expectCode(r, 0);
    assert.deepEqual(row(r.stdout, 'uses-helper.tripled'), [3, 0]);
    const res = await readResults(jugfile, jugdir, ['results', 'named']);
    assert.deepEqual(res.values, { results: [3, 6, 9], named: 'jug-fixture / hello from helper-lib' });
  });

  test('JUG_LOADER=tsx: a jugfile importing a local .ts module and an npm package', async () => {
    const jugfile = join(FIXTURES, 'uses-helper.ts');
    const jugdir = join(tmp, 'uses-helper-tsx.jugdata');
    const env = { JUG_LOADER: 'tsx' };
    const r = await runJug(['execute', jugfile, '--jugdir', jugdir], { env });
    expectCode(r, 0);
    assert.deepEqual(row(r.stdout, 'uses-helper.tripled'), [3, 0]);
    const res = await readResults(jugfile, jugdir, ['results', 'named'], { env });
    assert.deepEqual(res.values, { results: [3, 6, 9], named: 'jug-fixture / hello from helper-lib' });
  });

  test('async task functions are awaited: the resolved value is stored and passed on', async () => {
    const jugfile = join(FIXTURES, 'async-tasks.ts');
    const jugdir = join(tmp, 'async.jugdata');
    expectCode(await runJug(['execute', jugfile, '--jugdir', jugdir]), 0);
    const res = await readResults(jugfile, jugdir, ['d', 'seen']);
    assert.deepEqual(res.values, { d: { doubled: 42 }, seen: 'value:42' });
  });

  for (const ext of ['js', 'mjs']) {
    test(`a .${ext} jugfile`, async () => {
      const jugfile = join(FIXTURES, `plain.${ext}`);
      const jugdir = join(tmp, `plain-${ext}.jugdata`);
      const r = await runJug(['execute', jugfile, '--jugdir', jugdir]);
      expectCode(r, 0);
      assert.deepEqual(row(r.stdout, 'plain.square'), [4, 0]);
      assert.deepEqual(row(r.stdout, 'plain.sum'), [1, 0]);
      const st = await runJug(['status', '--short', jugfile, '--jugdir', jugdir]);
      assert.equal(st.stdout, 'All tasks complete (5 tasks).\n');
      const res = await readResults(jugfile, jugdir, ['squares', 'total']);
      assert.deepEqual(res.values, { squares: [1, 4, 9, 16], total: 30 });
    });
  }

  test('tasklets: t.get(i) and iterateTask as arguments', async () => {
    const jugfile = join(FIXTURES, 'tasklets.ts');
    const jugdir = join(tmp, 'tasklets.jugdata');
    const r = await runJug(['execute', jugfile, '--jugdir', jugdir]);
    expectCode(r, 0);
    // Tasklets are never stored: 4 tasks (makePair, describePair, double ×2).
    assert.deepEqual(row(r.stdout, 'Total:'), [4, 0]);
    assert.equal(storedHashes(jugdir).length, 4);
    const res = await readResults(jugfile, jugdir, ['pair', 'first', 'described', 'doubled', 'strLength']);
    assert.deepEqual(res.values, { pair: [3, 'xxx'], first: 3, described: '3:xxx', doubled: 6, strLength: 6 });
  });
});
