/**
 * Many hosts on one jugdir (issue 15 §1), with hosts simulated by Linux namespaces
 * (test/multihost-harness.ts): each host has its own hostname and pid space (pids collide
 * between hosts, and a jug process may be PID 1 as in a container), and all share the jugdir.
 * The jugfile is test/fixtures/multihost.ts: every task logs START and END lines with its
 * hostname and pid to a side-effect log (O_APPEND), which tells who ran what, and when.
 *
 * Scenarios:
 * 1. 3 hosts × 2 processes (some with --threads 2), ~1,000 tasks: each task once, all results,
 *    nothing left in the jugdir, exit 0 everywhere, the work spread over the 3 hosts.
 * 2. kill -9 of a whole host holding locks of long tasks, lease 10 s: the survivors take its
 *    tasks over only after the lease, run each orphan once, and leave nothing behind.
 * 3. Two hosts whose jug processes are both PID 1: no lock of one is taken for the other's.
 * 4. A host (jug as PID 1, hostname nodeA) killed -9 while holding locks, started again with the
 *    same hostname and pid: it must not take the dead locks for its own.
 * 5. A FUSE mount (bindfs) as the shared filesystem, each host with its own mount: each task
 *    once, no owner file left after clean exits.
 *
 * Skipped, saying why, where namespaces (or, for 5, bindfs) are refused. Needs `npm run build`.
 * Times are only compared as orderings (never "fast enough"): a loaded machine only makes the
 * file slower.
 */
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, entries, makeTempDir, readResults, removeTempDir, storedHashes, waitFor } from './helpers.js';
import { Host, bindfsRefused, namespacesRefused, processesMentioning, showHost, type HostResult } from './multihost-harness.js';

const JUGFILE = join(FIXTURES, 'multihost.ts');
/** Heartbeat interval of a running `jug execute` (src/store/lock-owner.ts HEARTBEAT_MS). */
const HEARTBEAT_MS = 2000;
/** The lease of the kill scenarios: the shortest allowed. */
const LEASE_S = 10;

const refused = namespacesRefused();
if (refused !== undefined) console.log(`# multihost tests skipped: ${refused}`);

let tmp = '';
/** Every host started, to be stopped (by pid) whatever happens. */
const hosts: Host[] = [];
before(() => {
  tmp = makeTempDir('multihost');
});
after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  // Anything still running that names our directory is ours (a host's shell, jug or bindfs):
  // end it by pid, and fail.
  const left = tmp === '' ? [] : processesMentioning(tmp);
  for (const line of left) {
    try {
      process.kill(Number(line.split(':')[0]), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (tmp !== '' && process.env['JUG_MULTIHOST_KEEP'] === undefined) removeTempDir(tmp);
  assert.deepEqual(left, [], 'processes left behind by the multi-host tests');
});

/** Starts a host and remembers it for cleanup; each host gets a TMPDIR of its own, as a machine has. */
function startHost(options: Parameters<typeof Host.start>[0]): Host {
  const hostTmp = join(options.dir, `${options.name}.tmp`);
  mkdirSync(hostTmp, { recursive: true });
  const h = Host.start({ ...options, env: { ...options.env, TMPDIR: hostTmp } });
  hosts.push(h);
  return h;
}

/** Stops every host still running (by its init's pid, which ends its whole namespace, mounts included). */
async function stopAll(): Promise<void> {
  await Promise.all(hosts.map((h) => h.stop()));
}

/** Checks that no process of this file is left (a host's shell, jug or bindfs: they all name `tmp`). */
function assertNoProcessLeft(): void {
  const left = processesMentioning(tmp);
  assert.deepEqual(left, [], `processes left behind:\n${left.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// The side-effect log

interface Event {
  readonly kind: 'START' | 'END' | 'VIOLATION';
  readonly key: string;
  readonly hash: string;
  readonly host: string;
  readonly pid: number;
  /** ms since epoch (not for VIOLATION). */
  readonly ms: number;
}

function readLog(file: string): Event[] {
  if (!existsSync(file)) return [];
  const out: Event[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(START|END|VIOLATION) (\S+) ([0-9a-f]{40}) (\S+) (\d+)(?: \d+ (\d+))?$/.exec(line);
    if (m === null) {
      if (line !== '') throw new Error(`bad log line: ${JSON.stringify(line)}`);
      continue;
    }
    out.push({ kind: m[1] as Event['kind'], key: m[2]!, hash: m[3]!, host: m[4]!, pid: Number(m[5]), ms: Number(m[6] ?? 0) });
  }
  return out;
}

/** key → how many START lines (optionally only those of hosts `from`). */
function starts(events: readonly Event[], from?: (host: string) => boolean): Map<string, number> {
  const n = new Map<string, number>();
  for (const e of events) if (e.kind === 'START' && (from === undefined || from(e.host))) n.set(e.key, (n.get(e.key) ?? 0) + 1);
  return n;
}

/** Every task key of the jugfile with these sizes (as test/fixtures/multihost.ts declares them). */
/** A scenario's directory, jugdir, side-effect log, the jugfile's environment and its task keys. */
function scenario(name: string, works: number, workMs: number, naps = 0, napMs = 0) {
  const dir = join(tmp, name);
  const jugdir = join(dir, 'jugdata');
  const log = join(dir, 'log');
  const napEnv: Record<string, string> = naps > 0 ? { MH_NAPS: String(naps), MH_NAP_MS: String(napMs) } : {};
  const env: Record<string, string> = { MH_WORKS: String(works), MH_WORK_MS: String(workMs), ...napEnv, MH_LOG: log, MH_JUGDIR: jugdir };
  return { dir, jugdir, log, env, keys: taskKeys(works, naps) };
}

function taskKeys(works: number, naps: number): string[] {
  return [
    ...Array.from({ length: works }, (_, i) => `work:${i}`),
    ...Array.from({ length: naps }, (_, i) => `nap:${i}`),
    ...Array.from({ length: Math.ceil(works / 50) }, (_, k) => `group:${k}`),
    'total',
  ];
}

/** `total` of the jugfile, computed here independently of it. */
function expectedTotal(works: number, naps: number): number {
  const M = 1_000_003;
  const sum = (xs: number[]): number => xs.reduce((a, x) => (a + x) % M, 0);
  const w = Array.from({ length: works }, (_, i) => (i * 7919 + 13) % M);
  const g = Array.from({ length: Math.ceil(works / 50) }, (_, k) => sum(w.slice(k * 50, (k + 1) * 50)));
  const n = Array.from({ length: naps }, (_, i) => (i * 104729 + 7) % M);
  return (sum(g) + sum(n) + sum(w)) % M;
}

/** Problems with "each task started exactly `expected(key)` times" (none: []). */
function countProblems(keys: readonly string[], counted: Map<string, number>, expected: (key: string) => number): string[] {
  const problems: string[] = [];
  for (const k of keys) {
    const n = counted.get(k) ?? 0;
    if (n !== expected(k)) problems.push(`${k}: started ${n} times, expected ${expected(k)}`);
  }
  for (const k of counted.keys()) if (!keys.includes(k)) problems.push(`${k}: not a task of the jugfile`);
  return problems;
}

/** Summary of who ran how many tasks: `host pid: n, …`. */
function spread(events: readonly Event[]): string {
  const n = new Map<string, number>();
  for (const e of events) if (e.kind === 'START') n.set(`${e.host} ${e.pid}`, (n.get(`${e.host} ${e.pid}`) ?? 0) + 1);
  return [...n].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
}

/** Lock files and temporary files in a jugdir (what a clean run must not leave). */
function leftovers(jugdir: string): { locks: string[]; tempfiles: string[] } {
  return { locks: entries(join(jugdir, 'locks')), tempfiles: entries(join(jugdir, 'tempfiles')) };
}

/** Asserts that every process of every host exited 0 by itself. */
function assertAllExited0(results: readonly HostResult[]): void {
  for (const r of results) {
    assert.ok(!r.killed && r.processes.every((p) => p.code === 0), showHost(r));
  }
}

/** Checks that all results of the jugfile are stored and `total` is right, reading them through jug's API. */
async function assertResults(jugdir: string, env: Record<string, string>, works: number, naps: number, tasks: number): Promise<void> {
  assert.equal(storedHashes(jugdir).length, tasks, 'number of stored results');
  const { values } = await readResults(JUGFILE, jugdir, ['total'], { env: { ...env, MH_LOG: undefined } });
  assert.equal(values['total'], expectedTotal(works, naps));
}

const base = (jugdir: string): string[] => ['execute', JUGFILE, '--jugdir', jugdir, '-q', '--wait-cycle-time', '1'];

/** Waits for `check` (on the log), failing with `what` after a generous timeout. */
async function waitForLog(log: string, check: (events: Event[]) => boolean, what: string): Promise<void> {
  assert.ok(await waitFor(() => check(readLog(log)), 90_000, 50), `timed out waiting for ${what}:\n${spread(readLog(log))}`);
}

describe('many hosts on one jugdir (Linux namespaces)', { skip: refused }, () => {
  it('3 hosts × 2 processes, ~1,000 tasks: each task once, all results, nothing left behind, the work spread over the hosts', { timeout: 150_000 }, async (t) => {
    const WORKS = 1000;
    const { dir, jugdir, log, env, keys } = scenario('spread', WORKS, 15);
    const threads = [...base(jugdir), '--threads', '2'];
    try {
      const started = [
        startHost({ name: 'alpha', dir, env, processes: [{ args: threads }, { args: base(jugdir) }] }),
        startHost({ name: 'beta', dir, env, processes: [{ args: base(jugdir) }, { args: base(jugdir) }] }),
        startHost({ name: 'gamma', dir, env, processes: [{ args: threads }, { args: threads }] }),
      ];
      const results = await Promise.all(started.map((h) => h.done));
      assertAllExited0(results);
      const events = readLog(log);
      t.diagnostic(`tasks run by: ${spread(events)}`);
      assert.deepEqual(events.filter((e) => e.kind === 'VIOLATION'), [], 'a task started after its result was stored');
      assert.deepEqual(countProblems(keys, starts(events), () => 1), []);
      await assertResults(jugdir, env, WORKS, 0, keys.length);
      assert.deepEqual(leftovers(jugdir), { locks: [], tempfiles: [] }, 'left in the jugdir');
      // Spread: each host ran a real share (5 %, not just a straggler's few tasks).
      for (const name of ['alpha', 'beta', 'gamma']) {
        const n = events.filter((e) => e.kind === 'START' && e.host === name).length;
        assert.ok(n >= keys.length / 20, `host ${name} ran only ${n} of ${keys.length} tasks: ${spread(events)}`);
      }
    } finally {
      await stopAll();
    }
    assertNoProcessLeft();
  });

  it(`kill -9 of a whole host holding locks of long tasks (lease ${LEASE_S} s): taken over after the lease and not before, each orphan run once, nothing left`, { timeout: 150_000 }, async (t) => {
    const WORKS = 40;
    const NAPS = 6;
    const { dir, jugdir, log, env, keys } = scenario('kill', WORKS, 20, NAPS, 8000);
    const args = [...base(jugdir), '--lock-lease', String(LEASE_S)];
    const isVictim = (host: string): boolean => host === 'victim';
    try {
      // The victim does the works first (it is alone), then takes 3 naps (2 threads + 1).
      const victim = startHost({ name: 'victim', dir, env, processes: [{ args: [...args, '--threads', '2'] }, { args }] });
      await waitForLog(log, (ev) => ev.filter((e) => e.kind === 'START' && e.key.startsWith('nap:')).length >= 3, 'the victim to start 3 naps');
      const survivors = [
        startHost({ name: 'survivor1', dir, env, processes: [{ args: [...args, '--threads', '2'] }] }),
        startHost({ name: 'survivor2', dir, env, processes: [{ args }] }),
      ];
      // Kill once the survivors run (so that they poll the victim's locks during the whole
      // lease), or before the victim's first nap could end.
      const firstNap = readLog(log).find((e) => e.kind === 'START' && e.key.startsWith('nap:'))!.ms;
      await waitFor(() => {
        const ev = readLog(log);
        return ['survivor1', 'survivor2'].every((s) => ev.some((e) => e.kind === 'START' && e.host === s)) || Date.now() - firstNap > 5000;
      }, 90_000, 50);
      const killedAt = await victim.kill9();
      const atKill = readLog(log);
      const storedAtKill = new Set(storedHashes(jugdir));
      // The victim's locks as it left them: hard links to its owner files, with their last beat as mtime.
      const orphans = entries(join(jugdir, 'locks'))
        .filter((name) => name.endsWith('.lock'))
        .map((name) => {
          const path = join(jugdir, 'locks', name);
          const st = statSync(path);
          return { hash: name.slice(0, -5), path, ino: st.ino, lastBeat: st.mtimeMs, text: readFileSync(path, 'utf8') };
        })
        .filter((l) => / on HOSTNAME victim\b/.test(l.text));
      assert.ok(orphans.length >= 1, `the victim held no lock when killed:\n${spread(atKill)}`);
      const keyOf = new Map(atKill.map((e) => [e.hash, e.key]));
      t.diagnostic(`victim killed holding ${orphans.map((o) => keyOf.get(o.hash) ?? o.hash).join(', ')}; its last heartbeat ${killedAt - Math.max(...orphans.map((o) => o.lastBeat))} ms before the kill`);

      // The state a kill between storing a result and removing its lock leaves (seen in 1 of 12
      // kills in issue 15), made here on purpose: the lock of a work the victim stored, a hard
      // link to its (dead) owner file. `total`, run by a survivor after the lease, loads it.
      const ownerFile = entries(join(jugdir, 'tempfiles')).find((n) => /^owner-\d+-(?:[sr][0-9a-f]+-)?victim$/.test(n));
      const storedWork = atKill.find(
        (e) => e.kind === 'END' && isVictim(e.host) && e.key.startsWith('work:') && storedAtKill.has(e.hash) && !existsSync(join(jugdir, 'locks', `${e.hash}.lock`)),
      );
      assert.ok(ownerFile !== undefined && storedWork !== undefined, 'no owner file or stored work of the victim');
      linkSync(join(jugdir, 'tempfiles', ownerFile), join(jugdir, 'locks', `${storedWork.hash}.lock`));

      // Watch the orphaned locks: the first moment each is no longer the victim's (removed or replaced).
      const takenSeen = new Map<string, number>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const o of orphans) {
            if (takenSeen.has(o.hash)) continue;
            let ino: number | undefined;
            try {
              ino = statSync(o.path).ino;
            } catch {
              ino = undefined;
            }
            if (ino !== o.ino) takenSeen.set(o.hash, Date.now());
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const results = await Promise.all(survivors.map((h) => h.done));
      watching = false;
      await watcher;
      const events = readLog(log);
      t.diagnostic(`tasks run by: ${spread(events)}`);

      await t.test('the survivors exit 0', () => assertAllExited0(results));

      await t.test('each orphaned lock is taken over only after the lease (counted from its last heartbeat)', () => {
        for (const o of orphans) {
          const key = keyOf.get(o.hash) ?? o.hash;
          const survivorStart = events.find((e) => e.kind === 'START' && e.hash === o.hash && !isVictim(e.host))?.ms;
          const seen = Math.min(takenSeen.get(o.hash) ?? Infinity, survivorStart ?? Infinity);
          assert.ok(Number.isFinite(seen), `${key}: never taken over`);
          t.diagnostic(`${key}: taken over ${seen - killedAt} ms after the kill, ${seen - o.lastBeat} ms after its last heartbeat`);
          // Not before the lease has passed since the victim's last beat (mtime has coarse ticks: 100 ms).
          assert.ok(seen >= o.lastBeat + LEASE_S * 1000 - 100, `${key}: taken over ${seen - o.lastBeat} ms after its last heartbeat (lease ${LEASE_S} s)`);
          // And so not before lease − heartbeat interval (+1 s for a late beat) after the kill.
          assert.ok(seen - killedAt >= LEASE_S * 1000 - HEARTBEAT_MS - 1000, `${key}: taken over ${seen - killedAt} ms after the kill (lease ${LEASE_S} s)`);
        }
      });

      // "Exactly once", from what was stored: a task whose result the victim had stored when it
      // died is done and must not run again; every other task (among them those the victim ran
      // to their end without storing the result: the kill came first) runs exactly once on the
      // survivors. The victim itself ran no task twice.
      await t.test('each task runs once: never again when the dead host had stored it, else exactly once on the survivors', () => {
        const doneByVictim = new Set(atKill.filter((e) => e.kind === 'START' && isVictim(e.host) && storedAtKill.has(e.hash)).map((e) => e.key));
        assert.deepEqual(events.filter((e) => e.kind === 'VIOLATION'), [], 'a task started after its result was stored');
        assert.deepEqual(countProblems(keys, starts(events, (h) => !isVictim(h)), (k) => (doneByVictim.has(k) ? 0 : 1)), []);
        const twiceOnVictim = [...starts(events, isVictim)].filter(([, n]) => n > 1);
        assert.deepEqual(twiceOnVictim, [], 'tasks the victim started twice');
        for (const o of orphans) {
          const key = keyOf.get(o.hash) ?? o.hash;
          assert.ok(!doneByVictim.has(key), `${key} was locked by the victim but stored`);
        }
      });

      await t.test('all results are stored and right', () => assertResults(jugdir, env, WORKS, NAPS, keys.length));

      await t.test('nothing is left behind: no lock (not even the one of a result the dead host stored), no file of the survivors', () => {
        const left = leftovers(jugdir);
        const ofSurvivors = left.tempfiles.filter((n) => !/^(owner-\d+-(?:[sr][0-9a-f]+-)?victim|\.owner-tmp-\d+-victim\..*|\d+-(?:[sr][0-9a-f]+-)?victim-[0-9a-f]{16})$/.test(n));
        // Named by task, the one made on purpose above marked as such.
        const locks = left.locks.map((n) => {
          const h = n.replace(/\.lock$/, '');
          return `${n} (${keyOf.get(h) ?? '?'}${h === storedWork.hash ? ': stored by the victim, its lock left as a kill after the store leaves it' : ''})`;
        });
        assert.deepEqual({ locks, tempfilesOfSurvivors: ofSurvivors }, { locks: [], tempfilesOfSurvivors: [] }, 'left in the jugdir');
      });

      // The dead host's own files (its owner files, unfinished writes) are no survivor's: `jug
      // cleanup` on a host, once their lease has expired, removes them (issue 15).
      await t.test('`jug cleanup` on a surviving host then removes the dead host\'s owner files and unfinished writes', async () => {
        const cleanup = startHost({
          name: 'survivor1',
          dir: join(dir, 'cleanup'),
          env,
          processes: [{ args: ['cleanup', JUGFILE, '--jugdir', jugdir, '--lock-lease', String(LEASE_S)] }],
        });
        const r = await cleanup.done;
        assertAllExited0([r]);
        assert.deepEqual(leftovers(jugdir), { locks: [], tempfiles: [] }, `left in the jugdir after jug cleanup:\n${showHost(r)}`);
      });
    } finally {
      await stopAll();
    }
    assertNoProcessLeft();
  });

  it(`PID collision: two hosts whose jug processes are both PID 1, tasks longer than the lease: no lock taken for the other's, each task once`, { timeout: 150_000 }, async (t) => {
    const WORKS = 200;
    const NAPS = 3;
    // Naps outlast the lease: only the heartbeat keeps the other host from taking them over.
    const { dir, jugdir, log, env, keys } = scenario('pid1', WORKS, 10, NAPS, LEASE_S * 1000 + 2000);
    const args = [...base(jugdir), '--lock-lease', String(LEASE_S)];
    try {
      const started = [
        startHost({ name: 'pidone-a', dir, env, asInit: true, processes: [{ args: [...args, '--threads', '2'] }] }),
        startHost({ name: 'pidone-b', dir, env, asInit: true, processes: [{ args }] }),
      ];
      const results = await Promise.all(started.map((h) => h.done));
      assertAllExited0(results);
      const events = readLog(log);
      t.diagnostic(`tasks run by: ${spread(events)}`);
      assert.deepEqual([...new Set(events.map((e) => e.pid))], [1], 'the jug processes were not both PID 1');
      assert.deepEqual([...new Set(events.map((e) => e.host))].sort(), ['pidone-a', 'pidone-b'], 'both hosts ran tasks');
      assert.deepEqual(events.filter((e) => e.kind === 'VIOLATION'), [], 'a task started after its result was stored');
      assert.deepEqual(countProblems(keys, starts(events), () => 1), []);
      await assertResults(jugdir, env, WORKS, NAPS, keys.length);
      assert.deepEqual(leftovers(jugdir), { locks: [], tempfiles: [] }, 'left in the jugdir');
    } finally {
      await stopAll();
    }
    assertNoProcessLeft();
  });

  it('restart with the same hostname and PID 1 after kill -9 (the container case): the dead locks are not taken for its own; everything finishes, each task once', { timeout: 150_000 }, async (t) => {
    const WORKS = 20;
    const NAPS = 3;
    const { dir, jugdir, log, env, keys } = scenario('restart', WORKS, 10, NAPS, 6000);
    // The default lease (300 s): a restarted host must know its dead predecessor at once, as for
    // any dead process of its own host, not wait for a lease. Bounded waits, so that a process that
    // waits for locks nobody will release gives up within ~20 s.
    const args = [...base(jugdir), '--threads', '2', '--nr-wait-cycles', '20'];
    try {
      const first = startHost({ name: 'nodeA', dir: join(dir, 'first'), env, asInit: true, processes: [{ args }] });
      await waitForLog(log, (ev) => ev.filter((e) => e.kind === 'START' && e.key.startsWith('nap:')).length >= 2, 'nodeA to start 2 naps');
      await first.kill9();
      const atKill = readLog(log);
      const storedAtKill = new Set(storedHashes(jugdir));
      const held = entries(join(jugdir, 'locks')).filter((n) => n.endsWith('.lock'));
      assert.ok(held.length >= 1, 'nodeA held no lock when killed');
      t.diagnostic(`nodeA killed holding ${held.length} locks; left in tempfiles: ${entries(join(jugdir, 'tempfiles')).join(', ')}`);

      const second = startHost({ name: 'nodeA', dir: join(dir, 'second'), env, asInit: true, processes: [{ args }] });
      const r = await second.done;
      const events = readLog(log);
      t.diagnostic(`tasks run by: ${spread(events)}`);
      assertAllExited0([r]);
      assert.deepEqual([...new Set(events.map((e) => `${e.host} ${e.pid}`))], ['nodeA 1'], 'not run as PID 1 of nodeA');
      // Once: a task stored before the kill never again; every other task once, after the restart.
      const afterRestart = events.slice(atKill.length);
      const doneBefore = new Set(atKill.filter((e) => e.kind === 'START' && storedAtKill.has(e.hash)).map((e) => e.key));
      assert.deepEqual(events.filter((e) => e.kind === 'VIOLATION'), [], 'a task started after its result was stored');
      assert.deepEqual(countProblems(keys, starts(afterRestart), (k) => (doneBefore.has(k) ? 0 : 1)), []);
      await assertResults(jugdir, env, WORKS, NAPS, keys.length);
      assert.deepEqual(leftovers(jugdir), { locks: [], tempfiles: [] }, 'left in the jugdir');
    } finally {
      await stopAll();
    }
    assertNoProcessLeft();
  });

  describe('a FUSE mount (bindfs) as the shared filesystem', () => {
    const fuseRefused = (): string | undefined => (tmp === '' ? undefined : bindfsRefused(join(tmp, 'fuse-probe')));
    it('2 hosts × 2 processes, each host with its own bindfs mount of the jugdir: each task once, nothing left behind, no owner file', { timeout: 150_000 }, async (t) => {
      const why = fuseRefused();
      if (why !== undefined) {
        t.skip(why);
        return;
      }
      const dir = join(tmp, 'fuse');
      const shared = join(dir, 'shared'); // the "server's" directory
      const mnt = join(dir, 'mnt'); // where each host mounts it
      mkdirSync(shared, { recursive: true });
      mkdirSync(mnt, { recursive: true });
      const jugdir = join(mnt, 'jugdata'); // as the hosts see it
      const onServer = join(shared, 'jugdata'); // as this process sees it (it has no mount)
      const log = join(dir, 'log');
      const WORKS = 300;
      const env = { MH_WORKS: String(WORKS), MH_WORK_MS: '10', MH_LOG: log, MH_JUGDIR: jugdir };
      const keys = taskKeys(WORKS, 0);
      const threads = [...base(jugdir), '--threads', '2'];
      try {
        const started = ['fuse1', 'fuse2'].map((name) =>
          startHost({ name, dir, env, bindfs: { source: shared, mountpoint: mnt }, processes: [{ args: threads }, { args: base(jugdir) }] }),
        );
        const results = await Promise.all(started.map((h) => h.done));
        assertAllExited0(results);
        assert.ok(!existsSync(jugdir), 'the hosts\' mounts were seen outside them');
        const events = readLog(log);
        t.diagnostic(`tasks run by: ${spread(events)}`);
        assert.deepEqual(events.filter((e) => e.kind === 'VIOLATION'), [], 'a task started after its result was stored');
        assert.deepEqual(countProblems(keys, starts(events), () => 1), []);
        await assertResults(onServer, env, WORKS, 0, keys.length);
        const left = leftovers(onServer);
        t.diagnostic(`left in the jugdir: ${JSON.stringify(left)}`);
        assert.deepEqual(left.tempfiles.filter((n) => n.startsWith('owner-')), [], 'owner files left after clean exits');
        assert.deepEqual(left, { locks: [], tempfiles: [] }, 'left in the jugdir');
      } finally {
        await stopAll();
      }
      assertNoProcessLeft();
    });
  });
});
