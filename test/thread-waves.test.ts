/**
 * When threads start (`jug execute --threads N`, src/executors/pool-size.ts): later waves wait
 * while the tasks look tiny, but not before anything has said so. With tasks too few for the main
 * thread to probe (primes: 99 tasks of 1 s on 8 threads), the second wave starts as soon as tasks
 * wait for a thread, not once the first thread has booted and run a task for 20 ms (issue 19 §3).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, makeTempDir, removeTempDir, runJug, show, startJug, waitFor } from './helpers.js';

let tmp: string;
before(() => (tmp = makeTempDir('thread-waves')));
after(() => removeTempDir(tmp));

const THREADS = 8;
// The first wave is at most one thread per core: with THREADS or more cores there is no later wave.
const skip = availableParallelism() >= THREADS ? `${availableParallelism()} cores: all ${THREADS} threads start in the first wave` : false;

describe('thread waves', () => {
  test('the second wave starts while tasks wait, before any thread has run a task', { skip, timeout: 120_000 }, async () => {
    // Worker threads of gated-boot.ts cannot finish loading until the gate exists: no thread can
    // run a task (nor say that tasks are tiny) before the gate opens.
    const jugfile = join(ROOT, 'test', 'fixtures-threads', 'gated-boot.ts');
    const jugdir = join(tmp, 'jugdata');
    const gate = join(tmp, 'gate.txt');
    const run = startJug(['execute', jugfile, '--jugdir', jugdir, '--threads', String(THREADS)], {
      env: { GATED_BOOT_GATE: gate, JUG_TRACE: '1' },
      timeoutMs: 100_000,
    });
    let trace = '';
    run.child.stderr!.on('data', (s: string) => (trace += s));
    // The first wave starts with the pool; a second "more start" is a later wave.
    const started = await waitFor(() => (trace.match(/threads: \d+ more start/g) ?? []).length >= 2, 20_000);
    writeFileSync(gate, 'open\n'); // let the threads load (also when the wave never came: the run then ends)
    const r = await run.done;
    assert.ok(started, `no thread started for the waiting tasks before a thread had run one:\n${trace}`);
    assert.equal(r.code, 0, show(r));
    const check = await runJug(['check', jugfile, '--jugdir', jugdir], { env: { GATED_BOOT_GATE: gate } });
    assert.equal(check.code, 0, show(check));
  });
});
