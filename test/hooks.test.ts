/**
 * Unit tests of hooks (src/hooks.ts), exit checks (src/exit-checks.ts) and the --debug argument
 * check, in this process: the hook table, executeTask's hook points and mutation check against a
 * MemoryStore, and the scheduler stopping on exit checks. The CLI side is in exit-hooks-cli.test.ts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  HookError,
  JugError,
  MemoryStore,
  Task,
  TaskGenerator,
  UsageError,
  exitAfterNTasks,
  exitAfterTime,
  exitIfFileExists,
  exitWhenTrue,
  registerHook,
  registerHookOnce,
  resetAllHooks,
} from '../src/index.js';
import { executeTask } from '../src/execute-task.js';
import { ExitChecks, STOP_FILE } from '../src/exit-checks.js';
import { InProcessExecutor } from '../src/executors/in-process.js';
import { buildGraph } from '../src/graph.js';
import { hasHooks, runHooks } from '../src/hooks.js';
import { beginLoad, registry } from '../src/registry.js';
import { runGraph } from '../src/scheduler.js';
import { StatusTable, TaskState } from '../src/status-table.js';
import { makeTempDir, removeTempDir } from './helpers.js';

const double = TaskGenerator(function double(x: number): number {
  return 2 * x;
});
const sortInPlace = TaskGenerator(function sortInPlace(a: number[]): number {
  a.sort((x, y) => y - x);
  return a[0]!;
});
const setField = TaskGenerator(function setField(label: string, o: { n: number }): number {
  o.n = 99;
  return label.length;
});
const bumpTyped = TaskGenerator(function bumpTyped(v: Float64Array): number {
  v[0]! += 1;
  return v.length;
});
const readOnly = TaskGenerator(function readOnly(a: number[], o: { n: number }, v: Float64Array): number {
  return a.length + o.n + v.length;
});
const range = TaskGenerator(function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
});
const makeTask = TaskGenerator(function makeTask(x: number): number {
  double(x); // creating a task while running
  return x;
});

let tmp: string;
before(() => {
  tmp = makeTempDir('hooks');
});
after(() => removeTempDir(tmp));
afterEach(() => resetAllHooks());

function runOne<T>(task: Task<T>, store: MemoryStore, debug = false): ReturnType<typeof executeTask> {
  return executeTask(task as unknown as Task, store, { keepFailed: false, debug });
}

describe('hook table', () => {
  test('hooks run in registration order, duplicates included', () => {
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    registerHook('execute.finished-pre-status', a);
    registerHook('execute.finished-pre-status', () => void calls.push('b'));
    registerHook('execute.finished-pre-status', a);
    runHooks('execute.finished-pre-status');
    assert.deepEqual(calls, ['a', 'b', 'a']);
    assert.ok(hasHooks('execute.finished-pre-status'));
    assert.ok(!hasHooks('execute.finished-post-status'));
  });

  test('an unknown hook name is an error listing the known names (and Python spellings are translated)', () => {
    assert.throws(
      () => registerHook('execute.nope' as never, () => {}),
      (e: Error) =>
        e instanceof JugError &&
        /'execute\.nope' is not a known hook name/.test(e.message) &&
        /execute\.task-loadable, execute\.task-pre-execute, execute\.task-executed, execute\.finished-pre-status, execute\.finished-post-status/.test(e.message),
    );
    assert.throws(() => registerHook('execute.task-executed1' as never, () => {}), /Python Jug's 'execute\.task-executed1' is 'execute\.task-executed' here/);
    assert.throws(() => registerHook('execute.task-executed', 'x' as never), /fn must be a function/);
  });

  test('registerHookOnce registers a (name, key) pair once; resetAllHooks forgets hooks, keys and exit checks', () => {
    let n = 0;
    registerHookOnce('execute.finished-post-status', 'count', () => void n++);
    registerHookOnce('execute.finished-post-status', 'count', () => void (n += 100));
    registerHookOnce('execute.finished-post-status', 'other', () => void (n += 10));
    runHooks('execute.finished-post-status');
    assert.equal(n, 11);
    exitAfterNTasks(5);
    assert.equal(new ExitChecks().taskBudget(), 5);
    resetAllHooks();
    assert.equal(new ExitChecks().taskBudget(), undefined);
    runHooks('execute.finished-post-status');
    assert.equal(n, 11);
    registerHookOnce('execute.finished-post-status', 'count', () => void (n += 1000));
    runHooks('execute.finished-post-status');
    assert.equal(n, 1011);
  });

  test('a hook that throws becomes a HookError naming the hook and the task', () => {
    registerHook('execute.task-executed', function boom() {
      throw new Error('kaput');
    });
    const t = double(1) as unknown as Task;
    assert.throws(
      () => runHooks('execute.task-executed', t),
      (e: Error) => e instanceof HookError && /execute\.task-executed hook 'boom' threw for task .*double: Error: kaput/.test(e.message),
    );
  });
});

describe('task hooks in executeTask', () => {
  test('pre-execute (lock held, result absent) then executed (result stored); loadable when already stored', async () => {
    const store = new MemoryStore();
    const t = double(21);
    const seen: string[] = [];
    registerHook('execute.task-pre-execute', (task) => {
      seen.push(`pre ${task.name} locked=${store.locks.has(task.hash())} stored=${store.results.has(task.hash())}`);
    });
    registerHook('execute.task-executed', (task) => void seen.push(`executed stored=${store.results.has(task.hash())}`));
    registerHook('execute.task-loadable', (task) => void seen.push(`loadable ${task.hash() === t.hash()}`));
    assert.equal((await runOne(t, store)).kind, 'executed');
    assert.deepEqual(seen, [`pre ${t.name} locked=true stored=false`, 'executed stored=true']);
    seen.length = 0;
    assert.equal((await runOne(t, store)).kind, 'loaded');
    assert.deepEqual(seen, ['loadable true']);
  });

  test('a pre-execute hook that throws fails the task: nothing stored, lock released', async () => {
    const store = new MemoryStore();
    const t = double(5);
    registerHook('execute.task-pre-execute', () => {
      throw new Error('not now');
    });
    const outcome = await runOne(t, store);
    assert.equal(outcome.kind, 'failed');
    assert.match(outcome.kind === 'failed' ? outcome.error.message : '', /task-pre-execute hook threw for task .*double: Error: not now/);
    assert.equal(store.results.size, 0);
    assert.equal(store.locks.size, 0);
  });
});

describe('--debug: tasks that change their arguments fail', () => {
  /** Stores the results of `deps` so that a task using them can run. */
  async function stored<T>(...deps: Task<T>[]): Promise<MemoryStore> {
    const store = new MemoryStore();
    for (const d of deps) assert.equal((await runOne(d, store)).kind, 'executed');
    return store;
  }

  for (const [label, make, position] of [
    ['an array sorted in place', () => sortInPlace([3, 1, 2]), 1],
    ['a property of an object assigned', () => setField('x', { n: 1 }), 2],
    ['a typed array written', () => bumpTyped(new Float64Array([1, 2])), 1],
  ] as const) {
    test(label, async () => {
      const task = make();
      const store = await stored();
      const outcome = await runOne(task, store, true);
      assert.equal(outcome.kind, 'failed');
      const message = outcome.kind === 'failed' ? outcome.error.message : '';
      assert.match(message, new RegExp(`task .*\\.${task.name.split('.').pop()} changed its argument ${position} while running`));
      assert.match(message, /result was not stored/);
      assert.ok(!store.results.has(task.hash()), 'result not stored');
      assert.equal(store.locks.size, 0, 'lock released');
      // Without --debug the same task runs (and its result is stored).
      assert.equal((await runOne(task, store, false)).kind, 'executed');
    });
  }

  test('a dependency result mutated in place is detected (the function receives a copy from the store)', async () => {
    const list = range(5);
    const t = sortInPlace(list);
    const store = await stored(list);
    const outcome = await runOne(t, store, true);
    assert.equal(outcome.kind, 'failed');
  });

  test('a task that only reads its arguments passes', async () => {
    const t = readOnly([1, 2], { n: 3 }, new Float64Array(4));
    const store = await stored();
    const outcome = await runOne(t, store, true);
    assert.deepEqual(outcome.kind, 'executed');
    assert.equal(await store.load(t.hash()), 9);
  });

  test('creating a task while a task runs fails that task (with or without --debug)', async () => {
    for (const debug of [false, true]) {
      const t = makeTask(debug ? 1 : 2);
      const before = registry().tasks.length;
      const store = new MemoryStore();
      const outcome = await runOne(t, store, debug);
      assert.equal(outcome.kind, 'failed');
      assert.match(outcome.kind === 'failed' ? outcome.error.message : '', /Creating tasks while a task is running is not supported \(task '.*makeTask' tried to create one\)/);
      assert.equal(registry().tasks.length, before, 'no task was added');
      assert.equal(store.results.size, 0);
    }
  });
});

describe('exit checks', () => {
  /** Runs `tasks` serially in a MemoryStore with `checks`. */
  async function run(tasks: Task[], checks: ExitChecks) {
    const graph = buildGraph(tasks);
    const store = new MemoryStore();
    const table = StatusTable.create(graph.tasks.length);
    const executor = new InProcessExecutor(store, table, false);
    const result = await runGraph(graph, store, executor, { table, checks });
    const executed = graph.tasks.filter((_, i) => result.table.get(i) === TaskState.Executed).length;
    return { result, executed, store };
  }
  const many = (n: number, offset = 0): Task[] => Array.from({ length: n }, (_, i) => double(offset + i) as Task);

  test('exitAfterNTasks(n): exactly n tasks run although the serial runner pipelines short tasks', async () => {
    exitAfterNTasks(3);
    const checks = new ExitChecks({ cwd: tmp });
    const { result, executed, store } = await run(many(50, 1000), checks);
    assert.equal(executed, 3);
    assert.equal(store.results.size, 3);
    assert.equal(store.locks.size, 0);
    assert.equal(result.stoppedBy, 'exitAfterNTasks(3): 3 tasks executed');
    assert.equal(result.notRun.length, 47);
    assert.equal(result.aborted, false);
  });

  test('the count is per process across runs (passes), and the smallest limit wins', async () => {
    exitAfterNTasks(5);
    const checks = new ExitChecks({ cwd: tmp, env: { JUG_MAX_TASKS: '4' } });
    assert.equal((await run(many(3, 2000), checks)).executed, 3);
    const second = await run(many(10, 3000), checks);
    assert.equal(second.executed, 1);
    assert.equal(second.result.stoppedBy, 'JUG_MAX_TASKS=4: 4 tasks executed');
  });

  test('exitWhenTrue: called after each executed task, with or without the task argument', async () => {
    let calls = 0;
    exitWhenTrue(() => ++calls === 2);
    const seen: string[] = [];
    exitWhenTrue(function lastOne(t) {
      seen.push(t.name);
      return false;
    });
    const { executed, result } = await run(many(40, 4000), new ExitChecks({ cwd: tmp }));
    assert.ok(executed >= 2 && executed < 40, `executed ${executed}`);
    assert.match(result.stoppedBy ?? '', /exitWhenTrue\(predicate\) returned true after task .*double/);
    assert.ok(seen.length >= 1 && seen.every((n) => n.endsWith('.double')));
  });

  test('exitWhenTrue: a predicate that throws stops the run and is reported as an error', async () => {
    exitWhenTrue(function broken() {
      throw new Error('oops');
    });
    const checks = new ExitChecks({ cwd: tmp });
    const { result } = await run(many(10, 5000), checks);
    assert.match(result.stoppedBy ?? '', /exitWhenTrue\(broken\) threw after task .*: Error: oops/);
    assert.equal(checks.error, result.stoppedBy);
  });

  test('exitIfFileExists, JUG_EXIT_IF_FILE_EXISTS and the stop file: nothing starts while the file exists', async () => {
    const dir = makeTempDir('stopfile');
    try {
      const file = join(dir, 'halt');
      writeFileSync(file, '');
      exitIfFileExists(file);
      let r = await run(many(5, 6000), new ExitChecks({ cwd: dir }));
      assert.equal(r.executed, 0);
      assert.equal(r.result.stoppedBy, `exitIfFileExists: ${file} exists`);
      resetAllHooks();

      r = await run(many(5, 6000), new ExitChecks({ cwd: dir, env: { JUG_EXIT_IF_FILE_EXISTS: 'halt' } }));
      assert.equal(r.executed, 0);
      assert.equal(r.result.stoppedBy, 'JUG_EXIT_IF_FILE_EXISTS: halt exists');

      // Environment ignored (--no-check-environment): runs.
      r = await run(many(5, 6000), new ExitChecks({ cwd: dir }));
      assert.equal(r.executed, 5);

      writeFileSync(join(dir, STOP_FILE), '');
      r = await run(many(5, 7000), new ExitChecks({ cwd: dir }));
      assert.equal(r.executed, 0);
      assert.match(r.result.stoppedBy ?? '', /stop file __jug_please_stop_running\.txt exists/);
    } finally {
      removeTempDir(dir);
    }
  });

  test('time limits: JUG_MAX_HOURS/MINUTES/SECONDS add up; no task starts after the deadline', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const checks = new ExitChecks({ cwd: tmp, env: { JUG_MAX_HOURS: '1', JUG_MAX_MINUTES: '2', JUG_MAX_SECONDS: '3.5' } });
    exitAfterTime({ hours: 2 });
    assert.equal(checks.beforeTask(), undefined);
    t.mock.timers.tick(3_723_499);
    assert.equal(checks.beforeTask(), undefined);
    t.mock.timers.tick(1);
    assert.equal(checks.beforeTask(), 'JUG_MAX_HOURS=1 JUG_MAX_MINUTES=2 JUG_MAX_SECONDS=3.5: 1h 2m 3.5s passed');
    const later = new ExitChecks({ cwd: tmp });
    assert.equal(later.beforeTask(), undefined);
    t.mock.timers.tick(2 * 3_600_000);
    assert.equal(later.beforeTask(), 'exitAfterTime: 2h passed');
  });

  test('exitAfterTime({seconds: 0}) stops a run before any task', async () => {
    exitAfterTime({ seconds: 0 });
    const { executed, result } = await run(many(3, 8000), new ExitChecks({ cwd: tmp }));
    assert.equal(executed, 0);
    assert.equal(result.stoppedBy, 'exitAfterTime: 0s passed');
  });

  test('bad environment values are usage errors naming the variable; bad arguments are errors', () => {
    assert.throws(() => new ExitChecks({ env: { JUG_MAX_TASKS: 'many' } }), (e: Error) => e instanceof UsageError && /JUG_MAX_TASKS='many': expected an integer/.test(e.message));
    assert.throws(() => new ExitChecks({ env: { JUG_MAX_MINUTES: '-1' } }), /JUG_MAX_MINUTES='-1': expected a number ≥ 0/);
    assert.equal(new ExitChecks({ env: { JUG_MAX_TASKS: '0', JUG_MAX_SECONDS: '' } }).taskBudget(), undefined);
    assert.throws(() => exitAfterNTasks(0), /n must be an integer ≥ 1/);
    assert.throws(() => exitAfterTime({ minutes: -2 }), /minutes must be a number ≥ 0/);
    assert.throws(() => exitWhenTrue(undefined as never), /predicate must be a function/);
  });

  test('a jugfile imported again registers its checks once (the first deadline and count stay)', () => {
    exitAfterNTasks(2);
    exitAfterNTasks(2);
    exitIfFileExists('x');
    exitIfFileExists('x');
    beginLoad();
    exitAfterNTasks(2);
    const checks = new ExitChecks({ cwd: tmp });
    assert.equal(checks.taskBudget(), 2);
    assert.equal(checks.taskExecuted(double(1) as Task), undefined);
    assert.equal(checks.taskBudget(), 1);
  });
});

describe('errorInfo: any thrown value becomes a readable message', () => {
  test('objects are inspected (not [object Object]); a null-prototype object does not throw', async () => {
    const { errorInfo } = await import('../src/execute-task.js');
    assert.equal(errorInfo({ code: 42, why: 'custom' }).message, "thrown value: { code: 42, why: 'custom' }");
    assert.equal(errorInfo(Object.create(null)).message, 'thrown value: [Object: null prototype] {}');
    assert.equal(errorInfo('oops').message, "thrown value: 'oops'");
    const e = new TypeError('bad');
    assert.deepEqual([errorInfo(e).name, errorInfo(e).message], ['TypeError', 'bad']);
  });
});
