/**
 * End-to-end tests (real `node bin/jug.js`, built in dist/) of hooks, exit checks (environment
 * variables, the stop file, the jugfile's exitAfterNTasks / exitWhenTrue), `--debug`,
 * `--aggressive-unload` and configuration files; serial and `--threads` where it matters.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { entries, makeTempDir, parseTable, removeTempDir, runJug, show, storedHashes, type RunResult, type RunOptions } from './helpers.js';

let tmp: string;
let home: string;
let count = 0;
before(() => {
  tmp = makeTempDir('exit-hooks');
  home = join(tmp, 'home'); // no user configuration file unless a test writes one
  mkdirSync(home);
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

/** A fresh directory holding `jugfile.ts` with `source`. */
function project(label: string, source: string): { dir: string; jugfile: string; jugdir: string } {
  const dir = join(tmp, `${++count}-${label}`);
  mkdirSync(dir);
  const jugfile = join(dir, 'jugfile.ts');
  writeFileSync(jugfile, source);
  return { dir, jugfile, jugdir: join(dir, 'jugfile.jugdata') };
}

/** Runs jug in `dir` with an isolated HOME / XDG_CONFIG_HOME and no JUG_* variables of ours. */
function jug(dir: string, args: string[], env: Record<string, string | undefined> = {}, extra: RunOptions = {}): Promise<RunResult> {
  return runJug(args, {
    cwd: dir,
    ...extra,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: undefined,
      JUG_MAX_TASKS: undefined,
      JUG_MAX_HOURS: undefined,
      JUG_MAX_MINUTES: undefined,
      JUG_MAX_SECONDS: undefined,
      JUG_EXIT_IF_FILE_EXISTS: undefined,
      ...env,
    },
  });
}

/** Total of a column of the summary table. */
function total(stdout: string, column: 'Executed' | 'Loaded' | 'Failed'): number {
  const { columns, rows } = parseTable(stdout);
  return rows.get('Total:')![columns.indexOf(column)]!;
}

/** 12 independent tasks and one that needs them all; tasks sleep a little so runs overlap. */
const TWELVE = `import { TaskGenerator } from 'jug';
export const work = TaskGenerator(async function work(i: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 5));
  return i * i;
});
export const sum = TaskGenerator(function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); });
export const total = sum(Array.from({ length: 12 }, (_, i) => work(i)));
`;

describe('hooks', { concurrency: 2 }, () => {
  const source = `import { TaskGenerator, registerHook } from 'jug';
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
const log = (what: string): void => appendFileSync(process.env.HOOK_LOG!, what + ' ' + threadId + '\\n');
export const work = TaskGenerator(function work(i: number): number { return i + 1; });
export const sum = TaskGenerator(function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); });
export const total = sum(Array.from({ length: 6 }, (_, i) => work(i)));
registerHook('execute.task-pre-execute', (t) => log('pre ' + t.name));
registerHook('execute.task-executed', (t) => log('executed ' + t.name));
registerHook('execute.task-loadable', (t) => log('loadable ' + t.name));
registerHook('execute.finished-pre-status', () => console.log('PRE-STATUS'));
registerHook('execute.finished-post-status', () => console.log('POST-STATUS'));
`;

  for (const threads of [undefined, 2]) {
    test(`task hooks fire once per task in the thread running it; finished hooks around the summary${threads ? ' (--threads 2)' : ''}`, async () => {
      const p = project('hooks', source);
      const logFile = join(p.dir, 'hooks.log');
      const args = ['execute', p.jugfile, '-q', ...(threads ? ['--threads', String(threads)] : [])];
      const r = await jug(p.dir, args, { HOOK_LOG: logFile });
      expectCode(r, 0);
      const lines = readFileSync(logFile, 'utf8').trim().split('\n');
      const pre = lines.filter((l) => l.startsWith('pre '));
      const executed = lines.filter((l) => l.startsWith('executed '));
      assert.equal(pre.length, 7, lines.join('\n'));
      assert.equal(executed.length, 7, lines.join('\n'));
      assert.equal(executed.filter((l) => l.startsWith('executed jugfile.work ')).length, 6);
      const threadIds = new Set(executed.map((l) => Number(l.split(' ').pop())));
      if (threads) assert.ok(!threadIds.has(0), `worker threads run the hooks: ${[...threadIds]}`);
      else assert.deepEqual([...threadIds], [0]);
      // Each task's pre-execute comes before its executed.
      for (const l of executed) assert.ok(lines.indexOf(l.replace('executed', 'pre')) < lines.indexOf(l));
      const out = r.stdout;
      assert.ok(out.indexOf('PRE-STATUS') < out.indexOf('Task name') && out.indexOf('Task name') < out.indexOf('POST-STATUS'), out);

      // Again: everything is stored; the scheduler finds it and fires task-loadable in the main thread.
      writeFileSync(logFile, '');
      const again = await jug(p.dir, args, { HOOK_LOG: logFile });
      expectCode(again, 0);
      const second = readFileSync(logFile, 'utf8').trim().split('\n');
      assert.equal(second.length, 7, second.join('\n'));
      assert.ok(second.every((l) => l.startsWith('loadable ') && l.endsWith(' 0')), second.join('\n'));
    });
  }

  test('a task hook that throws fails the task; a finished hook that throws makes the exit status 1', async () => {
    const p = project(
      'hook-throws',
      `import { TaskGenerator, registerHook } from 'jug';
export const work = TaskGenerator(function work(i: number): number { return i; });
export const a = work(1);
registerHook('execute.task-pre-execute', function veto(t) { if (process.env.VETO) throw new Error('vetoed ' + t.name); });
registerHook('execute.finished-post-status', function after() { if (process.env.AFTER) throw new Error('post failed'); });
`,
    );
    const r = await jug(p.dir, ['execute', p.jugfile, '-q'], { VETO: '1' });
    expectCode(r, 1);
    assert.match(r.stderr, /task jugfile\.work failed/);
    assert.match(r.stderr, /the execute\.task-pre-execute hook 'veto' threw for task jugfile\.work: Error: vetoed jugfile\.work/);
    assert.deepEqual(storedHashes(p.jugdir), []);
    const r2 = await jug(p.dir, ['execute', p.jugfile, '-q'], { AFTER: '1' });
    expectCode(r2, 1);
    assert.match(r2.stderr, /the execute\.finished-post-status hook 'after' threw: Error: post failed/);
    assert.equal(storedHashes(p.jugdir).length, 1);
  });

  test('an unknown hook name fails the jugfile load with the list of known names', async () => {
    const p = project('hook-unknown', `import { registerHook } from 'jug';\nregisterHook('execute.task-done' as never, () => {});\n`);
    const r = await jug(p.dir, ['execute', p.jugfile]);
    expectCode(r, 1);
    assert.match(r.stderr, /'execute\.task-done' is not a known hook name\. Known hooks: execute\.task-loadable, /);
  });
});

describe('exit checks', { concurrency: 2 }, () => {
  for (const threads of [undefined, 2]) {
    const mode = threads ? ' (--threads 2)' : '';
    test(`JUG_MAX_TASKS=3: exactly 3 tasks run, locks released, exit 0; the next run continues${mode}`, async () => {
      const p = project('max-tasks', TWELVE);
      const t = threads ? ['--threads', String(threads)] : [];
      const r = await jug(p.dir, ['execute', p.jugfile, '-q', ...t], { JUG_MAX_TASKS: '3' });
      expectCode(r, 0);
      assert.equal(total(r.stdout, 'Executed'), 3, show(r));
      assert.match(r.stderr, /jug: exit check fired: JUG_MAX_TASKS=3: 3 tasks executed; stopped with 10 task\(s\) not run/);
      assert.equal(storedHashes(p.jugdir).length, 3);
      assert.deepEqual(entries(join(p.jugdir, 'locks')), []);
      const rest = await jug(p.dir, ['execute', p.jugfile, '-q', ...t]);
      expectCode(rest, 0);
      assert.equal(total(rest.stdout, 'Executed'), 10);
      assert.equal(total(rest.stdout, 'Loaded'), 3);
    });

    test(`the stop file stops a run before any task, even with --no-check-environment${mode}`, async () => {
      const p = project('stop-file', TWELVE);
      writeFileSync(join(p.dir, '__jug_please_stop_running.txt'), '');
      const t = threads ? ['--threads', String(threads)] : [];
      const r = await jug(p.dir, ['execute', p.jugfile, '-q', '--no-check-environment', ...t]);
      expectCode(r, 0);
      assert.equal(total(r.stdout, 'Executed'), 0);
      assert.match(r.stderr, /exit check fired: stop file __jug_please_stop_running\.txt exists \(remove it to run again\)/);
      assert.deepEqual(storedHashes(p.jugdir), []);
    });

    test(`a stop file created while the run goes on stops it: no task starts afterwards${mode}`, async () => {
      const p = project(
        'stop-midway',
        `import { TaskGenerator } from 'jug';
import { writeFileSync } from 'node:fs';
export const step = TaskGenerator(async function step(i: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 20));
  if (i === 2) writeFileSync('__jug_please_stop_running.txt', '');
  return i;
});
export const all = Array.from({ length: 30 }, (_, i) => step(i));
`,
      );
      const t = threads ? ['--threads', String(threads)] : [];
      const r = await jug(p.dir, ['execute', p.jugfile, '-q', ...t]);
      expectCode(r, 0);
      const executed = total(r.stdout, 'Executed');
      // Serial: tasks 0, 1 and 2 (which wrote the file). With threads, task 2 may run beside task 0
      // (a thread holds two tasks), so only 2 may have run when the file is seen.
      assert.ok(executed >= (threads ? 2 : 3) && executed < 30, show(r));
      assert.match(r.stderr, /exit check fired: stop file/);
      assert.deepEqual(entries(join(p.jugdir, 'locks')), []);
    });

    test(`the jugfile's exitAfterNTasks(2) counts tasks of all threads; exitWhenTrue runs in the main thread${mode}`, async () => {
      const p = project(
        'api-checks',
        `import { TaskGenerator, exitAfterNTasks, exitWhenTrue } from 'jug';
import { isMainThread } from 'node:worker_threads';
export const work = TaskGenerator(async function work(i: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 20));
  return i;
});
export const all = Array.from({ length: 12 }, (_, i) => work(i));
if (process.env.N) exitAfterNTasks(Number(process.env.N));
let seen = 0;
if (process.env.WHEN) exitWhenTrue(function afterFour(t) {
  if (!isMainThread) throw new Error('predicate called in a worker');
  return t.name === 'jugfile.work' && ++seen >= 4;
});
`,
      );
      const t = threads ? ['--threads', String(threads)] : [];
      const r = await jug(p.dir, ['execute', p.jugfile, '-q', ...t], { N: '2' });
      expectCode(r, 0);
      assert.equal(total(r.stdout, 'Executed'), 2, show(r));
      assert.match(r.stderr, /exit check fired: exitAfterNTasks\(2\): 2 tasks executed/);
      const w = await jug(p.dir, ['execute', p.jugfile, '-q', ...t], { WHEN: '1' });
      expectCode(w, 0);
      const executed = total(w.stdout, 'Executed');
      assert.ok(executed >= 4 && executed < 12, show(w)); // tasks already started when it fired finish
      assert.match(w.stderr, /exit check fired: exitWhenTrue\(afterFour\) returned true after task jugfile\.work/);
    });
  }

  test('without threads, checks apply between two tasks even when short tasks are committed in groups', async () => {
    // A short task creates the stop file / the predicate fires at the 2nd task: Python Jug runs 2.
    const p = project(
      'exact',
      `import { TaskGenerator, exitIfFileExists, exitWhenTrue } from 'jug';
import { writeFileSync } from 'node:fs';
export const w = TaskGenerator(function w(i: number): number {
  if (i === 1 && process.env.FILE) writeFileSync('STOP', '');
  return i;
});
export const xs = Array.from({ length: 2000 }, (_, i) => w(i));
exitIfFileExists('STOP');
let n = 0;
if (process.env.WHEN) exitWhenTrue(function second() { return ++n >= 2; });
`,
    );
    const f = await jug(p.dir, ['execute', p.jugfile, '-q'], { FILE: '1' });
    expectCode(f, 0);
    assert.equal(total(f.stdout, 'Executed'), 2, show(f));
    assert.match(f.stderr, /exit check fired: exitIfFileExists: STOP exists/);
    rmSync(join(p.dir, 'STOP'));
    const w = await jug(p.dir, ['execute', p.jugfile, '-q'], { WHEN: '1' });
    expectCode(w, 0);
    assert.equal(total(w.stdout, 'Executed'), 2, show(w));
    assert.match(w.stderr, /exit check fired: exitWhenTrue\(second\) returned true/);
    assert.deepEqual(entries(join(p.jugdir, 'locks')), []);
  });

  test('JUG_EXIT_IF_FILE_EXISTS and JUG_MAX_SECONDS; --no-check-environment ignores them', async () => {
    const p = project('env-file', TWELVE);
    writeFileSync(join(p.dir, 'halt'), '');
    let r = await jug(p.dir, ['execute', p.jugfile, '-q'], { JUG_EXIT_IF_FILE_EXISTS: 'halt' });
    expectCode(r, 0);
    assert.equal(total(r.stdout, 'Executed'), 0);
    assert.match(r.stderr, /exit check fired: JUG_EXIT_IF_FILE_EXISTS: halt exists/);
    // The deadline (1 ms after start) has passed by the time the jugfile is loaded.
    r = await jug(p.dir, ['execute', p.jugfile, '-q'], { JUG_MAX_SECONDS: '0.001', JUG_MAX_MINUTES: '0' });
    expectCode(r, 0);
    assert.equal(total(r.stdout, 'Executed'), 0);
    assert.match(r.stderr, /exit check fired: JUG_MAX_SECONDS=0\.001: 0\.001s passed/);
    r = await jug(p.dir, ['execute', p.jugfile, '-q', '--no-check-environment'], {
      JUG_EXIT_IF_FILE_EXISTS: 'halt',
      JUG_MAX_SECONDS: '0.001',
      JUG_MAX_TASKS: '1',
    });
    expectCode(r, 0);
    assert.equal(total(r.stdout, 'Executed'), 13);
    assert.doesNotMatch(r.stderr, /exit check/);
  });

  test('a bad value of an exit-check variable is a usage error (exit 2) naming it', async () => {
    const p = project('env-bad', TWELVE);
    const r = await jug(p.dir, ['execute', p.jugfile], { JUG_MAX_TASKS: 'lots' });
    expectCode(r, 2);
    assert.match(r.stderr, /JUG_MAX_TASKS='lots': expected an integer ≥ 0 \(or unset it, or run with --no-check-environment\)/);
  });
});

describe('--debug and task creation', { concurrency: 2 }, () => {
  const source = `import { TaskGenerator } from 'jug';
export const make = TaskGenerator(function make(n: number): number[] { return Array.from({ length: n }, (_, i) => n - i); });
export const sorted = TaskGenerator(function sorted(label: string, xs: number[]): number[] { return xs.sort((a, b) => a - b); });
export const scale = TaskGenerator(function scale(v: Float64Array): number { v[0] = 42; return v.length; });
export const copy = TaskGenerator(function copy(xs: number[]): number[] { return [...xs].sort((a, b) => a - b); });
const base = make(5);
export const bad = sorted('x', base);
export const good = copy(base);
export const worse = scale(new Float64Array([1, 2, 3]));
`;
  for (const threads of [undefined, 2]) {
    const mode = threads ? ' (--threads 2)' : '';
    test(`a task that changes an argument fails, naming it and the argument; its result is not stored${mode}`, async () => {
      const p = project('debug', source);
      const t = threads ? ['--threads', String(threads)] : [];
      const r = await jug(p.dir, ['execute', p.jugfile, '-q', '--debug', '--keep-going', ...t]);
      expectCode(r, 1);
      assert.match(r.stderr, /ArgumentMutatedError: task jugfile\.sorted changed its argument 2 while running \(detected by --debug\); its result was not stored/);
      assert.match(r.stderr, /ArgumentMutatedError: task jugfile\.scale changed its argument 1 while running/);
      assert.equal(total(r.stdout, 'Executed'), 2); // make, copy
      assert.equal(total(r.stdout, 'Failed'), 2);
      assert.equal(storedHashes(p.jugdir).length, 2);
      assert.deepEqual(entries(join(p.jugdir, 'locks')), []);
      // Without --debug nothing is checked.
      const plain = await jug(p.dir, ['execute', p.jugfile, '-q', ...t]);
      expectCode(plain, 0);
      assert.equal(total(plain.stdout, 'Executed'), 2);
    });

    test(`a task that creates a task fails${mode}`, async () => {
      const p = project(
        'creates',
        `import { TaskGenerator } from 'jug';
export const leaf = TaskGenerator(function leaf(i: number): number { return i; });
export const spawner = TaskGenerator(function spawner(i: number): number { leaf(i + 100); return i; });
export const s = spawner(1);
`,
      );
      const t = threads ? ['--threads', String(threads)] : [];
      const r = await jug(p.dir, ['execute', p.jugfile, '-q', ...t]);
      expectCode(r, 1);
      assert.match(r.stderr, /Creating tasks while a task is running is not supported \(task 'jugfile\.spawner' tried to create one\)/);
      assert.deepEqual(storedHashes(p.jugdir), []);
    });
  }

  test('--aggressive-unload is accepted', async () => {
    const p = project('unload', TWELVE);
    const r = await jug(p.dir, ['execute', p.jugfile, '-q', '--aggressive-unload']);
    expectCode(r, 0);
    assert.equal(total(r.stdout, 'Executed'), 13);
  });
});

describe('configuration files', { concurrency: 2 }, () => {
  test('a flag a file turns on is turned off for one run with its --no- form', async () => {
    const p = project('config-negate', TWELVE);
    writeFileSync(join(p.dir, '.jugrc'), '[status]\nshort = on\n[execute]\nshort = yes\nkeep-going = yes\n');
    const short = await jug(p.dir, ['status', p.jugfile]);
    assert.match(short.stdout, /^13 tasks waiting to be run/, show(short));
    const table = await jug(p.dir, ['status', p.jugfile, '--no-short']);
    assert.match(table.stdout, /^Task name +Waiting/, show(table));
    const ex = await jug(p.dir, ['execute', p.jugfile, '-q', '--no-short', '--no-keep-going']);
    expectCode(ex, 0);
    assert.match(ex.stdout, /^Task name +Executed/, show(ex));
  });

  test('.jugrc options apply; the command line wins; a closer file beats the user file ("no" is false)', async () => {
    const p = project('config', TWELVE);
    const xdg = join(p.dir, 'xdg');
    mkdirSync(join(xdg, 'jug'), { recursive: true });
    writeFileSync(join(xdg, 'jug', 'jugrc'), '[execute]\nshort = yes\nquiet = on\n[main]\njugdir = user.jugdata\n');
    // Only the user file: short output, jugdir from [main].
    let r = await jug(p.dir, ['execute', p.jugfile], { XDG_CONFIG_HOME: xdg });
    expectCode(r, 0);
    assert.match(r.stdout, /^Executed:\s+13 tasks\nLoaded:\s+0 tasks\n\*\* Total: 13 tasks\.\n$/);
    assert.ok(existsSync(join(p.dir, 'user.jugdata')));
    // A project file says short = no: the table again; status reads the jugdir from [main] too.
    writeFileSync(join(p.dir, '.jugrc'), '# project\n[execute]\nshort = no\n');
    r = await jug(p.dir, ['execute', p.jugfile], { XDG_CONFIG_HOME: xdg });
    expectCode(r, 0);
    assert.equal(total(r.stdout, 'Loaded'), 13);
    r = await jug(p.dir, ['status', p.jugfile, '--short'], { XDG_CONFIG_HOME: xdg });
    expectCode(r, 0);
    assert.match(r.stdout, /13/);
    // The command line beats both.
    r = await jug(p.dir, ['execute', p.jugfile, '--short', '--jugdir', 'cli.jugdata'], { XDG_CONFIG_HOME: xdg });
    expectCode(r, 0);
    assert.match(r.stdout, /^Executed:\s+13 tasks/);
    assert.ok(existsSync(join(p.dir, 'cli.jugdata')));
  });

  test('a bad value is a usage error naming file, line and key (exit 2); unknown keys are warnings', async () => {
    const p = project('config-bad', TWELVE);
    const rc = join(p.dir, 'jugrc');
    writeFileSync(rc, '[execute]\nkeep-going = yes\nthreads = 0\n');
    let r = await jug(p.dir, ['execute', p.jugfile]);
    expectCode(r, 2);
    assert.match(r.stderr, new RegExp(`${rc.replace(/[.]/g, '\\.')}:3: \\[execute\\] threads = 0: expected an integer from 1 to 1024, or auto, got '0'\\.`));
    writeFileSync(rc, '[execute]\nkeep-going = maybe\n');
    r = await jug(p.dir, ['execute', p.jugfile]);
    expectCode(r, 2);
    assert.match(r.stderr, /jugrc:2: \[execute\] keep-going = maybe: expected true\/false, yes\/no, on\/off or 1\/0/);
    writeFileSync(rc, '[execute]\nwait-cycle-tme = 3\nquiet = true\n[exec]\nshort = 1\n');
    r = await jug(p.dir, ['execute', p.jugfile]);
    expectCode(r, 0);
    assert.match(r.stderr, /jug: warning: .*jugrc:2: unknown option 'wait-cycle-tme' for jug execute \(ignored\)\./);
    assert.match(r.stderr, /jug: warning: .*jugrc:4: unknown section \[exec\] \(ignored\)/);
  });

  test('jug --help mentions the configuration files', async () => {
    const r = await jug(tmp, ['--help']);
    expectCode(r, 0);
    assert.match(r.stdout, /\.jugrc or jugrc in the\s+current directory/);
    assert.match(r.stdout, /~\/\.config\/jug\/jugrc/);
  });
});
