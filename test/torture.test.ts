/**
 * Crash torture test: several `jug execute` processes (some with `--threads 2`) on one jugdir,
 * SIGKILLed at random moments (seeded PRNG; the seed is printed, rerun one with
 * JUG_TORTURE_SEED=<seed>), restarted, until a run completes. Then a final clean run, and:
 *
 * - every result is present and equal to the directly computed value, read through jug's own API
 *   (init + value in a child process); no result file is corrupt or partial;
 * - no lock and no temporary file is left, and nothing had to be cleaned up by hand;
 * - no task ever started after its result was stored (the jugfile logs a VIOLATION if it does),
 *   and every task started at least once (the side-effect log).
 *
 * The jugfile is test/fixtures/torture.ts. Bounded by a kill count and a time budget.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseRunLines } from '../src/run-records.js';
import {
  FIXTURES,
  entries,
  makeTempDir,
  parseTable,
  removeTempDir,
  runJug,
  runNode,
  show,
  startJug,
  storedHashes,
} from './helpers.js';
import { chaos, prng } from './chaos.js';

const JUGFILE = join(FIXTURES, 'torture.ts');
/** Distinct tasks in the jugfile (torture.ts's TASKS). */
const TASKS = 120 + 120 + 16 * 2 + 24 + 1;
/** Processes running at once. */
const PROCESSES = 3;
/** Every process is killed until this many kills; then some are spared. */
const MIN_KILLS = 10;
/** Stop killing after this many kills or this long, whichever comes first. */
const MAX_KILLS = 40;
const CHAOS_BUDGET_MS = 45_000;

let tmp: string;
before(() => {
  tmp = makeTempDir('torture');
});
after(() => {
  if (process.env['JUG_TORTURE_KEEP'] === undefined) removeTempDir(tmp);
});

/** Each lock file: name, size, content, age, whether its owner process is alive (for failure messages). */
function describeLocks(jugdir: string): string {
  const dir = join(jugdir, 'locks');
  return entries(dir)
    .map((name) => {
      try {
        const text = readFileSync(join(dir, name), 'utf8');
        const age = ((Date.now() - statSync(join(dir, name)).mtimeMs) / 1000).toFixed(1);
        const pid = Number(/^PID (\d+)/.exec(text)?.[1]);
        let alive = 'no PID';
        if (Number.isInteger(pid)) {
          try {
            process.kill(pid, 0);
            alive = `pid ${pid} alive`;
          } catch {
            alive = `pid ${pid} dead`;
          }
        }
        return `  ${name} (${text.length} bytes, ${age} s old, ${alive}): ${JSON.stringify(text)}`;
      } catch (e) {
        return `  ${name}: ${String(e)}`;
      }
    })
    .join('\n');
}

interface LogLine {
  readonly kind: 'START' | 'VIOLATION';
  readonly hash: string;
  readonly pid: number;
}

function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const out: LogLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(START|VIOLATION) ([0-9a-f]{40}) (\d+)\b/.exec(line);
    if (m !== null) out.push({ kind: m[1] as LogLine['kind'], hash: m[2]!, pid: Number(m[3]) });
  }
  return out;
}

/** Every file under `dir`, relative paths. */
function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}


test('crash torture: random SIGKILLs of concurrent `jug execute` processes lose and corrupt nothing', { timeout: 150_000 }, async (t) => {
  const seed = process.env['JUG_TORTURE_SEED'] !== undefined ? Number(process.env['JUG_TORTURE_SEED']) : randomInt(2 ** 31);
  const rand = prng(seed);
  t.diagnostic(`seed ${seed} (rerun with JUG_TORTURE_SEED=${seed})`);
  const jugdir = join(tmp, 'torture.jugdata');
  const log = join(tmp, 'torture-log.txt');
  // TMPDIR: killed processes cannot remove their jugfile bundles; keep them in our temp dir.
  const env = { TORTURE_LOG: log, TORTURE_JUGDIR: jugdir, TMPDIR: tmp };
  const baseArgs = ['execute', JUGFILE, '--jugdir', jugdir, '--wait-cycle-time', '0.2', '-q'];

  // Chaos: keep PROCESSES running, kill each at a random moment after its first task started. The
  // kill delay is short enough that the ~1.5 s of task work cannot finish before MIN_KILLS kills
  // (with up to 600 ms a run sometimes completed after 9).
  const { finished, kills, completed, chaosMs } = await chaos({
    rand,
    spawn: (threads) => startJug(threads ? [...baseArgs, '--threads', '2'] : baseArgs, { env, timeoutMs: 120_000 }),
    startedPids: () => new Set(readLog(log).map((l) => l.pid)),
    processes: PROCESSES,
    minKills: MIN_KILLS,
    maxKills: MAX_KILLS,
    budgetMs: CHAOS_BUDGET_MS,
    maxKillAfterMs: 320,
  });
  t.diagnostic(
    `${finished.length} processes (${finished.filter((p) => p.threads).length} with --threads 2), ${kills} SIGKILLs, ` +
      `chaos ${(chaosMs / 1000).toFixed(1)} s, ${completed ? 'a run completed' : 'budget reached'}`,
  );
  assert.ok(kills >= MIN_KILLS || !completed, `only ${kills} kills before a run completed: the torture did not torture (seed ${seed})`);

  for (const p of finished) {
    const r = p.result!;
    if (p.killed) {
      // Killed by us, or finished just before the kill landed.
      assert.ok(r.signal === 'SIGKILL' || r.code === 0, `seed ${seed}: pid ${p.pid}: ${show(r)}`);
    } else {
      assert.equal(r.code, 0, `seed ${seed}: pid ${p.pid} (not killed) failed: ${show(r)}\nlocks:\n${describeLocks(jugdir)}`);
    }
    assert.doesNotMatch(r.stderr, /corrupt|internal error/i, `seed ${seed}: pid ${p.pid}: ${show(r)}`);
  }

  // A final run, with no cleanup before it: completes (nothing left to execute if a run had
  // completed), and must not wait for any lock.
  const final = await runJug([...baseArgs, '--nr-wait-cycles', '10'], { env, timeoutMs: 60_000 });
  assert.equal(final.code, 0, `seed ${seed}: final run: ${show(final)}\nlocks:\n${describeLocks(jugdir)}`);
  const total = parseTable(final.stdout).rows.get('Total:')!;
  if (completed) assert.deepEqual(total, [0, TASKS], `seed ${seed}: the completed run left work: ${show(final)}`);
  else assert.equal(total[0]! + total[1]!, TASKS);
  assert.doesNotMatch(final.stderr, /corrupt|warning/i, show(final));

  // Nothing left behind: no lock, no reclaim marker, no temporary file, nothing moved aside.
  assert.deepEqual(entries(join(jugdir, 'locks')), [], `seed ${seed}: leftover locks:\n${describeLocks(jugdir)}`);
  assert.deepEqual(entries(join(jugdir, 'tempfiles')), [], `seed ${seed}: leftover temporary files`);
  assert.equal(existsSync(join(jugdir, 'corrupt')), false, `seed ${seed}: corrupt results were found`);
  const stored = storedHashes(jugdir);
  assert.equal(stored.length, TASKS);
  // Results, and the run records of the processes (docs/store-format.md, "Run records"); the
  // running notes of the killed processes were removed by the final run's start.
  const unexpected = walk(jugdir).filter((f) => !/^[0-9a-f]{2}\/[0-9a-f]{38}$/.test(f) && !/^runs\/\d+-[sr][0-9a-f]+-.+\.jsonl$/.test(f));
  assert.deepEqual(unexpected, [], `seed ${seed}: unexpected files in the jugdir`);
  // Every result stored has its run record, whichever process stored it and however it was killed.
  const recorded = new Set(
    walk(jugdir)
      .filter((f) => f.startsWith('runs/'))
      .flatMap((f) => parseRunLines(readFileSync(join(jugdir, f), 'utf8')))
      .filter((r) => r.outcome === 'done')
      .map((r) => r.hash),
  );
  assert.deepEqual(stored.filter((h) => !recorded.has(h)), [], `seed ${seed}: stored results without a run record`);

  // Every result decodes to exactly the expected value, read through jug's API.
  const check = await runNode([join(FIXTURES, 'torture-check.mjs'), jugdir], { timeoutMs: 60_000 });
  assert.equal(check.code, 0, show(check));
  const res = JSON.parse(check.stdout) as { tasks: number; checked: number; mismatches: string[]; errors: string[] };
  assert.deepEqual(res.errors, [], `seed ${seed}: results that did not load`);
  assert.deepEqual(res.mismatches, [], `seed ${seed}: wrong results`);
  assert.equal(res.checked, TASKS);

  // The side-effect log: no task ran after its result was stored; every task ran.
  const lines = readLog(log);
  const violations = lines.filter((l) => l.kind === 'VIOLATION');
  assert.deepEqual(violations, [], `seed ${seed}: tasks executed after their result was stored`);
  const ran = new Set(lines.map((l) => l.hash));
  assert.deepEqual(stored.filter((h) => !ran.has(h)), [], `seed ${seed}: results stored without their task running`);
  const starts = lines.length;
  t.diagnostic(`${starts} task starts for ${TASKS} tasks (${starts - TASKS} re-runs of work lost to kills)`);
});
