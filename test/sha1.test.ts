/**
 * The JavaScript SHA-1 of task hashes (src/sha1.ts): byte-identical to node:crypto's, and
 * results stored before it are still found (test/fixtures/stored-hashes).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { JS_SHA1_MAX, SHA1_PAD_ROOM, sha1HexInPlace } from '../src/sha1.js';
import { hashTask } from '../src/hash.js';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show } from './helpers.js';

/** Deterministic pseudo-random bytes (a 32-bit LCG). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('sha1HexInPlace', () => {
  it('equals node:crypto for every length from 0 to JS_SHA1_MAX (all padding cases, one to 17 blocks)', () => {
    for (let n = 0; n <= JS_SHA1_MAX; n++) {
      const data = bytes(n, n + 1);
      const want = hash('sha1', data, 'hex');
      const buf = new Uint8Array(n + SHA1_PAD_ROOM);
      buf.set(data);
      assert.equal(sha1HexInPlace(buf, n), want, `length ${n}`);
      // The bytes of the message itself are left as they were (only the room after them is used).
      assert.deepEqual(buf.subarray(0, n), data, `length ${n}: input changed`);
    }
  });

  it('gives the standard digests of the FIPS 180 examples', () => {
    const of = (s: string): string => {
      const b = Buffer.alloc(Buffer.byteLength(s) + SHA1_PAD_ROOM);
      return sha1HexInPlace(b, b.write(s));
    };
    assert.equal(of(''), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
    assert.equal(of('abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(of('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  });

  it('hashes tasks whose encoding is just under, at and over the JS limit like node:crypto (hashTask)', () => {
    // 'jug/task/v1\0' + 's' + u32 + name + 'a' + u32 + 's' + u32 + string: 30 bytes + the two texts.
    for (const extra of [-2, -1, 0, 1, 2, 100]) {
      const text = 'x'.repeat(JS_SHA1_MAX - 30 - 1 + extra);
      const enc = Buffer.concat([
        Buffer.from('jug/task/v1\0s', 'latin1'),
        u32(1),
        Buffer.from('t'),
        Buffer.from('a'),
        u32(1),
        Buffer.from('s'),
        u32(text.length),
        Buffer.from(text),
      ]);
      assert.equal(hashTask('t', [text]), hash('sha1', enc, 'hex'), `input of ${enc.length} bytes`);
    }
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

describe('stored results stay addressable', () => {
  it('jug check finds every result of the fixture jugdir written before the JavaScript SHA-1', async () => {
    const dir = makeTempDir('stored-hashes');
    try {
      cpSync(join(FIXTURES, 'stored-hashes'), dir, { recursive: true });
      const r = await runJug(['check', join(dir, 'jugfile.ts'), '--jugdir', join(dir, 'jugdir')]);
      assert.equal(r.code, 0, show(r));
      const s = await runJug(['status', join(dir, 'jugfile.ts'), '--jugdir', join(dir, 'jugdir')]);
      assert.equal(s.code, 0, show(s));
      assert.match(s.stdout, /Total:\s+0\s+0\s+75\s+0\s+0\s*$/m, show(s));
    } finally {
      removeTempDir(dir);
    }
  });
});
