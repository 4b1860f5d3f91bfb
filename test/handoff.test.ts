/**
 * Large typed arrays a task returned are handed to their first reader in this process instead of
 * being read back from the file (src/store/handoff.ts) — only when what the reader gets is what
 * the file holds — and the does-it-pay decisions remembered per task function
 * (src/store/encode.ts, docs/store-format.md "How a result is encoded").
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { FileStore } from '../src/store/file-store.js';
import { ResultHandoff, KEEP_MIN_BYTES } from '../src/store/handoff.js';
import { runnerStoreOptions } from '../src/cli/commands/execute/options.js';
import {
  decodeResult,
  encodeResult,
  forgetCodecDecisions,
  HEADER_BYTES,
  NUMERIC_SHUFFLED_BROTLI,
  NUMERIC_SHUFFLED_DEFLATE,
  NUMERIC_STORED,
  RESAMPLE_EVERY,
} from '../src/store/encode.js';
import { hashValue } from '../src/hash.js';
import { makeTempDir, removeTempDir } from './helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeTempDir));
function freshStore(): FileStore {
  const d = makeTempDir('handoff');
  dirs.push(d);
  return new FileStore(join(d, 'jugdata'), { fsync: false });
}

/** `n` random doubles: incompressible, stored as they are. */
const randomDoubles = (n: number): Float64Array => Float64Array.from({ length: n }, () => Math.random());
/** `n` 31-bit LCG fractions (the benchmark's compressible values). */
function lcg(n: number, seed: number): Float64Array {
  let x = seed + 1;
  return Float64Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
}

/** A task's result written the way jug writes it (prepare, then commit). */
async function store(s: FileStore, hash: string, value: unknown): Promise<void> {
  await s.commitPrepared(await s.prepare(hash, value, 'handoff.task'));
}

describe('the first reader of a large typed array just stored gets the array itself', () => {
  it('once: the first load() is the array returned, a second one a copy read from the file', async () => {
    const s = freshStore();
    for (const value of [randomDoubles(20_000), lcg(20_000, 3)]) {
      const h = hashValue(['once', value[0]]);
      await store(s, h, value);
      assert.equal(await s.load(h), value, 'handed over');
      const again = await s.load(h);
      assert.notEqual(again, value, 'the second reader reads the file');
      assert.deepStrictEqual(again, value);
    }
    await s.close();
  });

  it('keepReturned: false (jug execute --aggressive-unload) keeps nothing: every read loads from the file', async () => {
    const d = makeTempDir('handoff');
    dirs.push(d);
    const s = new FileStore(join(d, 'jugdata'), { fsync: false, keepReturned: false });
    const value = randomDoubles(20_000);
    const h = hashValue(['unload', value[0]]);
    await store(s, h, value);
    const loaded = await s.load(h);
    assert.notEqual(loaded, value, 'a copy read from the file');
    assert.deepStrictEqual(loaded, value);
    await s.close();
  });

  it('jug execute opens its store with keepReturned off exactly under --aggressive-unload', () => {
    assert.equal(runnerStoreOptions({ aggressiveUnload: true }).keepReturned, false);
    assert.equal(runnerStoreOptions({}).keepReturned, true);
  });

  it('loadMany() hands over too', async () => {
    const s = freshStore();
    const values = [randomDoubles(10_000), randomDoubles(10_000)];
    const hashes = values.map((_, i) => hashValue(`many-${i}`));
    for (const [i, v] of values.entries()) await store(s, hashes[i]!, v);
    const loaded = await s.loadMany(hashes);
    assert.equal(loaded[0], values[0]);
    assert.equal(loaded[1], values[1]);
    await s.close();
  });

  it('an array changed after it was returned is read from the file, as it was returned', async () => {
    const s = freshStore();
    for (const value of [randomDoubles(20_000), lcg(20_000, 5)]) {
      const original = value.slice();
      const h = hashValue(['changed', original[0]]);
      await store(s, h, value);
      value[1234] = -7; // the task's code changed it afterwards
      const loaded = await s.load(h);
      assert.notEqual(loaded, value);
      assert.deepStrictEqual(loaded, original);
    }
    await s.close();
  });

  it('never before its commit, nor after the file was removed by anyone', async () => {
    const s = freshStore();
    const [h1, h2, h3] = [hashValue('uncommitted'), hashValue('removed'), hashValue('unlinked')];
    const prepared = await s.prepare(h1, randomDoubles(20_000), 'handoff.task');
    await assert.rejects(s.load(h1), /not in the store/, 'not committed: not a result yet');
    await s.commitPrepared(prepared);
    await store(s, h2, randomDoubles(20_000));
    assert.equal(await s.remove(h2), true);
    await assert.rejects(s.load(h2), /not in the store/, 'removed (invalidate)');
    await store(s, h3, randomDoubles(20_000));
    fs.unlinkSync(s.resultPath(h3)); // another process removed it
    await assert.rejects(s.load(h3), /not in the store/, 'removed by another process');
    await s.close();
  });

  it('dump() never hands over: its caller keeps the value', async () => {
    const s = freshStore();
    const value = randomDoubles(20_000);
    const h = hashValue('dumped');
    await s.dump(h, value);
    const loaded = await s.load(h);
    assert.notEqual(loaded, value);
    assert.deepStrictEqual(loaded, value);
    await s.close();
  });

  it('small arrays are not kept; at most maxBytes are, the oldest dropped first', () => {
    const handoff = new ResultHandoff(3 * KEEP_MIN_BYTES);
    const kept = (n: number) => {
      const a = randomDoubles(n);
      const bytes = new Uint8Array(a.buffer);
      return { value: a, bytes, length: bytes.length, seed: 0, crc: 0 };
    };
    handoff.keep(hashValue('small'), kept(KEEP_MIN_BYTES / 8 - 1), 1);
    assert.equal(handoff.bytes, 0);
    for (const name of ['a', 'b', 'c', 'd']) handoff.keep(hashValue(name), kept(KEEP_MIN_BYTES / 8), 1);
    assert.equal(handoff.bytes, 3 * KEEP_MIN_BYTES);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((x) => handoff.holds(hashValue(x))), [false, true, true, true]);
    handoff.keep(hashValue('huge'), kept((4 * KEEP_MIN_BYTES) / 8), 1);
    assert.equal(handoff.bytes, 3 * KEEP_MIN_BYTES, 'larger than the budget: not kept, nothing dropped');
    handoff.clear();
    assert.equal(handoff.bytes, 0);
  });
});

describe('does-it-pay decisions remembered per task function', () => {
  beforeEach(() => forgetCodecDecisions());
  const codec = (bytes: Buffer): number => bytes[HEADER_BYTES + 1]!;
  const n = 32_768;

  it('after a result stored as it is, the next ones of that function skip the sample until the RESAMPLE_EVERY-th', () => {
    assert.equal(codec(encodeResult(randomDoubles(n), 'f.a')), NUMERIC_STORED);
    for (let i = 1; i < RESAMPLE_EVERY; i++) {
      assert.equal(codec(encodeResult(lcg(n, i), 'f.a')), NUMERIC_STORED, `result ${i}: no sample, stored`);
    }
    assert.notEqual(codec(encodeResult(lcg(n, 99), 'f.a')), NUMERIC_STORED, 'sampled again: compressed');
    assert.notEqual(codec(encodeResult(lcg(n, 98), 'f.b')), NUMERIC_STORED, 'another function decides for itself');
    assert.notEqual(codec(encodeResult(lcg(n, 97))), NUMERIC_STORED, 'no task name: always the sample');
  });

  it('after a deflated result, the next very redundant one is deflated (brotli skipped), a less redundant one gets brotli', () => {
    const big = 262_144; // 2 MiB: the LCG's long-range repeats make deflate pay (a shorter run gets brotli)
    assert.equal(codec(encodeResult(lcg(big, 1), 'f.d')), NUMERIC_SHUFFLED_DEFLATE);
    const again = lcg(big, 2);
    const bytes = encodeResult(again, 'f.d');
    assert.equal(codec(bytes), NUMERIC_SHUFFLED_DEFLATE);
    assert.deepStrictEqual(decodeResult(bytes, 'test'), again);
    // 20 random bits per double: compressible, but not very redundant (deflate gives > 20 %).
    const bits20 = Float64Array.from({ length: n }, () => Math.floor(Math.random() * 2 ** 20) / 2 ** 20);
    assert.equal(codec(encodeResult(bits20, 'f.d')), NUMERIC_SHUFFLED_BROTLI);
    assert.equal(codec(encodeResult(lcg(big, 3), 'f.d')), NUMERIC_SHUFFLED_DEFLATE, 'brotli tried first again, then deflate');
  });

  it('after a result that compressed, the whole next result decides: incompressible data is stored as it is', () => {
    assert.notEqual(codec(encodeResult(lcg(n, 1), 'f.c')), NUMERIC_STORED);
    assert.notEqual(codec(encodeResult(lcg(n, 2), 'f.c')), NUMERIC_STORED);
    const doubles = randomDoubles(n);
    const bytes = encodeResult(doubles, 'f.c');
    assert.equal(codec(bytes), NUMERIC_STORED);
    assert.equal(bytes.length, HEADER_BYTES + 3 + doubles.byteLength);
  });
});
