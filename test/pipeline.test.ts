/**
 * Unit tests of the pieces that let results be committed in groups: the mutex that serializes
 * task functions and reports when it drains, the adaptive window, and the file store's group
 * commit (a result becomes visible only when its group is committed).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Mutex } from '../src/mutex.js';
import { AdaptiveWindow, MEDIUM_TASK_MS, SHORT_TASK_MS } from '../src/executors/window.js';
import { FileStore } from '../src/store/file-store.js';
import { hashValue } from '../src/hash.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function freshDir(): string {
  const d = fs.mkdtempSync(join(tmpdir(), 'jug-pipeline-'));
  dirs.push(d);
  return join(d, 'jugdata');
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Mutex', () => {
  it('never overlaps sections, keeps their order, and reports idle once after the last', async () => {
    let idle = 0;
    const m = new Mutex(() => idle++);
    let running = 0;
    const order: number[] = [];
    const section = (i: number) => async () => {
      running++;
      assert.equal(running, 1, 'sections overlap');
      await tick();
      order.push(i);
      running--;
      if (i === 2) throw new Error('a failing section does not break the chain');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3].map((i) => m.run(section(i))));
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.equal(results[2]!.status, 'rejected');
    assert.equal(idle, 0, 'idle is reported one turn later, not while the last result is handled');
    await tick();
    await tick();
    assert.equal(idle, 1);
  });
});

describe('AdaptiveWindow', () => {
  const executed = (ms: number) => ({ kind: 'executed', ms }) as const;
  it('starts at one task per thread and follows the mean task duration', () => {
    const w = new AdaptiveWindow(32);
    assert.equal(w.depth, 1);
    assert.equal(w.observe(executed(SHORT_TASK_MS / 10)), true);
    assert.equal(w.depth, 32);
    for (let i = 0; i < 60; i++) w.observe(executed(MEDIUM_TASK_MS / 2));
    assert.equal(w.depth, 2);
    for (let i = 0; i < 60; i++) w.observe(executed(MEDIUM_TASK_MS * 4));
    assert.equal(w.depth, 1);
    assert.equal(w.observe({ kind: 'locked', failed: false }), false, 'only executed tasks count');
  });
});

describe('FileStore group commit', () => {
  // flush() right after the dump() calls, before any of them has reached the store's queue: every
  // result begun before flush() must be committed at once, not after the commit delay (an hour
  // here: the timeout turns such a wait into a failure instead of a slow pass).
  it('a small group mixing small and large results (flushed two ways) commits them all at once', { timeout: 60_000 }, async () => {
    const dir = freshDir();
    const s = new FileStore(dir, { commitDelayMs: 3_600_000 });
    const big = Float64Array.from({ length: 100_000 }, (_, i) => i / 7); // ~800 KB encoded: flushed in libuv's pool
    const hashes = [0, 1, 2, 3].map((i) => hashValue(`mixed-${i}`));
    const dumps = hashes.map((h, i) => s.dump(h, i % 2 === 0 ? i : big));
    s.flush();
    await Promise.all(dumps);
    assert.equal(await s.load(hashes[0]!), 0);
    assert.deepStrictEqual(await s.load(hashes[1]!), big);
    assert.equal(await s.load(hashes[2]!), 2);
    assert.deepStrictEqual(await s.load(hashes[3]!), big);
    assert.deepStrictEqual(fs.readdirSync(join(dir, 'tempfiles')), []);
  });

  it('with a long commit delay, results become visible only when flushed, all together', async () => {
    const s = new FileStore(freshDir(), { commitDelayMs: 60_000 });
    const hashes = [1, 2, 3].map((i) => hashValue(`group-${i}`));
    let resolved = 0;
    const dumps = hashes.map((h, i) => s.dump(h, i).then(() => resolved++));
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(resolved, 0, 'no dump resolves before its group is committed');
    for (const h of hashes) assert.equal(await s.has(h), false, 'an uncommitted result is not visible');
    s.flush();
    await Promise.all(dumps);
    assert.equal(resolved, 3);
    for (const [i, h] of hashes.entries()) assert.equal(await s.load(h), i);
    assert.deepEqual(fs.readdirSync(join(s.location, 'tempfiles')), [], 'no temp file left');
  });

  it('by default a result is committed promptly without any flush()', async () => {
    const s = new FileStore(freshDir());
    const h = hashValue('prompt');
    await s.dump(h, { ok: true });
    assert.deepEqual(await s.load(h), { ok: true });
  });

  it('many concurrent dumps all land (grouped commits)', async () => {
    const s = new FileStore(freshDir());
    const hashes = Array.from({ length: 300 }, (_, i) => hashValue(`many-${i}`));
    await Promise.all(hashes.map((h, i) => s.dump(h, i * 2)));
    assert.equal((await s.list()).size, 300);
    assert.equal(await s.load(hashes[299]!), 598);
  });
});

describe('stored-snapshot: the parent listing shared with worker threads', () => {
  it('round-trips hashes through a SharedArrayBuffer', async () => {
    const { encodeHashes, decodeHashes } = await import('../src/executors/stored-snapshot.js');
    const { createHash } = await import('node:crypto');
    const hashes = new Set(Array.from({ length: 300 }, (_, i) => createHash('sha1').update(String(i)).digest('hex')));
    const sab = encodeHashes(hashes);
    assert.ok(sab instanceof SharedArrayBuffer);
    assert.deepEqual(decodeHashes(sab, hashes.size), hashes);
    assert.deepEqual(decodeHashes(encodeHashes(new Set()), 0), new Set());
  });
});
