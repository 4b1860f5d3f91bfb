/**
 * The bad-input catalogue of docs/reliability.md, through the real CLI: each case gives a clear
 * message naming the thing and the fix, a non-zero exit, and loses nothing from the store.
 * (Missing jugfile, syntax errors, a jugfile throwing at import, anonymous functions, duplicate
 * names, unhashable arguments, unknown subcommands and options, --target matching nothing are in
 * cli.test.ts; a second Ctrl-C with threads in threads.test.ts.)
 *
 * The read-only and full-disk cases mount a tmpfs, which needs root; they are skipped, saying so,
 * where mounting is not possible.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { decodeResult } from '../src/store/encode.js';
import {
  FIXTURES,
  entries,
  makeTempDir,
  parseTable,
  removeTempDir,
  runJug,
  runNode,
  show,
  startJug,
  storedHashes,
  waitFor,
  type RunResult,
} from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('bad-input');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

function row(stdout: string, name: string): number[] | undefined {
  return parseTable(stdout).rows.get(name);
}

/** A small DAG: three squares and their sum (value 1 + 4 + 9 = 14). */
const CHAIN = `import { TaskGenerator } from 'jug';
export const sq = TaskGenerator(function sq(x: number): number { return x * x; });
export const sum = TaskGenerator(function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); });
export const xs = [1, 2, 3].map(sq);
export const total = sum(xs);
`;

/** A fresh directory with `name` holding `source`; returns the jugfile path. */
function jugfileIn(dir: string, name: string, source: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), source);
  return join(dir, name);
}

/** The path of a task's result file. */
const resultFile = (jugdir: string, hash: string): string => join(jugdir, hash.slice(0, 2), hash.slice(2));

/** How many stored results decode (throws on the first that does not). */
function decodeAll(jugdir: string): number {
  const hashes = storedHashes(jugdir);
  for (const h of hashes) decodeResult(readFileSync(resultFile(jugdir, h)), resultFile(jugdir, h));
  return hashes.length;
}

/** value(exports[name]) from a plain Node script: the value or the error's name, message and path. */
async function valueOrError(
  jugfile: string,
  jugdir: string,
  name: string,
): Promise<{ value?: unknown; error?: { name: string; message: string; path?: string } }> {
  const r = await runNode([join(FIXTURES, 'value-or-error.mjs'), jugfile, jugdir, name]);
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout) as { value?: unknown; error?: { name: string; message: string; path?: string } };
}

/** Hashes of a jugfile's exported tasks, from a plain Node script. */
async function hashesOf(jugfile: string, jugdir: string, names: string[]): Promise<Record<string, string | string[]>> {
  const script =
    "import { init } from 'jug';\n" +
    'const [jugfile, jugdir, ...names] = process.argv.slice(1);\n' +
    'const { exports } = await init(jugfile, { jugdir });\n' +
    'const h = (x) => (Array.isArray(x) ? x.map(h) : x.hash());\n' +
    'console.log(JSON.stringify(Object.fromEntries(names.map((n) => [n, h(exports[n])]))));\n';
  const r = await runNode(['--input-type=module', '-e', script, jugfile, jugdir, ...names]);
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout) as Record<string, string | string[]>;
}

/** Mounts a tmpfs at `dir` (created); a string says why it cannot be done here. */
function mountTmpfs(dir: string, options: string): true | string {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (tests run as another user)';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed here: ${(r.stderr || String(r.error)).trim()}`;
  return true;
}

function remount(dir: string, options: string): void {
  const r = spawnSync('mount', ['-o', `remount,${options}`, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `remount ${options} ${dir}: ${r.stderr}`);
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}

describe('bad input', { concurrency: 3 }, () => {
  test('unserializable result: names the task and what can be stored; other results kept', async () => {
    const dir = join(tmp, 'unserializable');
    const jugfile = jugfileIn(
      dir,
      'unser.ts',
      `import { TaskGenerator } from 'jug';
export const double = TaskGenerator(function double(x: number): number { return 2 * x; });
export const makeFn = TaskGenerator(function makeFn(x: number) { return () => x; });
export const two = double(1);
export const fn = makeFn(two);
`,
    );
    const jugdir = join(dir, 'unser.jugdata');
    const r = await runJug(['execute', jugfile]);
    expectCode(r, 1);
    assert.match(r.stderr, /task unser\.makeFn failed/);
    assert.match(r.stderr, /The result of task 'unser\.makeFn' cannot be stored: it is a function\. Results must be structured-clonable data/);
    assert.doesNotMatch(r.stderr, /at encodeResult|file-store/, 'no stack of jug internals');
    assert.deepEqual(row(r.stdout, 'unser.makeFn'), [0, 0, 1]);
    assert.equal(storedHashes(jugdir).length, 1, 'the result of double(1) is kept');
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    assert.deepEqual(entries(join(jugdir, 'tempfiles')), []);
  });

  for (const threads of [undefined, '2']) {
    test(`unserializable part of a result: the error names where it is (.scale, [3].fn)${threads ? ', --threads ' + threads : ''}`, async () => {
      const dir = join(tmp, `unserializable-path-${threads ?? 1}`);
      const jugfile = jugfileIn(
        dir,
        'upath.ts',
        `import { TaskGenerator } from 'jug';
export const model = TaskGenerator(function model(n: number) { return { n, scale: (x: number) => x * n }; });
export const rows = TaskGenerator(function rows(n: number) { return [1, 2, 3, { n, fn: () => n }]; });
export const a = model(2);
export const b = rows(1);
`,
      );
      const r = await runJug(['execute', '--keep-going', jugfile, ...(threads ? ['--threads', threads] : [])]);
      expectCode(r, 1);
      assert.match(r.stderr, /The result of task 'upath\.model' cannot be stored at \.scale: it is a function/, show(r));
      assert.match(r.stderr, /The result of task 'upath\.rows' cannot be stored at \[3\]\.fn: it is a function/, show(r));
      assert.deepEqual(entries(join(dir, 'upath.jugdata', 'locks')), []);
    });
  }

  describe('corrupt results', { concurrency: 2 }, () => {
    const damages: [string, (b: Buffer) => Buffer, RegExp][] = [
      ['zero-length', () => Buffer.alloc(0), /the file is empty/],
      ['truncated', (b) => b.subarray(0, b.length - 2), /the header says \d+ payload bytes but the file holds \d+/],
      [
        'bit-flipped',
        (b) => {
          const c = Buffer.from(b);
          c[c.length - 1]! ^= 0x04;
          return c;
        },
        /checksum mismatch/,
      ],
    ];
    for (const [kind, damage, reason] of damages) {
      for (const threads of kind === 'bit-flipped' ? [false, true] : [false]) {
        test(`${kind}${threads ? ' (--threads 2)' : ''}: value() raises CorruptResultError naming task and path; execute moves it aside and recomputes it with a warning`, async () => {
          const dir = join(tmp, `corrupt-${kind}${threads ? '-threads' : ''}`);
          const jugfile = jugfileIn(dir, 'chain.ts', CHAIN);
          const jugdir = join(dir, 'chain.jugdata');
          expectCode(await runJug(['execute', jugfile]), 0);
          const h = await hashesOf(jugfile, jugdir, ['xs', 'total']);
          const victim = (h['xs'] as string[])[1]!;
          const file = resultFile(jugdir, victim);
          const damaged = damage(readFileSync(file));
          writeFileSync(file, damaged);

          // value(): a clear error, never a value.
          const v = await valueOrError(jugfile, jugdir, 'xs');
          assert.equal(v.value, undefined);
          assert.equal(v.error?.name, 'CorruptResultError');
          assert.equal(v.error?.path, file);
          assert.ok(v.error?.message.includes(`Corrupt result of task 'chain.sq' at ${file}`), v.error?.message);
          assert.match(v.error!.message, reason);
          assert.match(v.error!.message, /delete the file and run `jug execute` to recompute it/);

          // execute: the dependant finds it corrupt; it is moved aside and recomputed.
          rmSync(resultFile(jugdir, h['total'] as string));
          const args = ['execute', jugfile, ...(threads ? ['--threads', '2'] : [])];
          const r = await runJug(args);
          expectCode(r, 0);
          const warning = new RegExp(
            `^jug: warning: the stored result of task chain\\.sq \\(hash ${victim}\\) at ${file.replaceAll('.', '\\.')} is corrupt: ` +
              `${reason.source}\\. Recomputing it \\(the damaged file is kept as ${join(jugdir, 'corrupt')}/${victim}\\.[^)]+\\)\\.$`,
            'm',
          );
          assert.match(r.stderr, warning);
          assert.deepEqual(row(r.stdout, 'chain.sq'), [1, 2]);
          assert.deepEqual(row(r.stdout, 'chain.sum'), [1, 0]);
          const aside = entries(join(jugdir, 'corrupt'));
          assert.equal(aside.length, 1);
          assert.ok(readFileSync(join(jugdir, 'corrupt', aside[0]!)).equals(damaged), 'the damaged file is kept as it was');
          assert.deepEqual(await valueOrError(jugfile, jugdir, 'total'), { value: 14 });
          assert.equal(decodeAll(jugdir), 4);
          assert.deepEqual(entries(join(jugdir, 'locks')), []);
        });
      }
    }
  });

  test('a corrupt result the jugfile reads while loading (bvalue): execute moves it aside and recomputes it', async () => {
    const dir = join(tmp, 'corrupt-bvalue');
    const jugfile = jugfileIn(
      dir,
      'stages.ts',
      `import { TaskGenerator, bvalue } from 'jug';
export const sq = TaskGenerator(function sq(x: number): number { return x * x; });
export const sum = TaskGenerator(function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); });
export const total = sum([1, 2, 3].map((x) => sq(x)));
export const last = sq(await bvalue(total));
`,
    );
    const jugdir = join(dir, 'stages.jugdata');
    expectCode(await runJug(['execute', jugfile, '-q']), 0);
    const { total } = await hashesOf(jugfile, jugdir, ['total']);
    writeFileSync(resultFile(jugdir, total as string), 'garbage');
    const st = await runJug(['status', jugfile]);
    expectCode(st, 1); // read-only commands report it, with the file and the fix
    assert.match(st.stderr, /Corrupt result of task 'stages\.sum'/);
    const r = await runJug(['execute', jugfile, '--short']);
    expectCode(r, 0);
    assert.match(r.stderr, /warning: the stored result of task stages\.sum \(hash [0-9a-f]+\) that the jugfile reads while loading is corrupt/);
    assert.match(r.stdout, /Executed:  1 tasks/, show(r));
    assert.equal(entries(join(jugdir, 'corrupt')).length, 1);
    assert.deepEqual(await valueOrError(jugfile, jugdir, 'last'), { value: 196 });
    expectCode(await runJug(['check', jugfile]), 0);
  });

  test('jugdir that is a file: names it and the fix; the file is untouched', async () => {
    const dir = join(tmp, 'jugdir-file');
    const jugfile = jugfileIn(dir, 'chain.ts', CHAIN);
    const notADir = join(dir, 'results');
    writeFileSync(notADir, 'my notes\n');
    const r = await runJug(['execute', jugfile, '--jugdir', notADir]);
    expectCode(r, 1);
    assert.ok(r.stderr.includes(`Is the jugdir '${notADir}' (or a parent) a file? Use --jugdir to choose another.`), show(r));
    assert.equal(readFileSync(notADir, 'utf8'), 'my notes\n');
    const st = await runJug(['status', jugfile, '--jugdir', notADir]);
    expectCode(st, 1);
    assert.ok(st.stderr.includes(`Is the jugdir '${notADir}' (or a parent) a file?`), show(st));
  });

  test('read-only jugdir (read-only tmpfs): names it and the fix; stored results kept and readable', async (t) => {
    const mnt = join(tmp, 'ro-mount');
    const mounted = mountTmpfs(mnt, 'size=4m');
    if (mounted !== true) return t.skip(mounted);
    try {
      const jugfile = jugfileIn(join(tmp, 'ro'), 'chain.ts', CHAIN);
      const jugdir = join(mnt, 'chain.jugdata');
      expectCode(await runJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'sq']), 0);
      assert.equal(storedHashes(jugdir).length, 3);
      remount(mnt, 'ro');
      const r = await runJug(['execute', jugfile, '--jugdir', jugdir]);
      expectCode(r, 1);
      assert.match(r.stderr, /EROFS: read-only file system/);
      assert.ok(r.stderr.includes(`The jugdir '${jugdir}' is on a read-only filesystem: use --jugdir to choose a writable one.`), show(r));
      assert.deepEqual(row(r.stdout, 'chain.sq'), [0, 3, 0], 'stored results are loaded');
      const st = await runJug(['status', jugfile, '--jugdir', jugdir]);
      expectCode(st, 0);
      assert.deepEqual(row(st.stdout, 'chain.sq'), [0, 0, 3, 0, 0]);
      assert.deepEqual(await valueOrError(jugfile, jugdir, 'xs'), { value: [1, 4, 9] });
      // A new jugdir on the read-only filesystem.
      const fresh = await runJug(['execute', jugfile, '--jugdir', join(mnt, 'new.jugdata')]);
      expectCode(fresh, 1);
      assert.match(fresh.stderr, /read-only filesystem: use --jugdir/);
    } finally {
      unmount(mnt);
    }
  });

  test('--lock-lease must be 0 or at least 10 s (a shorter one would take over live locks of other hosts)', async () => {
    const jugfile = jugfileIn(join(tmp, 'lease'), 'chain.ts', CHAIN);
    for (const bad of ['0.5', '5']) {
      const r = await runJug(['status', jugfile, '--lock-lease', bad]);
      expectCode(r, 2);
      assert.match(r.stderr, new RegExp(`expected 0 \\(never\\) or at least 10 seconds, got '${bad.replace('.', '\\.')}'`), show(r));
    }
    for (const ok of ['0', '10', '3600']) expectCode(await runJug(['status', jugfile, '--lock-lease', ok]), 0);
    // sleep-until --poll beyond a day (a timer overflowed to 1 ms: a busy loop) is a usage error too.
    const poll = await runJug(['sleep-until', jugfile, '--poll', '1e7']);
    expectCode(poll, 2);
    assert.match(poll.stderr, /expected a number from 0\.01 to 86400, got '1e7'/, show(poll));
  });

  test('a stale lock that cannot be reclaimed on a full disk is an error (exit 1), not an endless wait', async (t) => {
    const mnt = join(tmp, 'full-reclaim');
    const mounted = mountTmpfs(mnt, 'size=256k');
    if (mounted !== true) return t.skip(mounted);
    try {
      const jugfile = jugfileIn(join(tmp, 'full-reclaim-src'), 'chain.ts', CHAIN);
      const jugdir = join(mnt, 'chain.jugdata');
      const { xs } = await hashesOf(jugfile, jugdir, ['xs']);
      mkdirSync(join(jugdir, 'locks'), { recursive: true });
      const dead = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has exited
      writeFileSync(join(jugdir, 'locks', `${(xs as string[])[0]}.lock`), `PID ${dead} on HOSTNAME ${hostname()}\nLock created on 2026-01-01 (10h00.00)\n`);
      assert.throws(() => writeFileSync(join(mnt, 'filler'), Buffer.alloc(1 << 20)), /ENOSPC/); // the disk is now full
      const r = await runJug(['execute', jugfile, '--jugdir', jugdir, '--keep-going', '--nr-wait-cycles', '5', '--wait-cycle-time', '1'], { timeoutMs: 60_000 });
      expectCode(r, 1);
      assert.match(r.stderr, /Could not reclaim the stale lock .*\.lock \(its holder is gone\).*The disk is full/s, show(r));
      const c = await runJug(['cleanup', jugfile, '--jugdir', jugdir, '--stale']);
      expectCode(c, 1);
      assert.match(c.stderr, /The disk is full/, show(c));
      rmSync(join(mnt, 'filler'), { force: true });
      expectCode(await runJug(['execute', jugfile, '--jugdir', jugdir]), 0);
      assert.deepEqual(entries(join(jugdir, 'locks')), []);
    } finally {
      unmount(mnt);
    }
  });

  test('full disk (small tmpfs): "disk is full", no partial result, no lock or temp file left; resumes once there is space', async (t) => {
    const mnt = join(tmp, 'full-mount');
    const mounted = mountTmpfs(mnt, 'size=320k');
    if (mounted !== true) return t.skip(mounted);
    try {
      // Ten 64 KiB results of noise (not compressible): only some fit.
      const jugfile = jugfileIn(
        join(tmp, 'full'),
        'noise.ts',
        `import { TaskGenerator } from 'jug';
export const noise = TaskGenerator(function noise(seed: number): Float64Array {
  const a = new Float64Array(8192);
  let s = seed + 1;
  for (let i = 0; i < a.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 4294967296; }
  return a;
});
export const all = Array.from({ length: 10 }, (_, i) => noise(i));
`,
      );
      const jugdir = join(mnt, 'noise.jugdata');
      const r = await runJug(['execute', jugfile, '--jugdir', jugdir, '--keep-going']);
      expectCode(r, 1);
      assert.match(r.stderr, /Could not write the result of task 'noise\.noise' to .*: ENOSPC: no space left on device.*The disk is full: free space and run again; nothing was lost\./);
      const stored = decodeAll(jugdir);
      assert.ok(stored > 0 && stored < 10, `${stored} results stored`);
      assert.deepEqual(entries(join(jugdir, 'locks')), []);
      assert.deepEqual(entries(join(jugdir, 'tempfiles')), []);

      // Completely full: not even a lock can be written. No empty lock may stay behind.
      spawnSync('sh', ['-c', `cat /dev/zero > ${join(mnt, 'filler')}`]);
      const r2 = await runJug(['execute', jugfile, '--jugdir', jugdir]);
      expectCode(r2, 1);
      assert.match(r2.stderr, /ENOSPC/);
      assert.match(r2.stderr, /The disk is full: free space and run again; nothing was lost\./);
      assert.deepEqual(entries(join(jugdir, 'locks')), [], 'a lock left empty by the full disk');
      assert.equal(decodeAll(jugdir), stored);

      // Space again: the next run loads what was stored and computes the rest, without waiting.
      rmSync(join(mnt, 'filler'));
      remount(mnt, 'size=4m');
      const r3 = await runJug(['execute', jugfile, '--jugdir', jugdir, '--nr-wait-cycles', '2', '--wait-cycle-time', '0.1']);
      expectCode(r3, 0);
      assert.deepEqual(row(r3.stdout, 'noise.noise'), [10 - stored, stored]);
      assert.equal(decodeAll(jugdir), 10);
    } finally {
      unmount(mnt);
    }
  });

  test('bad --threads values: exit 2, names the option, the value and what is expected', async () => {
    const jugfile = join(FIXTURES, 'small.ts');
    for (const bad of ['0', '-1', '1.5', 'abc', '']) {
      const r = await runJug(['execute', jugfile, '--jugdir', join(tmp, 'threads.jugdata'), '--threads', bad]);
      expectCode(r, 2);
      assert.ok(
        r.stderr.includes(`option '-j, --threads <n>' argument '${bad}' is invalid. expected an integer from 1 to 1024, or auto, got '${bad}'.`),
        show(r),
      );
      assert.equal(existsSync(join(tmp, 'threads.jugdata')), false);
    }
  });

  test('Ctrl-C (SIGINT) mid-run, serial: exit 130, says how to resume, locks released, results whole; a new run resumes', async () => {
    const dir = join(tmp, 'sigint');
    mkdirSync(dir);
    const jugdir = join(dir, 'many.jugdata');
    const side = join(dir, 'side.txt');
    const env = { JUG_N: '300', JUG_DELAY_MS: '20', JUG_SIDE_FILE: side };
    const args = ['execute', join(FIXTURES, 'many.ts'), '--jugdir', jugdir];
    const run = startJug(args, { env });
    const lines = (): number => (existsSync(side) ? readFileSync(side, 'utf8').split('\n').length - 1 : 0);
    assert.ok(await waitFor(() => lines() >= 20, 30_000), 'tasks should start');
    run.child.kill('SIGINT');
    const r = await run.done;
    expectCode(r, 130);
    assert.match(r.stderr, /SIGINT received: finishing running tasks, then stopping/);
    assert.match(r.stderr, /stopped by SIGINT; run `jug execute` again to resume/);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    const stored = decodeAll(jugdir);
    assert.ok(stored >= 20 && stored < 301, `${stored} stored`);
    assert.equal(lines(), stored, 'every task that ran has its result stored');

    const again = await runJug(args, { env: { ...env, JUG_DELAY_MS: '0' } });
    expectCode(again, 0);
    assert.deepEqual(row(again.stdout, 'Total:'), [301 - stored, stored]);
    assert.deepEqual(readdirSync(join(jugdir, 'tempfiles')), []);
  });

  test('--target matching nothing: exit 2, lists the task names, store untouched', async () => {
    const dir = join(tmp, 'target');
    const jugfile = jugfileIn(dir, 'chain.ts', CHAIN);
    const jugdir = join(dir, 'chain.jugdata');
    expectCode(await runJug(['execute', jugfile, '--target', 'sq']), 0);
    const r = await runJug(['execute', jugfile, '--target', 'nope']);
    expectCode(r, 2);
    assert.ok(r.stderr.includes("jug: --target 'nope' matches no task. Task names are: chain.sq, chain.sum."), show(r));
    assert.equal(storedHashes(jugdir).length, 3);
  });

  test('two `jug cleanup` racing a running execute: no lock of a running task removed, nothing run twice or lost', async () => {
    const dir = join(tmp, 'cleanup-race');
    const log = join(dir, 'ran.log');
    const n = 150;
    const jugfile = jugfileIn(
      dir,
      'race.ts',
      `import { appendFileSync } from 'node:fs';
import { TaskGenerator } from 'jug';
export const work = TaskGenerator(async function work(i: number): Promise<number> {
  appendFileSync(${JSON.stringify(log)}, i + '\\n');
  await new Promise((r) => setTimeout(r, 15));
  return i * 3;
});
export const all = Array.from({ length: ${n} }, (_, i) => work(i));
`,
    );
    const jugdir = join(dir, 'race.jugdata');
    const execs = [startJug(['execute', jugfile, '-q']), startJug(['execute', jugfile, '-q', '--threads', '2'])];
    // Wait until tasks run, then race two cleaners, over and over, while the executes work.
    assert.ok(await waitFor(() => existsSync(log), 30_000), 'the executes started');
    const cleanups: RunResult[] = [];
    let running = true;
    void Promise.all(execs.map((e) => e.done)).then(() => (running = false));
    while (running) {
      cleanups.push(...(await Promise.all([runJug(['cleanup', jugfile]), runJug(['cleanup', jugfile, '--locks-only'])])));
    }
    for (const e of await Promise.all(execs.map((x) => x.done))) expectCode(e, 0);
    assert.ok(cleanups.length >= 2, 'cleanups ran during the execute');
    for (const c of cleanups) expectCode(c, 0);
    // Each task ran exactly once: no cleanup removed a running task's lock (which would let the other
    // execute run it too) or a stored result.
    const ran = readFileSync(log, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    assert.deepEqual(ran, Array.from({ length: n }, (_, i) => i));
    assert.equal(storedHashes(jugdir).length, n);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    expectCode(await runJug(['check', jugfile]), 0);
  });
});
