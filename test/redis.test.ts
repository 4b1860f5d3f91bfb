/**
 * The Redis store (issue 16) through the real CLI against real redis-server instances this test
 * starts (test/redis-server.ts): runs, status, threads, failure marks, copy, password masking,
 * bad URLs, an unreachable / restarted / full server, wrong credentials, ACLs and database
 * indexes. The kill -9 torture on Redis is in redis-torture.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, ROOT, makeTempDir, removeTempDir, parseTable, runJug, runNode, show, startJug, waitFor } from './helpers.js';
import { SKIP_REDIS, TestRedis, freePort } from './redis-server.js';

const JUGFILE = join(FIXTURES, 'redis-work.ts');
const CHECK = join(FIXTURES, 'redis-check.mjs');

interface Checked {
  total: number;
  expected: number;
  works: number[];
}

async function check(jugdir: string, env: Record<string, string> = {}): Promise<Checked> {
  const r = await runNode([CHECK, jugdir], { env });
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout) as Checked;
}

/** How many times each work(k) started, from the fixture's log. */
function starts(log: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(log)) return out;
  for (const m of readFileSync(log, 'utf8').matchAll(/^START (\d+) /gm)) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + 1);
  return out;
}

describe('Redis store', { skip: SKIP_REDIS }, () => {
  let redis: TestRedis;
  let tmp: string;
  let db = 0;
  /** A fresh database of the suite's server for each test. */
  const fresh = (): string => redis.url(++db % 16);
  before(async () => {
    redis = await TestRedis.start();
    tmp = makeTempDir('redis-test');
  });
  after(async () => {
    await redis?.destroy();
    if (tmp !== undefined) removeTempDir(tmp);
  });

  test('execute, status, check, invalidate and cleanup work on a redis:// jugdir; results read back through init()', async () => {
    const url = fresh();
    const run = await runJug(['execute', JUGFILE, '--jugdir', url]);
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(parseTable(run.stdout).rows.get('Total:'), [21, 0]);
    const res = await check(url);
    assert.equal(res.total, res.expected);
    // The default prefix is jug:<jugfile name>; results are one hash, its index.
    assert.equal(redis.cli('-n', String(db % 16), 'HLEN', 'jug:redis-work:results').stdout.trim(), '21');
    const status = await runJug(['status', JUGFILE, '--jugdir', url]);
    assert.deepEqual(parseTable(status.stdout).rows.get('Total:'), [0, 0, 21, 0, 0], show(status));
    assert.equal((await runJug(['check', JUGFILE, '--jugdir', url])).code, 0);
    const inv = await runJug(['invalidate', JUGFILE, '--jugdir', url, '--target', 'sum']);
    assert.equal(inv.code, 0, show(inv));
    assert.equal((await runJug(['check', JUGFILE, '--jugdir', url])).code, 1);
    // Results no task of the jugfile names are removed by cleanup.
    const fewer = await runJug(['cleanup', JUGFILE, '--jugdir', url], { env: { REDIS_N: '5' } });
    assert.equal(fewer.code, 0, show(fewer));
    assert.equal(redis.cli('-n', String(db % 16), 'HLEN', 'jug:redis-work:results').stdout.trim(), '5');
    // No lock is left behind.
    assert.equal(redis.cli('-n', String(db % 16), 'KEYS', 'jug:redis-work:lock:*').stdout.trim(), '');
  });

  test('--threads 2 writes through the same store; each task runs once', async () => {
    const url = fresh();
    const log = join(tmp, 'threads.log');
    const run = await runJug(['execute', JUGFILE, '--jugdir', url, '--threads', '2'], { env: { REDIS_N: '60', REDIS_LOG: log } });
    assert.equal(run.code, 0, show(run));
    const res = await check(url, { REDIS_N: '60' });
    assert.equal(res.total, res.expected);
    assert.deepEqual([...starts(log).values()].filter((n) => n !== 1), []);
    assert.equal(starts(log).size, 60);
  });

  test('two processes and a threaded one share one Redis: each task exactly once', async () => {
    const url = fresh();
    const log = join(tmp, 'mixed.log');
    const env = { REDIS_N: '80', REDIS_SLEEP_MS: '10', REDIS_LOG: log };
    const runs = await Promise.all([
      runJug(['execute', JUGFILE, '--jugdir', url], { env }),
      runJug(['execute', JUGFILE, '--jugdir', url], { env }),
      runJug(['execute', JUGFILE, '--jugdir', url, '--threads', '2'], { env }),
    ]);
    for (const r of runs) assert.equal(r.code, 0, show(r));
    const counts = starts(log);
    assert.equal(counts.size, 80);
    assert.deepEqual([...counts.entries()].filter(([, n]) => n !== 1), [], 'tasks run more than once');
    assert.equal((await check(url, { REDIS_N: '80' })).total, (await check(url, { REDIS_N: '80' })).expected);
  });

  test('a failed task with --keep-failed: the mark stays (no expiry) with its failure record', async () => {
    const url = fresh();
    const failing = join(FIXTURES, 'failing.ts');
    const run = await runJug(['execute', failing, '--jugdir', url, '--keep-failed']);
    assert.equal(run.code, 1, show(run));
    const keys = redis.cli('-n', String(db % 16), 'KEYS', 'jug:failing:lock:*').stdout.trim().split('\n');
    assert.equal(keys.length, 1, keys.join(','));
    assert.equal(redis.cli('-n', String(db % 16), 'PTTL', keys[0]!).stdout.trim(), '-1');
    const st = await runJug(['status', failing, '--jugdir', url, '--failed']);
    assert.match(st.stdout + st.stderr, /kaboom-marker/, show(st));
    const clean = await runJug(['cleanup', failing, '--jugdir', url, '--failed-only']);
    assert.equal(clean.code, 0, show(clean));
    assert.equal(redis.cli('-n', String(db % 16), 'KEYS', 'jug:failing:lock:*').stdout.trim(), '');
  });

  test('jug copy: a jugdir to Redis and back, verified, skipping present results, read-only on the source', async () => {
    const dir = join(tmp, 'redis-work.jugdata');
    const env = { REDIS_N: '10' };
    assert.equal((await runJug(['execute', JUGFILE, '--jugdir', dir], { env })).code, 0);
    const before = readdirSync(dir).sort();
    const url = fresh();
    const up = await runJug(['copy', '--from', dir, '--to', url]);
    assert.equal(up.code, 0, show(up));
    assert.match(up.stderr, /11 result\(s\) copied/);
    assert.deepEqual(readdirSync(dir).sort(), before, 'the source changed');
    // Resumes there: nothing left to run.
    const run = await runJug(['execute', JUGFILE, '--jugdir', url], { env });
    assert.deepEqual(parseTable(run.stdout).rows.get('Total:'), [0, 11], show(run));
    const again = await runJug(['copy', '--from', dir, '--to', url]);
    assert.match(again.stderr, /0 result\(s\) copied .*11 already there/, show(again));
    // And back, into a new jugdir, which then reads the same values.
    const back = join(tmp, 'back', 'redis-work.jugdata');
    const down = await runJug(['copy', '--from', url + '?prefix=jug:redis-work', '--to', back]);
    assert.equal(down.code, 0, show(down));
    assert.equal((await check(back, env)).total, (await check(url, env)).total);
    // A damaged value is not copied.
    const first = redis.cli('-n', String(db % 16), 'HKEYS', 'jug:redis-work:results').stdout.trim().split('\n')[0]!;
    redis.cli('-n', String(db % 16), 'HSET', 'jug:redis-work:results', first, 'V garbage');
    const other = join(tmp, 'other', 'redis-work.jugdata');
    const bad = await runJug(['copy', '--from', url, '--to', other]);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, new RegExp(`corrupt.*\\n.*${first}`), show(bad));
  });

  test('an unsupported scheme:// jugdir is a usage error naming the supported forms (and creates nothing)', async () => {
    const cwd = makeTempDir('scheme');
    try {
      for (const jugdir of ['s3://bucket/run', 'memcached://127.0.0.1:11211']) {
        const r = await runJug(['status', JUGFILE, '--jugdir', jugdir], { cwd });
        assert.equal(r.code, 2, show(r));
        assert.match(r.stderr, /not a store jug supports.*redis:\/\/\[user:password@\]host\[:port\]\[\/db\]/, show(r));
      }
      assert.deepEqual(readdirSync(cwd), []);
    } finally {
      removeTempDir(cwd);
    }
  });

  test('a Redis URL that does not parse: exit 2 with the expected form, password masked', async () => {
    for (const jugdir of ['redis://:hunter2@127.0.0.1:99999/0', 'redis://127.0.0.1:6379/abc', 'redis://127.0.0.1:6379/0?db=3']) {
      const r = await runJug(['status', JUGFILE, '--jugdir', jugdir]);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /Expected redis:\/\//, show(r));
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
    }
  });

  test('an unreachable server: a clear error naming host:port, password masked, exit 1 at once', async () => {
    const port = await freePort();
    const r = await runJug(['execute', JUGFILE, '--jugdir', `redis://jug:hunter2@127.0.0.1:${port}/0`], { timeoutMs: 15_000 });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, new RegExp(`Cannot reach Redis at 127\\.0\\.0\\.1:${port}.*ECONNREFUSED`), show(r));
    assert.match(r.stderr, /redis:\/\/jug:\*\*\*@/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  });

  test('a wrong database index is reported, not silently replaced by database 0', async () => {
    const r = await runJug(['status', JUGFILE, '--jugdir', redis.url(999)]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /database 999 does not exist/, show(r));
  });
});

describe('Redis store with a password and ACLs', { skip: SKIP_REDIS }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await TestRedis.start(['--requirepass', 's3cret-pw']);
    redis.cliEnv = { REDISCLI_AUTH: 's3cret-pw' };
    redis.cli('ACL', 'SETUSER', 'other', 'on', '>other-pw', '~elsewhere:*', '+@all');
  });
  after(async () => {
    await redis?.destroy();
  });

  test('the password from the URL or JUG_REDIS_PASSWORD; never printed, even with --verbose', async () => {
    const viaUrl = await runJug(['execute', JUGFILE, '--verbose', '--jugdir', redis.url(0, ':s3cret-pw@')], { env: { REDIS_N: '3' } });
    assert.equal(viaUrl.code, 0, show(viaUrl));
    assert.doesNotMatch(viaUrl.stdout + viaUrl.stderr, /s3cret/);
    const viaEnv = await runJug(['status', JUGFILE, '--verbose', '--jugdir', redis.url(0)], {
      env: { REDIS_N: '3', JUG_REDIS_PASSWORD: 's3cret-pw' },
    });
    assert.equal(viaEnv.code, 0, show(viaEnv));
    assert.deepEqual(parseTable(viaEnv.stdout).rows.get('Total:'), [0, 0, 4, 0, 0]);
    // A failing task's report names the store: masked there too.
    const failing = await runJug(['execute', join(FIXTURES, 'failing.ts'), '--jugdir', redis.url(1, ':s3cret-pw@')]);
    assert.equal(failing.code, 1, show(failing));
    assert.doesNotMatch(failing.stdout + failing.stderr, /s3cret/);
  });

  test('a wrong password: a clear message, exit 1, password masked', async () => {
    const r = await runJug(['status', JUGFILE, '--jugdir', redis.url(0, ':not-it@')]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /refused the credentials: WRONGPASS.*JUG_REDIS_PASSWORD/, show(r));
    assert.doesNotMatch(r.stderr, /not-it/);
    const none = await runJug(['status', JUGFILE, '--jugdir', redis.url(0)]);
    assert.equal(none.code, 1, show(none));
    assert.match(none.stderr, /NOAUTH/, show(none));
  });

  test("a user the ACL denies the store's keys: a clear message naming the prefix", async () => {
    const r = await runJug(['status', JUGFILE, '--jugdir', redis.url(0, 'other:other-pw@')]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /denied access to the store's keys \(jug:redis-work:\*\): NOPERM/, show(r));
    assert.doesNotMatch(r.stderr, /other-pw/);
  });
});

describe('Redis store: a server that goes away or fills up', { skip: SKIP_REDIS }, () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('redis-outage');
  });
  after(() => removeTempDir(tmp));

  test('a server restarted mid-run: the run waits, then completes; nothing lost or run twice', async () => {
    const redis = await TestRedis.start([], true);
    try {
      const log = join(tmp, 'restart.log');
      const env = { REDIS_N: '40', REDIS_SLEEP_MS: '60', REDIS_LOG: log };
      const run = startJug(['execute', JUGFILE, '--jugdir', redis.url()], { env, timeoutMs: 60_000 });
      assert.ok(await waitFor(() => starts(log).size >= 8, 20_000), 'the run did not start');
      await redis.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 1500));
      await redis.startAgain();
      const r = await run.done;
      assert.equal(r.code, 0, show(r));
      const counts = starts(log);
      assert.equal(counts.size, 40);
      assert.deepEqual([...counts.entries()].filter(([, n]) => n !== 1), [], 'tasks run twice');
      const res = await check(redis.url(), { REDIS_N: '40' });
      assert.equal(res.total, res.expected);
    } finally {
      await redis.destroy();
    }
  });

  test('a server away longer than the bound: the run stops with a clear message, exit 1; a later run completes', async () => {
    const redis = await TestRedis.start([], true);
    try {
      const log = join(tmp, 'away.log');
      const env = { REDIS_N: '40', REDIS_SLEEP_MS: '60', REDIS_LOG: log, JUG_REDIS_OUTAGE_SECONDS: '2' };
      const run = startJug(['execute', JUGFILE, '--jugdir', redis.url()], { env, timeoutMs: 60_000 });
      assert.ok(await waitFor(() => starts(log).size >= 5, 20_000), 'the run did not start');
      await redis.stop('SIGKILL');
      const r = await run.done;
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, new RegExp(`Lost the connection to Redis at 127\\.0\\.0\\.1:${redis.port}.*for more than 2 s`), show(r));
      await redis.startAgain();
      const again = await runJug(['execute', JUGFILE, '--jugdir', redis.url()], { env: { ...env, REDIS_SLEEP_MS: '0' } });
      assert.equal(again.code, 0, show(again));
      const res = await check(redis.url(), { REDIS_N: '40' });
      assert.equal(res.total, res.expected);
    } finally {
      await redis.destroy();
    }
  });

  test('a frozen server (SIGSTOP): the run stops after the bound with a clear message, exit 1; nothing half-written', async () => {
    const redis = await TestRedis.start();
    let stopped = false;
    try {
      const log = join(tmp, 'frozen.log');
      const env = { REDIS_N: '40', REDIS_SLEEP_MS: '60', REDIS_LOG: log, JUG_REDIS_OUTAGE_SECONDS: '2' };
      const run = startJug(['execute', JUGFILE, '--jugdir', redis.url()], { env, timeoutMs: 60_000 });
      assert.ok(await waitFor(() => starts(log).size >= 5, 20_000), 'the run did not start');
      process.kill(redis.pid!, 'SIGSTOP'); // the connection stays open; nothing answers
      stopped = true;
      const r = await run.done;
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, new RegExp(`Redis at 127\\.0\\.0\\.1:${redis.port} .*did not answer for more than 2 s`), show(r));
      assert.doesNotMatch(r.stderr, /internal error/);
      process.kill(redis.pid!, 'SIGCONT');
      stopped = false;
      // Every result there is whole (the check reads them all), and a later run completes the rest, each once more at most.
      const again = await runJug(['execute', JUGFILE, '--jugdir', redis.url()], { env: { ...env, REDIS_SLEEP_MS: '0' } });
      assert.equal(again.code, 0, show(again));
      const res = await check(redis.url(), { REDIS_N: '40' });
      assert.equal(res.total, res.expected);
    } finally {
      if (stopped) process.kill(redis.pid!, 'SIGCONT');
      await redis.destroy();
    }
  });

  test("a full server (maxmemory): the task fails with Redis's message, the run stops, no partial result", async () => {
    const redis = await TestRedis.start(['--maxmemory', '3mb', '--maxmemory-policy', 'noeviction']);
    try {
      const env = { REDIS_N: '3', REDIS_BIG_MB: '4' };
      const r = await runJug(['execute', JUGFILE, '--jugdir', redis.url()], { env });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /OOM command not allowed when used memory > 'maxmemory'/, show(r));
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.equal(redis.cli('KEYS', 'jug:redis-work:lock:*').stdout.trim(), '', 'a lock was left');
      // The big result was refused whole (the run stopped there): with room again, the bigs run.
      const sizes = redis
        .cli('HKEYS', 'jug:redis-work:results')
        .stdout.trim()
        .split('\n')
        .map((f) => Number(redis.cli('HSTRLEN', 'jug:redis-work:results', f).stdout.trim()));
      assert.deepEqual(sizes.filter((n) => n > 1024 * 1024), [], sizes.join(','));
      redis.cli('CONFIG', 'SET', 'maxmemory', '0');
      const again = await runJug(['execute', JUGFILE, '--jugdir', redis.url(), '--target', 'big'], { env });
      assert.equal(again.code, 0, show(again));
      assert.deepEqual(parseTable(again.stdout).rows.get('redis-work.big'), [2, 0], show(again));
    } finally {
      await redis.destroy();
    }
  });
});

test('the Redis client is only loaded for redis:// jugdirs (a chunk of its own, imported dynamically)', () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'vendor', 'ioredis.cjs')), 'the bundled client is built');
  const chunks = join(ROOT, 'dist', 'chunks');
  const files = readdirSync(chunks).filter((f) => f.endsWith('.js'));
  const importers = files.filter((f) => /vendor\/ioredis\.cjs|from\s*["']ioredis["']/.test(readFileSync(join(chunks, f), 'utf8')));
  assert.equal(importers.length, 1, importers.join(', '));
  assert.match(importers[0]!, /^redis-store-/);
  for (const dir of [chunks, join(ROOT, 'dist'), join(ROOT, 'dist', 'cli')]) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.doesNotMatch(text, /^import[^;]*redis-store-/m, `${f} imports the Redis store statically`);
    }
  }
});
