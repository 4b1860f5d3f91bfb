/**
 * The store's codec choice (src/store/encode.ts, docs/store-format.md "Result format"): numeric
 * arrays stored as their elements (prefix N) when that round-trips exactly, and the fallbacks
 * when it would not; brotli (prefix B) for other data that compresses; and files written by the
 * previous version (prefixes V and Z, test/fixtures/store-v1/) still readable.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import {
  decodeResult,
  decodeResultFile,
  encodeResult,
  HEADER_BYTES,
  NUMERIC_SHUFFLED_BROTLI,
  NUMERIC_SHUFFLED_DEFLATE,
  NUMERIC_STORED,
  RAW_LENGTH_BYTES,
  PREFIX_BROTLI,
  PREFIX_NUMERIC,
  PREFIX_RAW,
  PREFIX_ZLIB,
  shuffleBytes,
  unshuffleBytes,
} from '../src/store/encode.js';
import { CorruptResultError } from '../src/errors.js';
import { FileStore } from '../src/index.js';
import { FIXTURES, makeTempDir, removeTempDir } from './helpers.js';

const roundTrip = (v: unknown): unknown => decodeResult(encodeResult(v, 'codec.test'), 'in test');
const prefixOf = (v: unknown): string => String.fromCharCode(encodeResult(v)[0]!);
const codecOf = (v: unknown): number | undefined => {
  const enc = encodeResult(v);
  return enc[0] === PREFIX_NUMERIC ? enc[HEADER_BYTES + 1] : undefined;
};

/** The benchmark's 31-bit LCG fractions (compressible) and full 53-bit doubles (not). */
function lcg(n: number, seed: number): number[] {
  let x = seed + 1;
  return Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
}
function doubles(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => next() + next() / 2 ** 32);
}

/** The values test/fixtures/store-v1/*.jugresult hold (see the README there). */
function v1Values(): Record<string, unknown> {
  return {
    true: true,
    'small-object': {
      n: 1.5,
      s: 'héllo',
      big: 12345678901234567890n,
      d: new Date(0),
      list: [1, -0, NaN, null, undefined, 'x'],
      m: new Map([['k', 1]]),
      set: new Set([1, 2]),
    },
    'number-array': lcg(4096, 7),
    'zeros-array': new Array(2000).fill(0),
    'float64array': new Float64Array(lcg(1024, 3)),
    'float64array-zeros': new Float64Array(4096),
    // eslint-disable-next-line no-sparse-arrays
    'mixed-array': [1.5, 'a', 2, , -0, NaN, Infinity],
  };
}

describe('files written by the previous version (git 7fd9be9) stay readable', () => {
  const dir = join(FIXTURES, 'store-v1');
  const values = v1Values();
  for (const [name, expected] of Object.entries(values)) {
    it(name, () => {
      const bytes = fs.readFileSync(join(dir, `${name}.jugresult`));
      assert.ok([PREFIX_RAW, PREFIX_ZLIB].includes(bytes[0]!), 'the fixture is an old file');
      const got = decodeResult(bytes, name);
      assert.deepStrictEqual(got, expected);
      if (name === 'mixed-array') assert.ok(!(3 in (got as unknown[])), 'the hole stays a hole');
    });
  }

  it('both old prefixes are represented, and the old files are still CRC-checked', () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jugresult'));
    assert.equal(files.length, Object.keys(values).length);
    const prefixes = new Set(files.map((f) => String.fromCharCode(fs.readFileSync(join(dir, f))[0]!)));
    assert.deepEqual([...prefixes].sort(), ['V', 'Z']);
    for (const f of files) {
      const bad = fs.readFileSync(join(dir, f));
      bad[bad.length - 1]! ^= 0x10;
      assert.throws(() => decodeResult(bad, f), (e: unknown) => e instanceof CorruptResultError && /checksum/.test(e.message));
    }
  });

  it('a FileStore reads an old file placed in a jugdir', async () => {
    const tmp = makeTempDir('codec-v1');
    try {
      const hash = 'ab'.padEnd(40, '0');
      fs.mkdirSync(join(tmp, 'ab'));
      fs.copyFileSync(join(dir, 'number-array.jugresult'), join(tmp, 'ab', hash.slice(2)));
      const store = new FileStore(tmp, { fsync: false });
      assert.deepStrictEqual(await store.load(hash), values['number-array']);
    } finally {
      removeTempDir(tmp);
    }
  });
});

describe('plain arrays of numbers are stored as float64 elements (prefix N)', () => {
  it('53-bit doubles: uncompressed; 2 MiB of 31-bit LCG fractions: shuffled + deflate; 20-bit fractions: shuffled + brotli; integers: compressed', () => {
    const big = doubles(50_000, 1);
    assert.equal(prefixOf(big), 'N');
    assert.equal(codecOf(big), NUMERIC_STORED);
    const small = lcg(262_144, 1);
    assert.equal(codecOf(small), NUMERIC_SHUFFLED_DEFLATE);
    assert.equal(codecOf(lcg(50_000, 1)), NUMERIC_SHUFFLED_BROTLI, 'fewer repeats: brotli 1 shrinks it to 14 %, not ≤ 10 %');
    const ints = Array.from({ length: 50_000 }, (_, i) => i * 3);
    assert.ok([NUMERIC_SHUFFLED_BROTLI, NUMERIC_SHUFFLED_DEFLATE].includes(codecOf(ints)!), 'integers are compressed');
    const medium = doubles(50_000, 3).map((d) => Math.floor(d * 2 ** 20) / 2 ** 20);
    assert.equal(codecOf(medium), NUMERIC_SHUFFLED_BROTLI);
    for (const v of [big, small, ints, medium]) {
      const out = roundTrip(v);
      assert.ok(Array.isArray(out) && Object.getPrototypeOf(out) === Array.prototype, 'a plain array comes back');
      assert.deepStrictEqual(out, v);
    }
  });

  it('-0, NaN, ±Infinity, the largest and smallest doubles round-trip exactly', () => {
    const specials = [-0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** 53 + 2, -1];
    const v = Array.from({ length: 1024 }, (_, i) => specials[i % specials.length]!);
    assert.equal(prefixOf(v), 'N');
    const out = roundTrip(v) as number[];
    assert.equal(out.length, v.length);
    for (let i = 0; i < v.length; i++) assert.ok(Object.is(out[i], v[i]), `element ${i}: ${out[i]} vs ${v[i]}`);
  });

  it('an array of a holey element kind but no holes (new Array(n) then filled) is stored as N', () => {
    const v = new Array<number>(2000);
    for (let i = 0; i < v.length; i++) v[i] = i + 0.5;
    assert.equal(prefixOf(v), 'N');
    assert.deepStrictEqual(roundTrip(v), v);
  });

  describe('falls back to V8 (V or B) whenever the elements alone would not round-trip', () => {
    const base = (): unknown[] => doubles(2000, 5);
    const cases: ReadonlyArray<readonly [string, () => unknown[]]> = [
      ['a hole', () => { const a = base(); delete a[700]; return a; }],
      ['a trailing hole (length beyond the last element)', () => { const a = base(); a.length = 2100; return a; }],
      ['a string element', () => { const a = base(); a[5] = '5'; return a; }],
      ['undefined', () => { const a = base(); a[1999] = undefined; return a; }],
      ['null', () => { const a = base(); a[0] = null; return a; }],
      ['a BigInt', () => { const a = base(); a[9] = 9n; return a; }],
      ['a boxed number', () => { const a = base(); a[3] = Object(3); return a; }],
      ['an extra named property', () => Object.assign(base(), { label: 'x' })],
      ['an extra property on a holey-kind array', () => { const a = new Array<unknown>(2000); for (let i = 0; i < 2000; i++) a[i] = i; return Object.assign(a, { unit: 'm' }); }],
    ];
    for (const [label, make] of cases) {
      it(label, () => {
        const v = make();
        assert.ok(['V', 'B'].includes(prefixOf(v)), `prefix ${prefixOf(v)}`);
        const out = roundTrip(v) as unknown[];
        assert.deepStrictEqual(out, v);
        assert.deepStrictEqual(Object.keys(out).length, Object.keys(v).length);
      });
    }

    it('an Array subclass (structured clone makes it a plain array, as before)', () => {
      class Vec extends Array<number> {}
      const v = Vec.from(doubles(2000, 2));
      assert.ok(['V', 'B'].includes(prefixOf(v)));
      assert.deepStrictEqual(roundTrip(v), [...v]);
    });

    it('short arrays (under 512 elements) and arrays nested in objects', () => {
      assert.equal(prefixOf([1.5, 2.5, 3.5]), 'V');
      assert.equal(prefixOf(doubles(511, 3)), 'V');
      assert.equal(prefixOf(doubles(512, 3)), 'N');
      const nested = { xs: doubles(5000, 4) };
      assert.ok(['V', 'B'].includes(prefixOf(nested)));
      assert.deepStrictEqual(roundTrip(nested), nested);
    });
  });
});

describe('typed arrays are stored as their elements (prefix N)', () => {
  const cases: ReadonlyArray<readonly [string, () => ArrayBufferView]> = [
    ['Float64Array, 53-bit', () => new Float64Array(doubles(20_000, 8))],
    ['Float64Array, LCG', () => new Float64Array(lcg(20_000, 8))],
    ['Float32Array', () => new Float32Array(doubles(20_000, 9))],
    ['Int32Array', () => Int32Array.from({ length: 20_000 }, (_, i) => (i * 2654435761) | 0)],
    ['Uint32Array', () => Uint32Array.from({ length: 20_000 }, (_, i) => i)],
  ];
  for (const [label, make] of cases) {
    it(`${label} round-trips with its type`, () => {
      const v = make();
      assert.equal(prefixOf(v), 'N');
      const out = roundTrip(v) as ArrayBufferView;
      assert.equal(Object.getPrototypeOf(out), Object.getPrototypeOf(v));
      assert.equal(out.byteOffset, 0);
      assert.equal(out.buffer.byteLength, v.byteLength, 'its own buffer, not a view of the file');
      assert.deepStrictEqual(out, v);
    });
  }

  it('a view at an offset keeps only its own elements', () => {
    const big = new Float64Array(doubles(4000, 3));
    const view = new Float64Array(big.buffer, 8 * 100, 1000);
    assert.equal(prefixOf(view), 'N');
    assert.deepStrictEqual(roundTrip(view), new Float64Array(big.subarray(100, 1100)));
  });

  it('other typed arrays, Buffers and small typed arrays go through V8 as before', () => {
    for (const v of [Buffer.alloc(10_000, 1), new Uint8Array(10_000), new Int16Array(10_000), new BigInt64Array(1000), new Float64Array(100)]) {
      assert.ok(['V', 'B'].includes(prefixOf(v)), `${v.constructor.name}: ${prefixOf(v)}`);
      assert.deepStrictEqual(roundTrip(v), v);
    }
    assert.ok(Buffer.isBuffer(roundTrip(Buffer.alloc(10_000, 1))));
  });
});

describe('byte shuffle', () => {
  it('unshuffleBytes inverts shuffleBytes for strides 4 and 8, aligned or not', () => {
    const src = new Uint8Array(8 * 1001 + 16);
    for (let i = 0; i < src.length; i++) src[i] = (i * 131) & 0xff;
    for (const stride of [4, 8]) {
      for (const offset of [0, 4, 3]) {
        const view = src.subarray(offset, offset + stride * 1001);
        const sh = shuffleBytes(view, stride);
        assert.equal(sh[0], view[0]);
        assert.equal(sh[1001], view[1], 'byte 1 of element 0 starts lane 1');
        assert.deepStrictEqual(unshuffleBytes(sh, stride), new Uint8Array(view));
      }
    }
  });
  it('both give the bytes of the plain definition (byte b of element i at b·n + i), whatever the count and alignment', () => {
    const reference = (src: Uint8Array, stride: number): Uint8Array => {
      const n = Math.floor(src.length / stride);
      const out = new Uint8Array(src.length);
      for (let i = 0; i < n; i++) for (let b = 0; b < stride; b++) out[b * n + i] = src[i * stride + b]!;
      return out;
    };
    const src = new Uint8Array(8 * 1024 + 16);
    for (let i = 0; i < src.length; i++) src[i] = (i * 2654435761) >>> 24;
    for (const stride of [4, 8]) {
      for (const count of [1024, 1000, 1001, 4, 3, 1]) {
        for (const offset of [0, 4, 8, 3]) {
          const view = src.subarray(offset, offset + stride * count);
          const expected = reference(view, stride);
          const what = `stride ${stride}, ${count} elements, offset ${offset}`;
          assert.deepStrictEqual(shuffleBytes(view, stride), expected, `shuffle: ${what}`);
          const into = new Uint8Array(view.length + 8).subarray(offset % 8, offset % 8 + view.length);
          assert.deepStrictEqual(new Uint8Array(unshuffleBytes(expected, stride, into)), new Uint8Array(view), `unshuffle: ${what}`);
        }
      }
    }
  });
});

describe("damaged 'N' payloads (with a correct CRC) are reported as corrupt", () => {
  const reframe = (payload: Buffer): Buffer => {
    const h = Buffer.alloc(HEADER_BYTES);
    h[0] = PREFIX_NUMERIC;
    h.writeBigUInt64LE(BigInt(payload.length), 1);
    h.writeUInt32LE(referenceCrc32(payload), 9);
    return Buffer.concat([h, payload]);
  };
  const stored = encodeResult(new Float64Array(doubles(1000, 1))).subarray(HEADER_BYTES);
  const packed = encodeResult(new Float64Array(1000)).subarray(HEADER_BYTES);
  assert.equal(packed[1], NUMERIC_SHUFFLED_BROTLI);
  const statedLength = (p: Buffer, n: bigint): Buffer => {
    const out = Buffer.from(p);
    out.writeBigUInt64LE(n, 3);
    return out;
  };
  const cases: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
    ['an unknown kind', Buffer.concat([Buffer.from([0x7a]), stored.subarray(1)]), /unknown numeric kind/],
    ['an unknown codec', Buffer.concat([stored.subarray(0, 1), Buffer.from([9]), stored.subarray(2)]), /unknown numeric codec/],
    ['data that is not whole elements', stored.subarray(0, stored.length - 3), /not whole 8-byte elements/],
    ['a payload shorter than its header', stored.subarray(0, 2), /shorter than its header/],
    ['a compressed body that does not decompress', Buffer.concat([packed.subarray(0, 3 + RAW_LENGTH_BYTES), Buffer.from('not brotli at all')]), /does not decode/],
    ['a deflate codec on a brotli stream', Buffer.concat([packed.subarray(0, 1), Buffer.from([NUMERIC_SHUFFLED_DEFLATE]), packed.subarray(2)]), /does not decode/],
    ['a stated length smaller than the stream gives', statedLength(packed, 7992n), /does not decode/],
    ['a stated length larger than the stream gives', statedLength(packed, 8008n), /decompresses to 8000 bytes, not the 8008 stated/],
    ['an absurd stated length', statedLength(packed, 2n ** 60n), /implausible decompressed length/],
    ['no room for the length field', packed.subarray(0, 6), /shorter than its length field/],
  ];
  for (const [label, payload, why] of cases) {
    it(label, () => {
      assert.throws(
        () => decodeResult(reframe(payload), 'of task T'),
        (e: unknown) => e instanceof CorruptResultError && why.test(e.message) && e.message.includes('of task T'),
      );
    });
  }
});

describe('FileStore: numeric results through real files', () => {
  it('dump then load: number[] (both value kinds) and Float64Array, as written by the store', async () => {
    const tmp = makeTempDir('codec-store');
    try {
      const store = new FileStore(tmp);
      const values: unknown[] = [lcg(262_144, 1), doubles(262_144, 2), new Float64Array(lcg(262_144, 3)), new Float64Array(doubles(262_144, 4))];
      const hashes = values.map((_, i) => String(i).padStart(40, 'c'));
      for (let i = 0; i < values.length; i++) await store.dump(hashes[i]!, values[i], `t${i}`);
      await store.close();
      const again = new FileStore(tmp);
      for (let i = 0; i < values.length; i++) assert.deepStrictEqual(await again.load(hashes[i]!), values[i]);
      const sizes = hashes.map((h) => fs.statSync(join(tmp, h.slice(0, 2), h.slice(2))).size);
      assert.ok(sizes[0]! < 262_144 * 8 * 0.25 && sizes[2]! < 262_144 * 8 * 0.25, `LCG data compressed: ${sizes}`);
      assert.equal(sizes[1], 16 + 262_144 * 8, '53-bit doubles stored as they are');
      assert.equal(sizes[3], 16 + 262_144 * 8);
      await again.close();
    } finally {
      removeTempDir(tmp);
    }
  });

  it('the direct read of stored numeric files: values independent of each other, damage still detected', async () => {
    const tmp = makeTempDir('codec-direct');
    try {
      const store = new FileStore(tmp, { fsync: false });
      const plain = doubles(20_000, 11);
      const typed = new Float64Array(doubles(20_000, 12));
      await store.dump('d'.repeat(40), plain);
      await store.dump('e'.repeat(40), typed);
      const file = (h: string): string => join(tmp, h.slice(0, 2), h.slice(2));
      assert.equal(fs.readFileSync(file('d'.repeat(40)))[HEADER_BYTES + 1], NUMERIC_STORED);
      const a1 = (await store.load('d'.repeat(40))) as number[];
      const a2 = (await store.load('d'.repeat(40))) as number[];
      a1[0] = -1;
      assert.deepStrictEqual(a2, plain, 'two loads do not share memory');
      const f1 = (await store.load('e'.repeat(40))) as Float64Array;
      const f2 = (await store.load('e'.repeat(40))) as Float64Array;
      f1[0] = -1;
      assert.deepStrictEqual(f2, typed);
      assert.equal(f2.byteOffset, 0);
      assert.equal(f2.buffer.byteLength, typed.byteLength);
      // Damage: a data bit, the length, truncation, a wrong kind, an appended byte.
      const good = fs.readFileSync(file('d'.repeat(40)));
      const damaged: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
        ['a data bit', Buffer.from(good).fill(good[5000]! ^ 4, 5000, 5001), /checksum mismatch/],
        ['the CRC', Buffer.from(good).fill(good[9]! ^ 1, 9, 10), /checksum mismatch/],
        ['truncated', good.subarray(0, good.length - 8), /header says/],
        ['a byte appended', Buffer.concat([good, Buffer.from([0])]), /header says/],
        ['an unknown kind', Buffer.from(good).fill(0x7a, HEADER_BYTES, HEADER_BYTES + 1), /checksum mismatch/],
      ];
      for (const [label, bytes, why] of damaged) {
        fs.writeFileSync(file('d'.repeat(40)), bytes);
        await assert.rejects(store.load('d'.repeat(40), 'mod.t'), (e: unknown) => {
          assert.ok(e instanceof CorruptResultError, `${label}: ${String(e)}`);
          assert.match(e.message, why, label);
          assert.match(e.message, /task 'mod\.t'/);
          return true;
        });
        assert.throws(() => decodeResultFile(file('d'.repeat(40)), 'w'), CorruptResultError, label);
      }
      await assert.rejects(store.load('f'.repeat(40)), /not in the store/);
      await store.close();
    } finally {
      removeTempDir(tmp);
    }
  });

  it('compressed numeric results (decompressed into a reused buffer) and B payloads holding typed arrays stay independent of later decodes', () => {
    const lcgArray = lcg(262_144, 21);
    const lcgTyped = new Float64Array(lcg(262_144, 22));
    const brotliTyped = new Float64Array(Array.from({ length: 50_000 }, (_, i) => (i % 1000) / 7)); // shuffled + brotli
    const nested = { a: new Float64Array(lcg(8192, 23)), b: new Int16Array(5000).fill(3) }; // a V8 payload, brotli-compressed
    const encoded = [lcgArray, lcgTyped, brotliTyped, nested].map((v) => encodeResult(v));
    assert.deepEqual(
      encoded.map((e) => [String.fromCharCode(e[0]!), e[0] === PREFIX_NUMERIC ? e[HEADER_BYTES + 1] : -1]),
      [['N', NUMERIC_SHUFFLED_DEFLATE], ['N', NUMERIC_SHUFFLED_DEFLATE], ['N', NUMERIC_SHUFFLED_BROTLI], ['B', -1]],
    );
    const first = encoded.map((e) => decodeResult(e, 'first'));
    const second = encoded.map((e) => decodeResult(e, 'second')); // reuses every scratch buffer again
    assert.deepStrictEqual(first, [lcgArray, lcgTyped, brotliTyped, nested]);
    assert.deepStrictEqual(second, first);
    (first[1] as Float64Array)[0] = -1;
    (first[2] as Float64Array)[0] = -1;
    (first[3] as typeof nested).a[0] = -1;
    assert.deepStrictEqual(second, [lcgArray, lcgTyped, brotliTyped, nested], 'two decodes share no memory');
    // A later decode of other data leaves earlier values alone.
    const other = decodeResult(encodeResult(new Float64Array(lcg(262_144, 99))), 'other') as Float64Array;
    assert.equal(other.length, 262_144);
    assert.deepStrictEqual(second[1], lcgTyped);
    assert.deepStrictEqual(second[0], lcgArray);
  });

  it('B is what the V8 payload of compressible non-numeric data gets', () => {
    const v = Array.from({ length: 3000 }, (_, i) => ({ k: `key-${i % 10}`, i }));
    const enc = encodeResult(v);
    assert.equal(enc[0], PREFIX_BROTLI);
    assert.ok(enc.length < v8.serialize(v).length / 2);
  });
});

/** CRC-32 (IEEE) for re-framing test payloads. */
function referenceCrc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
