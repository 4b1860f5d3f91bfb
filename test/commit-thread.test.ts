/**
 * A serial run's commits in the file store's helper thread (src/store/heartbeat.ts,
 * src/store/commit-job.ts): the result is flushed, renamed into place and its directory flushed
 * before the task's lock is released; a commit that fails leaves the lock held; a lock taken over
 * by another process is never removed; a process killed while a commit is in flight leaves every
 * result whole or absent (run again); a process.exit() waits for the commits in flight.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FileStore } from '../src/store/file-store.js';
import type { FileLock } from '../src/store/file-lock.js';
import { FIXTURES, makeTempDir, readResults, removeTempDir, runJug, show, storedHashes } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('commit-thread');
});
after(() => removeTempDir(tmp));

const HASH = 'ab'.repeat(20);

/** A store whose helper thread runs (keepAlive in a serial run) with HASH's lock taken. */
async function storeWithLock(name: string): Promise<{ store: FileStore; lock: FileLock }> {
  const store = new FileStore(join(tmp, name));
  store.keepAlive();
  const lock = store.lock(HASH) as FileLock;
  assert.equal(await lock.get(), true);
  return { store, lock };
}

describe('commits in the file store helper thread', () => {
  it('store the result, then release the lock (the caller has nothing left to release)', async () => {
    const { store, lock } = await storeWithLock('ok');
    try {
      const prepared = await store.prepare(HASH, [1, 2, 3], 't');
      await store.commitPrepared(prepared, true, lock);
      assert.equal(lock.held, false, 'released by the helper thread');
      assert.equal(fs.existsSync(store.lockPath(HASH)), false);
      assert.deepEqual(await store.load(HASH), [1, 2, 3]);
      assert.deepEqual(fs.readdirSync(join(store.location, 'tempfiles')).filter((n) => !n.startsWith('owner-')), []);
    } finally {
      await store.close();
    }
  });

  it('leave the lock held when the commit fails, and say which result', async () => {
    const { store, lock } = await storeWithLock('fails');
    try {
      const prepared = await store.prepare(HASH, 'x', 'broken');
      fs.unlinkSync(prepared.tmp); // the written result vanished: its flush fails
      await assert.rejects(store.commitPrepared(prepared, true, lock), /task 'broken'/);
      assert.equal(lock.held, true);
      assert.equal(fs.existsSync(store.lockPath(HASH)), true, 'still locked: nobody may take the task as done');
      assert.equal(await store.has(HASH), false);
      await lock.release();
      assert.equal(fs.existsSync(store.lockPath(HASH)), false);
    } finally {
      await store.close();
    }
  });

  it('never remove a lock another process took over meanwhile', async () => {
    const { store, lock } = await storeWithLock('taken');
    try {
      const prepared = await store.prepare(HASH, 7, 't');
      const path = store.lockPath(HASH);
      fs.unlinkSync(path);
      fs.writeFileSync(path, 'another process\n'); // not a link to this process's owner file
      await store.commitPrepared(prepared, true, lock);
      assert.equal(await store.load(HASH), 7);
      assert.equal(fs.readFileSync(path, 'utf8'), 'another process\n');
      await lock.release(); // the caller's release: not ours any more, left alone
      assert.equal(fs.readFileSync(path, 'utf8'), 'another process\n');
    } finally {
      await store.close();
    }
  });
});

const strace = spawnSync('strace', ['-V']).status === 0;

it(
  'a serial run flushes each result, renames it, flushes its directory, then unlinks its lock (strace)',
  { skip: strace ? false : 'strace is not installed: cannot observe the order of system calls' },
  async () => {
    const jugdir = join(tmp, 'order.jugdata');
    const log = join(tmp, 'order.strace');
    const env = { JUG_N: '5', JUG_DELAY_MS: '20' };
    const r = spawnSync(
      'strace',
      ['-f', '-y', '-e', 'trace=fsync,rename,unlink', '-o', log, process.execPath, join(FIXTURES, '..', '..', 'bin', 'jug.js'), 'execute', join(FIXTURES, 'kill-mid-commit.ts'), '--jugdir', jugdir],
      { env: { ...process.env, ...env, NODE_OPTIONS: '' }, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const hashes = storedHashes(jugdir);
    assert.equal(hashes.length, 5);
    for (const hash of hashes) {
      const shard = `${jugdir}/${hash.slice(0, 2)}`;
      const rename = at(new RegExp(`rename\\("[^"]*/tempfiles/([^"]+)", "${shard}/${hash.slice(2)}"`));
      assert.ok(rename >= 0, `no rename into place of ${hash}`);
      const tmpName = /tempfiles\/([^"]+)"/.exec(lines[rename]!)![1]!;
      const fsyncFile = at(new RegExp(`fsync\\(\\d+<[^>]*/tempfiles/${tmpName}>`));
      const fsyncDir = lines.findIndex((l, i) => i > rename && new RegExp(`fsync\\(\\d+<${shard}>`).test(l));
      const unlinkLock = at(new RegExp(`unlink\\("${jugdir}/locks/${hash}\\.lock"`));
      assert.ok(fsyncFile >= 0 && fsyncFile < rename, `${hash}: flushed before the rename`);
      assert.ok(fsyncDir > rename, `${hash}: directory flushed after the rename`);
      assert.ok(unlinkLock > fsyncDir, `${hash}: lock released after the directory flush`);
    }
  },
);

it('SIGKILL while a commit is in flight: the next run finds each result whole or runs its task again', async () => {
  const jugdir = join(tmp, 'killed.jugdata');
  const side = join(tmp, 'killed-side.txt');
  const N = 12;
  const env = { JUG_N: String(N), JUG_DELAY_MS: '20', JUG_KILL_AT: '6', JUG_KILL_MARK: join(tmp, 'killed.mark'), JUG_SIDE_FILE: side, TMPDIR: tmp };
  const args = ['execute', join(FIXTURES, 'kill-mid-commit.ts'), '--jugdir', jugdir];
  const first = await runJug(args, { env });
  assert.equal(first.signal, 'SIGKILL', show(first));
  const second = await runJug([...args, '--wait-cycle-time', '1', '--nr-wait-cycles', '5'], { env });
  assert.equal(second.code, 0, show(second));
  const ran = fs.readFileSync(side, 'utf8').trim().split('\n').map(Number);
  for (let n = 0; n < N; n++) {
    const times = ran.filter((x) => x === n).length;
    assert.ok(times === 1 || times === 2, `task ${n} ran ${times} times`);
  }
  // Two tasks are in flight at most (medium tasks): only the one whose commit was under way may run again.
  assert.ok(ran.filter((x) => x < 6).length <= 7, `tasks before the kill ran again: ${ran.join(' ')}`);
  const { values } = await readResults(join(FIXTURES, 'kill-mid-commit.ts'), jugdir, ['results'], { env: { JUG_N: String(N) } });
  assert.deepEqual(
    values['results'],
    Array.from({ length: N }, (_, n) => Array.from({ length: 1000 }, (_, i) => n * n + i)),
  );
  assert.deepEqual(fs.readdirSync(join(jugdir, 'locks')), []);
  assert.deepEqual(fs.readdirSync(join(jugdir, 'tempfiles')), []);
});

it('a task calling process.exit(): the commit of the task before it still completes, its lock released', async () => {
  const jugdir = join(tmp, 'exit.jugdata');
  const env = { JUG_N: '12', JUG_DELAY_MS: '20', JUG_EXIT_AT: '6', TMPDIR: tmp };
  const r = await runJug(['execute', join(FIXTURES, 'kill-mid-commit.ts'), '--jugdir', jugdir], { env });
  assert.equal(r.code, 0, show(r));
  assert.equal(storedHashes(jugdir).length, 6, 'tasks 0–5 stored, the last of them committed as the process exited');
  // Only the lock of the task that exited is left (its process is gone: the next run reclaims it).
  assert.equal(fs.readdirSync(join(jugdir, 'locks')).length, 1);
});
