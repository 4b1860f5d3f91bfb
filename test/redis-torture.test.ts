/**
 * kill -9 torture on the Redis store (issue 16), as test/torture.test.ts on files: several
 * `jug execute` processes (some with `--threads 2`) on one redis-server, SIGKILLed at random
 * moments (seeded; rerun one with JUG_TORTURE_SEED=<seed>), restarted, until a run completes.
 * Then a final run, and: every value right (read through init() + value()), no lock left (a
 * killed process's locks on this host are taken over at once; elsewhere they expire after the
 * lease), each task's side effect logged at least once and re-run only for work lost to a kill.
 * Bounded to about 30 s of chaos.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, makeTempDir, parseTable, removeTempDir, runJug, runNode, show, startJug } from './helpers.js';
import { chaos, prng } from './chaos.js';
import { SKIP_REDIS, TestRedis } from './redis-server.js';

const JUGFILE = join(FIXTURES, 'redis-work.ts');
const N = 300;
const PROCESSES = 3;
const MIN_KILLS = 8;
const MAX_KILLS = 30;
const CHAOS_BUDGET_MS = 30_000;


let redis: TestRedis | undefined;
let tmp: string;
before(async () => {
  tmp = makeTempDir('redis-torture');
  if (SKIP_REDIS === false) redis = await TestRedis.start();
});
after(async () => {
  await redis?.destroy();
  removeTempDir(tmp);
});

function startsByTask(log: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(log)) return out;
  for (const m of readFileSync(log, 'utf8').matchAll(/^START (\d+) (\d+)/gm)) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + 1);
  return out;
}

function pidsStarted(log: string): Set<number> {
  if (!existsSync(log)) return new Set();
  return new Set([...readFileSync(log, 'utf8').matchAll(/^START \d+ (\d+)/gm)].map((m) => Number(m[1])));
}

test('kill -9 torture on Redis: random SIGKILLs of processes with and without threads lose nothing', { skip: SKIP_REDIS, timeout: 120_000 }, async (t) => {
  const seed = process.env['JUG_TORTURE_SEED'] !== undefined ? Number(process.env['JUG_TORTURE_SEED']) : randomInt(2 ** 31);
  const rand = prng(seed);
  t.diagnostic(`seed ${seed} (rerun with JUG_TORTURE_SEED=${seed})`);
  const url = redis!.url();
  const log = join(tmp, 'torture.log');
  const env = { REDIS_N: String(N), REDIS_SLEEP_MS: '15', REDIS_LOG: log, TMPDIR: tmp };
  const baseArgs = ['execute', JUGFILE, '--jugdir', url, '--wait-cycle-time', '0.2', '--lock-lease', '10'];

  const { finished, kills, completed, chaosMs } = await chaos({
    rand,
    spawn: (threads) => startJug(threads ? [...baseArgs, '--threads', '2'] : baseArgs, { env, timeoutMs: 90_000 }),
    startedPids: () => pidsStarted(log),
    processes: PROCESSES,
    minKills: MIN_KILLS,
    maxKills: MAX_KILLS,
    budgetMs: CHAOS_BUDGET_MS,
    maxKillAfterMs: 420,
  });
  t.diagnostic(
    `${finished.length} processes (${finished.filter((p) => p.threads).length} with --threads 2), ${kills} SIGKILLs, ` +
      `${(chaosMs / 1000).toFixed(1)} s, ${completed ? 'a run completed' : 'budget reached'}`,
  );
  assert.ok(kills >= 4, `only ${kills} kills: the torture did not torture (seed ${seed})`);
  for (const p of finished) {
    const r = p.result!;
    if (p.killed) assert.ok(r.signal === 'SIGKILL' || r.code === 0, `seed ${seed}: pid ${p.pid}: ${show(r)}`);
    else assert.equal(r.code, 0, `seed ${seed}: pid ${p.pid} (not killed) failed: ${show(r)}`);
    assert.doesNotMatch(r.stderr, /corrupt|internal error/i, `seed ${seed}: ${show(r)}`);
  }

  // The final run waits for no lock: the killed processes' locks are taken over at once.
  const final = await runJug([...baseArgs, '--nr-wait-cycles', '10'], { env, timeoutMs: 60_000 });
  assert.equal(final.code, 0, `seed ${seed}: final run: ${show(final)}`);
  const total = parseTable(final.stdout).rows.get('Total:')!;
  assert.equal(total[0]! + total[1]!, N + 1, show(final));
  assert.equal(redis!.cli('KEYS', 'jug:redis-work:lock:*').stdout.trim(), '', `seed ${seed}: locks left`);
  assert.equal(redis!.cli('SCARD', 'jug:redis-work:locks').stdout.trim(), '0', `seed ${seed}: lock index not empty`);

  // Every value right.
  const check = await runNode([join(FIXTURES, 'redis-check.mjs'), url], { env: { REDIS_N: String(N) } });
  assert.equal(check.code, 0, show(check));
  const res = JSON.parse(check.stdout) as { total: number; expected: number; works: number[] };
  assert.equal(res.total, res.expected);
  assert.deepEqual(res.works, Array.from({ length: N }, (_, k) => k * k + 1));

  // Every side effect happened; re-runs only for work a kill lost (at most the tasks a killed
  // process had running: 1 serial, 2 with threads, plus one claimed as it died).
  const counts = startsByTask(log);
  assert.equal(counts.size, N, `seed ${seed}: tasks that never ran`);
  const reruns = [...counts.values()].reduce((a, n) => a + n - 1, 0);
  t.diagnostic(`${reruns} re-runs of work lost to ${kills} kills`);
  assert.ok(reruns <= kills * 3, `seed ${seed}: ${reruns} re-runs for ${kills} kills: tasks ran twice without a kill`);
});
