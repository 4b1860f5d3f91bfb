/**
 * barrier() and bvalue(): a jugfile that depends on computed results while it is declared.
 * Through the real CLI: `jug execute` runs the tasks before a barrier, loads the jugfile again
 * and continues (serial, --threads, several processes at once); status / check / sleep-until see
 * the tasks before the barrier and say that more follow; init() reports the barrier.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, parseTable, readResults, removeTempDir, runJug, show, startJug } from './helpers.js';

/** Three stages: doubles, barrier, doubles of their values, bvalue of a total, then n/40 more. */
const STAGES = `
import { appendFileSync } from 'node:fs';
import { TaskGenerator, barrier, bvalue, value } from 'jug';
const log = (s: string): void => { if (process.env['LOG']) appendFileSync(process.env['LOG'], s + '\\n'); };
export const double = TaskGenerator(function double(x: number): number { log('double ' + x); return 2 * x; });
export const total = TaskGenerator(function total(xs: number[]): number { log('total'); return xs.reduce((a, b) => a + b, 0); });
const firsts = [1, 2, 3].map((i) => double(i));
barrier();
const vals = await value(firsts);
export const seconds = vals.map((v) => double(v * 10));
export const n = await bvalue(total(seconds));
export const last = Array.from({ length: n / 40 }, (_, i) => double(i + 1000));
`;

let dir: string;
before(() => {
  dir = makeTempDir('barrier');
});
after(() => removeTempDir(dir));

let count = 0;
/** A fresh jugfile (own jugdir) with `source`; returns its path. */
function jugfile(source: string): string {
  const p = join(dir, `j${++count}.ts`);
  writeFileSync(p, source);
  return p;
}

function logLines(log: string): string[] {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).sort();
  } catch {
    return [];
  }
}

const EXPECTED_RUNS = [
  'double 1', 'double 1000', 'double 1001', 'double 1002', 'double 1003', 'double 1004', 'double 1005',
  'double 2', 'double 20', 'double 3', 'double 40', 'double 60', 'total',
].sort();

describe('barrier', () => {
  for (const threads of [undefined, '2']) {
    it(`one jug execute${threads ? ' --threads ' + threads : ''} runs every stage and counts each task once`, async () => {
      const jf = jugfile(STAGES);
      const log = jf + '.log';
      const before = await runJug(['status', jf]);
      assert.equal(before.code, 0, show(before));
      assert.deepEqual(parseTable(before.stdout).rows.get('Total:'), [0, 3, 0, 0, 0], show(before));
      assert.match(before.stdout, /stops at a barrier \(j\d+\.ts:8\): 3 task\(s\) before it are not computed/);
      assert.equal((await runJug(['check', jf])).code, 1);
      const counted = await runJug(['count', jf]);
      assert.match(counted.stdout, /stops at a barrier \(j\d+\.ts:8\): 3 task\(s\) before it .* not counted/, show(counted));

      const r = await runJug(['execute', jf, ...(threads ? ['--threads', threads] : [])], { env: { LOG: log } });
      assert.equal(r.code, 0, show(r));
      const t = parseTable(r.stdout).rows;
      assert.deepEqual(t.get(`j${count}.double`), [12, 0], show(r));
      assert.deepEqual(t.get(`j${count}.total`), [1, 0], show(r));
      assert.deepEqual(logLines(log), EXPECTED_RUNS);

      const { values } = await readResults(jf, undefined, ['n', 'last', 'seconds']);
      assert.equal(values['n'], 240);
      assert.deepEqual(values['seconds'], [40, 80, 120]);
      assert.deepEqual(values['last'], [2000, 2002, 2004, 2006, 2008, 2010]);

      assert.equal((await runJug(['check', jf])).code, 0);
      const st = await runJug(['status', jf]);
      assert.deepEqual(parseTable(st.stdout).rows.get('Total:'), [0, 0, 13, 0, 0], show(st));
      assert.doesNotMatch(st.stdout, /barrier/);
      const again = await runJug(['execute', jf, '--short']);
      assert.match(again.stdout, /Executed:  0 tasks\nLoaded:  13 tasks/, show(again));
    });
  }

  it('--target with a barrier in the way: matching tasks run, then a note (exit 0), never a false "nondeterministic" error', async () => {
    const jf = jugfile(`
import { TaskGenerator, barrier, bvalue } from 'jug';
export const gen = TaskGenerator(function gen(n: number): number[] { return Array.from({ length: n }, (_, i) => i + 1); });
export const sq = TaskGenerator(function sq(x: number): number { return x * x; });
export const sum = TaskGenerator(function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); });
export const g = gen(3);
barrier();
export const squares = (await bvalue(g)).map((x) => sq(x));
export const total = sum(squares);
export const last = sq(await bvalue(total));
`);
    const note = /jug: --target '(sq|gen)': the jugfile stops at the barrier at j\d+\.ts:(7|10), .* not run, so the tasks declared after it are not known yet/;
    let r = await runJug(['execute', jf, '--target', 'sq', '--short']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  0 tasks/);
    assert.match(r.stderr, note);
    r = await runJug(['execute', jf, '--target', 'gen', '--short']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  1 tasks/, show(r));
    assert.match(r.stderr, note);
    r = await runJug(['execute', jf, '--target', 'sq', '--short']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  3 tasks/, show(r));
    r = await runJug(['execute', jf, '--short']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  2 tasks/, show(r));
    assert.doesNotMatch(r.stderr, /barrier/);
  });

  it('two processes started together share the stages: each task runs once, both exit 0', async () => {
    const jf = jugfile(STAGES);
    const log = jf + '.log';
    const runs = [startJug(['execute', jf], { env: { LOG: log } }), startJug(['execute', jf, '-j', '2'], { env: { LOG: log } })];
    for (const r of await Promise.all(runs.map((s) => s.done))) assert.equal(r.code, 0, show(r));
    assert.deepEqual(logLines(log), EXPECTED_RUNS);
  });

  it('a failure before the barrier stops the run there (exit 1) and says why later tasks are unknown', async () => {
    const jf = jugfile(`
import { TaskGenerator, barrier } from 'jug';
export const boom = TaskGenerator(function boom(x: number): number { if (x === 2) throw new Error('no 2'); return x; });
export const first = [1, 2, 3].map((x) => boom(x));
barrier();
export const later = [10, 20].map((x) => boom(x));
`);
    const r = await runJug(['execute', jf, '--keep-going']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /no 2/);
    assert.match(r.stderr, /stops at a barrier \(j\d+\.ts:5\): 1 task\(s\) before it are not computed/);
    assert.deepEqual(parseTable(r.stdout).rows.get('Total:'), [2, 0, 1], show(r));
  });

  it('a jugfile catching the barrier (or not awaiting bvalue) still stops there', async () => {
    const jf = jugfile(`
import { TaskGenerator, barrier, bvalue } from 'jug';
export const inc = TaskGenerator(function inc(x: number): number { return x + 1; });
export const a = inc(1);
try { barrier(); } catch { /* carry on regardless */ }
export const b = inc(100);
void bvalue(a);
export const c = inc(200);
`);
    const st = await runJug(['status', jf]);
    assert.equal(st.code, 0, show(st));
    assert.deepEqual(parseTable(st.stdout).rows.get('Total:'), [0, 1, 0, 0, 0], show(st));
    const r = await runJug(['execute', jf, '--short']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  3 tasks/, show(r));
  });

  it('bvalue only waits for what it names', async () => {
    const jf = jugfile(`
import { TaskGenerator, bvalue } from 'jug';
export const inc = TaskGenerator(function inc(x: number): number { return x + 1; });
export const other = inc(0);
export const a = inc(1);
export const got = await bvalue({ a, list: [a] });
export const after = inc(got.a + got.list[0]!);
`);
    const st = await runJug(['status', jf]);
    // Both tasks before the bvalue are declared; 'other' is not needed by it.
    assert.deepEqual(parseTable(st.stdout).rows.get('Total:'), [0, 2, 0, 0, 0], show(st));
    assert.match(st.stdout, /1 task\(s\) before it are not computed/);
    const r = await runJug(['execute', jf]);
    assert.equal(r.code, 0, show(r));
    const { values } = await readResults(jf, undefined, ['after']);
    assert.equal(values['after'], 5);
  });

  it('a barrier after a 3,000-task chain needs no deep recursion', async () => {
    const jf = jugfile(`
import { TaskGenerator, barrier } from 'jug';
export const inc = TaskGenerator(function inc(x: number): number { return x + 1; });
let t = inc(0);
for (let i = 1; i < 3000; i++) t = inc(t);
barrier();
export const end = inc(t);
`);
    const r = await runJug(['execute', jf, '--short'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Executed:  3001 tasks/, show(r));
  });

  it('sleep-until waits past the barrier for another process, then exits 0', async () => {
    const jf = jugfile(STAGES);
    const waiter = startJug(['sleep-until', jf, '--poll', '0.1']);
    // Execute once the waiter has seen the work unfinished: started together, a fast execute could
    // finish before the waiter's first look, and then it would rightly never wait.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (s: string): void => {
        seen += s;
        if (!/waiting: \d+ of \d+ task\(s\) computed/.test(seen)) return;
        waiter.child.stderr!.off('data', onData);
        resolve();
      };
      waiter.child.stderr!.on('data', onData);
      waiter.done.then((r) => reject(new Error(`sleep-until ended before it waited:\n${show(r)}`)), reject);
    });
    const ex = await runJug(['execute', jf]);
    assert.equal(ex.code, 0, show(ex));
    const w = await waiter.done;
    assert.equal(w.code, 0, show(w));
    assert.match(w.stderr, /waiting: \d+ of \d+ task\(s\) computed/);
  });

  it('sleep-until exits 1 at once when a task is marked failed', async () => {
    const jf = jugfile(`
import { TaskGenerator } from 'jug';
export const boom = TaskGenerator(function boom(x: number): number { throw new Error('always ' + x); });
export const t = boom(1);
`);
    assert.equal((await runJug(['execute', jf, '--keep-failed'])).code, 1);
    const w = await runJug(['sleep-until', jf, '--poll', '0.1']);
    assert.equal(w.code, 1, show(w));
    assert.match(w.stderr, /task j\d+\.boom \([0-9a-f]{10}\) failed and its lock is marked failed/);
  });

  it('outside a jugfile load (a plain script), bvalue() is value() and barrier() does nothing', async () => {
    const script = join(dir, 'plain-script.mjs');
    writeFileSync(
      script,
      "import { TaskGenerator, barrier, bvalue, setJugdir, value } from 'jug';\n" +
        "const store = setJugdir(':memory:');\n" +
        'const t = TaskGenerator(function plainSquare(x) { return x * x; })(6);\n' +
        'await store.dump(t.hash(), 36);\n' +
        'barrier();\n' +
        'console.log(JSON.stringify([await bvalue(t), await value(t)]));\n',
    );
    const { runNode } = await import('./helpers.js');
    const r = await runNode([script]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), [36, 36]);
  });

  it('init() reports where the jugfile stopped', async () => {
    const jf = jugfile(STAGES);
    const script = join(dir, 'init-barrier.mjs');
    writeFileSync(
      script,
      `import { init } from 'jug';\nconst r = await init(${JSON.stringify(jf)});\nconsole.log(JSON.stringify({ n: r.tasks.length, barrier: r.barrier }));\n`,
    );
    const { runNode } = await import('./helpers.js');
    const r = await runNode([script]);
    assert.equal(r.code, 0, show(r));
    const out = JSON.parse(r.stdout) as { n: number; barrier: { where: string; tasksBefore: number; missing: number } };
    assert.equal(out.n, 3);
    assert.deepEqual(out.barrier, { where: `j${count}.ts:8`, tasksBefore: 3, missing: 3 });
  });
});
