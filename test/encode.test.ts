/**
 * Unit tests of the result framing (src/store/encode.ts): round trips, compression choice,
 * unstorable values, and detection of every kind of damage.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import zlib from 'node:zlib';
import {
  decodeResult,
  decodeResultAt,
  encodeResult,
  HEADER_BYTES,
  NUMERIC_SHUFFLED_BROTLI,
  NUMERIC_SHUFFLED_DEFLATE,
  NUMERIC_STORED,
  PREFIX_BROTLI,
  PREFIX_NUMERIC,
  PREFIX_RAW,
  PREFIX_ZLIB,
} from '../src/store/encode.js';
import { CorruptResultError, StoreError } from '../src/errors.js';
import { prng } from './chaos.js';

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Reference CRC-32 (IEEE, as zlib/PNG/gzip), independent of the implementation under test. */
function referenceCrc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function roundTrip(v: unknown): unknown {
  return decodeResult(encodeResult(v, 'enc.test'), 'in test');
}

/** Asserts decoding `bytes` throws CorruptResultError (and nothing else), naming `where`. */
function assertCorrupt(bytes: Uint8Array, where = 'of task T at /x/ab/cd', label = ''): void {
  let out: unknown;
  try {
    out = decodeResult(bytes, where);
  } catch (e) {
    assert.ok(e instanceof CorruptResultError, `${label}: expected CorruptResultError, got ${String(e)}`);
    assert.ok(e.message.includes(where), `${label}: message ${JSON.stringify(e.message)} lacks ${where}`);
    return;
  }
  assert.fail(`${label}: decoded damaged bytes to a value: ${String(out)}`);
}

/** A value exercising every supported type (compressible: the long zero array). */
function sample(): Record<string, unknown> {
  return {
    n: 1.5,
    s: 'héllo ☃',
    list: [1, [2, [3, null, undefined]], { deep: true }],
    m: new Map<unknown, unknown>([
      ['k', new Set([1, 2])],
      [3, { v: 'x' }],
    ]),
    big: 2n ** 70n,
    date: new Date(Date.UTC(2020, 1, 29)),
    f64: new Float64Array([1.5, -0, NaN]),
    buf: Buffer.from('buffer bytes'),
    zeros: new Array(1000).fill(0),
  };
}

describe('encodeResult / decodeResult round trip', () => {
  const cases: ReadonlyArray<readonly [string, () => unknown]> = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['true', () => true],
    ['false', () => false],
    ['0', () => 0],
    ['-0', () => -0],
    ['NaN', () => NaN],
    ['Infinity', () => -Infinity],
    ['2**53 + 2', () => 2 ** 53 + 2],
    ['int', () => -123456789],
    ['BigInt', () => -(2n ** 100n)],
    ['empty string', () => ''],
    ['unicode string', () => 'héllo ☃ 𝄞'],
    ['nested object', () => ({ a: { b: { c: [1, { d: 'e' }] } }, z: null })],
    ['nested array', () => [[[]], [1, [2, [3]]], 'x']],
    ['sparse-free array with undefined', () => [undefined, 1, undefined]],
    [
      'Map with object keys',
      () =>
        new Map<unknown, unknown>([
          [{ k: 1 }, 'obj'],
          [1n, new Map([['inner', [1]]])],
        ]),
    ],
    ['Set', () => new Set([1, 'a', null, 2n])],
    ['Date', () => new Date(1_700_000_000_123)],
    ['Uint8Array', () => new Uint8Array([0, 1, 255])],
    ['Int32Array', () => new Int32Array([-1, 2 ** 31 - 1])],
    ['Float32Array', () => new Float32Array([1.25, -3])],
    ['Float64Array', () => new Float64Array([Math.PI, -0, NaN, Infinity])],
    ['BigInt64Array', () => new BigInt64Array([-(2n ** 63n), 5n])],
    ['ArrayBuffer', () => new Uint8Array([9, 8, 7]).buffer],
    ['everything at once', sample],
  ];
  for (const [label, make] of cases) {
    it(label, () => {
      assert.deepStrictEqual(roundTrip(make()), make());
    });
  }

  it('-0 stays -0 and NaN stays NaN', () => {
    assert.ok(Object.is(roundTrip(-0), -0));
    assert.ok(Number.isNaN(roundTrip(NaN)));
  });

  it('a Buffer comes back as a Buffer, not a Uint8Array', () => {
    const out = roundTrip(Buffer.from([1, 2, 3]));
    assert.ok(Buffer.isBuffer(out));
    assert.deepStrictEqual(out, Buffer.from([1, 2, 3]));
    const inObj = roundTrip({ b: Buffer.from('xy') }) as { b: unknown };
    assert.ok(Buffer.isBuffer(inObj.b));
  });

  it('a typed-array view with an offset keeps only its own bytes', () => {
    const big = new Float64Array([1, 2, 3, 4]);
    const view = new Float64Array(big.buffer, 8, 2);
    const out = roundTrip(view);
    assert.ok(out instanceof Float64Array);
    assert.deepStrictEqual([...out], [2, 3]);
  });

  it('decodes from a Uint8Array view that is not a Buffer, at an offset', () => {
    const enc = encodeResult({ x: [1, 2] });
    const host = new Uint8Array(enc.length + 7);
    host.set(enc, 5);
    assert.deepStrictEqual(decodeResult(host.subarray(5, 5 + enc.length), 'w'), { x: [1, 2] });
  });

  it('large compressible numeric arrays are shuffled and brotli-compressed (prefix N, codec 1) and round trip', () => {
    const zeros = new Array(100_000).fill(0);
    const enc = encodeResult(zeros);
    assert.equal(String.fromCharCode(enc[0]!), 'N');
    assert.equal(enc[HEADER_BYTES + 1], NUMERIC_SHUFFLED_BROTLI);
    assert.ok(enc.length < v8.serialize(zeros).length / 50, `compressed size ${enc.length}`);
    assert.deepStrictEqual(decodeResult(enc, 'w'), zeros);
    const zf = new Float64Array(100_000);
    const encF = encodeResult(zf);
    assert.equal(encF[0], PREFIX_NUMERIC);
    assert.equal(encF[HEADER_BYTES + 1], NUMERIC_SHUFFLED_BROTLI);
    // very redundant (brotli ≤ 10 %) and deflate within 2× of it: deflated, for faster reads
    let x = 2;
    const lcg = Array.from({ length: 262_144 }, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const encL = encodeResult(lcg);
    assert.equal(encL[HEADER_BYTES + 1], NUMERIC_SHUFFLED_DEFLATE);
    assert.deepStrictEqual(decodeResult(encL, 'w'), lcg);
    // half the mantissa random: compressible, not very: brotli
    const rand = prng(5);
    const half = Float64Array.from({ length: 50_000 }, () => Math.floor(rand() * 2 ** 24) / 2 ** 24);
    const encH = encodeResult(half);
    assert.equal(encH[HEADER_BYTES + 1], NUMERIC_SHUFFLED_BROTLI);
    assert.deepStrictEqual(decodeResult(encH, 'w'), half);
    assert.deepStrictEqual(decodeResult(encF, 'w'), zf);
  });

  it('large compressible other data is brotli-compressed (prefix B) and round trips', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `row ${i}`, even: i % 2 === 0 }));
    const enc = encodeResult(rows);
    assert.equal(String.fromCharCode(enc[0]!), 'B');
    assert.ok(enc.length < v8.serialize(rows).length / 2, `compressed size ${enc.length}`);
    assert.deepStrictEqual(decodeResult(enc, 'w'), rows);
  });

  it('small values are stored raw (prefix V)', () => {
    for (const v of [null, 1, 'abc', { a: 1 }, [1, 2, 3], new Uint8Array(10)]) {
      const enc = encodeResult(v);
      assert.equal(enc[0], PREFIX_RAW);
      assert.equal(String.fromCharCode(enc[0]!), 'V');
    }
  });

  it('incompressible numeric data (random doubles) is stored uncompressed (prefix N, codec 0)', () => {
    const rand = prng(7);
    // uniform doubles in [0, 1) with a full 52-bit mantissa
    const r = new Float64Array(20_000);
    for (let i = 0; i < r.length; i++) r[i] = rand() + rand() / 2 ** 32;
    const enc = encodeResult(r);
    assert.equal(enc[0], PREFIX_NUMERIC);
    assert.equal(enc[HEADER_BYTES + 1], NUMERIC_STORED);
    assert.equal(enc.length, 16 + r.byteLength, 'header, kind/codec/reserved, then the elements');
    assert.deepStrictEqual(decodeResult(enc, 'w'), r);
    // random bit patterns (NaNs with payloads among them) come back bit for bit
    const bits = new Uint32Array(40_000);
    for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(rand() * 2 ** 32);
    const rb = new Float64Array(bits.buffer);
    const encB = encodeResult(rb);
    assert.equal(encB[0], PREFIX_NUMERIC);
    assert.deepStrictEqual(Buffer.from((decodeResult(encB, 'w') as Float64Array).buffer), Buffer.from(bits.buffer));
    // incompressible other data stays raw
    const strings = Array.from({ length: 300 }, () => randomBytes(rand, 40).toString('latin1'));
    assert.equal(encodeResult(strings)[0], PREFIX_RAW);
  });

  it('header: length and standard CRC-32 of the payload', () => {
    for (const v of [1, new Array(50_000).fill(1)]) {
      const enc = encodeResult(v);
      const payload = enc.subarray(HEADER_BYTES);
      assert.equal(enc.readBigUInt64LE(1), BigInt(payload.length));
      assert.equal(enc.readUInt32LE(9), referenceCrc32(payload));
    }
    // known CRC-32 check value, to make sure the reference itself is right
    assert.equal(referenceCrc32(Buffer.from('123456789')), 0xcbf43926);
  });

  it('the pure-JS CRC-32 fallback (Node < 20.15) writes the same bytes', async () => {
    const z = zlib as { crc32?: unknown };
    const saved = z.crc32;
    z.crc32 = undefined;
    let fallback: typeof import('../src/store/encode.js');
    try {
      const url = new URL('../src/store/encode.js', import.meta.url).href + '?crc32-fallback';
      fallback = (await import(url)) as typeof import('../src/store/encode.js');
    } finally {
      z.crc32 = saved;
    }
    assert.notEqual(fallback.encodeResult, encodeResult, 'expected a fresh module instance');
    for (const v of [1, 'abc', sample(), new Array(50_000).fill(1)]) {
      const a = fallback.encodeResult(v);
      assert.deepStrictEqual(a, encodeResult(v));
      assert.deepStrictEqual(fallback.decodeResult(a, 'w'), v);
    }
    const bad = encodeResult('abc');
    bad[bad.length - 1]! ^= 1;
    assert.throws(() => fallback.decodeResult(bad, 'w'), (e: unknown) => e instanceof Error && e.name === 'CorruptResultError');
  });
});

describe('unstorable values', () => {
  const cases: ReadonlyArray<readonly [string, unknown]> = [
    ['a function', function compute() {}],
    ['an arrow function', () => 1],
    ['a symbol', Symbol('s')],
    ['an object holding a function', { ok: 1, cb: () => 2 }],
    ['an array holding a symbol', [1, Symbol('x')]],
    ['a WeakMap', new WeakMap()],
  ];
  for (const [label, v] of cases) {
    it(`${label} → StoreError naming the task`, () => {
      assert.throws(
        () => encodeResult(v, 'mod.myTask'),
        (e: unknown) => {
          assert.ok(e instanceof StoreError, String(e));
          assert.ok(!(e instanceof CorruptResultError));
          assert.match(e.message, /'mod\.myTask'/);
          assert.match(e.message, /cannot be stored/);
          return true;
        },
      );
    });
  }
});

describe('unstorable values: where inside the value', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  cyclic['z'] = { s: Symbol('q') };
  const cases: ReadonlyArray<readonly [unknown, string | undefined, RegExp]> = [
    [() => 1, undefined, /a function/],
    [{ n: 1, scale: (x: number) => x }, '.scale', /a function/],
    [[1, 2, 3, { n: 1, fn: () => 1 }], '[3].fn', /a function/],
    [new Map([['key', { w: new WeakMap() }]]), '.get("key").w', /a WeakMap/],
    [cyclic, '.z.s', /a symbol/],
    [new Set([1, Promise.resolve(1)]), '<set element>', /a Promise/],
    [{ 'a b': [function named() {}] }, '["a b"][0]', /a function \(named\)/],
  ];
  for (const [v, path, kind] of cases) {
    it(`${path ?? 'the value itself'} → named in the StoreError`, () => {
      assert.throws(
        () => encodeResult(v, 'mod.t'),
        (e: unknown) => {
          assert.ok(e instanceof StoreError, String(e));
          const where = path === undefined ? '' : ` at ${path}`;
          assert.ok(e.message.startsWith(`The result of task 'mod.t' cannot be stored${where}: it is `), e.message);
          assert.match(e.message, kind);
          return true;
        },
      );
    });
  }
});

describe('small primitives (decoded without v8.deserialize) and decodeResultAt', () => {
  const rand = prng(19);
  const values: unknown[] = [0, -0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2 ** 20, 2 ** 30 - 1, 2 ** 30, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1,
    2 ** 53, 1.5, -2.25, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, true, false, null, undefined, '', 'a', 'abc', [], {}, [1], 1n];
  for (let i = 0; i < 2000; i++) {
    const k = rand();
    values.push(k < 0.3 ? Math.floor(rand() * 2 ** 32) - 2 ** 31 : k < 0.6 ? Math.floor(rand() * 256) - 128 : k < 0.8 ? (rand() - 0.5) * 2 ** (rand() * 200 - 100) : Math.floor(rand() * 2 ** 40));
  }

  it('decode to exactly what v8.deserialize gives, in a buffer of their own and in place in a larger one', () => {
    const framed = values.map((v) => encodeResult(v));
    const pack = Buffer.concat([Buffer.from('JUGPACK1'), ...framed]);
    let offset = 8;
    for (let i = 0; i < values.length; i++) {
      const expected = v8.deserialize(v8.serialize(values[i]));
      assert.deepStrictEqual(decodeResult(framed[i]!, 'w'), expected, `value ${String(values[i])}`);
      assert.deepStrictEqual(decodeResultAt(pack, offset, framed[i]!.length, 'w'), expected, `value ${String(values[i])} in place`);
      if (typeof expected === 'number') assert.ok(Object.is(decodeResultAt(pack, offset, framed[i]!.length, 'w'), expected), `${expected}: -0 and NaN exactly`);
      offset += framed[i]!.length;
    }
  });

  it('payloads that only look small (trailing bytes, a bad varint, another version) go to v8.deserialize or are damage', () => {
    const frame = (payload: number[]): Buffer => {
      const body = Buffer.from(payload);
      const head = Buffer.alloc(HEADER_BYTES);
      head[0] = PREFIX_RAW;
      head.writeBigUInt64LE(BigInt(body.length), 1);
      head.writeUInt32LE(referenceCrc32(body), 9);
      return Buffer.concat([head, body]);
    };
    // 'I' 42 followed by padding V8 itself skips: v8.deserialize decides (and agrees).
    const padded = [0xff, 0x0f, 0x00, 0x49, 0x54];
    assert.equal(decodeResult(frame(padded), 'w'), v8.deserialize(Buffer.from(padded)));
    // A varint that runs past the end, and one too long for an int32: never a made-up number.
    for (const bad of [[0xff, 0x0f, 0x49, 0x80], [0xff, 0x0f, 0x49, 0xff, 0xff, 0xff, 0xff, 0x7f]]) {
      let fromV8: unknown;
      let v8Threw = false;
      try {
        fromV8 = v8.deserialize(Buffer.from(bad));
      } catch {
        v8Threw = true;
      }
      if (v8Threw) assert.throws(() => decodeResult(frame(bad), 'w'), CorruptResultError);
      else assert.deepStrictEqual(decodeResult(frame(bad), 'w'), fromV8);
    }
    // Damage inside a pack is reported as for a file: the CRC still guards the bytes.
    const good = encodeResult(12345);
    const pack = Buffer.concat([Buffer.alloc(5), good]);
    pack[5 + HEADER_BYTES + 3] ^= 1;
    assert.throws(() => decodeResultAt(pack, 5, good.length, 'in the pack'), /Corrupt result in the pack: checksum mismatch/);
    assert.throws(() => decodeResultAt(pack, 5, good.length + 1, 'in the pack'), CorruptResultError, 'past the end of the data');
  });
});

describe('corruption is always detected', () => {
  const small = encodeResult({ a: [1, 2, 3], s: 'text' });
  const large = encodeResult(sample());
  const zipped = encodeResult(new Array(20_000).fill(3));
  const brotlied = encodeResult(Array.from({ length: 2000 }, (_, i) => `row ${i}`));
  const rand0 = prng(3);
  const storedNumbers = encodeResult(Array.from({ length: 1000 }, () => rand0() + rand0() / 2 ** 32));
  // as the previous version wrote compressible values (zlib level 6, prefix Z): see test/store-compat.test.ts
  const zPayload = zlib.deflateSync(v8.serialize(new Array(2000).fill('z')), { level: 6 });
  const zHeader = Buffer.alloc(HEADER_BYTES);
  zHeader[0] = PREFIX_ZLIB;
  zHeader.writeBigUInt64LE(BigInt(zPayload.length), 1);
  zHeader.writeUInt32LE(referenceCrc32(zPayload), 9);
  const zOld = Buffer.concat([zHeader, zPayload]);
  const all = [small, large, zipped, brotlied, storedNumbers, zOld];
  const PREFIXES = [PREFIX_RAW, PREFIX_ZLIB, PREFIX_BROTLI, PREFIX_NUMERIC];
  assert.equal(small[0], PREFIX_RAW);
  const rand1 = prng(8);
  const brotliNumbers = encodeResult(Array.from({ length: 3000 }, () => Math.floor(rand1() * 2 ** 20) / 2 ** 20));
  let lcgState = 2;
  const deflatedNumbers = encodeResult(Float64Array.from({ length: 262_144 }, () => (lcgState = (lcgState * 1103515245 + 12345) % 2147483648) / 2147483648));
  all.push(brotliNumbers, deflatedNumbers);
  assert.equal(deflatedNumbers[HEADER_BYTES + 1], NUMERIC_SHUFFLED_DEFLATE);
  assert.equal(zipped[0], PREFIX_NUMERIC);
  assert.equal(zipped[HEADER_BYTES + 1], NUMERIC_SHUFFLED_BROTLI);
  assert.equal(brotliNumbers[HEADER_BYTES + 1], NUMERIC_SHUFFLED_BROTLI);
  assert.equal(brotlied[0], PREFIX_BROTLI);
  assert.equal(storedNumbers[0], PREFIX_NUMERIC);
  assert.equal(storedNumbers[HEADER_BYTES + 1], NUMERIC_STORED);
  assert.deepStrictEqual(decodeResult(zOld, 'w'), new Array(2000).fill('z'));

  it('an empty buffer', () => {
    assertCorrupt(Buffer.alloc(0), 'of task T at /j/ab/cd', 'empty');
    assert.throws(() => decodeResult(new Uint8Array(0), 'W'), /empty/);
  });

  it('every truncation', () => {
    for (const enc of [small, zipped, brotlied, zOld, storedNumbers.subarray(0, 200)]) {
      for (let n = 0; n < enc.length; n++) assertCorrupt(enc.subarray(0, n), undefined, `truncated to ${n}`);
    }
  });

  it('trailing garbage', () => {
    assertCorrupt(Buffer.concat([small, Buffer.from([0])]), undefined, 'one extra byte');
    for (const enc of all) assertCorrupt(Buffer.concat([enc, enc]), undefined, 'doubled');
  });

  it('every wrong prefix', () => {
    for (let p = 0; p < 256; p++) {
      if (PREFIXES.includes(p)) continue;
      for (const enc of all) {
        const bad = Buffer.from(enc);
        bad[0] = p;
        assertCorrupt(bad, undefined, `prefix 0x${p.toString(16)}`);
      }
    }
  });

  it('a payload relabelled with another known prefix (header otherwise consistent)', () => {
    for (const enc of all) {
      for (const p of PREFIXES) {
        if (p === enc[0]) continue;
        const bad = Buffer.from(enc);
        bad[0] = p;
        assertCorrupt(bad, undefined, `0x${enc[0]!.toString(16)} payload labelled 0x${p.toString(16)}`);
      }
    }
  });

  it('one bit flipped anywhere in header or payload', () => {
    const rand = prng(1);
    for (const enc of all) {
      // every bit of the header
      for (let bit = 0; bit < HEADER_BYTES * 8; bit++) {
        const bad = Buffer.from(enc);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        assertCorrupt(bad, undefined, `header bit ${bit}`);
      }
      // a few hundred random payload bits
      for (let k = 0; k < 300; k++) {
        const bit = HEADER_BYTES * 8 + Math.floor(rand() * (enc.length - HEADER_BYTES) * 8);
        const bad = Buffer.from(enc);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        assertCorrupt(bad, undefined, `bit ${bit} of ${enc.length * 8}`);
      }
    }
  });

  it('the error carries the location, and .path the file', () => {
    assert.throws(
      () => decodeResult(Buffer.from('junk'), "of task 'a.b' at /some/where"),
      (e: unknown) => e instanceof CorruptResultError && e.message.includes("of task 'a.b' at /some/where"),
    );
    assert.throws(
      () => decodeResult(Buffer.from('junk'), "of task 'a.b' at /some/where", '/some/where'),
      (e: unknown) => e instanceof CorruptResultError && e.path === '/some/where',
    );
  });
});

describe('decode fuzz (seeded)', () => {
  it('2,000 random byte strings → CorruptResultError, never another error', () => {
    const rand = prng(2024);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 200);
      const bytes = randomBytes(rand, len);
      // Steer a third of them past the prefix and length checks.
      if (len >= HEADER_BYTES && i % 3 === 0) {
        bytes[0] = [PREFIX_RAW, PREFIX_ZLIB, PREFIX_BROTLI, PREFIX_NUMERIC][i % 4]!;
        bytes.writeBigUInt64LE(BigInt(len - HEADER_BYTES), 1);
      }
      assertCorrupt(bytes, 'W', `random #${i}`);
    }
  });

  it('2,000 random payloads with valid framing → a value or CorruptResultError, never another error', () => {
    // Only the checksum stands between random bytes and v8.deserialize / inflate: give them a
    // correct checksum so the inner decoders' failures are exercised too.
    const rand = prng(99);
    for (let i = 0; i < 2000; i++) {
      const payload = randomBytes(rand, Math.floor(rand() * 64));
      if (i % 2 === 0 && payload.length >= 2) {
        payload[0] = 0xff; // v8 serializer version tag, to get past the first check
        payload[1] = 0x0f;
      }
      const header = Buffer.alloc(HEADER_BYTES);
      header[0] = [PREFIX_RAW, PREFIX_ZLIB, PREFIX_BROTLI, PREFIX_NUMERIC][i % 4]!;
      header.writeBigUInt64LE(BigInt(payload.length), 1);
      header.writeUInt32LE(referenceCrc32(payload), 9);
      try {
        decodeResult(Buffer.concat([header, payload]), 'W');
      } catch (e) {
        assert.ok(e instanceof CorruptResultError, `framed random #${i}: ${String(e)}`);
      }
    }
  });

  it('2,000 random mutations of valid encodings → CorruptResultError unless the bytes are unchanged', () => {
    const rand = prng(4242);
    const values: unknown[] = [
      { a: [1, 2, 3], s: 'text' },
      sample(),
      new Array(5000).fill(7),
      'short',
      12345n,
      Array.from({ length: 600 }, (_, i) => i / 7),
      new Float32Array(3000).fill(1.5),
      Array.from({ length: 500 }, (_, i) => ({ i })),
    ];
    const encodings = values.map((v) => encodeResult(v));
    for (let i = 0; i < 2000; i++) {
      const which = Math.floor(rand() * values.length);
      const orig = encodings[which]!;
      let bad = Buffer.from(orig);
      const kind = Math.floor(rand() * 6);
      const pos = Math.floor(rand() * orig.length);
      switch (kind) {
        case 0: // set a byte (may be a no-op)
          bad[pos] = Math.floor(rand() * 256);
          break;
        case 1: // several random bytes
          for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
          break;
        case 2: // delete a range
          bad = Buffer.concat([bad.subarray(0, pos), bad.subarray(pos + 1 + Math.floor(rand() * 16))]);
          break;
        case 3: // insert random bytes
          bad = Buffer.concat([bad.subarray(0, pos), randomBytes(rand, 1 + Math.floor(rand() * 16)), bad.subarray(pos)]);
          break;
        case 4: // truncate
          bad = bad.subarray(0, pos);
          break;
        default: // swap two bytes
          {
            const q = Math.floor(rand() * bad.length);
            const t = bad[pos]!;
            bad[pos] = bad[q]!;
            bad[q] = t;
          }
          break;
      }
      if (bad.equals(orig)) {
        assert.deepStrictEqual(decodeResult(bad, 'W'), values[which], `unchanged #${i}`);
      } else {
        assertCorrupt(bad, 'W', `mutation #${i} (kind ${kind} at ${pos})`);
      }
    }
  });
});
