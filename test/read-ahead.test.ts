/**
 * loadMany() of many large typed arrays reads them in libuv's pool (src/store/read-ahead.ts):
 * the same values as one load() each, and the same errors in the same order — a damaged or
 * missing result is still reported by name, with its reason — because anything the read-ahead
 * doubts is loaded the ordinary way.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { after, describe, it } from 'node:test';
import { CorruptResultError, NotComputedError } from '../src/errors.js';
import { forgetCodecDecisions } from '../src/store/encode.js';
import { FileStore } from '../src/store/file-store.js';
import { POOL_MIN_BYTES, readAheadInPool, readNumericAhead } from '../src/store/read-ahead.js';
import { hashValue } from '../src/hash.js';
import { makeTempDir, removeTempDir, runJug, show, storedHashes } from './helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeTempDir));
function tempDir(): string {
  const d = makeTempDir('read-ahead');
  dirs.push(d);
  return d;
}

/** A store that keeps nothing for a reader (no hand-over): every load reads the file. */
const freshStore = (): FileStore => new FileStore(join(tempDir(), 'jugdata'), { fsync: false, keepReturned: false });

const N = POOL_MIN_BYTES / 8 + 1000; // elements: every kind below is over POOL_MIN_BYTES / 2
/** Incompressible values of each kind (stored as they are). */
function values(seed: number): unknown[] {
  const d = Float64Array.from({ length: N }, (_, i) => Math.sin(seed * 7919 + i) * 1e6);
  return [
    d,
    Float32Array.from({ length: N * 2 }, (_, i) => Math.sin(seed + i * 3.1)),
    Int32Array.from({ length: N * 2 }, (_, i) => (Math.sin(seed + i) * 2 ** 31) | 0),
    Uint32Array.from({ length: N * 2 }, (_, i) => (Math.cos(seed + i) * 2 ** 31) >>> 0),
  ];
}

/** Stores `vals` as the results of tasks ra.task0, ra.task1 … (each sampled afresh: no codec remembered from an earlier test). */
async function storeAll(s: FileStore, vals: readonly unknown[], tag: string): Promise<string[]> {
  forgetCodecDecisions();
  const hashes = vals.map((_, i) => hashValue([tag, i]));
  for (let i = 0; i < vals.length; i++) await s.commitPrepared(await s.prepare(hashes[i]!, vals[i], `ra.task${i}`));
  return hashes;
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `ra.task${i}`);

describe('loadMany() with read-ahead in the pool', () => {
  it('gives the same values as load(), for every typed kind, mixed with small values and number[]', async () => {
    const s = freshStore();
    const vals = [...values(1), 42, 'small', [1.5, 2.5, 3.5], ...values(2), Array.from({ length: N }, (_, i) => i / 3), ...values(3)];
    const hashes = await storeAll(s, vals, 'mixed');
    const many = await s.loadMany(hashes, names(vals.length));
    assert.deepStrictEqual(many, vals);
    for (let i = 0; i < hashes.length; i++) assert.deepStrictEqual(await s.load(hashes[i]!), many[i]);
    for (const v of many) if (ArrayBuffer.isView(v)) assert.equal(v.byteOffset, 0, 'an array owning its whole buffer, as before');
    await s.close();
  });

  it('a damaged file after the first is reported by name with the CRC error, not returned', async () => {
    const s = freshStore();
    const vals = [...values(4), ...values(5)];
    const hashes = await storeAll(s, vals, 'damaged');
    const victim = s.resultPath(hashes[5]!);
    const b = fs.readFileSync(victim);
    b[b.length - 1]! ^= 0x10;
    fs.writeFileSync(victim, b);
    const e = await s.loadMany(hashes, names(vals.length)).then(
      () => assert.fail('loaded a damaged result'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof CorruptResultError, String(e));
    assert.equal(e.path, victim);
    assert.match(e.message, new RegExp(`Corrupt result of task 'ra\\.task5' at ${victim.replaceAll('.', '\\.')}: checksum mismatch`));
    await s.close();
  });

  it('the first failing result in order is the one reported: a missing one before a damaged one', async () => {
    const s = freshStore();
    const vals = [...values(6), ...values(7)];
    const hashes = await storeAll(s, vals, 'order');
    fs.rmSync(s.resultPath(hashes[3]!));
    const damaged = s.resultPath(hashes[6]!);
    fs.truncateSync(damaged, fs.statSync(damaged).size - 8);
    await assert.rejects(s.loadMany(hashes, names(vals.length)), (e: unknown) => {
      assert.ok(e instanceof NotComputedError, String(e));
      assert.match(e.message, /task 'ra\.task3'/);
      return true;
    });
    await assert.rejects(s.loadMany(hashes.slice(4), names(8).slice(4)), (e: unknown) => {
      assert.ok(e instanceof CorruptResultError, String(e));
      assert.match(e.message, /ra\.task6.*the header says \d+ payload bytes but the file holds \d+/);
      return true;
    });
    await s.close();
  });
});

/** Compressible values (31-bit LCG fractions: stored shuffled and deflated) of each kind, and as a number[]. */
function lcgValues(seed: number): unknown[] {
  let x = seed + 1;
  const next = (): number => (x = (x * 1103515245 + 12345) % 2147483648);
  return [
    Float64Array.from({ length: N }, () => next() / 2147483648),
    Float32Array.from({ length: N * 2 }, () => next() / 2147483648),
    Int32Array.from({ length: N * 2 }, () => next() & 0xffff),
    Uint32Array.from({ length: N * 2 }, () => next() & 0xfff),
    Array.from({ length: N }, () => next() / 2147483648),
  ];
}

describe('readNumericAhead (the pool read of one file)', () => {
  it('reads stored and compressed typed arrays; anything else or any doubt gives undefined', async () => {
    const s = freshStore();
    let x = 1;
    const lcg = Float64Array.from({ length: N }, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const lcgPlain = Array.from(lcg, (v) => v * 2);
    const vals = [values(8)[0], new Float64Array(100), Array.from(values(10)[0] as Float64Array), lcg, lcgPlain, values(9)[0], lcg.subarray(0, 1000)];
    const hashes = await storeAll(s, vals, 'one');
    const paths = hashes.map((h) => s.resultPath(h));
    for (const i of [3, 4]) assert.ok(fs.statSync(paths[i]!).size < 8 * N * 0.2, `value ${i} stored compressed`);
    const flipped = paths[5]!;
    const b = fs.readFileSync(flipped);
    b[100]! ^= 1;
    fs.writeFileSync(flipped, b);
    const got = await Promise.all([...readAheadInPool(paths), readNumericAhead(join(s.location, 'nowhere'))]);
    assert.deepStrictEqual(got[0], vals[0], 'stored Float64Array: read');
    assert.deepStrictEqual(got[3], lcg, 'compressed Float64Array: read, the same values');
    assert.ok(got[3] instanceof Float64Array && got[3].byteOffset === 0 && got[3].buffer.byteLength === lcg.byteLength, 'an array owning its whole buffer');
    assert.deepStrictEqual(
      [got[1], got[2], got[4], got[5], got[6], got[7]],
      [undefined, undefined, undefined, undefined, undefined, undefined],
      'small, stored number[], compressed number[] (built on the main thread), damaged, compressed but small, missing',
    );
    await s.close();
  });

  it('a compressed file whose stream is damaged under a correct CRC gives undefined (the ordinary path reports it)', async () => {
    const s = freshStore();
    const vals = lcgValues(3).slice(0, 1);
    const [hash] = await storeAll(s, vals, 'restream');
    const path = s.resultPath(hash!);
    const b = fs.readFileSync(path);
    b.writeBigUInt64LE(BigInt(8 * N + 8), 16); // the stated decompressed length, one element more
    b.writeUInt32LE(zlib.crc32(b.subarray(13)), 9);
    fs.writeFileSync(path, b);
    assert.equal(await readNumericAhead(path), undefined);
    await assert.rejects(s.load(hash!), (e: unknown) => e instanceof CorruptResultError && /does not decode/.test(e.message));
    await s.close();
  });
});

describe('loadMany() with read-ahead of compressed results', () => {
  it('gives the same values as load(), for every kind, compressed and stored, mixed', async () => {
    const s = freshStore();
    const vals = [...lcgValues(1), ...values(2), 7, ...lcgValues(2), ...lcgValues(3).reverse()];
    const hashes = await storeAll(s, vals, 'mixed-lcg');
    const many = await s.loadMany(hashes, names(vals.length));
    assert.deepStrictEqual(many, vals);
    for (let i = 0; i < hashes.length; i++) assert.deepStrictEqual(await s.load(hashes[i]!), vals[i]);
    await s.close();
  });

  it('a damaged compressed file after the first is reported by name with the CRC error', async () => {
    const s = freshStore();
    const vals = [lcgValues(4)[0], ...lcgValues(5)];
    const hashes = await storeAll(s, vals, 'damaged-lcg');
    const victim = s.resultPath(hashes[3]!);
    const b = fs.readFileSync(victim);
    b[b.length - 5]! ^= 0x08;
    fs.writeFileSync(victim, b);
    await assert.rejects(s.loadMany(hashes, names(vals.length)), (e: unknown) => {
      assert.ok(e instanceof CorruptResultError, String(e));
      assert.equal(e.path, victim);
      assert.match(e.message, /ra\.task3.*checksum mismatch/);
      return true;
    });
    await s.close();
  });
});

describe('jug execute: a task over many large typed arrays', () => {
  const JUGFILE = `import { TaskGenerator } from 'jug';
export const wave = TaskGenerator(function wave(k: number): Float64Array {
  return Float64Array.from({ length: ${N} }, (_, i) => Math.sin(k * 7919 + i) * 1e6);
});
export const total = TaskGenerator(function total(ws: Float64Array[]): number {
  let s = 0;
  for (const w of ws) for (let i = 0; i < w.length; i++) s += w[i]!;
  console.log('SUM ' + s);
  return s;
});
export const waves = Array.from({ length: 8 }, (_, k) => wave(k));
export const sum = total(waves);
`;
  function expected(): number {
    let s = 0;
    for (let k = 0; k < 8; k++) for (let i = 0; i < N; i++) s += Math.sin(k * 7919 + i) * 1e6;
    return s;
  }

  it('re-running the sum loads them all (same sum); a damaged input is named, set aside and recomputed', async () => {
    const dir = tempDir();
    const jugfile = join(dir, 'ra.ts');
    fs.writeFileSync(jugfile, JUGFILE);
    const jugdir = join(dir, 'ra.jugdata');
    const first = await runJug(['execute', jugfile]);
    assert.equal(first.code, 0, show(first));
    assert.match(first.stdout, new RegExp(`^SUM ${expected()}$`, 'm'));
    const files = storedHashes(jugdir).map((h) => join(jugdir, h.slice(0, 2), h.slice(2)));
    const big = files.filter((f) => fs.statSync(f).size > POOL_MIN_BYTES);
    assert.equal(big.length, 8, 'eight large inputs stored');

    const rerun = await runJug(['invalidate', jugfile, '--target', 'total']).then(() => runJug(['execute', jugfile]));
    assert.equal(rerun.code, 0, show(rerun));
    assert.match(rerun.stdout, new RegExp(`^SUM ${expected()}$`, 'm'), 'loaded from the files');

    const victim = big[5]!;
    const b = fs.readFileSync(victim);
    b[b.length - 3]! ^= 0x20;
    fs.writeFileSync(victim, b);
    const fixed = await runJug(['invalidate', jugfile, '--target', 'total']).then(() => runJug(['execute', jugfile]));
    assert.equal(fixed.code, 0, show(fixed));
    assert.match(fixed.stderr, new RegExp(`the stored result of task ra\\.wave \\(hash [0-9a-f]+\\) at ${victim.replaceAll('.', '\\.')} is corrupt: checksum mismatch`), show(fixed));
    assert.match(fixed.stdout, new RegExp(`^SUM ${expected()}$`, 'm'), 'recomputed, then summed');
  });
});
