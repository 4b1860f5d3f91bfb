/**
 * Large results are written to their temporary file in libuv's pool while the next task runs
 * (src/store/background-write.ts): the value as the task returned it is what gets stored, even
 * when task code changes it right after; a flush() during such a write commits it without waiting
 * for the commit delay; staging buffers are reused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/store/file-store.js';
import { BACKGROUND_WRITE_MIN_BYTES, stagingBytesHeld, writeEncoded } from '../src/store/background-write.js';
import { encodeResultParts } from '../src/store/encode.js';
import { syncFsAvailable } from '../src/store/sync-fs.js';
import { hashValue } from '../src/hash.js';
import { FIXTURES, makeTempDir, readResults, removeTempDir, runJug, show } from './helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeTempDir));
function freshDir(): string {
  const d = makeTempDir('background-write');
  dirs.push(d);
  return join(d, 'jugdata');
}

/** A Float64Array of `n` random doubles (incompressible: stored as it is, its own bytes borrowed). */
function randomDoubles(n: number): Float64Array {
  return Float64Array.from({ length: n }, () => Math.random());
}

describe('background writes of large results', () => {
  it('a typed array changed right after prepare() was called is stored as it was when returned', async () => {
    const s = new FileStore(freshDir(), { fsync: false });
    const values = [0, 1, 2, 3].map(() => randomDoubles(BACKGROUND_WRITE_MIN_BYTES / 8 + 1000));
    const expected = values.map((v) => v.slice());
    const hashes = values.map((_, i) => hashValue(`changed-${i}`));
    // prepare() encodes and snapshots synchronously, then writes in the pool: change every array at once.
    const preparing = values.map((v, i) => s.prepare(hashes[i]!, v));
    for (const v of values) v.fill(-1);
    for (const p of preparing) await s.commitPrepared(await p);
    for (const [i, h] of hashes.entries()) assert.deepStrictEqual(await s.load(h), expected[i], `result ${i}`);
    await s.close();
  });

  it('writeEncoded: small results synchronously, large ones in the pool; staging buffers are reused', async () => {
    const d = makeTempDir('background-write-unit');
    dirs.push(d);
    const small = encodeResultParts(randomDoubles(1000));
    const fd1 = fs.openSync(join(d, 'small'), 'w');
    assert.equal(writeEncoded(fd1, small), undefined, 'a small result is written at once');
    fs.closeSync(fd1);
    assert.equal(fs.statSync(join(d, 'small')).size, small.length);
    const big = randomDoubles(100_000);
    const held: number[] = [];
    for (let i = 0; i < 3; i++) {
      const enc = encodeResultParts(big);
      assert.equal(enc.borrowed, true, 'a typed array stored as it is lends its own bytes');
      const expected = Buffer.concat(enc.parts); // a copy of the bytes as encoded
      const fd = fs.openSync(join(d, `big-${i}`), 'w');
      const write = writeEncoded(fd, enc);
      assert.ok(write instanceof Promise, 'a large result is written in the background');
      big[0] = i; // after the snapshot: not in this file
      await write;
      fs.closeSync(fd);
      held.push(stagingBytesHeld());
      assert.ok(fs.readFileSync(join(d, `big-${i}`)).equals(expected), `file ${i} holds the bytes as encoded`);
    }
    assert.equal(new Set(held).size, 1, `one staging buffer, reused: ${held.join(', ')} bytes held`);
  });

  it('a flush() while a large result is still being written commits it without waiting for the commit delay', async (t) => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    if (!(await syncFsAvailable(dir))) return t.skip('no `sync -f` here: results are committed one by one, never delayed');
    const s = new FileStore(dir, { commitDelayMs: 600_000 });
    const [ha, hb] = [hashValue('flush-a'), hashValue('flush-b')];
    const a = await s.prepare(ha, randomDoubles(100_000));
    const committingA = s.commitPrepared(a, true); // a group commit under way
    const preparingB = s.prepare(hb, randomDoubles(100_000)); // written in the pool meanwhile
    s.flush(); // the runner's batch is done: B belongs to it
    await committingA;
    const b = await preparingB;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((r) => (timer = setTimeout(() => r('waited for the commit delay'), 60_000)));
    const outcome = await Promise.race([s.commitPrepared(b).then(() => 'committed'), timedOut]);
    clearTimeout(timer);
    assert.equal(outcome, 'committed');
    assert.equal(await s.has(hb), true);
    await s.close();
  });
});

describe('jug execute: a task that changes the array an earlier task returned', () => {
  it('every result is stored as its task returned it (the next task refills the same array)', async () => {
    const dir = makeTempDir('background-write-cli');
    dirs.push(dir);
    const jugfile = join(FIXTURES, 'reused-array.ts');
    const jugdir = join(dir, 'reused.jugdata');
    const r = await runJug(['execute', jugfile, '--jugdir', jugdir]);
    assert.equal(r.code, 0, show(r));
    const { values } = await readResults(jugfile, jugdir, ['summary']);
    const expected = Array.from({ length: 12 }, () => true);
    assert.deepStrictEqual(values['summary'], expected);
    // Large results are committed with every flush in the pool, the run records' included: all there.
    const runs = join(jugdir, 'runs');
    const records = fs.readdirSync(runs).flatMap((f) => fs.readFileSync(join(runs, f), 'utf8').split('\n').filter(Boolean));
    const fills = records.map((l) => JSON.parse(l) as { task: string; outcome: string; bytes?: number }).filter((r) => r.task === 'reused-array.fill');
    assert.equal(fills.length, 12, records.join('\n'));
    for (const r of fills) assert.ok(r.outcome === 'done' && (r.bytes ?? 0) > 512 * 1024, JSON.stringify(r));
  });
});
