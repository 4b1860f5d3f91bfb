/**
 * Unit tests of the shared-memory pieces of `jug execute --threads`: the bundle slot (the parent
 * hands threads the bundle's URL, possibly after they started), the list of started threads
 * (read by the pool's balancer) and the claims that let a task sent to two threads run in one. The thread pool as a whole is tested through the CLI in
 * threads.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { bundleUrl, createBundleSlot, publishBundle } from '../src/executors/bundle-slot.js';
import { bootedThreads, createBootedThreads, markBooted } from '../src/executors/booted-threads.js';
import { TaskClaims, claimTask } from '../src/executors/claims.js';
import { PoolSize } from '../src/executors/pool-size.js';

describe('bundle slot', () => {
  it('a reader waiting before the URL is published gets it; one reading after gets it at once', { timeout: 10_000 }, async () => {
    const slot = createBundleSlot();
    const early = bundleUrl(slot);
    let settled = false;
    void early.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'resolved before anything was published');
    const url = 'file:///tmp/jug-bundles-0/é-ü 0123456789abcdef.mjs';
    publishBundle(slot, url);
    assert.equal(await early, url);
    assert.equal(await bundleUrl(slot), url);
  });

  it('a failed bundle reads as undefined', async () => {
    const slot = createBundleSlot();
    publishBundle(slot, undefined);
    assert.equal(await bundleUrl(slot), undefined);
  });

  it('another thread waiting on the slot is woken', { timeout: 10_000 }, async () => {
    const slot = createBundleSlot();
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const state = new Int32Array(workerData, 0, 2);
       const keepAlive = setInterval(() => {}, 1000); // a pending waitAsync alone does not
       (async () => {
         while (Atomics.load(state, 0) === 0) { const w = Atomics.waitAsync(state, 0, 0); if (w.async) await w.value; }
         parentPort.postMessage(Buffer.from(workerData, 8, Atomics.load(state, 1)).toString('utf8'));
         clearInterval(keepAlive);
       })();`,
      { eval: true, workerData: slot },
    );
    const got = new Promise((resolve) => worker.once('message', resolve));
    await new Promise((r) => setTimeout(r, 50));
    publishBundle(slot, 'file:///x/bundle.mjs');
    assert.equal(await got, 'file:///x/bundle.mjs');
    await worker.terminate();
  });

  it('refuses a URL longer than the slot', () => {
    assert.throws(() => publishBundle(createBundleSlot(), `file:///${'x'.repeat(9000)}`), /longer than/);
  });
});

describe('started threads', () => {
  it('records ids and counts', () => {
    const list = createBootedThreads(4);
    assert.deepEqual(bootedThreads(list), { count: 0, ids: new Set() });
    markBooted(list, 7);
    markBooted(list, 3);
    const { count, ids } = bootedThreads(list);
    assert.equal(count, 2);
    assert.deepEqual([...ids!].sort(), [3, 7]);
  });

  it('past its capacity only counts, and no longer names the threads', () => {
    const list = createBootedThreads(2);
    for (const id of [5, 6, 8]) markBooted(list, id);
    assert.deepEqual(bootedThreads(list), { count: 3, ids: undefined });
  });
});

describe('task claims', () => {
  it('of two copies of one dispatch, only the first to claim starts the task', () => {
    const claims = new TaskClaims(3);
    const token = claims.open(1);
    const a = claims.copy();
    const b = claims.copy();
    assert.equal(claims.unclaimed(1, token), true);
    assert.equal(claimTask(claims.buffer, 1, token, b), true);
    assert.equal(claimTask(claims.buffer, 1, token, a), false, 'the second copy claimed it too');
    assert.equal(claims.unclaimed(1, token), false);
    assert.equal(claims.claimedBy(1, b), true);
    assert.equal(claims.claimedBy(1, a), false);
  });

  it('a copy left from an earlier dispatch of the task never claims a later one', () => {
    const claims = new TaskClaims(1);
    const first = claims.open(0);
    const stale = claims.copy();
    const second = claims.open(0); // e.g. the task was locked by another process, and is tried again
    const fresh = claims.copy();
    assert.equal(claimTask(claims.buffer, 0, first, stale), false);
    assert.equal(claims.unclaimed(0, second), true);
    assert.equal(claimTask(claims.buffer, 0, second, fresh), true);
  });
});

describe('placement of tasks with a time limit (the balancer)', () => {
  /** A thread as Piscina shows it to the balancer (the fields the balancer reads). */
  const thread = (id: number, currentUsage: number, isRunningAbortableTask = false) =>
    ({ id, currentUsage, isRunningAbortableTask, terminating: false, destroyed: false, histogram: null }) as never;
  const task = (isAbortable: boolean) => ({ taskId: 1, filename: 'w', name: 'run', created: 0, isAbortable }) as never;

  it('sends a task with a time limit only to a thread holding nothing, and nothing to a thread running one', () => {
    const size = new PoolSize(3);
    size.depth = 2;
    for (const id of [1, 2, 3]) markBooted(size.booted, id);
    const balance = size.poolOptions.loadBalancer;
    const busy = thread(1, 1);
    const idle = thread(2, 0);
    const timed = thread(3, Number.POSITIVE_INFINITY, true); // Piscina's usage for a thread running an abortable task
    assert.equal((balance(task(true), [busy, idle, timed]) as { id: number } | null)?.id, 2);
    assert.equal(balance(task(true), [busy, timed]), null, 'a timed task waits for an idle thread');
    assert.equal((balance(task(false), [timed, busy]) as { id: number } | null)?.id, 1, 'an ordinary task may join a busy thread');
    assert.equal(balance(task(false), [timed]), null, 'no task joins a thread that may be terminated');
    // A thread running a timed task is busy, with nothing waiting behind it.
    assert.deepEqual(size.occupancy(), { idle: 1, waiting: 0 });
  });
});
