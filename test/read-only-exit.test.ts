/**
 * `jug status`, `jug check` and `jug execute --threads N` end the process as soon as they are done
 * (src/cli/main.ts, ENDS_AT_ONCE): a timer the jugfile leaves running does not keep them alive,
 * and what they printed is all out, even through a pipe whose reader is slow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { JUG_BIN, ROOT, collectOutput, makeTempDir, parseTable, removeTempDir, runJug, runNode, show, type RunResult } from './helpers.js';

/** Runs `bash -c script` with its positional parameters ($0, $1, …). */
function runBash(script: string, params: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env['NODE_TEST_CONTEXT'];
    delete env['NODE_OPTIONS'];
    const child = spawn('bash', ['-c', script, ...params], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    collectOutput(child).then(resolve, reject);
  });
}

let dir: string;
before(() => {
  dir = makeTempDir('read-only-exit');
  // A jugfile that leaves a timer running (a client or poller made at load would do the same).
  writeFileSync(
    join(dir, 'timer.ts'),
    `import { TaskGenerator } from 'jug';
export const double = TaskGenerator(function double(x: number): number { return 2 * x; });
export const xs = [1, 2, 3].map((x) => double(x));
setInterval(() => {}, 1000);
`,
  );
  // 1,200 task names: a status table of ~100 KiB, more than a pipe holds.
  writeFileSync(
    join(dir, 'wide.ts'),
    `import { TaskGenerator } from 'jug';
export const tasks = Array.from({ length: 1200 }, (_, i) =>
  TaskGenerator(function f(x: number): number { return x; }, { name: \`wide.name\${i}\` })(i));
`,
  );
  // 1,600: the execute summary (two columns) over 64 KiB too.
  writeFileSync(
    join(dir, 'wider.ts'),
    `import { TaskGenerator } from 'jug';
export const tasks = Array.from({ length: 1600 }, (_, i) =>
  TaskGenerator(function f(x: number): number { return x; }, { name: \`wider.name\${i}\` })(i));
`,
  );
});
after(() => removeTempDir(dir));

describe('read-only commands end when done', () => {
  it('status and check end although the jugfile left a timer running', async () => {
    const jugfile = join(dir, 'timer.ts');
    const jugdir = join(dir, 'timer.jugdata');
    const status = await runJug(['status', jugfile, '--jugdir', jugdir], { timeoutMs: 30_000 });
    assert.equal(status.code, 0, show(status));
    assert.deepEqual(parseTable(status.stdout).rows.get('Total:'), [0, 3, 0, 0, 0], show(status));
    const check = await runJug(['check', jugfile, '--jugdir', jugdir], { timeoutMs: 30_000 });
    assert.equal(check.code, 1, show(check));
  });

  it('the whole table goes through a pipe whose reader starts late', async () => {
    const jugfile = join(dir, 'wide.ts');
    const jugdir = join(dir, 'wide.jugdata');
    // The reader sleeps for a second before reading: jug has filled the pipe and must wait for it.
    const script = 'set -o pipefail; "$0" "$1" status "$2" --jugdir "$3" | (sleep 1; cat)';
    const r = await runBash(script, [process.execPath, JUG_BIN, jugfile, jugdir]);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.length > 65_536, `output of ${r.stdout.length} bytes`);
    const { rows } = parseTable(r.stdout);
    assert.equal(rows.size, 1201, 'every name and the total');
    assert.deepEqual(rows.get('Total:'), [0, 1200, 0, 0, 0]);
  });
});

describe('jug execute --threads ends when done', () => {
  it('ends although the jugfile left a timer running, with every result stored', async () => {
    const jugfile = join(dir, 'timer.ts');
    const jugdir = join(dir, 'timer-threads.jugdata');
    // Without ending at once, the timer keeps the process alive until the 30-s timeout kills it.
    const run = await runJug(['execute', jugfile, '--jugdir', jugdir, '--threads', '2'], { timeoutMs: 30_000 });
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(parseTable(run.stdout).rows.get('Total:'), [3, 0], show(run));
    const check = await runJug(['check', jugfile, '--jugdir', jugdir], { timeoutMs: 30_000 });
    assert.equal(check.code, 0, show(check));
  });

  it("the whole summary table goes through a pipe whose reader starts late", async () => {
    const jugfile = join(dir, 'wider.ts');
    const jugdir = join(dir, 'wider.jugdata');
    const script = 'set -o pipefail; "$0" "$1" execute "$2" --jugdir "$3" --threads 2 | (sleep 1; cat)';
    const r = await runBash(script, [process.execPath, JUG_BIN, jugfile, jugdir]);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.length > 65_536, `output of ${r.stdout.length} bytes`);
    const { rows } = parseTable(r.stdout);
    assert.equal(rows.size, 1601, 'every name and the total');
    assert.deepEqual(rows.get('Total:'), [1600, 0]);
  });
});

describe('jug execute ends at once when nothing is left running', () => {
  it('nothingLeftRunning(): only the standard streams active and no beforeExit listener', async () => {
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const script = `
      const { nothingLeftRunning } = await import(${JSON.stringify(`file://${main}`)});
      await new Promise((r) => setTimeout(r, 50));
      const idle = nothingLeftRunning();
      const t = setTimeout(() => {}, 60_000);
      const timer = nothingLeftRunning();
      clearTimeout(t);
      const h = () => {};
      process.on('beforeExit', h);
      const listener = nothingLeftRunning();
      process.off('beforeExit', h);
      console.log(JSON.stringify({ idle, timer, listener }));`;
    const r = await runNode(['--input-type=module', '-e', script]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), { idle: true, timer: false, listener: false });
  });

  it('a serial run whose task left a timer running waits for it (work a task did not await finishes)', async () => {
    const side = join(dir, 'late-serial.txt');
    const jugfile = join(ROOT, 'test', 'fixtures-threads', 'inline.ts');
    const r = await runJug(['execute', jugfile, '--jugdir', join(dir, 'late-serial.jugdata'), '-q'], {
      env: { INLINE_N: '20', INLINE_SIDE: side, INLINE_LATE_MS: '500' },
    });
    assert.equal(r.code, 0, show(r));
    assert.ok(readFileSync(side, 'utf8').split('\n').includes('late'), 'the timer the sum started did not fire before the process ended');
  });
});
