/**
 * How `FileStore.dump()` commits (its caller waits for it, nothing runs meanwhile): without the
 * commit delay it commits once the current turn of the event loop is over, not after a timer
 * (a 0-ms timer waits ~1 ms); and a large result is flushed with synchronous calls in the calling
 * thread — flushed, renamed into place, its directory flushed — rather than in libuv's pool,
 * where each step was a round trip; and a large result is written from a reused staging buffer,
 * not from the array's own (or a compressed output's fresh) memory: the kernel's first read of
 * memory costs ~10× a later one on this project's VM (docs/design.md, "Write throughput through dump()").
 */
import { after, before, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FileStore } from '../src/store/file-store.js';
import { stagingBytesHeld } from '../src/store/background-write.js';
import { ROOT, makeTempDir, removeTempDir } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('dump-commit');
});
after(() => removeTempDir(tmp));

it('dump() writes large results through one reused staging buffer, and they read back as dumped', async () => {
  const store = new FileStore(join(tmp, 'staged'), { fsync: false });
  assert.equal(stagingBytesHeld(), 0, 'nothing staged yet in this process');
  const held: number[] = [];
  const arrays = [1, 2, 3].map((k) => Float64Array.from({ length: 262_144 }, (_, i) => Math.sin(k * i)));
  const lcg = Float64Array.from({ length: 262_144 }, (_, i) => ((i * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const [i, a] of [...arrays, lcg].entries()) {
    await store.dump(`${i}`.repeat(40), a, `staged.t${i}`);
    held.push(stagingBytesHeld());
  }
  assert.ok(held[0]! >= 262_144 * 8, `a staging buffer of the result's size: ${held[0]} bytes`);
  assert.equal(new Set(held).size, 1, `the same buffer each time (the compressed one, smaller, needs none): ${held.join(', ')}`);
  for (const [i, a] of [...arrays, lcg].entries()) assert.deepStrictEqual(await store.load(`${i}`.repeat(40)), a, `result ${i}`);
  await store.close();
});

it('dump() commits without waiting for a timer (setTimeout never fires here)', { timeout: 20_000 }, async () => {
  const store = new FileStore(join(tmp, 'no-timer'));
  await store.dump('cd'.repeat(20), [1, 2, 3], 'warm-up'); // starts the store's helpers with real timers
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await store.dump('ab'.repeat(20), new Float64Array(262_144).fill(0.5), 'big');
    await store.dump('ef'.repeat(20), { small: true }, 'small');
  } finally {
    mock.timers.reset();
  }
  assert.deepEqual((await store.load('ab'.repeat(20)) as Float64Array).length, 262_144);
  assert.deepEqual(await store.load('ef'.repeat(20)), { small: true });
  await store.close();
});

const strace = spawnSync('strace', ['-V']).status === 0;

it(
  'dump() of a 2 MiB result: fsync of the file, rename, fsync of its directory, all in the calling thread (strace)',
  { skip: strace ? false : 'strace is not installed: cannot observe which thread makes the system calls' },
  () => {
    const jugdir = join(tmp, 'order.jugdata');
    const log = join(tmp, 'order.strace');
    const hash = '12'.repeat(20);
    const script = [
      `import { FileStore } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};`,
      `const store = new FileStore(${JSON.stringify(jugdir)});`,
      `await store.dump(${JSON.stringify(hash)}, new Float64Array(262144).fill(0.25), 'big');`,
      'await store.close();',
    ].join('\n');
    const r = spawnSync('strace', ['-f', '-y', '-e', 'trace=execve,fsync,rename', '-o', log, process.execPath, '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    const shard = join(jugdir, hash.slice(0, 2));
    const rename = lines.findIndex((l) => l.includes(`rename(`) && l.includes(`"${shard}/${hash.slice(2)}"`));
    assert.ok(rename >= 0, `no rename into place:\n${lines.join('\n')}`);
    const tmpName = /tempfiles\/([^"]+)"/.exec(lines[rename]!)![1]!;
    const fsyncFile = lines.findIndex((l) => new RegExp(`fsync\\(\\d+<[^>]*/tempfiles/${tmpName}>`).test(l));
    const fsyncDir = lines.findIndex((l, i) => i > rename && l.includes(`fsync(`) && l.includes(`<${shard}>`));
    assert.ok(fsyncFile >= 0 && fsyncFile < rename, 'the file is flushed before the rename');
    assert.ok(fsyncDir > rename, 'the directory is flushed after the rename');
    // Node's main thread: the one that execve'd it (its first line), named by the process id.
    const tid = (i: number): string => /^(\d+)\s/.exec(lines[i]!)![1]!;
    assert.match(lines[0]!, /execve\(/);
    for (const [what, i] of [['fsync of the file', fsyncFile], ['rename', rename], ['fsync of the directory', fsyncDir]] as const) {
      assert.equal(tid(i), tid(0), `${what} in the main thread: ${lines[i]}`);
    }
  },
);
