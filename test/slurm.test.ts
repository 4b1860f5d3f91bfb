/**
 * `jug submit` against a real Slurm: a one-node cluster of this machine (test/slurm-cluster.ts:
 * slurmctld, slurmd and munged of the Debian packages, started as root, stopped afterwards).
 * Skipped, saying why, when not root or the packages are missing (.ci/run installs them).
 *
 * Jugfiles live under test/.tmp (they import 'jug' by the package's self-reference); the workers
 * get the test's environment through sbatch (its default --export=ALL), which is how the
 * fixtures' knobs (JUG_N, JUG_DELAY_MS, JUG_SIDE_FILE, NAP_MS) reach them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, entries, makeTempDir, removeTempDir, runJug, runNode, show, storedHashes, waitFor, type RunResult } from './helpers.js';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from './slurm-cluster.js';

const unavailable = slurmUnavailable();
if (unavailable !== undefined) process.stderr.write(`slurm.test.ts: skipped: ${unavailable}\n`);

const MANY = join(FIXTURES, 'many.ts');
/** Long enough for the slowest case (a 1-minute job, then another). */
const LONG = { timeoutMs: 180_000 };

let cluster: SlurmCluster;
let tmp: string;
let count = 0;

describe('jug submit on a real one-node Slurm', { skip: unavailable }, () => {
  before(async () => {
    tmp = makeTempDir('slurm');
    cluster = await startSlurmCluster();
  });
  after(async () => {
    const left = await cluster?.stop();
    removeTempDir(tmp);
    assert.deepEqual(left ?? [], [], 'processes left running after the cluster was stopped');
  });

  /** `jug submit <args>` with the cluster's SLURM_CONF and `env`. */
  function submit(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
    return runJug(['submit', ...args], { env: { ...cluster.env, ...env }, ...LONG });
  }

  function freshDir(label: string): string {
    const dir = join(tmp, `${++count}-${label}`);
    mkdirSync(dir);
    return dir;
  }

  /** How often each task of many.ts ran (its side-effect file: one line per run). */
  function runsOf(side: string): Map<number, number> {
    const runs = new Map<number, number>();
    if (!existsSync(side)) return runs;
    for (const l of readFileSync(side, 'utf8').split('\n')) if (l !== '') runs.set(Number(l), (runs.get(Number(l)) ?? 0) + 1);
    return runs;
  }

  /** The job id `jug submit` printed. */
  function jobIdOf(r: RunResult): string {
    const m = /^Submitted job (\d+):/m.exec(r.stdout);
    assert.ok(m, `no job id in the output:\n${show(r)}`);
    return m[1]!;
  }

  /** Resolves once the job has left the queue. */
  async function jobGone(id: string): Promise<void> {
    const gone = await waitFor(() => cluster.run('squeue', ['--noheader', '--jobs', id]).stdout.trim() === '', 60_000, 250);
    assert.ok(gone, `job ${id} still queued:\n${cluster.run('squeue', []).stdout}\n${cluster.logs()}`);
  }

  /** Every worker log of the jugdir's jobs/ folder, concatenated. */
  function workerLogs(jugdir: string): string {
    const jobs = join(jugdir, 'jobs');
    return readdirSync(jobs)
      .filter((f) => f.endsWith('.out'))
      .map((f) => `--- ${f} ---\n${readFileSync(join(jobs, f), 'utf8')}`)
      .join('\n');
  }

  it('--workers 3 --threads 1 --wait over 300 tasks with side effects: all finished, each exactly once, exit 0', async () => {
    const dir = freshDir('wait');
    const jugdir = join(dir, 'many.jugdata');
    const side = join(dir, 'side.txt');
    const env = { JUG_N: '300', JUG_DELAY_MS: '20', JUG_SIDE_FILE: side };
    const r = await submit([MANY, '--jugdir', jugdir, '--workers', '3', '--threads', '1', '--wait', '--poll', '1'], env);
    assert.equal(r.code, 0, `${show(r)}\n${existsSync(join(jugdir, 'jobs')) ? workerLogs(jugdir) : ''}`);
    const id = jobIdOf(r);
    assert.match(r.stdout, new RegExp(`squeue -j ${id}`));
    assert.match(r.stdout, new RegExp(`scancel ${id}`));
    assert.match(r.stdout, /jug status .*many\.ts --jugdir/);
    assert.match(r.stderr, new RegExp(`jug: job ${id}: ended · tasks: 301 of 301 finished`));
    assert.match(r.stdout, /Total:\s+0\s+0\s+301\s+0\s+0/, 'the jug status table at the end');
    const runs = runsOf(side);
    assert.equal(runs.size, 300);
    assert.deepEqual([...runs.values()].filter((n) => n !== 1), [], 'a task ran more than once');
    assert.equal(storedHashes(jugdir).length, 301);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    const logs = readdirSync(join(jugdir, 'jobs')).filter((f) => f.endsWith('.out')).sort();
    assert.deepEqual(logs, [`${id}_0.out`, `${id}_1.out`, `${id}_2.out`], 'one log per worker in <jugdir>/jobs');
    const again = await submit([MANY, '--jugdir', jugdir, '--workers', '3'], env);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stderr, /jug: all 301 task\(s\) are finished: nothing to submit\./);
    assert.doesNotMatch(again.stdout, /Submitted job/);
  });

  it('scancel mid-run (SIGTERM, then kill -9 of everything), then jug submit again: completes, no cleanup, no finished task run twice', async () => {
    const dir = freshDir('scancel');
    const jugdir = join(dir, 'many.jugdata');
    const side = join(dir, 'side.txt');
    const env = { JUG_N: '300', JUG_DELAY_MS: '100', JUG_SIDE_FILE: side };
    const args = [MANY, '--jugdir', jugdir, '--workers', '2', '--threads', '2'];
    let finished = new Set<number>();
    for (const [label, cancel, after] of [
      ['scancel', [], 40],
      ['scancel --full --signal=KILL', ['--full', '--signal=KILL'], 120],
    ] as const) {
      const r = await submit(args, env);
      assert.equal(r.code, 0, show(r));
      const id = jobIdOf(r);
      assert.ok(await waitFor(() => runsOf(side).size >= after, 60_000, 50), `${label}: the workers did not get going\n${cluster.logs()}`);
      const c = cluster.run('scancel', [...cancel, id]);
      assert.equal(c.code, 0, `${label}: ${c.stderr}`);
      await jobGone(id);
      const stored = await storedTasks(dir, jugdir);
      assert.ok(stored.size < 300, `${label}: the job finished before it was cancelled`);
      for (const n of finished) assert.ok(stored.has(n), `${label}: the result of task ${n} is gone`);
      finished = stored;
    }
    const r = await submit([...args, '--wait', '--poll', '1'], env);
    assert.equal(r.code, 0, `${show(r)}\n${workerLogs(jugdir)}`);
    const runs = runsOf(side);
    assert.equal(runs.size, 300, 'every task ran');
    const twice = [...finished].filter((n) => runs.get(n) !== 1);
    assert.deepEqual(twice, [], 'tasks finished before the cancel ran again');
    assert.equal(storedHashes(jugdir).length, 301);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);
    assert.deepEqual(entries(join(jugdir, 'tempfiles')), [], 'the killed workers\' unfinished writes were removed');
  });

  /** The tasks of many.ts whose results are stored (read by a script that imports 'jug'). */
  async function storedTasks(dir: string, jugdir: string): Promise<Set<number>> {
    const script = join(dir, 'stored.mjs');
    writeFileSync(
      script,
      `import { init } from 'jug';
const { exports, store } = await init(${JSON.stringify(MANY)}, { jugdir: ${JSON.stringify(jugdir)} });
const stored = await store.list();
console.log(JSON.stringify(exports.results.flatMap((t, i) => (stored.has(t.hash()) ? [i] : []))));
`,
    );
    const r = await runNode([script], { env: { JUG_N: '300' } });
    assert.equal(r.code, 0, show(r));
    return new Set(JSON.parse(r.stdout) as number[]);
  }

  it('--time 0:01:00 shorter than the work (20 s tasks): drained by SIGUSR1, no task cut, every started one finished; the next job does the rest', async () => {
    const dir = freshDir('timelimit');
    const jugdir = join(dir, 'naps.jugdata');
    const side = join(dir, 'side.txt');
    const jugfile = join(dir, 'naps.ts');
    writeFileSync(
      jugfile,
      `import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskGenerator } from 'jug';
export const nap = TaskGenerator(async function nap(i: number): Promise<number> {
  appendFileSync(${JSON.stringify(side)}, 'start ' + i + '\\n');
  await sleep(Number(process.env['NAP_MS']));
  appendFileSync(${JSON.stringify(side)}, 'end ' + i + '\\n');
  return i;
});
export const naps = Array.from({ length: 8 }, (_, i) => nap(i));
`,
    );
    const lines = (prefix: string): string[] => (existsSync(side) ? readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith(prefix)).sort() : []);
    const args = [jugfile, '--jugdir', jugdir, '--workers', '2', '--threads', '1'];
    const first = await submit([...args, '--time', '0:01:00', '--wait', '--poll', '1'], { NAP_MS: '20000' });
    const logs = workerLogs(jugdir);
    assert.equal(first.code, 1, `work is left, so --wait exits 1\n${show(first)}\n${logs}`);
    assert.match(first.stderr, /the job ended with tasks not finished/);
    assert.match(readFileSync(join(jugdir, 'jobs', readdirSync(join(jugdir, 'jobs')).find((f) => f.endsWith('.sh'))!), 'utf8'), /^#SBATCH --signal=B:USR1@20$/m);
    assert.equal(logs.match(/SIGUSR1 received: draining/g)?.length, 2, `both workers drained:\n${logs}`);
    assert.doesNotMatch(logs, /SIGTERM|aborted/, `a worker was stopped at the time limit:\n${logs}`);
    const started = lines('start ');
    assert.ok(started.length >= 2 && started.length < 8, `${started.length} tasks started:\n${logs}`);
    assert.deepEqual(lines('end '), started.map((l) => l.replace('start', 'end')), `a started task did not finish:\n${logs}`);
    assert.equal(storedHashes(jugdir).length, started.length);
    assert.deepEqual(entries(join(jugdir, 'locks')), []);

    const rest = await submit([...args, '--wait', '--poll', '1'], { NAP_MS: '200' });
    assert.equal(rest.code, 0, `${show(rest)}\n${workerLogs(jugdir)}`);
    assert.equal(lines('start ').length, 8, 'a task ran twice, or not at all');
    assert.equal(new Set(lines('end ')).size, 8);
    assert.equal(storedHashes(jugdir).length, 8);
  });

  it('sbatch refusing the job (no such partition): its message, exit 1', async () => {
    const dir = freshDir('refused');
    const r = await submit([MANY, '--jugdir', join(dir, 'many.jugdata'), '--workers', '2', '--partition', 'nosuch'], { JUG_N: '3' });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /jug: sbatch refused the job \(exit 1\):\n.*invalid partition/i, show(r));
    assert.doesNotMatch(r.stdout, /Submitted job/);
  });
});
