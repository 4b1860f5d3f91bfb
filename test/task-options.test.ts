/**
 * Unit tests of the per-task run options (src/task-options.ts): they never change a task's hash,
 * they are checked when declared, map() passes them on; and of the retry loop and the time limit
 * in executeTask (src/execute-task.ts) on a MemoryStore.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashTask } from '../src/hash.js';
import { Task, TaskGenerator } from '../src/task.js';
import { map } from '../src/mapreduce.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { StoreError, TaskDefinitionError, TaskTimeoutError } from '../src/errors.js';
import { executeTask, retryDelay, retryPolicy, type AttemptFailure } from '../src/execute-task.js';
import { MAX_RETRY_DELAY_MS, taskSignal } from '../src/task-options.js';

function fetchLike(x: number): number {
  return x + 1;
}

describe('task run options', () => {
  it('never change the hash: a TaskGenerator with options, setRunOptions(), new Task', () => {
    const plain = TaskGenerator(function optPlain(x: number): number {
      return x;
    }, { name: 'opts.plain' });
    const withOptions = TaskGenerator(function optWith(x: number): number {
      return x;
    }, { name: 'opts.with', retries: 3, retryDelayMs: 5, timeoutMs: 100 });
    const t = withOptions(7);
    assert.equal(t.hash(), hashTask('opts.with', [7]));
    assert.deepEqual(t.runOptions, { retries: 3, retryDelayMs: 5, timeoutMs: 100 });
    const p = plain(7);
    const before = p.hash();
    assert.deepEqual(p.runOptions, {});
    p.setRunOptions({ retries: 2, timeoutMs: 50 });
    assert.equal(p.hash(), before);
    assert.equal(p.hash(), hashTask('opts.plain', [7]));
    assert.deepEqual(p.runOptions, { retries: 2, timeoutMs: 50 });
    // Merged: what is not given stays.
    p.setRunOptions({ retryDelayMs: 10, timeoutMs: undefined });
    assert.deepEqual(p.runOptions, { retries: 2, retryDelayMs: 10, timeoutMs: 50 });
    const n = new Task(fetchLike, 1).setRunOptions({ retries: 1 });
    assert.equal(n.hash(), new Task(fetchLike, 1).hash());
    assert.equal(n.runOptions.retries, 1);
  });

  it('are checked when declared, naming the task', () => {
    assert.throws(
      () => TaskGenerator(function badRetries(): number { return 1; }, { name: 'opts.badRetries', retries: 1.5 }),
      (e: unknown) => e instanceof TaskDefinitionError && /TaskGenerator\(opts\.badRetries\): retries must be an integer ≥ 0, got 1\.5/.test(e.message),
    );
    const g = TaskGenerator(function okGen(): number {
      return 1;
    }, { name: 'opts.okGen' });
    assert.throws(() => g().setRunOptions({ timeoutMs: 0 }), /timeoutMs must be a number of milliseconds > 0, got 0/);
    assert.throws(() => g().setRunOptions({ retryDelayMs: -1 }), /retryDelayMs must be a number of milliseconds ≥ 0/);
  });

  it('map() passes a TaskGenerator\'s options on: per task with chunkSize 1, timeout times the chunk length otherwise', () => {
    const slow = TaskGenerator(function optSlow(x: number): number {
      return x;
    }, { name: 'opts.slow', retries: 2, timeoutMs: 100 });
    const one = map(slow, [1, 2], { chunkSize: 1 });
    for (const t of one.dependencies()) assert.deepEqual(t.runOptions, { retries: 2, timeoutMs: 100 });
    const chunked = map(slow, [1, 2, 3, 4, 5], { chunkSize: 3 });
    assert.deepEqual(chunked.dependencies().map((t) => t.runOptions.timeoutMs), [300, 200]);
    assert.deepEqual(chunked.dependencies().map((t) => t.runOptions.retries), [2, 2]);
  });

  it('retryPolicy: the task\'s own options win over the run\'s defaults; retryDelay doubles up to a cap', () => {
    const g = TaskGenerator(function optPolicy(): number {
      return 1;
    }, { name: 'opts.policy', retryDelayMs: 100 });
    const t = g() as Task;
    const policy = retryPolicy(t, { retries: 2, retryDelayMs: 5000, timeoutMs: 700 });
    assert.deepEqual(policy, { attempts: 3, delayMs: 100, timeoutMs: 700 });
    assert.deepEqual(
      [1, 2, 3].map((k) => retryDelay(policy, k)),
      [100, 200, 400],
    );
    assert.equal(retryDelay(policy, 40), MAX_RETRY_DELAY_MS);
    assert.equal(retryDelay({ attempts: 9, delayMs: 2 * MAX_RETRY_DELAY_MS, timeoutMs: undefined }, 3), 2 * MAX_RETRY_DELAY_MS);
    assert.deepEqual(retryPolicy(t, {}), { attempts: 1, delayMs: 100, timeoutMs: undefined });
  });
});

describe('executeTask: retries and time limits', () => {
  it('retries a throwing function while attempts remain, reporting each failed attempt; the lock is released', async () => {
    const store = new MemoryStore();
    let calls = 0;
    const g = TaskGenerator(function optFlaky(): string {
      calls++;
      if (calls < 3) throw new Error(`flaky ${calls}`);
      return 'ok';
    }, { name: 'opts.flaky' });
    const t = g() as Task;
    const failures: AttemptFailure[] = [];
    const outcome = await executeTask(t, store, { keepFailed: false, defaults: { retries: 4, retryDelayMs: 1 }, onAttemptFailed: (f) => failures.push(f) });
    assert.equal(outcome.kind, 'executed');
    assert.equal(outcome.kind === 'executed' ? outcome.attempts : undefined, 3);
    assert.deepEqual(
      failures.map((f) => [f.attempt, f.attempts, f.error.message, f.delayMs]),
      [
        [1, 5, 'flaky 1', 1],
        [2, 5, 'flaky 2', 2],
      ],
    );
    assert.equal(await store.load(t.hash()), 'ok');
    assert.equal(await store.lock(t.hash()).isLocked(), false);
  });

  it('does not retry a failure of the store (jug itself): one call, failed', async () => {
    class FullStore extends MemoryStore {
      override async dump(): Promise<void> {
        throw new StoreError('disk full (test)');
      }
    }
    const store = new FullStore();
    let calls = 0;
    const g = TaskGenerator(function optStored(): number {
      calls++;
      return 1;
    }, { name: 'opts.stored' });
    const outcome = await executeTask(g() as Task, store, { keepFailed: false, defaults: { retries: 3, retryDelayMs: 0 } });
    assert.equal(outcome.kind, 'failed');
    assert.equal(calls, 1);
    assert.equal(outcome.kind === 'failed' && outcome.error.internal, true);
    assert.equal(outcome.kind === 'failed' ? outcome.attempts : undefined, 1);
  });

  it('stops retrying when the run stops: the task fails with its last error', async () => {
    const store = new MemoryStore();
    let calls = 0;
    let stopping = false;
    const g = TaskGenerator(function optStop(): number {
      calls++;
      throw new Error(`no ${calls}`);
    }, { name: 'opts.stop' });
    const outcome = await executeTask(g() as Task, store, {
      keepFailed: false,
      defaults: { retries: 5, retryDelayMs: 60_000 },
      stopping: () => stopping,
      onAttemptFailed: () => setTimeout(() => (stopping = true), 20),
    });
    assert.equal(calls, 1);
    assert.equal(outcome.kind === 'failed' ? outcome.error.message : outcome.kind, 'no 1');
  });

  it('aborts taskSignal() at the time limit; an async task that rejects then fails as timed out', async () => {
    assert.equal(taskSignal().aborted, false, 'outside a task: a signal that never aborts');
    const store = new MemoryStore();
    let seen: AbortSignal | undefined;
    const g = TaskGenerator(async function optWait(): Promise<number> {
      const signal = taskSignal();
      seen = signal;
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, 10_000);
        signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)));
      });
      return 1;
    }, { name: 'opts.wait', timeoutMs: 30 });
    const outcome = await executeTask(g() as Task, store, { keepFailed: false });
    assert.equal(seen?.aborted, true);
    assert.ok(seen?.reason instanceof TaskTimeoutError);
    assert.equal(outcome.kind, 'failed');
    assert.match(outcome.kind === 'failed' ? outcome.error.message : '', /task opts\.wait timed out after 0\.03 s/);
  });

  it('abandons an async task still pending after the grace when asked to (the serial runner)', async () => {
    const store = new MemoryStore();
    const g = TaskGenerator(function optNever(): Promise<number> {
      return new Promise(() => {}); // never settles
    }, { name: 'opts.never', timeoutMs: 20 });
    const outcome = await executeTask(g() as Task, store, { keepFailed: false, abandonAfterTimeout: true });
    assert.equal(outcome.kind, 'failed');
    assert.match(outcome.kind === 'failed' ? outcome.error.message : '', /timed out after 0\.02 s: it had not settled 1 s after/);
  });
});
