/**
 * Type-level tests of the mapreduce / compound / utils API, in the style of types.test.ts: the
 * checks live in `typeChecks()`, never called, verified by type-checking this file alone. Each
 * `@ts-expect-error` line must be an error.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import {
  CompoundTask,
  CompoundTaskGenerator,
  CustomHash,
  NoHash,
  NoLoad,
  TaskGenerator,
  currymap,
  identity,
  jugExecute,
  map,
  mapreduce,
  reduce,
  returnTuple,
  timedPath,
  value,
  type LazyList,
  type Task,
  type Tasklet,
} from '../src/index.js';
import { ROOT, makeTempDir, removeTempDir } from './helpers.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

export async function typeChecks(): Promise<void> {
  const isPrime = TaskGenerator(function isPrime(n: number): boolean {
    return n > 1;
  });
  const countTrue = TaskGenerator(function countTrue(xs: boolean[]): number {
    return xs.filter(Boolean).length;
  });
  function add(a: number, b: number): number {
    return a + b;
  }
  function label(n: number): string {
    return `#${n}`;
  }

  // map: from a TaskGenerator or a plain (even inline async) function.
  const flags = map(isPrime, [1, 2, 3]);
  expectTrue<Equals<typeof flags, LazyList<boolean>>>();
  const labels = map(label, [1, 2]);
  expectTrue<Equals<typeof labels, LazyList<string>>>();
  const doubled = map(async function dbl(x: number) {
    return 2 * x;
  }, [1, 2]);
  expectTrue<Equals<typeof doubled, LazyList<number>>>();
  // @ts-expect-error strings are not numbers
  map(isPrime, ['1']);
  // @ts-expect-error a LazyList<string> does not stand for numbers
  map(isPrime, labels);
  map(isPrime, doubled); // a LazyList<number> does

  // A LazyList<T> stands for T[] as a task argument and under value().
  const c: Task<number> = countTrue(flags);
  void c;
  // @ts-expect-error a LazyList<string> is not boolean[]
  countTrue(labels);
  const flagValues = await value(flags);
  expectTrue<Equals<typeof flagValues, boolean[]>>();
  const one = flags.at(0);
  expectTrue<Equals<typeof one, Task<boolean> | Tasklet<boolean>>>();
  const part: LazyList<boolean> = flags.slice(0, 2, 1);
  const n: number = flags.length;
  void [part, n];

  // currymap: inputs are argument tuples.
  const sums = currymap(add, [[1, 2], [3, 4]]);
  expectTrue<Equals<typeof sums, LazyList<number>>>();
  // @ts-expect-error wrong tuple
  currymap(add, [['1', 2]]);

  // reduce / mapreduce: the reducer folds the mapper's results.
  const total = reduce(add, [1, 2, 3]);
  expectTrue<Equals<typeof total, Task<number>>>();
  const squares = mapreduce(add, TaskGenerator(function sq(x: number) {
    return x * x;
  }), [1, 2]);
  expectTrue<Equals<typeof squares, Task<number>>>();
  mapreduce(add, undefined, [1, 2], { initial: 0 });
  // @ts-expect-error the mapper returns strings, the reducer folds numbers
  mapreduce(add, label, [1, 2]);
  // @ts-expect-error the initial value must be what the reducer folds
  reduce(add, [1], { initial: 'zero' });

  // CompoundTask: the task stands for the result of what fn returns.
  const compound = CompoundTask(function pipeline(k: number) {
    return reduce(add, map(function inc(x: number) {
      return x + 1;
    }, [k]));
  }, 3);
  expectTrue<Equals<typeof compound, Task<number>>>();
  function p2(k: number) {
    return reduce(add, [k]);
  }
  // @ts-expect-error the compound function takes a number
  CompoundTask(p2, 'x');
  const gen = CompoundTaskGenerator(function both(k: number) {
    return { sum: reduce(add, [k]), flags: map(isPrime, [k]) };
  });
  const b = gen(2);
  expectTrue<Equals<typeof b, Task<{ sum: number; flags: boolean[] }>>>();

  // returnTuple: typed tasklets.
  const minMax = returnTuple(
    2,
    TaskGenerator(function minMax(xs: number[]): [number, string] {
      return [Math.min(...xs), String(Math.max(...xs))];
    }),
  );
  const [lo, hi] = minMax([1, 2]);
  expectTrue<Equals<typeof lo, Tasklet<number>>>();
  expectTrue<Equals<typeof hi, Tasklet<string>>>();
  const three = returnTuple(3)(
    TaskGenerator(function arr(): number[] {
      return [1, 2, 3];
    }),
  );
  const t3 = three();
  expectTrue<Equals<typeof t3, [Tasklet<number>, Tasklet<number>, Tasklet<number>]>>();

  // identity
  const id = identity({ a: isPrime(1), b: 2 });
  expectTrue<Equals<typeof id, Task<{ a: boolean; b: number }>>>();
  const same = identity(isPrime(2));
  expectTrue<Equals<typeof same, Task<boolean>>>();

  // Wrappers stand for their (resolved) value.
  countTrue(CustomHash([true, isPrime(3)], () => 'v1'));
  countTrue(NoHash([false]));
  // @ts-expect-error a NoHash of numbers is not boolean[]
  countTrue(NoHash([1]));
  const readFile = TaskGenerator(function readFile(path: string): number {
    return path.length;
  });
  readFile(timedPath('x'));
  const nh = await value(NoHash({ p: isPrime(1) }));
  expectTrue<Equals<typeof nh, { p: boolean }>>();

  // NoLoad: the task function receives the wrapper.
  const lazyCount = TaskGenerator(async function lazyCount(xs: NoLoad<boolean[]>): Promise<number> {
    const v: boolean[] = await xs.load();
    return v.length;
  });
  lazyCount(NoLoad(identity([true])));
  // @ts-expect-error the wrapped task must give boolean[]
  lazyCount(NoLoad(isPrime(1)));
  // @ts-expect-error a bare task is not a NoLoad
  lazyCount(identity([true]));

  const code: Task<number> = jugExecute(['ls', '-l'], { cwd: '/tmp' });
  void code;
}

test('api-types.test.ts type-checks on its own (every @ts-expect-error is needed)', { timeout: 120_000 }, () => {
  assert.equal(typeof typeChecks, 'function');
  const here = fileURLToPath(import.meta.url);
  const dir = makeTempDir('api-types');
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
