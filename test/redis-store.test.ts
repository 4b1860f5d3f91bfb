/**
 * The Redis store's leases and URLs, through its API against a real redis-server (test/redis-server.ts):
 * a lease expires when nobody renews it, and its old owner then neither releases nor marks the new
 * owner's lock (compare-and-set scripts); the heartbeat thread keeps locks alive while the main thread
 * blocks; a dead process's lock on this host is taken over at once; URL parsing and masking.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './helpers.js';
import { SKIP_REDIS, TestRedis } from './redis-server.js';
import { maskSecrets, parseRedisUrl, withDefaultPrefix } from '../src/store/redis-url.js';
import { UsageError } from '../src/errors.js';
import { RedisStore } from '../src/store/redis-store.js';
import { encodeResult } from '../src/store/encode.js';

const H = 'a'.repeat(40);
const H2 = 'b'.repeat(40);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A child process holding a lock (test/fixtures/redis-lock-child.ts), driven by lines. */
class Child {
  readonly proc: ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  constructor(url: string, leaseMs: number, hash: string) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'fixtures', 'redis-lock-child.ts'), url, String(leaseMs), hash], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      this.#lines.push(l);
      this.#wake?.();
    });
  }
  async next(): Promise<string> {
    while (this.#lines.length === 0) await new Promise<void>((r) => (this.#wake = r));
    return this.#lines.shift()!;
  }
  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }
  exited(): Promise<unknown> {
    return this.proc.exitCode !== null || this.proc.signalCode !== null ? Promise.resolve() : new Promise((r) => this.proc.once('exit', r));
  }
}

describe('Redis URLs', () => {
  test('parsed with defaults; password from the URL or JUG_REDIS_PASSWORD; masked in the location', () => {
    const c = parseRedisUrl('redis://u:p%40ss@host.example:6380/3?prefix=proj', {});
    assert.deepEqual([c.host, c.port, c.db, c.username, c.password, c.prefix, c.tls], ['host.example', 6380, 3, 'u', 'p@ss', 'proj', false]);
    assert.equal(c.location, 'redis://u:***@host.example:6380/3?prefix=proj');
    const d = parseRedisUrl('rediss://h', { JUG_REDIS_PASSWORD: 'envpw' });
    assert.deepEqual([d.port, d.db, d.password, d.prefix, d.tls, d.location], [6379, 0, 'envpw', 'jug', true, 'rediss://:***@h:6379/0?prefix=jug']);
  });
  test('bad URLs are usage errors (exit 2) with the password masked', () => {
    for (const bad of ['redis://:pw@h:0', 'redis://:pw@h/x', 'redis://:pw@h?foo=1', 'redis://:pw@h?prefix=', 'redis://']) {
      assert.throws(() => parseRedisUrl(bad, {}), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && !e.message.includes(':pw@'), bad);
    }
  });
  test('masking and the default prefix', () => {
    assert.equal(maskSecrets('see redis://me:secret@h:1/0 and rediss://:x@y'), 'see redis://me:***@h:1/0 and rediss://:***@y');
    assert.equal(withDefaultPrefix('redis://h/0', '/a/b/primes.ts'), 'redis://h/0?prefix=jug%3Aprimes');
    assert.equal(withDefaultPrefix('redis://h/0?prefix=x', '/a/primes.ts'), 'redis://h/0?prefix=x');
    assert.equal(withDefaultPrefix('/some/dir', '/a/primes.ts'), '/some/dir');
  });
});

describe('Redis leases', { skip: SKIP_REDIS }, () => {
  let redis: TestRedis;
  let n = 0;
  const url = (): string => `${redis.url()}?prefix=lease${++n}`;
  before(async () => {
    redis = await TestRedis.start();
  });
  after(async () => {
    await redis?.destroy();
  });

  test("a lease nobody renews expires; its old owner then neither releases nor marks the new owner's lock", async () => {
    const u = url();
    const child = new Child(u, 1500, H);
    assert.equal(await child.next(), 'took true');
    const store = await RedisStore.open(parseRedisUrl(u, {}), { leaseMs: 60_000 });
    try {
      const lock = store.lock(H);
      assert.equal(await lock.get(), false, 'held by a live process');
      assert.equal(await lock.isLocked(), true);
      await sleep(2000);
      assert.equal(await lock.get(), true, 'the lease expired');
      child.send('fail');
      assert.equal(await child.next(), 'failed false');
      child.send('release');
      assert.equal(await child.next(), 'released');
      assert.equal(await lock.isFailed(), false);
      assert.equal(await lock.isLocked(), true, "the old owner's release removed the new owner's lock");
      const infos = await store.listLocks();
      assert.equal(infos.get(H)?.holder?.pid, process.pid);
      assert.ok((infos.get(H)?.staleAt ?? 0) > Date.now() + 50_000);
      await lock.release();
      assert.equal((await store.listLocks()).size, 0);
    } finally {
      await store.close();
    }
  });

  test('a dead process of this host: its lock is stale and taken over at once', async () => {
    const u = url();
    const child = new Child(u, 600_000, H);
    assert.equal(await child.next(), 'took true');
    child.send('kill');
    await child.exited();
    const store = await RedisStore.open(parseRedisUrl(u, {}), { leaseMs: 60_000 });
    try {
      assert.equal((await store.listLocks()).get(H)?.stale, true);
      const lock = store.lock(H);
      assert.equal(await lock.isLocked(), false);
      assert.equal(await lock.get(), true);
      assert.equal(await lock.fail({ task: 't', hash: H, args: '', error: { name: 'E', message: 'm', stack: 's' }, host: 'h', pid: 1, time: 'now' }), true);
      assert.equal(redis.cli('PTTL', `lease${n}:lock:${H}`).stdout.trim(), '-1', 'a failure mark does not expire');
      assert.equal((await store.failureRecord(H))?.error.message, 'm');
      assert.equal(await store.removeFailedLock(H), true);
    } finally {
      await store.close();
    }
  });

  test('the heartbeat thread renews the locks while the main thread is blocked', async () => {
    const u = url();
    const store = await RedisStore.open(parseRedisUrl(u, {}), { leaseMs: 3000 });
    try {
      store.keepAlive();
      assert.equal(await store.lock(H).get(), true);
      // Block this thread for longer than the lease: only the heartbeat thread can keep it.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
      const ttl = Number(redis.cli('PTTL', `lease${n}:lock:${H}`).stdout.trim());
      assert.ok(ttl > 0, `the lock expired (PTTL ${ttl})`);
    } finally {
      await store.close();
    }
  });

  test('a corrupt value is detected and set aside; results round-trip', async () => {
    const store = await RedisStore.open(parseRedisUrl(url(), {}));
    try {
      await store.dump(H, { a: [1, 2n, new Map([[1, 'x']])] });
      assert.deepEqual(await store.load(H), { a: [1, 2n, new Map([[1, 'x']])] });
      const bytes = encodeResult('hello');
      bytes[bytes.length - 1] ^= 1;
      redis.cli('HSET', `lease${n}:results`, H2, 'not framed');
      await assert.rejects(store.load(H2), /CorruptResult|corrupt|damaged|checksum|short|prefix/i);
      assert.match((await store.setAsideCorrupt(H2)) ?? '', /corrupt/);
      assert.equal(await store.has(H2), false);
      assert.deepEqual([...(await store.list())], [H]);
    } finally {
      await store.close();
    }
  });

  test('grouped releases: a lock taken again before its release went out stays held; announced locks held elsewhere are refused', async () => {
    const u = url();
    const H3 = 'c'.repeat(40);
    // groupMs of a minute: a release goes out only with the next lock command, flush() or close().
    const child = new Child(u, 60_000, H3);
    assert.equal(await child.next(), 'took true');
    const a = await RedisStore.open(parseRedisUrl(u, {}), { groupMs: 60_000 });
    const lockKey = (h: string): string => `lease${n}:lock:${h}`;
    try {
      for (const h of [H, H2, H3]) a.lockAhead(h);
      assert.equal(await a.lock(H).get(), true, 'taken in the batch');
      assert.equal(await a.lock(H2).get(), true);
      assert.equal(await a.lock(H3).get(), false, "held by the other store: the batch's reply says so");
      await a.lock(H).release();
      assert.notEqual(redis.cli('GET', lockKey(H)).stdout.trim(), '', 'the release waits for its group');
      assert.equal(await a.lock(H).get(), true, 'taken again: the waiting release goes out first');
      a.flush();
      await sleep(100);
      assert.equal(await a.lock(H).isLocked(), true, 'the earlier release did not drop the lock taken again');
      assert.equal(redis.cli('GET', lockKey(H)).stdout.trim() === '', false);
      await a.lock(H).release();
      await a.lock(H2).release();
      assert.equal(await a.lock(H2).isLocked(), false, 'a read of a lock sends the waiting releases first');
      assert.deepEqual([...(await a.listLocks()).keys()], [H3]);
    } finally {
      await a.close();
      child.send('kill');
      await child.exited();
    }
    assert.equal(redis.cli('GET', lockKey(H)).stdout.trim(), '', 'close() sent the releases');
  });

  test("grouped results: one turn's dumps and loads go out together; each load gets its own value or error", async () => {
    const u = url();
    const a = await RedisStore.open(parseRedisUrl(u, {}), { groupMs: 60_000 });
    const hashes = Array.from({ length: 150 }, (_, i) => i.toString(16).padStart(40, '0'));
    try {
      const first = hashes.slice(0, 10);
      const dumped = Promise.all(first.map((h, i) => a.dump(h, { i })));
      await sleep(50);
      assert.equal(redis.cli('HLEN', `lease${n}:results`).stdout.trim(), '0', 'waiting for its group');
      a.flush();
      await dumped;
      // A group's worth (DUMP_BATCH, 64): sent without flush().
      await Promise.all(hashes.slice(10, 74).map((h, i) => a.dump(h, { i: i + 10 })));
      const rest = Promise.all(hashes.slice(74, 140).map((h, i) => a.dump(h, { i: i + 74 })));
      a.flush();
      await rest;
      assert.equal(redis.cli('HLEN', `lease${n}:results`).stdout.trim(), '140');
      redis.cli('HSET', `lease${n}:results`, hashes[140]!, 'not framed');
      const loads = await Promise.allSettled(hashes.map((h) => a.load(h, `t${h.slice(-2)}`)));
      loads.slice(0, 140).forEach((r, i) => assert.deepEqual(r.status === 'fulfilled' ? r.value : r.reason, { i }));
      assert.ok(loads[140]!.status === 'rejected' && /corrupt|damaged|checksum|short|prefix/i.test(String(loads[140]!.reason)), String(loads[140]));
      for (const r of loads.slice(141)) assert.ok(r.status === 'rejected' && (r.reason as Error).name === 'NotComputedError', String(r.status));
    } finally {
      await a.close();
    }
  });

  test('run records compacted as on files: the newest of each stored result, the failed, the recent; damaged ones dropped', async () => {
    const u = url();
    const H3 = 'c'.repeat(40);
    const H4 = 'd'.repeat(40);
    const a = await RedisStore.open(parseRedisUrl(u, {}));
    const rec = { v: 1 as const, hash: H, task: 't.x', outcome: 'done' as const, start: 1, end: 2, host: 'h', pid: 1, jug: '0' };
    try {
      await a.dump(H, 1);
      await a.recordRun({ ...rec, end: 1 });
      await a.recordRun(rec);
      await a.recordRun({ ...rec, hash: H2, end: 3 }); // its result is not stored
      await a.recordRun({ ...rec, hash: H3, end: 4, outcome: 'failed' });
      await a.recordRun({ ...rec, hash: H4, end: Date.now() }, true); // recent: maybe a live process's
      redis.cli('RPUSH', `lease${n}:runs`, '{broken');
      assert.deepEqual(await a.compactRunLog(await a.list()), { read: 6, kept: 3 });
      assert.deepEqual((await a.runLog()).map((r) => [r.hash, r.end > 1e12 ? 'now' : r.end]), [[H, 2], [H3, 4], [H4, 'now']]);
      await a.recordRun({ ...rec, hash: H2, end: 5 }, true);
      assert.deepEqual(await a.compactRunLog(await a.list()), { read: 4, kept: 3 }, 'H2 is still not stored');
      assert.equal(redis.cli('GET', `lease${n}:runs:gen`).stdout.trim(), '2');
    } finally {
      await a.close();
    }
  });

  test('run records: buffered, then read back by any store', async () => {
    const u = url();
    const a = await RedisStore.open(parseRedisUrl(u, {}));
    const rec = { v: 1 as const, hash: H, task: 't.x', outcome: 'done' as const, start: 1, end: 2, host: 'h', pid: 1, jug: '0' };
    await a.recordRun(rec);
    await a.recordRun({ ...rec, hash: H2 }, true);
    redis.cli('RPUSH', `lease${n}:runs`, '{broken');
    const b = await RedisStore.open(parseRedisUrl(u, {}));
    try {
      assert.deepEqual((await b.runLog()).map((r) => r.hash), [H, H2]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
