/**
 * SIGUSR1, the graceful drain of `jug execute`: no new task, running ones finish (results stored,
 * locks released), exit 0; a next run does the rest. Serial, with --threads, across a barrier,
 * while the jugfile loads, and a SIGTERM after it (Slurm's at the time limit) aborting.
 * Through the real CLI (needs `npm run build`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entries, makeTempDir, parseTable, removeTempDir, runJug, show, startJug, storedHashes, waitFor, type RunResult } from './helpers.js';

let tmp: string;
let count = 0;
before(() => {
  tmp = makeTempDir('drain');
});
after(() => removeTempDir(tmp));

interface Naps {
  readonly jugfile: string;
  readonly jugdir: string;
  readonly side: string;
}

/**
 * Five naps of NAP_MS (read inside the task, so hashes do not depend on it), each logging `start i`
 * and `end i` to the side file; the load logs `load` and then blocks FIRST_LOAD_MS. With
 * `barrier`: five more naps after a barrier, whose load logs `load 2` and blocks LOAD2_MS.
 */
function napJugfile(barrier: boolean): Naps {
  const dir = join(tmp, String(++count));
  mkdirSync(dir);
  const side = join(dir, 'side.txt');
  const jugfile = join(dir, 'naps.ts');
  const block = (env: string): string => `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env['${env}'] ?? 0));`;
  const second = `barrier();
appendFileSync(SIDE, 'load 2\\n');
${block('LOAD2_MS')}
export const more = [5, 6, 7, 8, 9].map((i) => nap(i));
`;
  writeFileSync(
    jugfile,
    `import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskGenerator, barrier } from 'jug';
const SIDE = ${JSON.stringify(side)};
appendFileSync(SIDE, 'load\\n');
${block('FIRST_LOAD_MS')}
export const nap = TaskGenerator(async function nap(i: number): Promise<number> {
  appendFileSync(SIDE, 'start ' + i + '\\n');
  await sleep(Number(process.env['NAP_MS'] ?? 2500));
  appendFileSync(SIDE, 'end ' + i + '\\n');
  return i;
});
export const naps = [0, 1, 2, 3, 4].map((i) => nap(i));
${barrier ? second : 'void barrier;\n'}`,
  );
  return { jugfile, jugdir: join(dir, 'naps.jugdata'), side };
}

/** Lines of the side file starting with `prefix` (sorted). */
function lines(side: string, prefix: string): string[] {
  return existsSync(side) ? readFileSync(side, 'utf8').split('\n').filter((l) => l.startsWith(prefix)).sort() : [];
}

/** The Executed / Loaded counts of the summary's Total row. */
function total(r: RunResult): number[] | undefined {
  return parseTable(r.stdout).rows.get('Total:');
}

/** Runs `jug execute` on `naps`, sends SIGUSR1 once `ready` holds; resolves with its end. */
async function drainWhen(naps: Naps, args: readonly string[], env: Record<string, string>, ready: () => boolean): Promise<RunResult> {
  const run = startJug(['execute', naps.jugfile, '--jugdir', naps.jugdir, '-q', ...args], { env: { NAP_MS: '2500', ...env } });
  const seen = await Promise.race([waitFor(ready, 30_000, 10), run.done.then(() => false)]);
  if (!seen) {
    run.child.kill('SIGKILL');
    assert.fail(`the run did not get there:\n${show(await run.done)}`);
  }
  run.child.kill('SIGUSR1');
  return run.done;
}

/** The drained run's common checks: exit 0, the message, running tasks finished and stored, nothing else started, no lock. */
function assertDrained(r: RunResult, naps: Naps, running: number): void {
  assert.equal(r.code, 0, show(r));
  assert.match(r.stderr, new RegExp(`jug: SIGUSR1 received: draining: no new task; ${running} running task\\(s\\) finish, then exit 0\\.`), show(r));
  assert.match(r.stderr, /jug: drained after SIGUSR1: \d+ task\(s\) not started/, show(r));
  const started = lines(naps.side, 'start ');
  assert.equal(started.length, running, `tasks started after the drain:\n${started.join('\n')}`);
  assert.deepEqual(lines(naps.side, 'end '), started.map((l) => l.replace('start', 'end')), 'running tasks were not let finish');
  assert.equal(storedHashes(naps.jugdir).length, running, 'the running tasks\' results are stored');
  assert.deepEqual(entries(join(naps.jugdir, 'locks')), []);
  assert.deepEqual(total(r), [running, 0], show(r));
}

/** A next run finishes the rest, running no task twice. */
async function assertResumes(naps: Naps, all: number): Promise<void> {
  const r = await runJug(['execute', naps.jugfile, '--jugdir', naps.jugdir, '-q'], { env: { NAP_MS: '0' } });
  assert.equal(r.code, 0, show(r));
  assert.equal(storedHashes(naps.jugdir).length, all);
  const started = lines(naps.side, 'start ');
  assert.equal(started.length, all, `a task ran twice:\n${started.join('\n')}`);
  assert.equal(new Set(started).size, all);
}

describe('SIGUSR1: graceful drain of jug execute', () => {
  it('serial: the running task finishes and is stored, no other starts, exit 0, no lock left; a next run does the rest', async () => {
    const naps = napJugfile(false);
    const r = await drainWhen(naps, [], {}, () => lines(naps.side, 'start ').length === 1);
    assertDrained(r, naps, 1);
    await assertResumes(naps, 5);
  });

  it('--threads 2: both running tasks finish, none starts after, exit 0', async () => {
    const naps = napJugfile(false);
    const r = await drainWhen(naps, ['--threads', '2'], {}, () => lines(naps.side, 'start ').length === 2);
    assertDrained(r, naps, 2);
    await assertResumes(naps, 5);
  });

  it('with a barrier: a drain in the first pass does not start the next pass (serial and --threads 2)', async () => {
    for (const args of [[], ['--threads', '2']]) {
      const naps = napJugfile(true);
      const r = await drainWhen(naps, args, { NAP_MS: '800' }, () => lines(naps.side, 'start ').length >= 3);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(lines(naps.side, 'load 2'), [], `the next pass was loaded (${args.join(' ')})`);
      assert.ok(lines(naps.side, 'start ').every((l) => Number(l.slice(6)) < 5), 'a task after the barrier started');
      assert.equal(lines(naps.side, 'end ').length, lines(naps.side, 'start ').length);
      assert.deepEqual(entries(join(naps.jugdir, 'locks')), []);
      await assertResumes(naps, 10);
    }
  });

  it('with a barrier: a drain while the jugfile loads past it starts no task of the next pass', async () => {
    const naps = napJugfile(true);
    const r = await drainWhen(naps, [], { NAP_MS: '0', LOAD2_MS: '1500' }, () => lines(naps.side, 'load 2').length === 1);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(lines(naps.side, 'start ').length, 5, 'the first pass ran');
    assert.match(r.stderr, /SIGUSR1 received: draining/);
    assert.deepEqual(entries(join(naps.jugdir, 'locks')), []);
    await assertResumes(naps, 10);
  });

  it('while the jugfile loads (before the run): no task starts, exit 0, and Node\'s inspector is not started', async () => {
    const naps = napJugfile(false);
    const r = await drainWhen(naps, [], { FIRST_LOAD_MS: '1500' }, () => lines(naps.side, 'load').length === 1);
    assertDrained(r, naps, 0);
    assert.doesNotMatch(r.stderr, /Debugger listening/);
    await assertResumes(naps, 5);
  });

  it('a SIGTERM after SIGUSR1 aborts the running tasks (exit 143): locks released, nothing partial stored; again, SIGUSR1 changes nothing', async () => {
    const naps = napJugfile(false);
    const run = startJug(['execute', naps.jugfile, '--jugdir', naps.jugdir, '-q', '--threads', '2'], { env: { NAP_MS: '30000' } });
    let stderr = '';
    run.child.stderr!.on('data', (s: string) => (stderr += s));
    assert.ok(await waitFor(() => lines(naps.side, 'start ').length === 2, 30_000, 10), 'tasks started');
    run.child.kill('SIGUSR1');
    assert.ok(await waitFor(() => stderr.includes('draining'), 10_000, 10), 'the drain was announced');
    run.child.kill('SIGUSR1');
    assert.ok(await waitFor(() => stderr.includes('already draining'), 10_000, 10), 'a second SIGUSR1 is said to change nothing');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 143, show(r));
    assert.ok(Date.now() - t0 < 10_000, 'running tasks were not aborted');
    assert.match(r.stderr, /jug: SIGTERM while draining: aborting running tasks now\./);
    assert.match(r.stderr, /aborted by SIGTERM/);
    assert.deepEqual(lines(naps.side, 'end '), []);
    assert.deepEqual(storedHashes(naps.jugdir), []);
    assert.deepEqual(entries(join(naps.jugdir, 'locks')), []);
  });
});
