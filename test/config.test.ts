/**
 * Configuration files (src/cli/config.ts): INI parsing, booleans, which files apply, and the
 * precedence command line > closest file > farther file > user file > defaults, on a commander
 * program shaped like jug's. The real CLI reading them is tested in exit-hooks-cli.test.ts, and
 * here for `jugfile = …` (which jugfile a command loads when none is named).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../src/errors.js';
import { applyConfig, findConfigFiles, loadConfig, parseBoolean, parseConfig } from '../src/cli/config.js';
import { makeTempDir, removeTempDir, runJug, show } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('config');
});
after(() => removeTempDir(tmp));

describe('parsing', () => {
  test('sections, keys (lower-cased, underscores as dashes), both separators, comments, quotes', () => {
    const f = parseConfig(
      '\uFEFF# comment\n[Main]  # all commands\nJugdir = a.jugdata ; inline\n; another\n\n[execute]\nwait_cycle_time: 23\ntarget = "primes #1" # quoted\nshort = yes#not-a-comment\n',
      'rc',
    );
    assert.deepEqual(
      f.entries.map((e) => [e.line, e.section, e.key, e.value]),
      [
        [3, 'main', 'jugdir', 'a.jugdata'],
        [7, 'execute', 'wait-cycle-time', '23'],
        [8, 'execute', 'target', 'primes #1'],
        [9, 'execute', 'short', 'yes#not-a-comment'],
      ],
    );
  });

  test('lines it cannot read are usage errors naming file and line', () => {
    assert.throws(() => parseConfig('[main]\nshort\n', '/x/.jugrc'), (e: Error) => e instanceof UsageError && /^\/x\/\.jugrc:2: cannot read 'short'/.test(e.message));
    assert.throws(() => parseConfig('short = true\n', 'rc'), /rc:1: 'short = true' comes before any section; put it under \[main\]/);
    assert.throws(() => parseConfig('[main]\njugdir = a\n  continued\n', 'rc'), /rc:3: cannot read/);
  });

  test('booleans: yes/no/on/off/true/false/1/0, any case; "no" is false (Python Jug bug §7.18)', () => {
    for (const v of ['1', 'true', 'Yes', 'ON', ' true ']) assert.equal(parseBoolean(v), true, v);
    for (const v of ['0', 'false', 'no', 'NO', 'off', 'Off']) assert.equal(parseBoolean(v), false, v);
    for (const v of ['', 'maybe', '2']) assert.throws(() => parseBoolean(v), InvalidArgumentError, v);
  });
});

describe('which files', () => {
  test('inside a git repository: .jugrc then jugrc from the cwd up to the git root, then the user file', () => {
    const root = join(tmp, 'repo');
    const sub = join(root, 'a', 'b');
    mkdirSync(join(root, '.git'), { recursive: true });
    mkdirSync(sub, { recursive: true });
    const home = join(tmp, 'home');
    mkdirSync(join(home, '.config', 'jug'), { recursive: true });
    for (const f of [join(sub, 'jugrc'), join(sub, '.jugrc'), join(root, 'a', 'jugrc'), join(root, '.jugrc'), join(home, '.config', 'jug', 'jugrc'), join(tmp, '.jugrc')]) {
      writeFileSync(f, '[main]\n');
    }
    mkdirSync(join(root, 'a', '.jugrc')); // a directory is not a configuration file
    assert.deepEqual(findConfigFiles(sub, { HOME: home }), [
      join(sub, '.jugrc'),
      join(sub, 'jugrc'),
      join(root, 'a', 'jugrc'),
      join(root, '.jugrc'),
      join(home, '.config', 'jug', 'jugrc'),
    ]);
    // $XDG_CONFIG_HOME replaces ~/.config; a .git *file* (worktree, submodule) marks a root too.
    const xdg = join(tmp, 'xdg');
    mkdirSync(join(xdg, 'jug'), { recursive: true });
    writeFileSync(join(xdg, 'jug', 'jugrc'), '');
    writeFileSync(join(root, 'a', '.git'), 'gitdir: elsewhere\n');
    assert.deepEqual(findConfigFiles(sub, { HOME: home, XDG_CONFIG_HOME: xdg }), [
      join(sub, '.jugrc'),
      join(sub, 'jugrc'),
      join(root, 'a', 'jugrc'),
      join(xdg, 'jug', 'jugrc'),
    ]);
  });

  test('outside a git repository only the current directory is searched', () => {
    const dir = join(tmp, 'nogit', 'inner');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'jugrc'), '[main]\n');
    writeFileSync(join(tmp, 'nogit', 'jugrc'), '[main]\n');
    // test/.tmp is inside this repository's checkout, so use / as the "outside" case: no .git in /.
    const files = findConfigFiles('/', {});
    assert.ok(files.every((f) => f.startsWith('/.jugrc') || f.startsWith('/jugrc')), files.join());
  });
});

/** A program shaped like jug's: common options, an execute command with typed options. */
function program(): { prog: Command; execute: Command; status: Command } {
  const positive = (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected an integer ≥ 1, got '${v}'.`);
    return n;
  };
  const prog = new Command('jug').exitOverride();
  const execute = prog
    .command('execute')
    .option('--jugdir <dir>')
    .option('--keep-going')
    .option('--short')
    .addOption(new Option('--wait-cycle-time <s>').argParser(Number).default(12))
    .addOption(new Option('-j, --threads <n>').argParser(positive))
    .option('--no-check-environment')
    .action(() => {});
  const status = prog.command('status').option('--jugdir <dir>').option('--short').action(() => {});
  return { prog, execute, status };
}

function configure(args: string[], texts: string[], which: 'execute' | 'status' = 'execute'): { opts: Record<string, unknown>; warnings: string[] } {
  const p = program();
  const warnings: string[] = [];
  p.prog.parse([which, ...args], { from: 'user' });
  const cmd = which === 'execute' ? p.execute : p.status;
  applyConfig(p.prog, cmd, texts.map((t, i) => parseConfig(t, `file${i}`)), (m) => warnings.push(m));
  return { opts: cmd.opts(), warnings };
}

describe('applying', () => {
  test('command line > closest file > farther file; [command] beats [main] of the same file; defaults last', () => {
    const near = '[main]\njugdir = near\nshort = no\n[execute]\nwait-cycle-time = 3\n';
    const far = '[execute]\njugdir = far-exec\nkeep-going = yes\nwait-cycle-time = 7\nthreads = 4\n[main]\nthreads = 2\n';
    const user = '[main]\nshort = on\n[execute]\nthreads = 8\n';
    let { opts } = configure([], [near, far, user]);
    assert.deepEqual(opts, { jugdir: 'near', short: false, keepGoing: true, waitCycleTime: 3, threads: 4, checkEnvironment: true });
    ({ opts } = configure(['--jugdir', 'cli', '--wait-cycle-time', '1', '--short'], [near, far, user]));
    assert.deepEqual(opts, { jugdir: 'cli', short: true, keepGoing: true, waitCycleTime: 1, threads: 4, checkEnvironment: true });
    ({ opts } = configure([], []));
    assert.deepEqual(opts, { waitCycleTime: 12, checkEnvironment: true });
    // [main] applies to every command that has the option; other commands' sections don't.
    ({ opts } = configure([], [near, far, user], 'status'));
    assert.deepEqual(opts, { jugdir: 'near', short: false });
  });

  test('negated flags: no-check-environment = true, or check-environment = false', () => {
    assert.equal(configure([], ['[execute]\nno-check-environment = true\n']).opts['checkEnvironment'], false);
    assert.equal(configure([], ['[execute]\ncheck-environment = off\n']).opts['checkEnvironment'], false);
    assert.equal(configure([], ['[execute]\nno-check-environment = no\n']).opts['checkEnvironment'], true);
    assert.equal(configure(['--no-check-environment'], ['[execute]\ncheck-environment = yes\n']).opts['checkEnvironment'], false);
  });

  test('values go through the command-line parsers: a bad one names file, line and key', () => {
    assert.throws(
      () => configure([], ['[main]\n\n[execute]\nthreads = two\n']),
      (e: Error) => e instanceof UsageError && e.message === "file0:4: [execute] threads = two: expected an integer ≥ 1, got 'two'.",
    );
    assert.throws(() => configure([], ['[main]\nshort = perhaps\n']), /file0:2: \[main\] short = perhaps: expected true\/false/);
    // A bad value overridden by the command line is never parsed.
    assert.equal(configure(['-j', '2'], ['[execute]\nthreads = two\n']).opts['threads'], 2);
  });

  test('unknown keys and sections are warnings naming file and line', () => {
    const { warnings, opts } = configure([], ['[main]\nbogus = 1\n[execute]\nshort = 1\nkeep-goin = yes\n[stauts]\nshort = 1\n[status]\nkeep-going = yes\n']);
    assert.deepEqual(warnings, [
      "file0:2: unknown option 'bogus' in [main] (ignored).",
      "file0:5: unknown option 'keep-goin' for jug execute (ignored).",
      'file0:6: unknown section [stauts] (ignored); sections are [main] and one per command: execute, status.',
      "file0:9: unknown option 'keep-going' for jug status (ignored).",
    ]);
    assert.equal(opts['short'], true);
  });

  test('loadConfig reads the files found for a directory', () => {
    const dir = join(tmp, 'load');
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, '.jugrc'), '[execute]\nshort = true\n');
    const files = loadConfig(dir, {});
    assert.equal(files.length, 1);
    assert.equal(files[0]!.entries[0]!.key, 'short');
  });
});

describe('jugfile = … chooses the jugfile when the command line names none (CLI)', () => {
  const JUGFILE = (n: number): string =>
    `import { TaskGenerator } from 'jug';\nconst f = TaskGenerator(function f(x: number): number { return x; });\nexport const t = Array.from({ length: ${n} }, (_, i) => f(i));\n`;
  let root: string;
  let home: string;
  before(() => {
    root = join(tmp, 'cli-jugfile');
    home = join(root, 'home');
    mkdirSync(join(root, 'proj', 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(home, '.config', 'jug'), { recursive: true });
    writeFileSync(join(root, 'proj', 'outer.ts'), JUGFILE(1));
    writeFileSync(join(root, 'proj', 'sub', 'inner.ts'), JUGFILE(2));
    writeFileSync(join(root, 'proj', 'sub', 'other.ts'), JUGFILE(3));
    writeFileSync(join(root, 'proj', 'sub', 'counted.ts'), JUGFILE(4));
    writeFileSync(join(root, 'proj', '.jugrc'), '[main]\njugfile = outer.ts\n');
  });
  /** `jug count` in `dir` (under proj/), with an isolated user file; the task names it counts. */
  async function count(dir: string, args: string[] = []): Promise<{ names: string[]; stderr: string; code: number | null; shown: string }> {
    const r = await runJug(['count', ...args], { cwd: join(root, 'proj', dir), env: { HOME: home, XDG_CONFIG_HOME: undefined } });
    const names = [...r.stdout.matchAll(/^(\w+)\.f +(\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    return { names, stderr: r.stderr, code: r.code, shown: show(r) };
  }

  test('a file names the jugfile, relative to its own directory (also from a subdirectory)', async () => {
    let r = await count('.');
    assert.equal(r.code, 0, r.shown);
    assert.deepEqual(r.names, ['outer 1'], r.shown);
    assert.doesNotMatch(r.stderr, /unknown option/, r.shown);
    writeFileSync(join(root, 'proj', 'sub', 'x.txt'), '');
    r = await count('sub/deeper');
    assert.deepEqual(r.names, ['outer 1'], r.shown);
  });

  test('the closer file wins; the command line wins over every file; [command] beats [main]', async () => {
    writeFileSync(join(root, 'proj', 'sub', 'jugrc'), '[main]\njugfile = inner.ts\n');
    try {
      assert.deepEqual((await count('sub')).names, ['inner 2']);
      assert.deepEqual((await count('sub/deeper')).names, ['inner 2']);
      assert.deepEqual((await count('sub', ['other.ts'])).names, ['other 3']);
      writeFileSync(join(root, 'proj', 'sub', 'jugrc'), '[count]\njugfile = counted.ts\n[main]\njugfile = inner.ts\n');
      const r = await count('sub');
      assert.deepEqual(r.names, ['counted 4'], r.shown);
      assert.doesNotMatch(r.stderr, /unknown option/, r.shown);
    } finally {
      rmSync(join(root, 'proj', 'sub', 'jugrc'));
    }
  });

  test('the user file names a jugfile relative to the current directory', async () => {
    writeFileSync(join(home, '.config', 'jug', 'jugrc'), '[main]\njugfile = other.ts\n');
    try {
      // A project file still beats the user file; without one, the user file applies in the cwd.
      assert.deepEqual((await count('sub')).names, ['outer 1']);
      rmSync(join(root, 'proj', '.jugrc'));
      assert.deepEqual((await count('sub')).names, ['other 3']);
    } finally {
      writeFileSync(join(root, 'proj', '.jugrc'), '[main]\njugfile = outer.ts\n');
      rmSync(join(home, '.config', 'jug', 'jugrc'));
    }
  });

  test('a jugfile that does not exist: exit 2, naming the configuration file and line', async () => {
    writeFileSync(join(root, 'proj', 'sub', '.jugrc'), '# here\n[main]\njugfile = missing.ts\n');
    try {
      const r = await count('sub');
      assert.equal(r.code, 2, r.shown);
      const rc = join(root, 'proj', 'sub', '.jugrc').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(r.stderr, new RegExp(`${rc}:3: \\[main\\] jugfile = missing\\.ts: no such file`), r.shown);
      // Named on the command line, the configured one is not even looked at.
      assert.deepEqual((await count('sub', ['inner.ts'])).names, ['inner 2']);
    } finally {
      rmSync(join(root, 'proj', 'sub', '.jugrc'));
    }
  });
});
