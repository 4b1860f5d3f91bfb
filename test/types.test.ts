/**
 * Type-level tests of the public API. The checks live in `typeChecks()`, which is never called
 * (declaring tasks at run time would register them): they are verified by the type checker, via
 * `npx tsc -p tsconfig.json` and by the test at the bottom, which type-checks this file alone.
 * Each `@ts-expect-error` line must be an error — if the API accepted it, tsc would report the
 * directive as unused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import {
  TaskGenerator,
  iterateTask,
  value,
  type Lazy,
  type Resolved,
  type Task,
  type TaskLike,
  type Tasklet,
  type TaskRunOptions,
  taskSignal,
} from '../src/index.js';
import { ROOT, makeTempDir, removeTempDir } from './helpers.js';

/** `true` iff A and B are the same type (not merely mutually assignable through `any`). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its type argument is `true`. */
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

export async function typeChecks(): Promise<void> {
  // A TaskGenerator of (n: number) => boolean.
  const isPrime = TaskGenerator(function isPrime(n: number): boolean {
    return n > 1;
  });
  const five = TaskGenerator(function five(): number {
    return 5;
  })();
  const word = TaskGenerator(function word(): string {
    return 'w';
  })();

  const p1: Task<boolean> = isPrime(7);
  isPrime(five); // a Task<number> stands for a number
  // @ts-expect-error a string is not a number
  isPrime('7');
  // @ts-expect-error a Task<string> does not stand for a number
  isPrime(word);
  // @ts-expect-error too few arguments
  isPrime();
  // @ts-expect-error a Task<boolean> is not a Task<string>
  const wrong: Task<string> = isPrime(3);
  void wrong;

  // value() of a Task<boolean> is a Promise<boolean>.
  const b: Promise<boolean> = value(p1);
  // @ts-expect-error it is not a Promise<string>
  const s: Promise<string> = value(p1);
  expectTrue<Equals<Awaited<typeof b>, boolean>>();
  void s;

  // A function returning Promise<R> gives Task<R> (the stored result is the resolved value).
  const fetchLength = TaskGenerator(async function fetchLength(url: string): Promise<number> {
    return url.length;
  });
  const len = fetchLength('https://example.org');
  expectTrue<Equals<typeof len, Task<number>>>();
  // @ts-expect-error not Task<Promise<number>>
  const notNested: Task<Promise<number>> = len;
  void notNested;
  const lenValue: number = await value(len);
  void lenValue;
  isPrime(len); // Task<number> from an async function stands for a number

  // t.get(0) on Task<[number, string]> is a Tasklet<number>.
  const pair = TaskGenerator(function pair(n: number): [number, string] {
    return [n, String(n)];
  })(1);
  const first = pair.get(0);
  expectTrue<Equals<typeof first, Tasklet<number>>>();
  const second = pair.get(1);
  expectTrue<Equals<typeof second, Tasklet<string>>>();
  // @ts-expect-error a Tasklet<number> is not a Tasklet<string>
  const notString: Tasklet<string> = first;
  void notString;
  isPrime(first);
  // @ts-expect-error a Tasklet<string> does not stand for a number
  isPrime(second);
  // @ts-expect-error keys of a tuple task are numbers
  pair.get('x');

  // A task that may give undefined does not stand for a number; nor does any object with a hash().
  const maybe = TaskGenerator(function maybe(): number | undefined {
    return undefined;
  })();
  // @ts-expect-error Task<number | undefined> is not a number
  isPrime(maybe);
  // @ts-expect-error an object with a hash() method is not a task
  isPrime({ hash: () => 'abc' });
  // A Map's or an array's element: indexing is strict (a missing key is an error), so no undefined.
  const counts = TaskGenerator(function counts(): Map<string, number> {
    return new Map([['a', 1]]);
  })();
  expectTrue<Equals<ReturnType<typeof counts.get<string>>, Tasklet<number>>>();
  isPrime(counts.get('a'));
  const list = TaskGenerator(function list(): number[] {
    return [1];
  })();
  isPrime(list.get(0));

  // .get() on an object result: keys are checked, values typed.
  const stats = TaskGenerator(function stats(): { mean: number; label: string } {
    return { mean: 1, label: 'l' };
  })();
  const mean = stats.get('mean');
  expectTrue<Equals<typeof mean, Tasklet<number>>>();
  // @ts-expect-error no such key
  stats.get('median');

  // iterateTask destructures a tuple task into typed tasklets.
  const [num, str] = iterateTask(pair, 2);
  expectTrue<Equals<typeof num, Tasklet<number>>>();
  expectTrue<Equals<typeof str, Tasklet<string>>>();
  const describe = TaskGenerator(function describe(n: number, t: string): string {
    return `${n}${t}`;
  });
  const d: Task<string> = describe(num, str);
  void d;
  // @ts-expect-error arguments in the wrong order
  describe(str, num);
  // @ts-expect-error iterateTask needs an array-valued task
  iterateTask(five, 2);

  // value() of an array of tasks is an array of results; containers resolve element-wise.
  const flags = [1, 2, 3].map((n) => isPrime(n));
  const flagValues = await value(flags);
  expectTrue<Equals<typeof flagValues, boolean[]>>();
  // @ts-expect-error not number[]
  const notNumbers: number[] = await value(flags);
  void notNumbers;
  const mixed = await value([p1, len, 'plain'] as const);
  expectTrue<Equals<typeof mixed, [boolean, number, 'plain']>>();
  const record = await value({ ok: p1, n: len, nested: { w: word } });
  expectTrue<Equals<typeof record, { ok: boolean; n: number; nested: { w: string } }>>();
  expectTrue<Equals<Resolved<Map<string, Task<number>>>, Map<string, number>>>();

  // Arrays of tasks are accepted where the function takes an array.
  const countTrue = TaskGenerator(function countTrue(xs: boolean[]): number {
    return xs.filter(Boolean).length;
  });
  const c: Task<number> = countTrue(flags);
  void c;
  countTrue([true, p1, false]);
  // @ts-expect-error an array of Task<number> is not boolean[]
  countTrue([five]);

  // Lazy<T> and TaskLike<T>.
  const lazy: Lazy<number> = five;
  const lazyTasklet: Lazy<number> = first;
  const like: TaskLike<boolean> = p1;
  // @ts-expect-error a Task<string> is not a Lazy<number>
  const notLazy: Lazy<number> = word;
  void [lazy, lazyTasklet, like, notLazy];

  // The generator keeps the wrapped function and its name.
  const fn: (n: number) => boolean | Promise<boolean> = isPrime.fn;
  const taskName: string = isPrime.taskName;
  void [fn, taskName];

  // Run options: typed with the generator's options, on a Task, and the running task's signal.
  const fetchPage = TaskGenerator(async function fetchPage(url: string): Promise<string> {
    const signal: AbortSignal = taskSignal();
    return (await fetch(url, { signal })).text();
  }, { retries: 2, retryDelayMs: 500, timeoutMs: 30_000 });
  const page: Task<string> = fetchPage('https://example.org').setRunOptions({ timeoutMs: 5000 });
  const options: TaskRunOptions = page.runOptions;
  // @ts-expect-error retries is a number
  TaskGenerator(function badOpts(): number { return 1; }, { retries: '2' });
  // @ts-expect-error no such run option
  page.setRunOptions({ timeout: 5 });
  void [options];
}

test('types.test.ts type-checks on its own (every @ts-expect-error is needed)', { timeout: 120_000 }, () => {
  assert.equal(typeof typeChecks, 'function');
  const here = fileURLToPath(import.meta.url);
  const dir = makeTempDir('types');
  try {
    const tsconfig = join(dir, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: relative(dir, join(ROOT, 'tsconfig.json')),
        compilerOptions: { noEmit: true, incremental: false },
        include: [],
        files: [relative(dir, here)],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc reported errors:\n${r.stdout}${r.stderr}`);
  } finally {
    removeTempDir(dir);
  }
});
