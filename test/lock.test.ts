/**
 * Unit tests of task locks: shared semantics for FileStore and MemoryStore, then the file
 * lock's format, failure marker, stale-lock reclaim and a multi-process race.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FAILED_MTIME, FileStore } from '../src/store/file-store.js';
import { OWNER_TOKEN, ownerFilePath, parseLockOwner as parseOwnerText, startToken } from '../src/store/lock-owner.js';
import { MemoryStore } from '../src/store/memory-store.js';
import type { LockInfo, Store } from '../src/store/store.js';

/** `{ failed, stale }` of a listed lock (the holder and heartbeat fields are checked apart). */
function state(info: LockInfo | undefined): { failed: boolean; stale: boolean } | undefined {
  return info === undefined ? undefined : { failed: info.failed, stale: info.stale };
}

/** {@link state} of every lock of a listing. */
function states(locks: Map<string, LockInfo>): Map<string, { failed: boolean; stale: boolean }> {
  return new Map([...locks].map(([k, v]) => [k, state(v)!]));
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = os.hostname();

function h(label: string | number): string {
  return createHash('sha1').update(String(label)).digest('hex');
}

let root: string;
let counter = 0;
before(() => {
  root = fs.mkdtempSync(join(os.tmpdir(), 'jug-lock-test-'));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
function freshDir(): string {
  return join(root, `jugdir-${++counter}`);
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  const pid = r.pid;
  assert.ok(typeof pid === 'number' && pid > 0);
  assert.throws(() => process.kill(pid, 0), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ESRCH');
  return pid;
}

/** Jug's lock text, written by hand (independent of the implementation's lockContent()). */
function lockText(pid: number, host = HOST): string {
  return `PID ${pid} on HOSTNAME ${host}\nLock created on 2024-01-02 (03h04.05)\n`;
}

/** Writes a lock file as another process would have. */
function plantLock(s: FileStore, hash: string, text: string): string {
  const path = s.lockPath(hash);
  fs.mkdirSync(join(s.location, 'locks'), { recursive: true });
  fs.writeFileSync(path, text, { mode: 0o644 });
  return path;
}

const kinds: ReadonlyArray<readonly [string, () => [Store, Store]]> = [
  [
    'FileStore',
    () => {
      // Two store objects on one jugdir: as two processes would see it.
      const dir = freshDir();
      return [new FileStore(dir), new FileStore(dir)];
    },
  ],
  [
    'MemoryStore',
    () => {
      const s = new MemoryStore();
      return [s, s];
    },
  ],
];

for (const [kind, make] of kinds) {
  describe(`${kind}: lock semantics`, () => {
    it('get → true; another Lock object → false; the same object again → true', async () => {
      const [s1, s2] = make();
      const k = h('basic');
      const a = s1.lock(k);
      const b = s2.lock(k);
      assert.equal(a.hash, k);
      assert.equal(await a.isLocked(), false);
      assert.equal(await a.get(), true);
      assert.equal(await a.isLocked(), true);
      assert.equal(await b.isLocked(), true);
      assert.equal(await a.isFailed(), false);
      assert.equal(await b.get(), false);
      assert.equal(await s1.lock(k).get(), false, 'a third object on the same store');
      assert.equal(await a.get(), true, 'already held');
      assert.deepStrictEqual(states(await s2.listLocks()), new Map([[k, { failed: false, stale: false }]]));
    });

    it('release → another object can get it', async () => {
      const [s1, s2] = make();
      const k = h('release');
      const a = s1.lock(k);
      const b = s2.lock(k);
      assert.equal(await a.get(), true);
      assert.equal(await b.get(), false);
      await a.release();
      assert.equal(await a.isLocked(), false);
      assert.deepStrictEqual(await s1.listLocks(), new Map());
      assert.equal(await b.get(), true);
      assert.equal(await a.get(), false, 'now held by b');
      await a.release(); // not held by a: must not remove b's lock
      assert.equal(await b.isLocked(), true);
      assert.equal(await s1.lock(k).get(), false);
      await b.release();
      await b.release(); // twice is harmless
      assert.equal(await a.get(), true);
    });

    it('fail() on an unheld lock → false and no state', async () => {
      const [s1] = make();
      const k = h('fail-unheld');
      const a = s1.lock(k);
      assert.equal(await a.fail(), false);
      assert.equal(await a.isLocked(), false);
      assert.equal(await a.isFailed(), false);
      assert.deepStrictEqual(await s1.listLocks(), new Map());
      assert.equal(await a.get(), true, 'still free');
    });

    it("fail() on someone else's lock → false, does not mark it", async () => {
      const [s1, s2] = make();
      const k = h('fail-other');
      assert.equal(await s1.lock(k).get(), true);
      assert.equal(await s2.lock(k).fail(), false);
      assert.equal(await s2.lock(k).isFailed(), false);
      assert.deepStrictEqual(states(await s2.listLocks()), new Map([[k, { failed: false, stale: false }]]));
    });

    it('get then fail() → failed and locked; others cannot get it; release clears both', async () => {
      const [s1, s2] = make();
      const k = h('failed');
      const a = s1.lock(k);
      assert.equal(await a.get(), true);
      assert.equal(await a.fail(), true);
      for (const l of [a, s2.lock(k)]) {
        assert.equal(await l.isFailed(), true);
        assert.equal(await l.isLocked(), true);
      }
      assert.deepStrictEqual(states(await s2.listLocks()), new Map([[k, { failed: true, stale: false }]]));
      const b = s2.lock(k);
      assert.equal(await b.get(), false);
      assert.equal(await b.get(), false);
      await b.release(); // not held by b
      assert.equal(await a.isFailed(), true);
      await a.release();
      assert.equal(await a.isFailed(), false);
      assert.equal(await a.isLocked(), false);
      assert.deepStrictEqual(states(await s2.listLocks()), new Map());
      assert.equal(await b.get(), true);
      assert.equal(await b.isFailed(), false);
    });

    it('listLocks() reports every lock and whether it failed', async () => {
      const [s1, s2] = make();
      const running = [h('r1'), h('r2'), h('r3')];
      const failed = [h('f1'), h('f2')];
      for (const k of running) assert.equal(await s1.lock(k).get(), true);
      for (const k of failed) {
        const l = s2.lock(k);
        assert.equal(await l.get(), true);
        assert.equal(await l.fail(), true);
      }
      const expected = new Map<string, { failed: boolean; stale: boolean }>();
      for (const k of running) expected.set(k, { failed: false, stale: false });
      for (const k of failed) expected.set(k, { failed: true, stale: false });
      assert.deepStrictEqual(states(await s1.listLocks()), expected);
      assert.deepStrictEqual(states(await s2.listLocks()), expected);
    });

    it('independent hashes lock independently', async () => {
      const [s1, s2] = make();
      const x = s1.lock(h('x'));
      const y = s2.lock(h('y'));
      assert.equal(await x.get(), true);
      assert.equal(await y.get(), true);
      assert.equal(await x.fail(), true);
      assert.equal(await y.isFailed(), false);
      await y.release();
      assert.equal(await x.isLocked(), true);
      assert.equal(await x.isFailed(), true);
      assert.equal(await s2.lock(h('y')).get(), true);
      assert.equal(await s2.lock(h('x')).get(), false);
    });
  });
}

describe('FileStore: lock files', () => {
  it('lives at <jugdir>/locks/<hash>.lock with Jug\'s text, mode 0644', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const k = h('file');
    assert.equal(await s.lock(k).get(), true);
    const path = join(dir, 'locks', `${k}.lock`);
    assert.equal(s.lockPath(k), path);
    assert.deepStrictEqual(fs.readdirSync(join(dir, 'locks')), [`${k}.lock`]);
    const text = fs.readFileSync(path, 'utf8');
    assert.match(text, /^PID \d+ on HOSTNAME \S+\nLock created on \d{4}-\d{2}-\d{2} \(\d{2}h\d{2}\.\d{2}\)\n/);
    assert.ok(text.startsWith(`PID ${process.pid} on HOSTNAME ${HOST}\n`), text);
    // 0o644 as filtered by this process's umask: compare with a file made the same way.
    const ref = join(dir, 'ref');
    fs.closeSync(fs.openSync(ref, 'wx', 0o644));
    const mode = fs.statSync(path).mode & 0o777;
    assert.equal(mode, fs.statSync(ref).mode & 0o777);
    assert.equal(mode & 0o111, 0, `lock mode ${mode.toString(8)} is executable`);
    assert.equal(mode & 0o600, 0o600);
    // only the lock (a hard link to this process's owner file in tempfiles/): no result directories
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['locks', 'ref', 'tempfiles']);
    const owners = fs.readdirSync(join(dir, 'tempfiles'));
    assert.equal(owners.length, 1);
    assert.match(owners[0]!, new RegExp(`^owner-${process.pid}-`));
    assert.equal(fs.statSync(join(dir, 'tempfiles', owners[0]!)).ino, fs.statSync(path).ino);
  });

  it('a failed lock has mtime exactly 1 s after the epoch', async () => {
    const s = new FileStore(freshDir());
    const k = h('mtime');
    const l = s.lock(k);
    assert.equal(await l.get(), true);
    assert.ok(fs.statSync(s.lockPath(k)).mtimeMs > 1_600_000_000_000, 'a running lock has a current mtime');
    assert.equal(await l.fail(), true);
    assert.equal(FAILED_MTIME, 1);
    assert.equal(fs.statSync(s.lockPath(k)).mtimeMs, 1000);
    // the owner text is kept
    assert.ok(fs.readFileSync(s.lockPath(k), 'utf8').startsWith(`PID ${process.pid} `));
  });

  it('a lock file made by Python Jug (or another tool) with mtime 1 reads as failed', async () => {
    const s = new FileStore(freshDir());
    const k = h('py-failed');
    const path = plantLock(s, k, lockText(12345, 'some-other-host'));
    fs.utimesSync(path, 1, 1);
    assert.equal(await s.lock(k).isFailed(), true);
    assert.deepStrictEqual(states(await s.listLocks()), new Map([[k, { failed: true, stale: false }]]));
  });

  it('listLocks() ignores files that are not locks', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const k = h('only-lock');
    assert.equal(await s.lock(k).get(), true);
    fs.writeFileSync(join(dir, 'locks', `${k}.lock.reclaim`), '');
    fs.writeFileSync(join(dir, 'locks', 'nothex.lock'), '');
    fs.writeFileSync(join(dir, 'locks', `${h('z')}.tmp`), '');
    assert.deepStrictEqual(states(await s.listLocks()), new Map([[k, { failed: false, stale: false }]]));
  });
});

describe('FileStore: stale locks', () => {
  it('a lock of a dead process on this host is reclaimed', async () => {
    const s = new FileStore(freshDir());
    const k = h('dead');
    const path = plantLock(s, k, lockText(deadPid()));
    assert.equal(await s.lock(k).isLocked(), false, 'a dead owner does not count as holding it');
    const l = s.lock(k);
    assert.equal(await l.get(), true);
    assert.ok(fs.readFileSync(path, 'utf8').startsWith(`PID ${process.pid} on HOSTNAME ${HOST}\n`));
    assert.equal(await s.lock(k).get(), false, 'now held by us');
    assert.deepStrictEqual(fs.readdirSync(join(s.location, 'locks')), [`${k}.lock`], 'no marker left');
    await l.release();
    assert.equal(fs.existsSync(path), false);
  });

  it('a lock of a live process is not reclaimed', async () => {
    const s = new FileStore(freshDir());
    const k = h('live');
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      assert.ok(child.pid !== undefined);
      const text = lockText(child.pid);
      const path = plantLock(s, k, text);
      assert.equal(await s.lock(k).get(), false);
      assert.equal(await s.lock(k).isLocked(), true);
      assert.equal(fs.readFileSync(path, 'utf8'), text, 'untouched');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("a lock of this very process (another thread's: a link to its owner file) is not reclaimed", async () => {
    const s = new FileStore(freshDir());
    assert.equal(await s.lock(h('first')).get(), true); // makes the owner file
    const k = h('self');
    fs.linkSync(ownerFilePath(s.location), s.lockPath(k));
    assert.equal(await s.lock(k).get(), false);
    assert.equal((await s.listLocks()).get(k)?.stale, false);
  });

  it('a lock of a killed process not reaped yet (a zombie) is stale, on Linux', async (t) => {
    if (process.platform !== 'linux') return t.skip('zombie detection reads /proc (Linux only)');
    // `sleep 0.05` is the child of a process that never waits for it: a zombie once it exits.
    const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 10']);
    try {
      const pid = Number(await new Promise<string>((resolve) => createInterface({ input: parent.stdout }).once('line', resolve)));
      await new Promise((r) => setTimeout(r, 400));
      assert.doesNotThrow(() => process.kill(pid, 0), 'the zombie answers kill(0)');
      const s = new FileStore(freshDir());
      const k = h('zombie');
      plantLock(s, k, lockText(pid));
      assert.equal((await s.listLocks()).get(k)?.stale, true);
      assert.equal(await s.lock(k).get(), true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('an empty lock older than a minute is stale for status and cleanup too (listLocks)', async () => {
    const s = new FileStore(freshDir());
    const k = h('empty-old');
    const path = plantLock(s, k, '');
    assert.equal((await s.listLocks()).get(k)?.stale, false, 'a fresh empty lock is being written');
    fs.utimesSync(path, (Date.now() - 120_000) / 1000, (Date.now() - 120_000) / 1000);
    assert.equal((await s.listLocks()).get(k)?.stale, true);
    assert.equal(await s.clearStaleLocks(), 1);
  });

  it('clearStaleLocks removes reclaim markers and owner-file drafts left by killed processes', async () => {
    const s = new FileStore(freshDir());
    const k = h('marker');
    plantLock(s, k, lockText(deadPid()));
    const marker = `${s.lockPath(k)}.reclaim`;
    fs.writeFileSync(marker, lockText(deadPid())); // its reclaimer died after removing nothing
    const orphan = `${s.lockPath(h('gone'))}.reclaim`; // lock already removed, marker left behind
    fs.writeFileSync(orphan, lockText(deadPid()));
    assert.equal(await s.clearStaleLocks(), 1);
    assert.deepEqual(fs.readdirSync(join(s.location, 'locks')), []);
    fs.mkdirSync(join(s.location, 'tempfiles'), { recursive: true });
    const draft = join(s.location, 'tempfiles', `.owner-tmp-${deadPid()}-${HOST.replace(/[^A-Za-z0-9._-]/g, '_')}.1f2e3d`);
    fs.writeFileSync(draft, lockText(1));
    await s.clearDeadWrites();
    assert.equal(fs.existsSync(draft), false);
  });

  it('a lock naming this pid but not linked to its owner file was left by an earlier namesake: reclaimed', async () => {
    // A restarted container keeps its hostname and often its pid (1): the old process's locks name us.
    const s = new FileStore(freshDir());
    assert.equal(await s.lock(h('first2')).get(), true);
    const k = h('namesake');
    plantLock(s, k, lockText(process.pid));
    assert.equal((await s.listLocks()).get(k)?.stale, true);
    assert.equal(await s.lock(k).get(), true);
  });

  it('a lock naming another host is not reclaimed, even if that pid is dead here', async () => {
    const s = new FileStore(freshDir());
    const k = h('other-host');
    const text = lockText(deadPid(), `not-${HOST}.example`);
    plantLock(s, k, text);
    assert.equal(await s.lock(k).get(), false);
    assert.equal(await s.lock(k).isLocked(), true);
    assert.equal(fs.readFileSync(s.lockPath(k), 'utf8'), text);
  });

  it('a lock whose text is not in Jug format is not reclaimed', async () => {
    const s = new FileStore(freshDir());
    for (const [i, text] of ['', 'garbage', `PID x on HOSTNAME ${HOST}\n`, `pid ${deadPid()} on hostname ${HOST}\n`].entries()) {
      const k = h(`format-${i}`);
      plantLock(s, k, text);
      assert.equal(await s.lock(k).get(), false, JSON.stringify(text));
      assert.equal(fs.readFileSync(s.lockPath(k), 'utf8'), text);
    }
  });

  it('listLocks reports a dead process lock as stale, a live one and a failed one as not', async () => {
    const s = new FileStore(freshDir());
    const dead = h('list-dead');
    const live = h('list-live');
    plantLock(s, dead, lockText(deadPid()));
    plantLock(s, live, lockText(process.pid));
    assert.deepStrictEqual(
      states(await s.listLocks()),
      new Map([
        [dead, { failed: false, stale: true }],
        [live, { failed: false, stale: false }],
      ]),
    );
    assert.equal(await s.lock(dead).isLocked(), false, 'a dead owner does not hold the lock');
    assert.equal(await s.lock(live).isLocked(), true);
  });

  it('clearStaleLocks removes exactly the locks of dead processes', async () => {
    const s = new FileStore(freshDir());
    const dead = h('clear-dead');
    const live = h('clear-live');
    const deadFailed = h('clear-dead-failed');
    plantLock(s, dead, lockText(deadPid()));
    plantLock(s, live, lockText(process.pid));
    fs.utimesSync(plantLock(s, deadFailed, lockText(deadPid())), FAILED_MTIME, FAILED_MTIME);
    assert.equal(await s.clearStaleLocks(), 1);
    assert.deepStrictEqual(
      [...(await s.listLocks()).keys()].sort(),
      [live, deadFailed].sort(),
      'the live lock and the failure mark stay',
    );
  });

  it('a failed lock of a dead process is NOT reclaimed', async () => {
    const s = new FileStore(freshDir());
    const k = h('dead-failed');
    const path = plantLock(s, k, lockText(deadPid()));
    fs.utimesSync(path, FAILED_MTIME, FAILED_MTIME);
    assert.equal(await s.lock(k).get(), false);
    assert.equal(await s.lock(k).isFailed(), true);
    assert.equal(await s.lock(k).isLocked(), true);
    assert.equal(fs.statSync(path).mtimeMs, 1000);
    assert.deepStrictEqual(states(await s.listLocks()), new Map([[k, { failed: true, stale: false }]]));
  });

  it('a fresh reclaim marker (another reclaimer at work) blocks reclaim; an abandoned one does not', async () => {
    const s = new FileStore(freshDir());
    const k = h('marker');
    const path = plantLock(s, k, lockText(deadPid()));
    const marker = `${path}.reclaim`;
    fs.writeFileSync(marker, '');
    assert.equal(await s.lock(k).get(), false);
    assert.ok(fs.existsSync(path), 'the lock is left to the other reclaimer');
    // A marker from a reclaimer that died a minute ago.
    const old = Date.now() / 1000 - 60;
    fs.utimesSync(marker, old, old);
    let got = false;
    for (let i = 0; i < 2 && !got; i++) got = await s.lock(k).get();
    assert.equal(got, true);
    assert.equal(fs.existsSync(marker), false);
  });

  it('a fresh marker of a reclaimer that died (it names a dead process) is removed at once', async () => {
    const s = new FileStore(freshDir());
    const k = h('dead-marker');
    const path = plantLock(s, k, lockText(deadPid()));
    const marker = `${path}.reclaim`;
    fs.writeFileSync(marker, lockText(deadPid()));
    let got = false;
    for (let i = 0; i < 2 && !got; i++) got = await s.lock(k).get();
    assert.equal(got, true);
    assert.equal(fs.existsSync(marker), false);
    assert.deepEqual(fs.readdirSync(join(s.location, 'locks')), [`${k}.lock`]);
  });

  it("a live reclaimer's fresh marker (naming a live process) is left alone", async () => {
    const s = new FileStore(freshDir());
    const k = h('live-marker');
    const path = plantLock(s, k, lockText(deadPid()));
    const marker = `${path}.reclaim`;
    fs.writeFileSync(marker, lockText(process.ppid));
    assert.equal(await s.lock(k).get(), false);
    assert.equal(await s.lock(k).get(), false);
    assert.equal(fs.readFileSync(marker, 'utf8'), lockText(process.ppid));
  });
});

/** A child process that, for every `<hash>` line on stdin, tries FileStore.lock(hash).get(). */
interface Contender {
  proc: ChildProcessWithoutNullStreams;
  next(): Promise<string>;
}

function contender(jugdir: string): Contender {
  const script = `
    import { createInterface } from 'node:readline';
    import { FileStore } from './src/store/file-store.js';
    const store = new FileStore(${JSON.stringify(jugdir)});
    const held = [];
    console.log('ready');
    for await (const hash of createInterface({ input: process.stdin })) {
      const lock = store.lock(hash);
      const got = await lock.get();
      if (got) held.push(lock); // keep it, and stay alive, so the lock's owner is live
      console.log(String(got));
    }
  `;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: proc.stdout }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  proc.on('exit', (code) => {
    for (const w of waiting.splice(0)) w(`exited ${String(code)}: ${stderr}`);
  });
  return {
    proc,
    next: () => {
      const l = lines.shift();
      return l !== undefined ? Promise.resolve(l) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

describe('FileStore: concurrent processes', () => {
  it('many processes reclaiming one dead lock (or racing for a free one): exactly one wins', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    fs.mkdirSync(join(dir, 'locks'), { recursive: true });
    const procs = Array.from({ length: 8 }, () => contender(dir));
    try {
      for (const p of procs) assert.equal(await p.next(), 'ready');
      const dead = deadPid();
      for (let round = 0; round < 60; round++) {
        const k = h(`race-${round}`);
        // Rounds reclaim a dead process's lock, or another host's lock whose lease expired, or race on a free hash.
        const stale = round % 3 !== 2;
        if (round % 3 === 0) plantLock(s, k, lockText(dead));
        if (round % 3 === 1) {
          const old = (Date.now() - 3_600_000) / 1000;
          fs.utimesSync(plantLock(s, k, lockText(4242, `other-${HOST}.example`)), old, old);
        }
        for (const p of procs) p.proc.stdin.write(`${k}\n`);
        const results = await Promise.all(procs.map((p) => p.next()));
        for (const r of results) assert.ok(r === 'true' || r === 'false', r);
        assert.equal(results.filter((r) => r === 'true').length, 1, `round ${round} (${stale ? 'stale' : 'free'}): ${results.join(' ')}`);
        // the winner's pid is in the lock file, and no marker is left
        const winner = procs[results.indexOf('true')]!;
        assert.ok(fs.readFileSync(s.lockPath(k), 'utf8').startsWith(`PID ${winner.proc.pid} on HOSTNAME ${HOST}\n`));
        assert.equal(fs.existsSync(`${s.lockPath(k)}.reclaim`), false);
      }
    } finally {
      for (const p of procs) p.proc.kill('SIGKILL');
    }
  });
});

describe('FileStore: leases and the heartbeat', () => {
  const otherHost = `other-${HOST}.example`;
  const ago = (ms: number): number => (Date.now() - ms) / 1000;

  it("another host's lock is stale once its heartbeat is older than the lease, and is then reclaimed", async () => {
    const s = new FileStore(freshDir(), { leaseMs: 60_000 });
    const fresh = h('lease-fresh');
    const expired = h('lease-expired');
    fs.utimesSync(plantLock(s, fresh, lockText(1, otherHost)), ago(30_000), ago(30_000));
    fs.utimesSync(plantLock(s, expired, lockText(1, otherHost)), ago(90_000), ago(90_000));
    const locks = await s.listLocks();
    assert.deepEqual(state(locks.get(fresh)), { failed: false, stale: false });
    assert.deepEqual(state(locks.get(expired)), { failed: false, stale: true });
    assert.equal(await s.lock(fresh).get(), false);
    assert.equal(await s.lock(expired).isLocked(), false);
    assert.equal(await s.lock(expired).get(), true);
    assert.ok(fs.readFileSync(s.lockPath(expired), 'utf8').startsWith(`PID ${process.pid} on HOSTNAME ${HOST}\n`));
  });

  it('listLocks() names each holder, its last heartbeat and (another host under a lease) when it becomes stale', async () => {
    const s = new FileStore(freshDir(), { leaseMs: 60_000 });
    const theirs = h('holder-theirs');
    const mine = h('holder-mine');
    const mtime = fs.statSync(plantLock(s, theirs, lockText(7, otherHost))).mtimeMs;
    fs.utimesSync(s.lockPath(theirs), ago(30_000), ago(30_000));
    const beat = fs.statSync(s.lockPath(theirs)).mtimeMs;
    assert.ok(beat < mtime - 20_000);
    assert.equal(await s.lock(mine).get(), true);
    const locks = await s.listLocks();
    assert.deepEqual(locks.get(theirs), { failed: false, stale: false, holder: { host: otherHost, pid: 7 }, heartbeatAt: beat, staleAt: beat + 60_000 });
    const own = locks.get(mine)!;
    assert.deepEqual(own.holder, { host: HOST, pid: process.pid });
    assert.equal(own.staleAt, undefined, 'a holder of this host is judged by its process, not a lease');
    assert.equal(typeof own.heartbeatAt, 'number');
    await s.lock(mine).release();
  });

  it('a lock taken over by another host while this process was frozen past its lease is neither removed nor marked by release() / fail()', async () => {
    const s = new FileStore(freshDir(), { leaseMs: 60_000 });
    for (const end of ['release', 'fail'] as const) {
      const k = h(`taken-over-${end}`);
      const lock = s.lock(k);
      assert.equal(await lock.get(), true);
      // Another host took it over (a new file in its place, naming that host): what a frozen
      // process finds when it is resumed.
      const path = s.lockPath(k);
      const theirs = lockText(4242, otherHost);
      fs.writeFileSync(`${path}.theirs`, theirs);
      fs.renameSync(`${path}.theirs`, path);
      if (end === 'release') await lock.release();
      else assert.equal(await lock.fail(), false);
      assert.equal(fs.readFileSync(path, 'utf8'), theirs, `${end}() left the other host's lock as it was`);
    }
    // Our own lock is still released and marked as before.
    const mine = s.lock(h('taken-over-mine'));
    assert.equal(await mine.get(), true);
    await mine.release();
    assert.equal(fs.existsSync(s.lockPath(h('taken-over-mine'))), false);
    const marked = s.lock(h('taken-over-marked'));
    assert.equal(await marked.get(), true);
    assert.equal(await marked.fail(), true);
    assert.equal(await s.lock(h('taken-over-marked')).isFailed(), true);
    await s.close();
  });

  it('lease 0 never expires another host\'s lock; a failure mark never expires', async () => {
    const s = new FileStore(freshDir(), { leaseMs: 0 });
    const k = h('lease-zero');
    fs.utimesSync(plantLock(s, k, lockText(1, otherHost)), ago(86_400_000), ago(86_400_000));
    assert.equal(await s.lock(k).get(), false);
    const s2 = new FileStore(freshDir(), { leaseMs: 1 });
    const f = h('lease-failed');
    fs.utimesSync(plantLock(s2, f, lockText(1, otherHost)), FAILED_MTIME, FAILED_MTIME);
    assert.deepEqual(state((await s2.listLocks()).get(f)), { failed: true, stale: false });
    assert.equal(await s2.lock(f).get(), false);
  });

  it("marking one lock failed leaves this process's other locks (same owner file) untouched", async () => {
    const s = new FileStore(freshDir());
    const a = s.lock(h('fail-a'));
    const b = s.lock(h('fail-b'));
    assert.equal(await a.get(), true);
    assert.equal(await b.get(), true);
    assert.equal(await a.fail(), true);
    assert.equal(Math.floor(fs.statSync(s.lockPath(h('fail-a'))).mtimeMs / 1000), FAILED_MTIME);
    assert.ok(fs.statSync(s.lockPath(h('fail-b'))).mtimeMs > Date.now() - 60_000);
    assert.equal(await b.isFailed(), false);
    assert.equal(fs.readFileSync(s.lockPath(h('fail-a')), 'utf8'), fs.readFileSync(s.lockPath(h('fail-b')), 'utf8'));
  });

  it('close() removes the owner file once no lock links to it', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const l = s.lock(h('owner-close'));
    assert.equal(await l.get(), true);
    await s.close();
    assert.equal(fs.readdirSync(join(dir, 'tempfiles')).length, 1, 'kept while a lock links to it');
    await l.release();
    await s.close();
    assert.deepEqual(fs.readdirSync(join(dir, 'tempfiles')), []);
  });

  it("clearDeadWrites removes dead processes' leftovers of this host only", async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const tmp = join(dir, 'tempfiles');
    fs.mkdirSync(tmp, { recursive: true });
    const dead = deadPid();
    const safeHost = HOST.replace(/[^A-Za-z0-9._-]/g, '_');
    const leftovers = [`${dead}-${safeHost}-0123456789abcdef`, `owner-${dead}-${safeHost}`];
    const kept = [`${dead}-other.example-0123456789abcdef`, `${process.pid}-${OWNER_TOKEN}-${safeHost}-0123456789abcdef`, 'unrelated.txt'];
    for (const n of [...leftovers, ...kept]) fs.writeFileSync(join(tmp, n), 'x');
    assert.equal(await s.clearDeadWrites(), 2);
    assert.deepEqual(fs.readdirSync(tmp).sort(), kept.sort());
  });

  it('a restart with the same pid and host (a container) takes its dead predecessor for another: locks, owner file, writes', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const safeHost = HOST.replace(/[^A-Za-z0-9._-]/g, '_');
    const before = OWNER_TOKEN.startsWith('s') ? 's1' : 'r0123456789ab'; // another start of this pid
    // The predecessor's owner file, a lock linked to it (its heartbeat kept fresh), an unfinished write.
    const tmp = join(dir, 'tempfiles');
    fs.mkdirSync(tmp, { recursive: true });
    const oldOwner = join(tmp, `owner-${process.pid}-${before}-${safeHost}`);
    fs.writeFileSync(oldOwner, `${lockText(process.pid)}Owner ${before}\n`);
    const k = h('predecessor');
    fs.mkdirSync(join(dir, 'locks'), { recursive: true });
    fs.linkSync(oldOwner, s.lockPath(k));
    const write = join(tmp, `${process.pid}-${before}-${safeHost}-0123456789abcdef`);
    const olderJugOwner = join(tmp, `owner-${process.pid}-${safeHost}`); // an older jug's name, same pid
    fs.writeFileSync(write, 'x');
    fs.writeFileSync(olderJugOwner, lockText(process.pid));
    assert.equal((await s.listLocks()).get(k)?.stale, true, 'named after this pid and host, but another start');
    assert.equal(await s.lock(k).adopt(), false, 'not ours to release');
    assert.equal(await s.lock(k).get(), true, 'reclaimed at once, no lease to wait for');
    assert.equal(parseOwnerText(fs.readFileSync(s.lockPath(k), 'utf8'))?.token, OWNER_TOKEN);
    assert.equal(await s.clearDeadWrites(), 3);
    assert.deepEqual(fs.readdirSync(tmp), [ownerFilePath(dir).slice(tmp.length + 1)], 'only this process start\'s owner file');
    await s.lock(k).release();
    await s.close();
  });

  it('a lock of a live pid of this host started at another time (the pid was reused) is stale', async (t) => {
    if (startToken('self') === undefined) return t.skip('process start times come from /proc (Linux only)');
    const child = spawn('sleep', ['30']);
    try {
      const s = new FileStore(freshDir());
      const reused = h('reused');
      const live = h('live');
      plantLock(s, reused, `${lockText(child.pid!)}Owner s1\n`);
      plantLock(s, live, `${lockText(child.pid!)}Owner ${startToken(child.pid!)}\n`);
      plantLock(s, h('no-token'), lockText(child.pid!)); // Python Jug's or an older jug's: alive
      const locks = await s.listLocks();
      assert.equal(locks.get(reused)?.stale, true);
      assert.equal(locks.get(live)?.stale, false);
      assert.equal(locks.get(h('no-token'))?.stale, false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("clearDeadWrites removes another host's owner files and writes only past the lease, and never a beating writer's", async () => {
    const dir = freshDir();
    const s = new FileStore(dir, { leaseMs: 10_000 });
    const tmp = join(dir, 'tempfiles');
    fs.mkdirSync(tmp, { recursive: true });
    const old = (Date.now() - 60_000) / 1000;
    const plant = (name: string, aged: boolean): void => {
      fs.writeFileSync(join(tmp, name), 'x');
      if (aged) fs.utimesSync(join(tmp, name), old, old);
    };
    plant('owner-7-s99-deadhost', true); // heartbeat stopped a minute ago
    plant('7-s99-deadhost-0123456789abcdef', true); // its unfinished write
    plant('owner-7-s42-livehost', false); // beating
    plant('7-s42-livehost-0123456789abcdef', true); // a slow write of a beating writer: kept
    plant('8-s5-quiethost-0123456789abcdef', false); // recent, no owner file seen yet: kept
    assert.equal(await s.clearDeadWrites(), 2);
    assert.deepEqual(fs.readdirSync(tmp).sort(), ['7-s42-livehost-0123456789abcdef', '8-s5-quiethost-0123456789abcdef', 'owner-7-s42-livehost']);
  });

  it('keepAlive() refreshes every held lock from a thread that beats while the main thread is blocked', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    const k1 = h('beat-1');
    const k2 = h('beat-2');
    // A child takes two locks, starts the heartbeat (a beat every HEARTBEAT_MS, 2 s), then blocks
    // its main thread for 6 s. The locks' mtime must keep advancing meanwhile.
    const script = `
      import { FileStore } from ${JSON.stringify(new URL('../src/store/file-store.ts', import.meta.url).href)};
      const s = new FileStore(${JSON.stringify(dir)}, { leaseMs: 5000 });
      await s.lock(${JSON.stringify(k1)}).get();
      await s.lock(${JSON.stringify(k2)}).get();
      const old = (Date.now() - 3_600_000) / 1000;
      (await import('node:fs')).utimesSync(s.lockPath(${JSON.stringify(k1)}), old, old);
      s.keepAlive();
      console.log('ready');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6000);
      await s.close();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve) => lines.once('line', resolve));
    assert.equal(first, 'ready');
    const s = new FileStore(dir);
    const mtime = (k: string): number => fs.statSync(s.lockPath(k)).mtimeMs;
    await new Promise((r) => setTimeout(r, 1500));
    const a = mtime(k1);
    assert.ok(Date.now() - a < 2500, `heartbeat refreshed the lock (age ${Date.now() - a} ms)`);
    await new Promise((r) => setTimeout(r, 2600));
    assert.ok(mtime(k1) > a, 'still beating while the main thread is blocked');
    assert.equal(mtime(k2), mtime(k1), 'one beat refreshes every lock');
    child.kill('SIGKILL');
  });
});
